//! The command line: `basalt serve`, `basalt config check`,
//! `basalt superuser upsert|delete`, `basalt search rebuild`, `basalt backup …`,
//! `basalt sdk generate`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Layer, LogFormat};
use crate::Config;

#[derive(Parser, Debug)]
#[command(
    name = "basalt",
    version,
    about = "A self-hosted backend in one binary"
)]
pub struct Cli {
    /// A configuration file (default: ./basalt.toml when it exists).
    #[arg(long, global = true, env = "BASALT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory [default: basalt_data].
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags of `basalt serve`; each overrides `basalt.toml` and `BASALT_*` (see
/// `docs/operations.md`).
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// The address to listen on [default: 127.0.0.1:8090].
    #[arg(long)]
    http: Option<String>,
    /// Origins allowed by CORS, comma-separated [default: *].
    #[arg(long, value_delimiter = ',')]
    origins: Option<Vec<String>>,
    /// sled's page cache size in MiB [default: 64].
    #[arg(long)]
    cache_mb: Option<u64>,
    /// The largest request body accepted, in MiB [default: 32].
    #[arg(long)]
    max_body_mb: Option<u64>,
    /// The largest multipart upload accepted, in MiB [default: 1024].
    #[arg(long)]
    max_upload_mb: Option<u64>,
    /// Indexing memory of each collection's full-text search index writer, in MiB
    /// (at least 15) [default: 50].
    #[arg(long)]
    search_writer_mb: Option<u64>,
    /// How long the search indexer gathers changes before committing them, in ms
    /// [default: 200].
    #[arg(long)]
    search_commit_ms: Option<u64>,
    /// A PEM certificate chain: serve HTTPS.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Seconds a shutdown waits for in-flight requests [default: 10].
    #[arg(long)]
    shutdown_timeout_secs: Option<u64>,
    /// stderr log format: text or json [default: text].
    #[arg(long)]
    log_format: Option<String>,
    /// A tracing filter [default: info].
    #[arg(long)]
    log_level: Option<String>,
    /// A directory of *.js hook scripts: enables JavaScript hooks.
    #[arg(long, alias = "hooksDir")]
    hooks_dir: Option<PathBuf>,
    /// How long one call into the hook scripts may run, in ms [default: 1000].
    #[arg(long)]
    hooks_timeout_ms: Option<u64>,
    /// The hook scripts' memory limit, in MiB [default: 64].
    #[arg(long)]
    hooks_memory_mb: Option<u64>,
}

impl ServeArgs {
    fn layer(self) -> Layer {
        Layer {
            http: self.http,
            origins: self.origins,
            cache_mb: self.cache_mb,
            max_body_mb: self.max_body_mb,
            max_upload_mb: self.max_upload_mb,
            search_writer_mb: self.search_writer_mb,
            search_commit_ms: self.search_commit_ms,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            shutdown_timeout_secs: self.shutdown_timeout_secs,
            log_format: self.log_format,
            log_level: self.log_level,
            hooks_dir: self.hooks_dir,
            hooks_timeout_ms: self.hooks_timeout_ms,
            hooks_memory_mb: self.hooks_memory_mb,
            ..Layer::default()
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Starts the HTTP server.
    Serve(ServeArgs),
    /// Checks the configuration (file, environment, flags) and prints the result.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Manages the full-text search indexes.
    Search {
        #[command(subcommand)]
        action: SearchAction,
    },
    /// Manages superusers.
    Superuser {
        #[command(subcommand)]
        action: SuperuserAction,
    },
    /// The personal data of one auth record (GDPR-style access and erasure). Run it
    /// with the server stopped; while it runs, use the records' `/export` and `/purge`.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Backups of the data directory (zip archives in <dir>/backups).
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Typed client SDKs generated from the collection schema.
    Sdk {
        #[command(subcommand)]
        action: SdkAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum SdkAction {
    /// Writes a client for the current collections: from the data directory (with the
    /// server stopped) or from a running server (--url with superuser credentials).
    Generate(crate::sdk::GenerateArgs),
}

#[derive(Subcommand, Debug)]
pub enum BackupAction {
    /// Takes a backup (with the server stopped; while it runs, use POST /api/backups).
    Create {
        /// The archive name, `[a-z0-9_-]+.zip`; generated if omitted.
        name: Option<String>,
    },
    /// Lists the backups, newest first.
    List,
    /// Verifies a backup and replaces the data directory's contents with it. Run it
    /// with the server stopped.
    Restore {
        /// A backup key in <dir>/backups, or the path of an archive.
        backup: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Writes everything stored about an auth record as JSON.
    Export {
        /// The auth collection's name or id.
        collection: String,
        /// The record's id or email.
        user: String,
        /// Where to write the JSON [default: stdout].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Deletes an auth record with what a delete takes along (cascading relations,
    /// OAuth2 links, MFA sessions, role assignments) and writes the export taken
    /// just before.
    Purge {
        /// The auth collection's name or id.
        collection: String,
        /// The record's id or email.
        user: String,
        /// Where to write the export [default: stdout].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Validates the configuration and prints it as basalt.toml (secrets hidden).
    Check(ServeArgs),
}

#[derive(Subcommand, Debug)]
pub enum SearchAction {
    /// Rebuilds the search index of one collection (or of all) from the store. Run it
    /// with the server stopped.
    Rebuild {
        /// A collection id or name; all collections with searchable fields if omitted.
        collection: Option<String>,
        /// Indexing memory of the index writer, in MiB (at least 15).
        #[arg(long)]
        search_writer_mb: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SuperuserAction {
    /// Creates a superuser, or sets the password of an existing one.
    Upsert { email: String, password: String },
    /// Deletes a superuser.
    Delete { email: String },
}

/// The configuration from every layer: file, environment, then `flags` and `--dir`.
fn load_config(
    config: Option<&std::path::Path>,
    dir: Option<PathBuf>,
    flags: Layer,
) -> anyhow::Result<Config> {
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    let file = crate::config::file_path(config)?;
    crate::config::load(file.as_deref(), &vars, Layer { dir, ..flags })
}

pub fn execute(cli: Cli) -> anyhow::Result<()> {
    let Cli {
        config: config_file,
        dir,
        command,
    } = cli;
    let file = config_file.as_deref();
    match command {
        Command::Serve(args) => {
            let config = load_config(file, dir, args.layer())?;
            init_tracing(&config);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(config.http)
                    .await
                    .with_context(|| format!("binding {}", config.http))?;
                let addr = listener.local_addr()?;
                eprintln!("{}", banner(&config, addr));
                crate::run(config, listener, shutdown_signal()).await
            })
        }
        Command::Config {
            action: ConfigAction::Check(args),
        } => {
            let vars: BTreeMap<String, String> = std::env::vars().collect();
            let path = crate::config::file_path(file)?;
            let config = load_config(file, dir, args.layer())?;
            if let Some(tls) = &config.tls {
                crate::tls::server_config(tls)?;
            }
            match &path {
                Some(p) => println!("# configuration OK (file {})", p.display()),
                None => println!("# configuration OK (no configuration file)"),
            }
            for v in crate::config::unknown_env(&vars) {
                println!("# warning: {v} is not a configuration variable");
            }
            print!("{}", config.describe());
            Ok(())
        }
        Command::Search {
            action:
                SearchAction::Rebuild {
                    collection,
                    search_writer_mb,
                },
        } => {
            let flags = Layer {
                search_writer_mb,
                ..Layer::default()
            };
            let config = load_config(file, dir, flags)?;
            rebuild_search(&config, collection.as_deref())
        }
        Command::Backup { action } => {
            let config = load_config(file, dir, Layer::default())?;
            backup_command(&config, action)
        }
        Command::User { action } => {
            let config = load_config(file, dir, Layer::default())?;
            user_command(&config, action)
        }
        Command::Sdk {
            action: SdkAction::Generate(args),
        } => {
            let config = load_config(file, dir, Layer::default())?;
            crate::sdk::generate(&config, args)
        }
        Command::Superuser { action } => {
            let config = load_config(file, dir, Layer::default())?;
            let services = crate::open_services(&config)?;
            match action {
                SuperuserAction::Upsert { email, password } => {
                    services
                        .upsert_superuser(&email, &password)
                        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
                    println!("Successfully saved superuser \"{email}\".");
                }
                SuperuserAction::Delete { email } => {
                    services
                        .delete_superuser(&email)
                        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
                    println!("Successfully deleted superuser \"{email}\".");
                }
            }
            Ok(())
        }
    }
}

/// Whether opening the store failed because a running server holds it.
pub(crate) fn held_by_server(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("could not acquire lock")
}

/// An error opening the store that names a running server as the likely cause.
fn in_use(while_running: &'static str) -> impl Fn(anyhow::Error) -> anyhow::Error {
    move |e| {
        if held_by_server(&e) {
            anyhow::anyhow!(
                "the data directory is in use by a running server: stop it first (or use {while_running} while it runs)"
            )
        } else {
            e
        }
    }
}

fn user_command(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let message = |e: basalt_core::Error| anyhow::anyhow!("{}", e.message);
    let services = crate::open_services(config)
        .map_err(in_use("the records' /export and /purge endpoints"))?;
    let (collection, user, out, purge) = match action {
        UserAction::Export {
            collection,
            user,
            out,
        } => (collection, user, out, false),
        UserAction::Purge {
            collection,
            user,
            out,
            yes,
        } => {
            anyhow::ensure!(
                yes,
                "purging deletes the record and what it owns for good: add --yes to confirm"
            );
            (collection, user, out, true)
        }
    };
    let c = services.collection(&collection).map_err(|e| {
        if e.code == basalt_core::Code::CollectionNotFound {
            anyhow::anyhow!("no collection \"{collection}\"")
        } else {
            message(e)
        }
    })?;
    let record = services.find_user(&c, &user).map_err(|e| {
        if e.code == basalt_core::Code::NotFound {
            anyhow::anyhow!("no record \"{user}\" in {}", c.name)
        } else {
            message(e)
        }
    })?;
    let export = if purge {
        let (export, pending) = services.purge_user(&c, &record).map_err(message)?;
        let (tx, rx) = std::sync::mpsc::channel();
        services.when_durable(
            pending,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv()
            .map_err(|_| anyhow::anyhow!("the store closed before the purge was durable"))?
            .map_err(message)?;
        export
    } else {
        services.export_user(&c, &record).map_err(message)?
    };
    services.store().close().map_err(message)?;
    let text = serde_json::to_string_pretty(&export)?;
    match out {
        Some(path) => std::fs::write(&path, text + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{text}"),
    }
    if purge {
        eprintln!("Purged {} {} ({}).", c.name, record.id(), user);
    }
    Ok(())
}

fn backup_command(config: &Config, action: BackupAction) -> anyhow::Result<()> {
    use basalt_core::backup::Backups;
    let busy = in_use("/api/backups");
    match action {
        BackupAction::List => {
            for b in crate::backups::list(&config.dir)? {
                println!("{}\t{} bytes\t{}", b.key, b.size, b.modified);
            }
        }
        BackupAction::Create { name } => {
            let services = crate::open_services(config).map_err(busy)?;
            // Drives the S3 copy when `backups.s3` is enabled.
            let runtime = tokio::runtime::Runtime::new()?;
            let offsite = basalt_files::Opener::new(
                config.dir.join(crate::backups::FILES_DIR),
                Some(runtime.handle().clone()),
            )
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let backups = crate::backups::LocalBackups::new(&config.dir, services.clone(), None)
                .with_offsite(std::sync::Arc::new(offsite));
            let started = std::time::Instant::now();
            let info = backups
                .create(name.as_deref())
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            services
                .store()
                .close()
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "Created {} ({} bytes) in {:.1}s.",
                info.key,
                info.size,
                started.elapsed().as_secs_f64()
            );
        }
        BackupAction::Restore { backup } => {
            let given = PathBuf::from(&backup);
            let archive = if given.is_file() {
                given
            } else {
                config.dir.join("backups").join(&backup)
            };
            anyhow::ensure!(archive.is_file(), "no backup {backup}");
            // Refuse while a server holds the store.
            drop(crate::open_services(config).map_err(busy)?);
            let started = std::time::Instant::now();
            let m = crate::backups::stage_restore(&config.dir, &archive)?;
            crate::backups::apply_staged_restore(&config.dir)?;
            println!(
                "Restored {} records and {} files (seq {}) in {:.1}s; search indexes rebuild on the next start.",
                m.records,
                m.files,
                m.seq,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// The one line `basalt serve` prints on start.
fn banner(config: &Config, addr: std::net::SocketAddr) -> String {
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => format!("127.0.0.1:{}", addr.port()),
        ip if ip.is_unspecified() => format!("[::1]:{}", addr.port()),
        _ => addr.to_string(),
    };
    let base = format!("{scheme}://{host}");
    format!(
        "Basalt {} · API {base}/api/ · dashboard {base}/_/ · docs {base}/api/docs · data {}",
        env!("CARGO_PKG_VERSION"),
        config.dir.display()
    )
}

/// `basalt search rebuild [collection]`, with progress on stdout.
fn rebuild_search(config: &Config, only: Option<&str>) -> anyhow::Result<()> {
    let services = crate::open_services(config)?;
    let engine = crate::open_search(config)?;
    let catalog = services.catalog();
    let targets: Vec<_> = match only {
        Some(name) => vec![catalog
            .get(name)
            .cloned()
            .with_context(|| format!("no collection \"{name}\""))?],
        None => catalog
            .iter()
            .filter(|c| c.searchable_fields().next().is_some())
            .cloned()
            .collect(),
    };
    if targets.is_empty() {
        println!("No collection has searchable fields.");
    }
    for c in targets {
        if c.searchable_fields().next().is_none() {
            basalt_search::rebuild(&engine, &services, &c, &mut |_| {})
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}: no searchable fields; index removed.", c.name);
            continue;
        }
        let started = std::time::Instant::now();
        let mut out = std::io::stdout();
        let name = c.name.clone();
        let docs = basalt_search::rebuild(&engine, &services, &c, &mut |done| {
            let _ = write!(out, "\r{name}: {done} records indexed");
            let _ = out.flush();
        })
        .map_err(|e| anyhow::anyhow!("rebuilding {}: {e}", c.name))?;
        println!(
            "\r{}: rebuilt, {docs} records indexed in {:.1}s",
            c.name,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `tracing` to stderr, as text or JSON lines; `BASALT_LOG` overrides the level.
fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BASALT_LOG")
        .unwrap_or_else(|_| config.log_level.as_str().into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
