//! The command line: `basalt serve`, `basalt superuser upsert|delete`.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    },
    /// Manages superusers.
    Superuser {
        #[command(subcommand)]
        action: SuperuserAction,
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
        } => {
            config.cache_bytes = cache_mb << 20;
            config.max_body_bytes = max_body_mb << 20;
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
