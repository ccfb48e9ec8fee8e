//! The Basalt binary's library half: process configuration, wiring of the concrete
//! engines (sled store, tantivy search) into the services, and [`run`], which serves the API on a
//! given listener until a shutdown signal — so tests start the real server on
//! `127.0.0.1:0`.
//!
//! This is the only crate that names concrete implementations.

pub mod backups;
pub mod cli;
pub mod config;
mod mail;
mod oauth_http;
pub mod plugins;
pub mod sdk;
mod tls;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use basalt_api::realtime::Follower;
use basalt_api::{AppState, HttpLimits, InstallToken};
use basalt_core::service::{Limits, Services};
use basalt_search::{Indexer, SearchEngine, SearchOptions};
use basalt_storage::{FileLogStore, SledOptions, SledStore};
use poem::listener::{Acceptor, AcceptorExt, TcpAcceptor};
use poem::Server;

pub use config::Config;

/// Opens the data directory and builds the services on it.
pub fn open_services(config: &Config) -> anyhow::Result<Arc<Services>> {
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("creating data directory {}", config.dir.display()))?;
    if backups::apply_staged_restore(&config.dir).context("applying a staged restore")? {
        tracing::warn!(dir = %config.dir.display(), "a verified backup was swapped in");
    }
    let secret = match &config.token_secret {
        Some(s) => s.expose().trim().to_owned(),
        None => load_or_create_secret(&config.dir)?,
    };
    let options = SledOptions {
        cache_capacity_bytes: config.cache_bytes,
        // Records by id in front of the page cache: half as much again.
        record_cache_bytes: usize::try_from(config.cache_bytes / 2).unwrap_or(usize::MAX),
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
    let runtime = tokio::runtime::Handle::try_current().ok();
    // Files live in <dir>/storage unless the settings enable S3 (driven on the runtime).
    let files = basalt_files::Opener::new(config.dir.join("storage"), runtime.clone())
        .map_err(|e| anyhow::anyhow!("opening file storage: {}", e.message))?;
    services
        .attach_files(Arc::new(files))
        .map_err(|e| anyhow::anyhow!("opening file storage: {}", e.message))?;
    // OAuth2 logins reach providers on the server's runtime (absent for CLI commands).
    if let Some(runtime) = runtime {
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
/// requests (up to `config.shutdown_timeout`), stops the indexer, flushes the store and
/// returns.
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

/// Serves already-opened services until `shutdown` completes. A restore through the
/// API restarts the server in place: the services close, the staged backup is swapped
/// in, and the same socket serves the restored data.
pub async fn serve(
    services: Arc<Services>,
    config: &Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = listener.into_std()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let logs = open_logs(config).await?;
    let mut services = services;
    loop {
        let round = tokio::net::TcpListener::from_std(listener.try_clone()?)?;
        let restart = Arc::new(tokio::sync::Notify::new());
        let ops = Ops {
            logs: logs.clone(),
            restart: restart.clone(),
        };
        serve_once(services, config, round, stop_rx.clone(), ops).await?;
        if *stop_rx.borrow() {
            return Ok(());
        }
        tracing::warn!("restarting on restored data");
        services = tokio::task::spawn_blocking({
            let config = config.clone();
            move || reopen_services(&config)
        })
        .await??;
    }
}

/// Opens the request-log store under `<dir>/logs`, apart from the record store (see
/// `FileLogStore`).
async fn open_logs(config: &Config) -> anyhow::Result<Arc<FileLogStore>> {
    let dir = config.dir.join("logs");
    let store = tokio::task::spawn_blocking(move || FileLogStore::open(&dir))
        .await?
        .map_err(|e| anyhow::anyhow!("opening the log store: {e}"))?;
    Ok(Arc::new(store))
}

/// What one life of the server shares with the next.
struct Ops {
    logs: Arc<FileLogStore>,
    restart: Arc<tokio::sync::Notify>,
}

/// [`open_services`] after a restart: waits out the directory lock the closed store
/// releases through deferred cleanup.
fn reopen_services(config: &Config) -> anyhow::Result<Arc<Services>> {
    let started = std::time::Instant::now();
    loop {
        match open_services(config) {
            Err(e)
                if format!("{e:#}").contains("could not acquire lock")
                    && started.elapsed() < Duration::from_secs(30) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// One life of the server: until shutdown, or until a restore asks for a restart.
async fn serve_once(
    services: Arc<Services>,
    config: &Config,
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
    ops: Ops,
) -> anyhow::Result<()> {
    let Ops { logs, restart } = ops;
    let indexer = tokio::task::spawn_blocking({
        let (services, config) = (services.clone(), config.clone());
        move || start_search(&services, &config)
    })
    .await??;
    let install = first_run_token(&services).await?;
    let acceptor = match &config.tls {
        None => TcpAcceptor::from_tokio(listener)?.boxed(),
        Some(files) => {
            let tls = tls::server_config(files)?;
            tls::TlsTcpAcceptor::new(TcpAcceptor::from_tokio(listener)?, tls).boxed()
        }
    };
    let addr = acceptor
        .local_addr()
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Some(token) = &install {
        announce_install(&addr, token);
    }
    let offsite = basalt_files::Opener::new(
        config.dir.join(backups::FILES_DIR),
        Some(tokio::runtime::Handle::current()),
    )
    .map_err(|e| anyhow::anyhow!("opening the file storage: {}", e.message))?;
    let backups = Arc::new(
        backups::LocalBackups::new(&config.dir, services.clone(), Some(restart.clone()))
            .with_offsite(Arc::new(offsite)),
    );
    let (log_sink, log_writer) = basalt_api::logs::start_writer(logs.clone(), &services);
    let state = Arc::new(
        AppState::new(
            services.clone(),
            HttpLimits {
                max_body_bytes: config.max_body_bytes,
                origins: config.origins.clone(),
                max_upload_bytes: config.max_upload_bytes,
                realtime: config.realtime.clone(),
            },
            install,
        )
        .with_backups(backups.clone())
        .with_logs(logs.clone(), log_sink)
        .with_ops(
            config.dir.clone(),
            config
                .metrics_token
                .as_ref()
                .map(|t| t.expose().trim().to_owned()),
        )
        .with_search_progress(indexer.progress()),
    );
    let follower = Follower::start(state.services.clone(), state.realtime.clone())
        .context("starting the realtime follower")?;
    let plugins = tokio::task::spawn_blocking({
        let (services, config) = (services.clone(), config.clone());
        move || plugins::start(&services, &config)
    })
    .await??;
    tracing::info!(%addr, "serving");
    let housekeeping = tokio::spawn(housekeeping(
        services.clone(),
        backups.clone(),
        logs.clone(),
    ));
    let hub = state.realtime.clone();
    // Event streams never end on their own: close them when shutdown begins, so that
    // the graceful drain only waits for ordinary requests.
    let signal = async move {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => {},
            _ = restart.notified() => {},
        }
        hub.close();
    };
    let served = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            basalt_api::routes(state),
            signal,
            Some(config.shutdown_timeout),
        )
        .await;
    housekeeping.abort();
    let _ = housekeeping.await;
    // Requests are drained: write the logs they queued.
    log_writer.finish().await;
    drop(backups);
    tokio::task::spawn_blocking(move || {
        if let Some(plugins) = plugins {
            plugins.stop();
        }
        follower.stop();
        indexer.stop();
        services.store().close()
    })
    .await?
    .map_err(|e| anyhow::anyhow!("closing the store: {}", e.message))?;
    tracing::info!("stopped: in-flight requests drained, store flushed");
    served?;
    Ok(())
}

/// How often housekeeping runs: the backup schedule is checked every minute.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// Expired one-time passwords are deleted every this many ticks.
const OTP_PURGE_TICKS: u64 = 10;

/// Periodic work while serving: scheduled backups, cleanup.
async fn housekeeping(
    services: Arc<Services>,
    backups: Arc<backups::LocalBackups>,
    logs: Arc<FileLogStore>,
) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for n in 0u64.. {
        tick.tick().await;
        let settings = services.settings();
        let cron = settings.backups.cron.trim();
        if !cron.is_empty() {
            let schedule = basalt_core::cron::Schedule::parse(cron);
            if schedule.is_ok_and(|s| s.matches(chrono::Utc::now().timestamp())) {
                let (b, keep) = (
                    backups.clone(),
                    settings.backups.cron_max_keep.max(1) as usize,
                );
                let name = backups::generated_name("@auto_pb_backup_", &settings.meta.app_name);
                let done = tokio::task::spawn_blocking(move || {
                    use basalt_core::backup::Backups;
                    b.create(Some(&name)).map_err(|e| e.message)?;
                    b.prune_auto(keep).map_err(|e| e.to_string())
                })
                .await;
                match done {
                    Ok(Ok(pruned)) => tracing::info!(pruned, "scheduled backup done"),
                    Ok(Err(e)) => tracing::error!(error = %e, "scheduled backup failed"),
                    Err(e) => tracing::error!(error = %e, "scheduled backup panicked"),
                }
            }
        }
        if !n.is_multiple_of(OTP_PURGE_TICKS) {
            continue;
        }
        purge_logs(&logs, settings.logs.max_days).await;
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

/// Deletes request logs older than `max_days` (0 keeps logging off and deletes them
/// all, as in PocketBase).
pub async fn purge_logs(logs: &Arc<FileLogStore>, max_days: i64) {
    use basalt_core::logs::LogStore;
    let cutoff = chrono::Utc::now() - chrono::Duration::days(max_days.max(0));
    let cutoff = basalt_core::time::format(cutoff);
    let logs = logs.clone();
    match tokio::task::spawn_blocking(move || logs.purge_before(&cutoff)).await {
        Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "old request logs removed"),
        Ok(Err(e)) => tracing::warn!(error = %e.message, "removing old request logs failed"),
        _ => {}
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
