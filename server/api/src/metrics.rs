//! `GET /api/metrics`: Prometheus text format (version 0.0.4), written by hand.
//!
//! Requests are counted by route pattern (never the raw path, so the number of series
//! stays bounded) and status class; latency goes into one fixed-bucket histogram.
//! Superusers may always read it; a scraper presents the process config's
//! `metrics_token` as `Authorization: Bearer <token>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use basalt_core::service::Principal;
use basalt_core::{Code, Error};
use parking_lot::Mutex;
use poem::http::header;
use poem::{handler, Request, Response};

use crate::context::Ctx;
use crate::ApiError;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters the middleware moves.
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }
}

fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The route pattern of `path`: one of a fixed set of strings.
pub fn route(path: &str) -> &'static str {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["_", ..] => "/_/",
        ["api", "collections", _, "records"] => "/api/collections/{collection}/records",
        ["api", "collections", _, "records", _] => "/api/collections/{collection}/records/{id}",
        ["api", "collections", _, "records", _, "export"] => {
            "/api/collections/{collection}/records/{id}/export"
        }
        ["api", "collections", _, "records", _, "purge"] => {
            "/api/collections/{collection}/records/{id}/purge"
        }
        ["api", "collections", _, "impersonate", _] => {
            "/api/collections/{collection}/impersonate/{id}"
        }
        ["api", "collections", "import"] => "/api/collections/import",
        ["api", "collections", _, action] => match *action {
            "auth-with-password" => "/api/collections/{collection}/auth-with-password",
            "auth-with-oauth2" => "/api/collections/{collection}/auth-with-oauth2",
            "auth-with-otp" => "/api/collections/{collection}/auth-with-otp",
            "auth-refresh" => "/api/collections/{collection}/auth-refresh",
            "auth-methods" => "/api/collections/{collection}/auth-methods",
            "request-otp" => "/api/collections/{collection}/request-otp",
            a if a.starts_with("request-") => "/api/collections/{collection}/request-*",
            a if a.starts_with("confirm-") => "/api/collections/{collection}/confirm-*",
            _ => "other",
        },
        ["api", "collections", _] => "/api/collections/{collection}",
        ["api", "collections"] => "/api/collections",
        ["api", "files", "token"] => "/api/files/token",
        ["api", "files", _, _, _] => "/api/files/{collection}/{record}/{filename}",
        ["api", "sdk", _] => "/api/sdk/{lang}",
        ["api", "logs"] => "/api/logs",
        ["api", "logs", "stats"] => "/api/logs/stats",
        ["api", "logs", _] => "/api/logs/{id}",
        ["api", "backups"] => "/api/backups",
        ["api", "backups", "upload"] => "/api/backups/upload",
        ["api", "backups", _] => "/api/backups/{key}",
        ["api", "backups", _, "restore"] => "/api/backups/{key}/restore",
        ["api", "policies", ..] => "/api/policies/*",
        ["api", "roles", ..] => "/api/roles/*",
        ["api", "settings", ..] => "/api/settings",
        ["api", one] => match *one {
            "health" => "/api/health",
            "batch" => "/api/batch",
            "realtime" => "/api/realtime",
            "metrics" => "/api/metrics",
            "install" => "/api/install",
            _ => "other",
        },
        _ => "other",
    }
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, path: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .entry((route(path), class(status)))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render_requests(&self, out: &mut String) {
        out.push_str("# HELP basalt_http_requests_total Finished HTTP requests.\n");
        out.push_str("# TYPE basalt_http_requests_total counter\n");
        for ((route, class), n) in self.requests.lock().iter() {
            let _ = writeln!(
                out,
                "basalt_http_requests_total{{route=\"{route}\",status=\"{class}\"}} {n}"
            );
        }
        let name = "basalt_http_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} HTTP request latency.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, kind: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Whether the caller may read the metrics: the bearer token, or a superuser.
async fn allowed(ctx: Ctx) -> Result<(), ApiError> {
    let expected = ctx.state.metrics_token.clone();
    if let (Some(expected), Some(given)) = (&expected, ctx.token().strip_prefix("Bearer ")) {
        if constant_eq(expected.as_bytes(), given.trim().as_bytes()) {
            return Ok(());
        }
    }
    match ctx.run(|_, who, _| Ok(who)).await? {
        Principal::Superuser { .. } => Ok(()),
        Principal::Guest => Err(ApiError(Error::from_code(Code::Unauthenticated))),
        Principal::Auth { .. } => Err(ApiError(Error::from_code(Code::SuperuserOnly))),
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bytes under `dir`, recursively.
fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[handler]
pub async fn get_metrics(ctx: Ctx, _req: &Request) -> Result<Response, ApiError> {
    let state: Arc<crate::AppState> = ctx.state.clone();
    allowed(ctx).await?;
    let mut out = String::with_capacity(4096);
    state.metrics.render_requests(&mut out);
    let (dir, logs) = (state.data_dir.clone(), state.log_store.clone());
    let (store_bytes, log_bytes) = tokio::task::spawn_blocking(move || {
        let store = dir.map(|d| dir_size(&d.join("store")));
        (store, logs.and_then(|l| l.size_on_disk()))
    })
    .await
    .unwrap_or((None, None));
    if let Some(b) = store_bytes {
        gauge(
            &mut out,
            "basalt_store_size_bytes",
            "Bytes of the record store on disk.",
            "gauge",
            b,
        );
    }
    if let Some(b) = log_bytes {
        gauge(
            &mut out,
            "basalt_log_store_size_bytes",
            "Bytes of the request-log store on disk.",
            "gauge",
            b,
        );
    }
    if let Some(sink) = &state.log_sink {
        let dropped = sink.dropped.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "basalt_logs_dropped_total",
            "Request logs dropped because the writer queue was full.",
            "counter",
            dropped,
        );
    }
    let services = &state.services;
    if let Some((flushes, time)) = services.store().flush_stats() {
        let name = "basalt_store_flush_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time spent making writes durable (log syncs and store flushes).\n# TYPE {name} summary\n{name}_sum {}\n{name}_count {flushes}",
            time.as_secs_f64()
        );
    }
    let durable = services.durable_signal().last();
    gauge(
        &mut out,
        "basalt_store_durable_seq",
        "The last change sequence on disk.",
        "gauge",
        durable,
    );
    if let Some(progress) = &state.search_progress {
        let applied = progress.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "basalt_search_lag",
            "Durable changes not yet applied to the search indexes.",
            "gauge",
            durable.saturating_sub(applied),
        );
    }
    gauge(
        &mut out,
        "basalt_realtime_clients",
        "Connected realtime (SSE) clients.",
        "gauge",
        state.realtime.len(),
    );
    let _ = writeln!(
        out,
        "# HELP basalt_build_info Build information.\n# TYPE basalt_build_info gauge\nbasalt_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    Ok(Response::builder()
        .header(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .body(out))
}
