//! The command line: `basalt serve`, `basalt superuser upsert|delete`,
//! `basalt search rebuild`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::Config;

#[derive(Parser, Debug)]
#[command(
    name = "basalt",
    version,
    about = "A self-hosted backend in one binary"
)]
pub struct Cli {
    /// The data directory.
    #[arg(long, global = true, env = "BASALT_DIR", default_value = "basalt_data")]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Starts the HTTP server.
    Serve {
        /// The address to listen on.
        #[arg(long, env = "BASALT_HTTP", default_value = "127.0.0.1:8090")]
        http: SocketAddr,
        /// sled's page cache size in MiB.
        #[arg(long, env = "BASALT_CACHE_MB", default_value_t = 64)]
        cache_mb: u64,
        /// The largest request body accepted, in MiB.
        #[arg(long, env = "BASALT_MAX_BODY_MB", default_value_t = 32)]
        max_body_mb: usize,
        /// Indexing memory of each collection's full-text search index writer, in MiB
        /// (at least 15).
        #[arg(long, env = "BASALT_SEARCH_WRITER_MB", default_value_t = 50)]
        search_writer_mb: usize,
        /// How long the search indexer gathers changes before committing them, in ms
        /// (search freshness is about this plus the commit time).
        #[arg(long, env = "BASALT_SEARCH_COMMIT_MS", default_value_t = 200)]
        search_commit_ms: u64,
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
}

#[derive(Subcommand, Debug)]
pub enum SearchAction {
    /// Rebuilds the search index of one collection (or of all) from the store. Run it
    /// with the server stopped.
    Rebuild {
        /// A collection id or name; all collections with searchable fields if omitted.
        collection: Option<String>,
        /// Indexing memory of the index writer, in MiB (at least 15).
        #[arg(long, env = "BASALT_SEARCH_WRITER_MB", default_value_t = 50)]
        search_writer_mb: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum SuperuserAction {
    /// Creates a superuser, or sets the password of an existing one.
    Upsert { email: String, password: String },
    /// Deletes a superuser.
    Delete { email: String },
}

pub fn execute(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config {
        dir: cli.dir,
        ..Config::default()
    };
    match cli.command {
        Command::Serve {
            http,
            cache_mb,
            max_body_mb,
            search_writer_mb,
            search_commit_ms,
        } => {
            config.cache_bytes = cache_mb << 20;
            config.max_body_bytes = max_body_mb << 20;
            config.search_writer_bytes = search_writer_mb << 20;
            config.search_commit_interval = Duration::from_millis(search_commit_ms);
            init_tracing();
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(http)
                    .await
                    .with_context(|| format!("binding {http}"))?;
                let addr = listener.local_addr()?;
                eprintln!(
                    "Basalt serving the REST API at http://{addr}/api/ and the dashboard at http://{addr}/_/ (data in {})",
                    config.dir.display()
                );
                crate::run(config, listener, shutdown_signal()).await
            })
        }
        Command::Search {
            action:
                SearchAction::Rebuild {
                    collection,
                    search_writer_mb,
                },
        } => {
            config.search_writer_bytes = search_writer_mb << 20;
            rebuild_search(&config, collection.as_deref())
        }
        Command::Superuser { action } => {
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

fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("BASALT_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
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
