//! basalt-loadgen: a small closed-loop HTTP/1.1 load generator.
//!
//! `--concurrency` workers each keep one keep-alive connection and send requests
//! back to back until `--requests` have been issued or `--duration` seconds have
//! passed, whichever comes first (each request also has `--timeout`). The URL and
//! body are templates: `{n}` is the request counter (`--start` + i, or drawn at
//! random from `--start..--start+--random-range`), `{id}` is the same number
//! zero-padded to 15 digits (a valid PocketBase record id), `{r}` an integer in
//! 0..1000 and `{b}` `true`/`false`, `{text:K}` K words of English-like text (drawn
//! from a fixed vocabulary with a Zipf-like skew, as natural text is) and `{word}` one
//! word of that vocabulary's middle frequency band (for search queries), all
//! pseudo-random but derived from `{n}` and `--seed` only, so two runs (or two servers)
//! get identical data. Prints one JSON object on stdout.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(
    name = "basalt-loadgen",
    about = "Closed-loop HTTP/1.1 load generator; URL/body templates take the placeholders n, id, r, b in braces"
)]
struct Args {
    /// URL template (http:// only), e.g. http://127.0.0.1:8090/api/collections/posts/records/{id}
    #[arg(long)]
    url: String,
    #[arg(long, short = 'm', default_value = "GET")]
    method: String,
    /// Body template; sent as application/json unless a Content-Type header is given.
    #[arg(long)]
    body: Option<String>,
    /// Extra header "Name: value" (repeatable), e.g. "Authorization: <token>".
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Stop after this many requests...
    #[arg(long, short = 'n', default_value_t = 10_000)]
    requests: u64,
    /// ...or after this many seconds, whichever comes first.
    #[arg(long, short = 'd', default_value_t = 60.0)]
    duration: f64,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// First counter value.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Draw the counter (n, id) at random from start..start+RANGE instead of counting up.
    #[arg(long)]
    random_range: Option<u64>,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

enum Seg {
    Lit(String),
    N,
    Id,
    R,
    B,
    Text(usize),
    Word,
}

/// The vocabulary of `{text:K}` and `{word}`, most frequent first.
const VOCABULARY: &str = include_str!("vocabulary.txt");

fn vocabulary() -> &'static [&'static str] {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| VOCABULARY.split_whitespace().collect())
}

/// `{text:K}`: K words; word i is drawn with a skew toward the frequent ones.
fn text(out: &mut String, k: usize, mut h: u64) {
    let words = vocabulary();
    for i in 0..k {
        h = mix(h ^ i as u64);
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        let idx = ((u * u * u) * words.len() as f64) as usize;
        if i > 0 {
            out.push(' ');
        }
        out.push_str(words[idx.min(words.len() - 1)]);
    }
}

/// `{word}`: a word from the middle of the frequency ranking (not a stop word, not rare).
fn word(out: &mut String, h: u64) {
    let words = vocabulary();
    let (lo, hi) = (words.len() / 8, words.len() / 2);
    out.push_str(words[lo + (mix(h) as usize) % (hi - lo)]);
}

fn compile(template: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = template;
    while let Some(ch) = rest.chars().next() {
        let token = [
            ("{n}", Seg::N),
            ("{id}", Seg::Id),
            ("{r}", Seg::R),
            ("{b}", Seg::B),
        ]
        .into_iter()
        .find(|(p, _)| rest.starts_with(*p));
        let token = token.or_else(|| {
            if rest.starts_with("{word}") {
                return Some(("{word}", Seg::Word));
            }
            let k = rest.strip_prefix("{text:")?.split_once('}')?.0;
            let len = "{text:}".len() + k.len();
            let seg = Seg::Text(k.parse().ok()?);
            Some((&rest[..len], seg))
        });
        if let Some((p, seg)) = token {
            if !lit.is_empty() {
                out.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            out.push(seg);
            rest = &rest[p.len()..];
        } else {
            lit.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    if !lit.is_empty() {
        out.push(Seg::Lit(lit));
    }
    out
}

/// splitmix64: a stateless hash for the data placeholders.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64* — cheap, per worker; picks ids for --random-range.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn render(segs: &[Seg], n: u64, seed: u64, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    let h = mix(n ^ mix(seed));
    for seg in segs {
        match seg {
            Seg::Lit(s) => out.push_str(s),
            Seg::N => write!(out, "{n}").unwrap(),
            Seg::Id => write!(out, "{n:015}").unwrap(),
            Seg::R => write!(out, "{}", h % 1000).unwrap(),
            Seg::B => out.push_str(if (h >> 32) & 1 == 1 { "true" } else { "false" }),
            Seg::Text(k) => text(out, *k, h),
            Seg::Word => word(out, h),
        }
    }
}

struct Cfg {
    authority: String,
    method: Method,
    path: Vec<Seg>,
    body: Option<Vec<Seg>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    requests: u64,
    start: u64,
    random_range: Option<u64>,
    timeout: Duration,
    seed: u64,
}

#[derive(Default)]
struct Stats {
    lat_us: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    io_errors: u64,
    first_error: Option<String>,
}

async fn connect(authority: &str) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("connect {authority}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn worker(id: u64, cfg: Arc<Cfg>, next: Arc<AtomicU64>, deadline: Instant) -> Stats {
    let mut st = Stats::default();
    let mut rng = Rng((cfg.seed ^ (id + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
    let (mut path, mut body) = (String::new(), String::new());
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= cfg.requests {
            break;
        }
        let n = match cfg.random_range {
            Some(range) if range > 0 => cfg.start + rng.next() % range,
            _ => cfg.start + i,
        };
        render(&cfg.path, n, cfg.seed, &mut path);
        let payload = match &cfg.body {
            Some(segs) => {
                render(segs, n, cfg.seed, &mut body);
                Bytes::from(body.clone())
            }
            None => Bytes::new(),
        };
        let mut builder = Request::builder()
            .method(cfg.method.clone())
            .uri(path.as_str())
            .header(HOST, cfg.authority.as_str());
        for (k, v) in &cfg.headers {
            builder = builder.header(k.clone(), v.clone());
        }
        let req = match builder.body(Full::new(payload)) {
            Ok(r) => r,
            Err(e) => {
                st.io_errors += 1;
                st.first_error
                    .get_or_insert_with(|| format!("bad request {path}: {e}"));
                continue;
            }
        };
        if sender.is_none() {
            match connect(&cfg.authority).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    st.io_errors += 1;
                    st.first_error.get_or_insert_with(|| format!("{e:#}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let s = sender.as_mut().expect("connected above");
        let t0 = Instant::now();
        let res = tokio::time::timeout(cfg.timeout, async {
            s.ready().await?;
            let resp = s.send_request(req).await?;
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, bytes))
        })
        .await;
        let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
        match res {
            Ok(Ok((status, bytes))) => {
                st.lat_us.push(us);
                *st.statuses.entry(status).or_default() += 1;
                if !(200..300).contains(&status) && st.first_error.is_none() {
                    let snippet =
                        String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
                    st.first_error = Some(format!("{status} {} {path}: {snippet}", cfg.method));
                }
            }
            Ok(Err(e)) => {
                st.io_errors += 1;
                st.first_error
                    .get_or_insert_with(|| format!("{} {path}: {e}", cfg.method));
                sender = None;
            }
            Err(_) => {
                st.io_errors += 1;
                st.first_error
                    .get_or_insert_with(|| format!("{} {path}: timed out", cfg.method));
                sender = None;
            }
        }
    }
    st
}

async fn run(args: Args) -> Result<()> {
    let rest = args
        .url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let method =
        Method::from_bytes(args.method.to_uppercase().as_bytes()).context("bad --method")?;
    let mut headers = Vec::new();
    for h in &args.headers {
        let Some((k, v)) = h.split_once(':') else {
            bail!("header must be 'Name: value': {h}")
        };
        headers.push((
            HeaderName::from_bytes(k.trim().as_bytes())?,
            HeaderValue::from_str(v.trim())?,
        ));
    }
    if args.body.is_some() && !headers.iter().any(|(k, _)| k == CONTENT_TYPE) {
        headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    }
    let cfg = Arc::new(Cfg {
        authority: authority.to_string(),
        method,
        path: compile(path),
        body: args.body.as_deref().map(compile),
        headers,
        requests: args.requests,
        start: args.start,
        random_range: args.random_range,
        timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        seed: args.seed,
    });
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration.max(0.0));
    let workers: Vec<_> = (0..args.concurrency.max(1) as u64)
        .map(|w| tokio::spawn(worker(w, cfg.clone(), next.clone(), deadline)))
        .collect();
    let mut all = Stats::default();
    for w in workers {
        let st = w.await?;
        all.lat_us.extend(st.lat_us);
        for (k, v) in st.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
        all.io_errors += st.io_errors;
        if all.first_error.is_none() {
            all.first_error = st.first_error;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.lat_us.sort_unstable();
    let lat = &all.lat_us;
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let idx = ((p / 100.0) * (lat.len() - 1) as f64).round() as usize;
        lat[idx] as f64 / 1000.0
    };
    let mean = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&x| x as f64).sum::<f64>() / lat.len() as f64 / 1000.0
    };
    let completed = lat.len() as u64;
    let ok: u64 = all
        .statuses
        .iter()
        .filter(|(s, _)| (200..300).contains(*s))
        .map(|(_, c)| c)
        .sum();
    let statuses: serde_json::Map<String, serde_json::Value> = all
        .statuses
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    let out = serde_json::json!({
        "requests": completed,
        "ok": ok,
        "errors": completed - ok + all.io_errors,
        "io_errors": all.io_errors,
        "elapsed_s": elapsed,
        "rps": if elapsed > 0.0 { completed as f64 / elapsed } else { 0.0 },
        "p50_ms": pct(50.0),
        "p90_ms": pct(90.0),
        "p99_ms": pct(99.0),
        "max_ms": pct(100.0),
        "mean_ms": mean,
        "concurrency": args.concurrency,
        "statuses": statuses,
        "first_error": all.first_error,
    });
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}
