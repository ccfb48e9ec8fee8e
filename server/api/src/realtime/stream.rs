//! `GET /api/realtime`: the event stream of one client.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use basalt_core::{Code, Error};
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use poem::http::header;
use poem::{handler, Body, Request, Response};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::{message, Client, Hub};
use crate::ratelimit::client_ip;
use crate::{ApiError, AppState};

/// Unregisters the client when its stream is dropped (the connection closed).
struct Registration {
    hub: Arc<Hub>,
    client: Arc<Client>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(&self.client.id);
    }
}

struct Conn {
    reg: Registration,
    rx: mpsc::Receiver<Bytes>,
    first: Option<Bytes>,
    idle_at: Instant,
    end_at: Instant,
    ping_at: Instant,
}

#[handler]
pub async fn connect(req: &Request) -> Result<Response, ApiError> {
    let state = req
        .data::<Arc<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError(Error::internal("application state missing")))?;
    let hub = state.realtime.clone();
    let ip = client_ip(req, &state.services.settings().trusted_proxy);
    let Some((client, rx)) = hub.register(ip) else {
        return Err(ApiError(Error::new(
            Code::Unavailable,
            "Too many realtime connections; try again later.",
        )));
    };
    tracing::debug!(client = %client.id, "realtime connection established");
    let limits = hub.limits.clone();
    let now = Instant::now();
    let first = message(
        &client.id,
        "PB_CONNECT",
        &serde_json::json!({ "clientId": client.id }).to_string(),
    );
    let conn = Conn {
        reg: Registration { hub, client },
        rx,
        first: Some(first),
        idle_at: now + limits.idle,
        end_at: now + limits.max_lifetime,
        ping_at: now + limits.ping,
    };
    let body = Body::from_bytes_stream(events(conn, limits.idle, limits.ping));
    Ok(Response::builder()
        .content_type("text/event-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Accel-Buffering", "no")
        .body(body))
}

type Events = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The bytes of the stream: `PB_CONNECT`, then queued events and keepalive
/// comments, until the client is kicked, idles out or reaches its lifetime.
fn events(conn: Conn, idle: std::time::Duration, ping: std::time::Duration) -> Events {
    Box::pin(stream::unfold(conn, move |mut c| async move {
        if let Some(first) = c.first.take() {
            return Some((Ok(first), c));
        }
        loop {
            if c.reg.client.kicked.load(Ordering::SeqCst) {
                return None;
            }
            let deadline = c.idle_at.min(c.end_at);
            tokio::select! {
                biased;
                _ = c.reg.client.kick.notified() => return None,
                next = c.rx.recv() => {
                    let bytes = next?;
                    c.idle_at = Instant::now() + idle;
                    return Some((Ok(bytes), c));
                }
                _ = c.reg.client.touch.notified() => c.idle_at = Instant::now() + idle,
                _ = sleep_until(c.ping_at) => {
                    c.ping_at = Instant::now() + ping;
                    return Some((Ok(Bytes::from_static(b":ping\n\n")), c));
                }
                _ = sleep_until(deadline) => {
                    tracing::debug!(client = %c.reg.client.id, "realtime connection timed out");
                    return None;
                }
            }
        }
    }))
}
