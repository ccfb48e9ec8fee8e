//! The Basalt binary's library half: process configuration, wiring of the concrete
//! engines (sled store, tantivy search) into the services, and [`run`], which serves the API on a
//! given listener until a shutdown signal — so tests start the real server on
//! `127.0.0.1:0`.
//!
//! This is the only crate that names concrete implementations.

pub mod cli;
mod mail;
mod oauth_http;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use basalt_api::realtime::{Follower, RealtimeLimits};
use basalt_api::{AppState, HttpLimits, InstallToken};
use basalt_core::service::{Limits, Services};
use basalt_search::{Indexer, SearchEngine, SearchOptions};
use basalt_storage::{SledOptions, SledStore};
use poem::listener::{Acceptor, TcpAcceptor};
use poem::Server;

/// Process configuration: what needs a restart to change.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (`./basalt_data` by default).
    pub dir: PathBuf,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Indexing memory of each collection's search index writer, in bytes.
    pub search_writer_bytes: usize,
    /// How long the search indexer gathers changes before a commit.
    pub search_commit_interval: Duration,
    /// Realtime (SSE) queues, timeouts and counts.
    pub realtime: RealtimeLimits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            dir: PathBuf::from("basalt_data"),
            cache_bytes: 64 << 20,
            max_body_bytes: 32 << 20,
            search_writer_bytes: 50 << 20,
            search_commit_interval: Duration::from_millis(200),
            realtime: RealtimeLimits::default(),
        }
    }
}

/// Opens the data directory and builds the services on it.
pub fn open_services(config: &Config) -> anyhow::Result<Arc<Services>> {
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("creating data directory {}", config.dir.display()))?;
    let secret = load_or_create_secret(&config.dir)?;
    let options = SledOptions {
        cache_capacity_bytes: config.cache_bytes,
    };
    let store = SledStore::open(&config.dir.join("store"), options)
        .map_err(|e| anyhow::anyhow!("opening the store in {}: {e}", config.dir.display()))?;
    let mut services = Services::open(Arc::new(store), secret, Limits::default())
        .map_err(|e| anyhow::anyhow!("loading collections: {e}"))?;
    let engine = basalt_policy::CasbinEngine::new()
        .map_err(|e| anyhow::anyhow!("starting the policy engine: {e}"))?;
    services
        .attach_policy_engine(Arc::new(engine))
        .map_err(|e| anyhow::anyhow!("loading policies: {e}"))?;
    services.attach_mailer(Arc::new(mail::SmtpMailer));
    // OAuth2 logins reach providers on the server's runtime (absent for CLI commands).
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        services.attach_oauth_http(Arc::new(oauth_http::ReqwestOAuthHttp::new(runtime)?));
    }
    Ok(Arc::new(services))
}

/// Opens the search engine under `<dir>/search/`.
pub fn open_search(config: &Config) -> anyhow::Result<Arc<SearchEngine>> {
    let options = SearchOptions {
        writer_bytes: config.search_writer_bytes,
        commit_interval: config.search_commit_interval,
    };
    let root = config.dir.join("search");
    let engine = SearchEngine::open(&root, options)
        .with_context(|| format!("opening the search indexes in {}", root.display()))?;
    Ok(Arc::new(engine))
}

/// Wires full-text search into `services` and starts the indexer that follows the
/// change log (replaying what the indexes missed).
fn start_search(services: &Arc<Services>, config: &Config) -> anyhow::Result<Indexer> {
    let engine = open_search(config)?;
    services.set_search_index(engine.clone());
    Indexer::start(engine, services.clone())
        .map_err(|e| anyhow::anyhow!("starting the search indexer: {e}"))
}

/// The secret that signs auth tokens lives in the data directory, so that a backup of
/// the directory keeps sessions valid and nothing else needs configuring.
fn load_or_create_secret(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_owned();
        if s.len() >= 32 {
            return Ok(s);
        }
    }
    let secret = basalt_core::ids::random_string(64);
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight
/// requests (up to 10 s) and returns.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let services = tokio::task::spawn_blocking({
        let config = config.clone();
        move || open_services(&config)
    })
    .await??;
    serve(services, &config, listener, shutdown).await
}

/// Serves already-opened services.
pub async fn serve(
    services: Arc<Services>,
    config: &Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let indexer = tokio::task::spawn_blocking({
        let (services, config) = (services.clone(), config.clone());
        move || start_search(&services, &config)
    })
    .await??;
    let install = first_run_token(&services).await?;
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addr = acceptor
        .local_addr()
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Some(token) = &install {
        announce_install(&addr, token);
    }
    let state = Arc::new(AppState::new(
        services,
        HttpLimits {
            max_body_bytes: config.max_body_bytes,
            realtime: config.realtime.clone(),
        },
        install,
    ));
    let follower = Follower::start(state.services.clone(), state.realtime.clone())
        .context("starting the realtime follower")?;
    tracing::info!(%addr, "serving");
    let housekeeping = tokio::spawn(housekeeping(state.services.clone()));
    let hub = state.realtime.clone();
    // Event streams never end on their own: close them when shutdown begins, so that
    // the graceful drain only waits for ordinary requests.
    let shutdown = async move {
        shutdown.await;
        hub.close();
    };
    let served = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            basalt_api::routes(state),
            shutdown,
            Some(Duration::from_secs(10)),
        )
        .await;
    housekeeping.abort();
    tokio::task::spawn_blocking(move || {
        follower.stop();
        indexer.stop();
    })
    .await?;
    served?;
    Ok(())
}

/// How often expired one-time passwords are deleted.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// Periodic cleanup while serving.
async fn housekeeping(services: Arc<Services>) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        let s = services.clone();
        match tokio::task::spawn_blocking(move || s.purge_expired_otps()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "expired one-time passwords removed"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e.message, "removing expired one-time passwords failed")
            }
            _ => {}
        }
    }
}

/// A one-time install token when the data directory has no superuser yet.
async fn first_run_token(services: &Arc<Services>) -> anyhow::Result<Option<InstallToken>> {
    let services = services.clone();
    let has_superuser = tokio::task::spawn_blocking(move || services.has_superuser())
        .await?
        .map_err(|e| anyhow::anyhow!("looking for superusers: {}", e.message))?;
    Ok((!has_superuser).then(InstallToken::generate))
}

/// Prints the install URL to the operator's terminal (never to the log).
fn announce_install(addr: &str, token: &InstallToken) {
    let host = addr
        .strip_prefix("socket://")
        .unwrap_or(addr)
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    eprintln!(
        "\nNo superuser exists yet. Create the first one in the admin dashboard (this link works once):\n\n    http://{host}/_/#/install/{}\n",
        token.secret()
    );
}
