//! basalt-rtbench: realtime delivery latency. Opens `--subscribers` SSE connections
//! to `/api/realtime` (PocketBase's protocol), subscribes each to `<collection>/*`,
//! then creates `--inserts` records at `--rate` per second, each carrying the time it
//! was sent (`t`, Unix microseconds). Every subscriber notes, per event, now − t.
//! Bounded by count and by `--duration`. Prints one JSON object on stdout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(name = "basalt-rtbench")]
struct Args {
    /// Server address, e.g. 127.0.0.1:8090 (loopback).
    #[arg(long)]
    addr: String,
    /// Superuser token for the inserts.
    #[arg(long)]
    token: String,
    #[arg(long, default_value = "rt_bench")]
    collection: String,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    #[arg(long, default_value_t = 500)]
    inserts: u64,
    /// Inserts per second.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Upper bound of the whole run, in seconds.
    #[arg(long, default_value_t = 120.0)]
    duration: f64,
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: &str,
    path: &str,
    token: Option<&str>,
    body: String,
) -> Result<u16> {
    sender.ready().await?;
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", addr)
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::from(body)))?)
        .await?;
    let status = resp.status().as_u16();
    resp.into_body().collect().await?;
    Ok(status)
}

/// One subscriber: connects, subscribes, then records latencies until `expected`
/// events arrived or the deadline.
async fn subscriber(
    args: Arc<Args>,
    subscribed: Arc<AtomicU64>,
    expected: u64,
    deadline: Instant,
) -> Result<Vec<u32>> {
    let stream = TcpStream::connect(&args.addr).await?;
    let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = Request::builder()
        .uri("/api/realtime")
        .header("host", &args.addr)
        .header("accept", "text/event-stream")
        .body(Empty::new())?;
    let resp = sender.send_request(req).await?;
    if resp.status() != 200 {
        bail!("GET /api/realtime: {}", resp.status());
    }
    let mut body = resp.into_body();
    let mut buf = String::new();
    let mut latencies = Vec::with_capacity(expected as usize);
    let mut client_id = None;
    let topic = format!("{}/*", args.collection);
    while (latencies.len() as u64) < expected {
        let frame = tokio::time::timeout_at(deadline.into(), body.frame()).await;
        let Ok(Some(Ok(frame))) = frame else { break };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut payload) = ("", "", "");
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    payload = v.trim();
                }
            }
            if event == "PB_CONNECT" {
                client_id = Some(id.to_owned());
                let mut poster = connect(&args.addr).await?;
                let body = serde_json::json!({"clientId": id, "subscriptions": [topic]});
                let status = post(
                    &mut poster,
                    &args.addr,
                    "/api/realtime",
                    None,
                    body.to_string(),
                )
                .await?;
                if status != 204 {
                    bail!("POST /api/realtime: {status}");
                }
                subscribed.fetch_add(1, Ordering::SeqCst);
            } else if event == topic {
                if let Some(t) = field_t(payload) {
                    let lat = now_micros().saturating_sub(t);
                    latencies.push(lat.min(u32::MAX as u64) as u32);
                }
            }
        }
    }
    if client_id.is_none() {
        bail!("no PB_CONNECT");
    }
    Ok(latencies)
}

/// The record's `t` (send time), read without parsing the whole event: the client
/// must stay cheap next to the server it measures.
fn field_t(payload: &str) -> Option<u64> {
    let at = payload.find("\"t\":")? + 4;
    let digits: String = payload[at..]
        .chars()
        .skip_while(|c| *c == ' ')
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == 'E' || *c == '+')
        .collect();
    digits.parse::<f64>().ok().map(|f| f as u64)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn run(args: Arc<Args>) -> Result<serde_json::Value> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let subscribed = Arc::new(AtomicU64::new(0));
    let mut subs = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let (a, s) = (args.clone(), subscribed.clone());
        subs.push(tokio::spawn(subscriber(a, s, args.inserts, deadline)));
        tokio::task::yield_now().await;
    }
    while subscribed.load(Ordering::SeqCst) < args.subscribers as u64 {
        if Instant::now() > deadline {
            bail!("only {} subscribed", subscribed.load(Ordering::SeqCst));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    let path = format!("/api/collections/{}/records", args.collection);
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut tick = tokio::time::interval(interval);
    let errors = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    let insert_start = Instant::now();
    for n in 0..args.inserts {
        tick.tick().await;
        if Instant::now() > deadline {
            break;
        }
        let (a, e, p) = (args.clone(), errors.clone(), path.clone());
        writers.push(tokio::spawn(async move {
            let body = serde_json::json!({"seq": n, "t": now_micros()}).to_string();
            let ok = match connect(&a.addr).await {
                Ok(mut s) => matches!(
                    post(&mut s, &a.addr, &p, Some(a.token.as_str()), body).await,
                    Ok(200)
                ),
                Err(_) => false,
            };
            if !ok {
                e.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for w in writers {
        let _ = w.await;
    }
    let insert_secs = insert_start.elapsed().as_secs_f64();
    let mut all = Vec::new();
    let mut failed = 0;
    for s in subs {
        match s.await {
            Ok(Ok(l)) => all.extend(l),
            _ => failed += 1,
        }
    }
    all.sort_unstable();
    let expected = args.inserts * args.subscribers as u64;
    Ok(serde_json::json!({
        "subscribers": args.subscribers,
        "inserts": args.inserts,
        "rate": args.rate,
        "insert_errors": errors.load(Ordering::SeqCst),
        "subscriber_failures": failed,
        "connect_secs": connect_secs,
        "insert_secs": insert_secs,
        "expected_events": expected,
        "delivered_events": all.len(),
        "p50_ms": pct(&all, 0.50),
        "p90_ms": pct(&all, 0.90),
        "p99_ms": pct(&all, 0.99),
        "max_ms": pct(&all, 1.0),
    }))
}

fn main() -> Result<()> {
    let args = Arc::new(Args::parse());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let out = rt.block_on(run(args))?;
    println!("{out}");
    Ok(())
}
