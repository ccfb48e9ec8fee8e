//! Request logs: a middleware that hands each request's summary to a bounded channel
//! (never waiting: when the channel is full the entry is dropped and counted), a
//! writer task that resolves auth and appends batches to the [`LogStore`] on the
//! blocking pool, and `/api/logs` (superusers only, PocketBase's shapes).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use basalt_core::logs::{self, LogBatch, LogEntry, LogStore};
use basalt_core::record::json_out::Object;
use basalt_core::service::{Principal, Services};
use basalt_core::{Code, Error};
use poem::http::{header, HeaderValue, Method};
use poem::web::{Json, Path};
use poem::{handler, Endpoint, IntoResponse, Request, Response, Result};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::context::{query_map, Ctx};
use crate::{ApiError, AppState};

/// Entries waiting for the writer; beyond this, new entries are dropped.
pub const QUEUE: usize = 8192;
/// The most entries one append carries.
const BATCH: usize = 512;
/// After an append that was not full, the writer waits this long for more entries:
/// under load each append then carries hundreds of entries (one hop to the blocking
/// pool and one file write for all of them), and a log shows up this much later.
const LINGER: std::time::Duration = std::time::Duration::from_millis(25);
/// PocketBase's levels.
const INFO: i64 = 0;
const WARN: i64 = 4;
const ERROR: i64 = 8;

/// What the middleware captured of one request, for the writer to build the entry
/// from and resolve the auth of, a batch at a time. Its texts are copied into one
/// buffer: a handle into the request (a header value, the URI) would keep the
/// connection's whole read buffer alive while the entry waits in the queue.
pub struct Pending {
    at: SystemTime,
    elapsed: Duration,
    level: i64,
    status: u16,
    method: Method,
    /// The client's and the connection's addresses; `None` when IPs are not logged.
    user_ip: Option<IpAddr>,
    remote_ip: Option<IpAddr>,
    /// The URL (path and query), the user agent, the referer and the `Authorization`
    /// value, one after the other; `ends` says where each one ends.
    texts: String,
    ends: [usize; 4],
}

/// Which of [`Pending::texts`].
#[derive(Clone, Copy)]
enum Text {
    Url,
    UserAgent,
    Referer,
    Token,
}

impl Pending {
    fn text(&self, which: Text) -> &str {
        let i = which as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.texts[start..self.ends[i]]
    }

    /// Adds the entry to `batch`, with the caller `auth` resolved to. It is written
    /// straight as the line a [`LogEntry`] serializes to, without building one.
    fn add_to(&self, batch: &mut LogBatch, auth: &Auth) {
        let url = self.text(Text::Url);
        let ip = |ip: Option<IpAddr>| ip.map(|ip| ip.to_string()).unwrap_or_default();
        let created = basalt_core::time::format_system(self.at);
        batch.push_with(&created, |out| {
            let mut entry = Object::begin(out);
            entry.str("id", &basalt_core::ids::new_id());
            entry.str("created", &created);
            entry.str("updated", &created);
            entry.value("level", &Value::from(self.level));
            entry.str("message", &format!("{} {url}", self.method));
            let mut data = Object::begin(entry.key("data"));
            data.str("type", "request");
            data.str("method", self.method.as_str());
            data.str("url", url);
            data.value("status", &Value::from(self.status));
            let exec_time = self.elapsed.as_secs_f64() * 1000.0;
            data.value("execTime", &Value::from(exec_time));
            data.str("userIP", &ip(self.user_ip));
            data.str("remoteIP", &ip(self.remote_ip));
            data.str("userAgent", self.text(Text::UserAgent));
            data.str("referer", self.text(Text::Referer));
            if let Some(id) = &auth.id {
                data.str("authId", id);
            }
            data.str("auth", &auth.collection);
            data.end();
            entry.end();
        });
    }
}

/// Who a logged request was made by: the auth collection's name (`""` for guests)
/// and, with `logs.logAuthId` on, the record's id.
#[derive(Default)]
struct Auth {
    collection: String,
    id: Option<String>,
}

/// The sending half the middleware uses.
pub struct LogSink {
    tx: mpsc::Sender<Pending>,
    pub dropped: AtomicU64,
}

/// The writer task; [`LogWriter::finish`] writes what is queued and ends it.
pub struct LogWriter {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl LogWriter {
    /// Stops taking entries, writes the queued ones and waits for the task.
    pub async fn finish(self) {
        self.stop.notify_one();
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the log writer failed");
        }
    }
}

/// Starts the writer on the current runtime. It holds the services only weakly, so
/// that whoever drops the last strong handle (the server, at shutdown) closes the store.
pub fn start_writer(
    store: Arc<dyn LogStore>,
    services: &Arc<Services>,
) -> (Arc<LogSink>, LogWriter) {
    let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE);
    let services = Arc::downgrade(services);
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(BATCH);
        let mut stopping = std::pin::pin!(stopped.notified());
        loop {
            tokio::select! {
                n = rx.recv_many(&mut buf, BATCH) => if n == 0 { break },
                () = &mut stopping => {
                    // Senders still held by lingering requests can no longer add;
                    // what is buffered is drained below.
                    rx.close();
                    while rx.recv_many(&mut buf, BATCH).await > 0 {
                        write(&store, &services, std::mem::take(&mut buf)).await;
                    }
                    break;
                }
            }
            let full = buf.len() >= BATCH;
            write(&store, &services, std::mem::take(&mut buf)).await;
            if !full {
                // A stop meanwhile is not lost: `stopping` holds the notification.
                tokio::time::sleep(LINGER).await;
            }
        }
    });
    let sink = Arc::new(LogSink {
        tx,
        dropped: AtomicU64::new(0),
    });
    (sink, LogWriter { stop, task })
}

/// Resolves auth and appends one batch on the blocking pool.
async fn write(store: &Arc<dyn LogStore>, services: &Weak<Services>, batch: Vec<Pending>) {
    if batch.is_empty() {
        return;
    }
    let (store, services) = (store.clone(), services.clone());
    let done = tokio::task::spawn_blocking(move || {
        let services = services.upgrade();
        // A batch usually comes from a few callers: each token is resolved once.
        let mut callers: HashMap<String, Auth> = HashMap::new();
        let mut lines = LogBatch::default();
        for p in batch {
            let token = p.text(Text::Token);
            if !callers.contains_key(token) {
                let auth = resolve(services.as_deref(), token);
                callers.insert(token.to_owned(), auth);
            }
            p.add_to(&mut lines, &callers[token]);
        }
        store.append(&lines)
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e.message, "writing request logs failed"),
        Err(e) => tracing::error!(error = %e, "the log writer panicked"),
    }
}

/// The caller `token` (an `Authorization` value) stands for.
fn resolve(services: Option<&Services>, token: &str) -> Auth {
    let Some(services) = services.filter(|_| !token.is_empty()) else {
        return Auth::default();
    };
    let principal = services.principal_from_token(token);
    let Some((collection, record)) = principal.auth() else {
        return Auth::default();
    };
    let collection = match principal {
        Principal::Superuser { .. } => "_superusers".to_owned(),
        _ => collection.name.clone(),
    };
    let log_id = services.settings().logs.log_auth_id;
    Auth {
        collection,
        id: log_id.then(|| record.id().to_owned()),
    }
}

/// A header value as text; `""` when it is not visible ASCII.
fn text(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The middleware: times the request, counts it in the metrics, and queues its log.
pub async fn observe<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let Some(state) = req.data::<Arc<AppState>>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let started = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let settings = state.services.settings();
    let logging = state.log_sink.is_some() && settings.logs.max_days > 0;
    let captured = logging.then(|| {
        let (user_ip, remote_ip) = if settings.logs.log_ip {
            (
                crate::ratelimit::client_addr(&req, &settings.trusted_proxy),
                req.remote_addr().as_socket_addr().map(|a| a.ip()),
            )
        } else {
            (None, None)
        };
        let url = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path(), |p| p.as_str());
        let header = |name| text(req.headers().get(name));
        let parts = [
            url,
            header(header::USER_AGENT),
            header(header::REFERER),
            header(header::AUTHORIZATION),
        ];
        let mut texts = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let ends = parts.map(|part| {
            texts.push_str(part);
            texts.len()
        });
        (user_ip, remote_ip, texts, ends)
    });
    let out = next.call(req).await.map(IntoResponse::into_response);
    let status = match &out {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status().as_u16(),
    };
    let elapsed = started.elapsed();
    state.metrics.observe(uri.path(), status, elapsed);
    let Some((user_ip, remote_ip, texts, ends)) = captured else {
        return out;
    };
    let level = match status {
        500.. => ERROR,
        400.. => WARN,
        _ => INFO,
    };
    if level < settings.logs.min_level {
        return out;
    }
    if let Some(sink) = &state.log_sink {
        let pending = Pending {
            at: SystemTime::now(),
            elapsed,
            level,
            status,
            method,
            user_ip,
            remote_ip,
            texts,
            ends,
        };
        if sink.tx.try_send(pending).is_err() {
            sink.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
    out
}

/// The log store, for superusers only.
async fn guard(ctx: Ctx) -> Result<(Arc<AppState>, Arc<dyn LogStore>), ApiError> {
    let state = ctx.state.clone();
    let who = ctx.run(|_, who, _| Ok(who)).await?;
    match who {
        Principal::Superuser { .. } => {}
        Principal::Guest => return Err(ApiError(Error::from_code(Code::Unauthenticated))),
        Principal::Auth { .. } => return Err(ApiError(Error::from_code(Code::SuperuserOnly))),
    }
    let store = state
        .log_store
        .clone()
        .ok_or_else(|| ApiError(Error::from_code(Code::NotFound)))?;
    Ok((state, store))
}

fn param(q: &Map<String, Value>, name: &str) -> String {
    q.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn number(q: &Map<String, Value>, name: &str, default: usize) -> usize {
    q.get(name)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> basalt_core::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(Error::internal(format!("blocking task failed: {e}"))))?
        .map_err(ApiError)
}

#[handler]
pub async fn list_logs(ctx: Ctx, req: &Request) -> Result<Json<Value>, ApiError> {
    let (_, store) = guard(ctx).await?;
    let q = query_map(req);
    let (filter, sort) = (param(&q, "filter"), param(&q, "sort"));
    let page = number(&q, "page", 1);
    let per_page = number(&q, "perPage", 30).min(1000);
    blocking(move || {
        let filter = logs::compile_filter(&filter)?;
        let mut all = logs::matching(store.as_ref(), filter.as_ref())?;
        logs::sort(&mut all, &sort)?;
        let total = all.len();
        let items: Vec<&LogEntry> = all
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        Ok(Json(json!({
            "page": page,
            "perPage": per_page,
            "totalItems": total,
            "totalPages": total.div_ceil(per_page),
            "items": items,
        })))
    })
    .await
}

#[handler]
pub async fn get_log(ctx: Ctx, Path(id): Path<String>) -> Result<Json<LogEntry>, ApiError> {
    let (_, store) = guard(ctx).await?;
    let found = blocking(move || store.get(&id)).await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError(Error::from_code(Code::NotFound)))
}

#[handler]
pub async fn log_stats(ctx: Ctx, req: &Request) -> Result<Json<Vec<logs::HourStat>>, ApiError> {
    let (_, store) = guard(ctx).await?;
    let filter = param(&query_map(req), "filter");
    blocking(move || {
        let filter = logs::compile_filter(&filter)?;
        let all = logs::matching(store.as_ref(), filter.as_ref())?;
        Ok(Json(logs::stats(&all)))
    })
    .await
}
