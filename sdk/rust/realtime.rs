//! Realtime for the Basalt client runtime: PocketBase's SSE protocol (`GET
//! /api/realtime`, the `PB_CONNECT` event naming the client, then `POST /api/realtime`
//! with the subscriptions) read from reqwest's byte stream on a tokio task. Copied into
//! generated crates as `src/realtime.rs` by `basalt sdk generate --lang rust`.

use std::marker::PhantomData;

use futures_util::StreamExt;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::{Client, Error, RecordEvent, Result};

/// One message of the realtime stream: the subscription string and its JSON data.
#[derive(Clone, Debug)]
pub struct RawEvent {
    pub topic: String,
    pub data: Value,
}

/// An open realtime stream (one SSE connection); dropping it disconnects.
#[derive(Debug)]
pub struct RawSubscription {
    client_id: String,
    events: tokio::sync::mpsc::Receiver<Result<RawEvent>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Splits an SSE byte stream into `(event, id, data)` messages.
#[derive(Default)]
struct SseParser {
    buf: Vec<u8>,
    event: String,
    id: String,
    data: String,
}

impl SseParser {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<(String, String, String)>) {
        self.buf.extend_from_slice(chunk);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() || !self.event.is_empty() {
                    out.push((
                        std::mem::take(&mut self.event),
                        self.id.clone(),
                        std::mem::take(&mut self.data),
                    ));
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.event = value.to_owned(),
                "id" => self.id = value.to_owned(),
                "data" => {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                }
                _ => {}
            }
        }
    }
}

impl RawSubscription {
    pub(crate) async fn open(client: Client, topics: Vec<String>) -> Result<RawSubscription> {
        let resp = client
            .request(Method::GET, "/api/realtime")
            .header("Accept", "text/event-stream")
            .send()
            .await?;
        let status = resp.status().as_u16();
        if status >= 400 {
            return Err(Error::Realtime(format!(
                "connect failed with status {status}"
            )));
        }
        let mut stream = resp.bytes_stream();
        let mut parser = SseParser::default();
        let mut pending = Vec::new();
        let client_id = loop {
            let Some(chunk) = stream.next().await else {
                return Err(Error::Realtime("the stream ended before PB_CONNECT".into()));
            };
            parser.feed(&chunk?, &mut pending);
            if let Some(pos) = pending.iter().position(|(e, _, _)| e == "PB_CONNECT") {
                let (_, id, data) = pending.remove(pos);
                let from_data = serde_json::from_str::<Value>(&data)
                    .ok()
                    .and_then(|v| v["clientId"].as_str().map(str::to_owned));
                break from_data.unwrap_or(id);
            }
        };
        let body = serde_json::json!({"clientId": client_id, "subscriptions": topics});
        let _: Value = client.post_json("/api/realtime", &body).await?;
        let (tx, events) = tokio::sync::mpsc::channel(256);
        let task = tokio::spawn(async move {
            let mut out = pending;
            loop {
                for (event, _, data) in out.drain(..) {
                    let msg = serde_json::from_str(&data)
                        .map(|data| RawEvent { topic: event, data })
                        .map_err(Error::Decode);
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
                match stream.next().await {
                    Some(Ok(chunk)) => parser.feed(&chunk, &mut out),
                    Some(Err(e)) => {
                        let _ = tx.send(Err(Error::Http(e))).await;
                        return;
                    }
                    None => {
                        let _ = tx
                            .send(Err(Error::Realtime("the stream ended".into())))
                            .await;
                        return;
                    }
                }
            }
        });
        Ok(RawSubscription {
            client_id,
            events,
            task,
        })
    }

    /// The realtime client id the server assigned.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The next event; `None` once the stream is closed.
    pub async fn next(&mut self) -> Option<Result<RawEvent>> {
        self.events.recv().await
    }
}

/// Typed record events of one subscription.
#[derive(Debug)]
pub struct Subscription<R> {
    raw: RawSubscription,
    shape: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Subscription<R> {
    pub(crate) fn new(raw: RawSubscription) -> Subscription<R> {
        Subscription {
            raw,
            shape: PhantomData,
        }
    }

    /// The next record event; `None` once the stream is closed.
    pub async fn next(&mut self) -> Option<Result<RecordEvent<R>>> {
        let event = match self.raw.next().await? {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        Some(serde_json::from_value(event.data).map_err(Error::Decode))
    }
}
