//! The delivery worker: one thread, a queue of jobs, each retried with exponential
//! backoff, its log record updated after every attempt.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use basalt_plugin_api::{json, Host, Level, ListQuery, Map, PluginError, RecordEvent, Value};
use ring::hmac;

use crate::{Settings, DELIVERIES};

/// One event for one URL.
pub struct Job {
    url: String,
    event: &'static str,
    collection: String,
    record_id: String,
    payload: Map<String, Value>,
    attempts: u32,
    log_id: Option<String>,
}

impl Job {
    pub fn new(url: String, event: &RecordEvent) -> Job {
        let mut payload = Map::new();
        payload.insert("event".into(), json!(event.action.as_str()));
        payload.insert("collection".into(), json!(event.collection));
        payload.insert("record".into(), Value::Object(event.record.clone()));
        if let Some(old) = &event.old {
            payload.insert("oldRecord".into(), Value::Object(old.clone()));
        }
        payload.insert("seq".into(), json!(event.seq));
        Job {
            url,
            event: event.action.as_str(),
            collection: event.collection.clone(),
            record_id: event.id.clone(),
            payload,
            attempts: 0,
            log_id: None,
        }
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `<timestamp>.<body>`).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// What a receiver does: checks `signature` (constant time) and that `timestamp` is
/// within `tolerance` of `now` (Unix seconds).
pub fn verify(
    secret: &str,
    timestamp: u64,
    body: &[u8],
    signature: &str,
    now: u64,
    tolerance: u64,
) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    now.abs_diff(timestamp) <= tolerance && hmac::verify(&key, &message, &tag).is_ok()
}

/// Starts the worker; it ends when the returned sender is dropped.
pub fn start(host: Arc<dyn Host>, settings: Arc<Settings>) -> Result<Sender<Job>, PluginError> {
    let client = reqwest::blocking::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| PluginError::new(format!("building the HTTP client: {e}")))?;
    let (tx, rx) = channel::<Job>();
    std::thread::Builder::new()
        .name("basalt-webhooks".into())
        .spawn(move || {
            let worker = Worker {
                host,
                settings,
                client,
            };
            // Deliveries a previous run left unfinished go out again first.
            let mut waiting: Vec<(Instant, Job)> = worker
                .unfinished()
                .into_iter()
                .map(|job| (Instant::now(), job))
                .collect();
            loop {
                let now = Instant::now();
                let wait = waiting
                    .iter()
                    .map(|(due, _)| due.saturating_duration_since(now))
                    .min()
                    .unwrap_or(Duration::from_secs(3600));
                match rx.recv_timeout(wait) {
                    Ok(mut job) => {
                        worker.open_log(&mut job);
                        waiting.push((Instant::now(), job));
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                let now = Instant::now();
                let (due, later): (Vec<_>, Vec<_>) =
                    waiting.drain(..).partition(|(at, _)| *at <= now);
                waiting = later;
                for (_, job) in due {
                    if let Some(retry) = worker.attempt(job) {
                        waiting.push(retry);
                    }
                }
            }
        })
        .map_err(|e| PluginError::new(format!("starting the delivery worker: {e}")))?;
    Ok(tx)
}

struct Worker {
    host: Arc<dyn Host>,
    settings: Arc<Settings>,
    client: reqwest::blocking::Client,
}

/// At most this many unfinished deliveries are resumed at start (the oldest first).
const RESUME_LIMIT: usize = 10_000;

impl Worker {
    /// The deliveries whose log says `pending` or `retrying`: queued or waiting for a
    /// retry when the server stopped. Their attempts so far count.
    fn unfinished(&self) -> Vec<Job> {
        let query = ListQuery {
            filter: r#"status = "pending" || status = "retrying""#.into(),
            sort: "created".into(),
            limit: RESUME_LIMIT,
            offset: 0,
        };
        let records = match self.host.list(DELIVERIES, &query) {
            Ok(r) => r,
            Err(e) => {
                self.host.log(
                    Level::Error,
                    &format!("cannot read unfinished deliveries: {e}"),
                );
                return Vec::new();
            }
        };
        let text = |r: &Map<String, Value>, k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let jobs: Vec<Job> = records
            .into_iter()
            .filter_map(|r| {
                let event = match r.get("event").and_then(Value::as_str)? {
                    "create" => "create",
                    "update" => "update",
                    "delete" => "delete",
                    _ => return None,
                };
                let id = text(&r, "id");
                let mut payload = r.get("payload")?.as_object()?.clone();
                payload.insert("deliveryId".into(), json!(id));
                Some(Job {
                    url: text(&r, "url"),
                    event,
                    collection: text(&r, "collection"),
                    record_id: text(&r, "recordId"),
                    payload,
                    attempts: r.get("attempts").and_then(Value::as_u64).unwrap_or(0) as u32,
                    log_id: Some(id),
                })
            })
            .collect();
        if !jobs.is_empty() {
            self.host.log(
                Level::Info,
                &format!("resuming {} unfinished deliveries", jobs.len()),
            );
        }
        jobs
    }

    /// Creates the delivery's log record (`pending`).
    fn open_log(&self, job: &mut Job) {
        let record = json!({
            "url": job.url,
            "event": job.event,
            "collection": job.collection,
            "recordId": job.record_id,
            "status": "pending",
            "attempts": 0,
            "payload": Value::Object(job.payload.clone()),
        });
        let body = record.as_object().cloned().unwrap_or_default();
        match self.host.create(DELIVERIES, body) {
            Ok(r) => job.log_id = r.get("id").and_then(Value::as_str).map(str::to_owned),
            Err(e) => self
                .host
                .log(Level::Error, &format!("cannot log a delivery: {e}")),
        }
        if let Some(id) = &job.log_id {
            job.payload.insert("deliveryId".into(), json!(id));
        }
    }

    /// One attempt; the job again with its due time when it is to be retried.
    fn attempt(&self, mut job: Job) -> Option<(Instant, Job)> {
        job.attempts += 1;
        let body = Value::Object(job.payload.clone()).to_string();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signature = sign(&self.settings.secret, timestamp, body.as_bytes());
        let sent = self
            .client
            .post(&job.url)
            .header("content-type", "application/json")
            .header("x-basalt-event", job.event)
            .header("x-basalt-delivery", job.log_id.clone().unwrap_or_default())
            .header("x-basalt-timestamp", timestamp.to_string())
            .header("x-basalt-signature", signature)
            .body(body)
            .send();
        let (code, error) = match sent {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => (
                Some(resp.status().as_u16()),
                Some(format!("the receiver answered {}", resp.status())),
            ),
            Err(e) => (None, Some(format!("no answer: {e}"))),
        };
        let retry = error.is_some() && job.attempts < self.settings.max_attempts;
        let status = match (&error, retry) {
            (None, _) => "delivered",
            (Some(_), true) => "retrying",
            (Some(_), false) => "failed",
        };
        self.update_log(&job, status, code, error.as_deref());
        if !retry {
            return None;
        }
        let factor = 1u32 << (job.attempts - 1).min(16);
        let delay = self.settings.backoff.saturating_mul(factor);
        Some((Instant::now() + delay, job))
    }

    fn update_log(&self, job: &Job, status: &str, code: Option<u16>, error: Option<&str>) {
        let Some(id) = &job.log_id else {
            return;
        };
        let update = json!({
            "status": status,
            "attempts": job.attempts,
            "responseStatus": code.unwrap_or(0),
            "error": error.unwrap_or(""),
        });
        let body = update.as_object().cloned().unwrap_or_default();
        if let Err(e) = self.host.update(DELIVERIES, id, body) {
            self.host
                .log(Level::Error, &format!("cannot update delivery {id}: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_tampering_and_old_timestamps() {
        let sig = sign("0123456789abcdef", 1000, b"{\"a\":1}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify(
            "0123456789abcdef",
            1000,
            b"{\"a\":1}",
            &sig,
            1100,
            300
        ));
        assert!(!verify(
            "0123456789abcdef",
            1000,
            b"{\"a\":2}",
            &sig,
            1100,
            300
        ));
        assert!(!verify(
            "0123456789abcdef",
            1001,
            b"{\"a\":1}",
            &sig,
            1100,
            300
        ));
        assert!(!verify(
            "0123456789abcdef",
            1000,
            b"{\"a\":1}",
            &sig,
            5000,
            300
        ));
        assert!(!verify(
            "other-secret-value",
            1000,
            b"{\"a\":1}",
            &sig,
            1100,
            300
        ));
        assert!(!verify(
            "0123456789abcdef",
            1000,
            b"{\"a\":1}",
            "sha256=zz",
            1100,
            300
        ));
    }
}
