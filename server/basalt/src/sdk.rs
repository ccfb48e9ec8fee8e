//! `basalt sdk generate`: reads the collection schema from the data directory or from
//! a running server and writes the client `basalt-sdkgen` generates for it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use basalt_sdkgen::{Lang, Options, Schema};
use clap::Args;
use serde_json::{json, Value};

use crate::Config;

/// Flags of `basalt sdk generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The language of the client: typescript or rust.
    #[arg(long)]
    lang: String,
    /// The directory the client is written to (created if missing; other files in it
    /// are left alone).
    #[arg(long)]
    out: PathBuf,
    /// Read the schema from a running server at this URL instead of the data directory.
    #[arg(long)]
    url: Option<String>,
    /// A superuser's email, for --url.
    #[arg(long, env = "BASALT_SUPERUSER_EMAIL")]
    email: Option<String>,
    /// The superuser's password, for --url.
    #[arg(long, env = "BASALT_SUPERUSER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// The package name of a generated Rust crate.
    #[arg(long, default_value = "basalt-client")]
    crate_name: String,
}

/// Runs `basalt sdk generate`.
pub fn generate(config: &Config, args: GenerateArgs) -> anyhow::Result<()> {
    let lang: Lang = args.lang.parse()?;
    let collections = match &args.url {
        Some(url) => {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "--url must start with http:// or https://, got \"{url}\""
            );
            let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
            let (email, password) = match (given(&args.email), given(&args.password)) {
                (Some(e), Some(p)) => (e, p),
                _ => anyhow::bail!(
                    "--url needs superuser credentials: --email and --password (or BASALT_SUPERUSER_EMAIL and BASALT_SUPERUSER_PASSWORD)"
                ),
            };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(fetch_collections(url, &email, &password))?
        }
        None => read_collections(config)?,
    };
    let schema = Schema::from_json(&collections)?;
    let options = Options {
        crate_name: args.crate_name,
    };
    let files = basalt_sdkgen::generate(&schema, lang, &options);
    write_files(&args.out, &files)?;
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let n = schema.collections.len();
    println!(
        "Generated a {} client for {n} collection{} in {}: {}",
        match lang {
            Lang::TypeScript => "TypeScript",
            Lang::Rust => "Rust",
        },
        if n == 1 { "" } else { "s" },
        args.out.display(),
        names.join(", ")
    );
    Ok(())
}

/// The collections of the data directory, as the API serves them.
fn read_collections(config: &Config) -> anyhow::Result<Value> {
    let store = config.dir.join("store");
    anyhow::ensure!(
        store.is_dir(),
        "no Basalt data directory at {} (pass --dir, or --url to read the schema from a running server)",
        config.dir.display()
    );
    let services = crate::open_services(config).map_err(|e| {
        if crate::cli::held_by_server(&e) {
            anyhow::anyhow!(
                "the data directory {} is in use by a running server: read the schema from it with --url URL --email EMAIL --password PASSWORD",
                config.dir.display()
            )
        } else {
            e
        }
    })?;
    let items = services
        .catalog()
        .iter()
        .map(|c| serde_json::to_value(&**c))
        .collect::<Result<Vec<Value>, _>>()?;
    services
        .store()
        .close()
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(Value::Array(items))
}

/// Signs in as a superuser at `url` and reads every collection.
async fn fetch_collections(url: &str, email: &str, password: &str) -> anyhow::Result<Value> {
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()?;
    let login = http
        .post(format!(
            "{base}/api/collections/_superusers/auth-with-password"
        ))
        .json(&json!({"identity": email, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}"))?;
    let status = login.status();
    let body: Value = login.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        anyhow::bail!("superuser sign-in at {base} failed ({status}): {message}");
    }
    let token = body["token"]
        .as_str()
        .with_context(|| format!("{base} did not answer like a Basalt server"))?
        .to_owned();
    const PER_PAGE: usize = 500;
    let mut items = Vec::new();
    for page in 1.. {
        let resp = http
            .get(format!("{base}/api/collections"))
            .query(&[
                ("page", page.to_string()),
                ("perPage", PER_PAGE.to_string()),
            ])
            .header("Authorization", &token)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {base}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            status.is_success(),
            "listing collections at {base} failed ({status}): {}",
            body["message"].as_str().unwrap_or("no message")
        );
        let Some(Value::Array(batch)) = body.get("items").cloned() else {
            anyhow::bail!("{base} answered the collections list without items");
        };
        let n = batch.len();
        items.extend(batch);
        if n < PER_PAGE {
            break;
        }
    }
    Ok(Value::Array(items))
}

fn write_files(out: &Path, files: &[basalt_sdkgen::File]) -> anyhow::Result<()> {
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
