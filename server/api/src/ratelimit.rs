//! Rate limits from the app settings (PocketBase's rules: path prefixes and
//! `<collection|*>:<action>` tags, per client, superusers exempt), and the always-on
//! brute-force guard of password logins.
//!
//! A fixed window per (rule, client): at most `maxRequests` in each `duration`
//! seconds, exactly as the setting reads; 429 with `Retry-After` when exceeded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_core::settings::{RateLimitRule, TrustedProxy};
use basalt_core::{Code, Error};
use parking_lot::Mutex;
use poem::http::{header, HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::{ApiError, AppState};

/// Windows are swept when there are more than this many.
const SWEEP_ABOVE: usize = 100_000;
/// Failed password logins allowed per client IP and identity per window.
pub const LOGIN_FAILURES: u32 = 10;
/// The brute-force window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);

struct Window {
    start: Instant,
    duration: Duration,
    count: u32,
}

impl Window {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.start) < self.duration
    }

    fn retry_after(&self, now: Instant) -> u64 {
        let left = self.duration.saturating_sub(now.duration_since(self.start));
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

/// Fixed-window counters by key.
#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
}

impl Limiter {
    /// Counts one event under `key`; `Err(seconds to wait)` when that exceeds `max`.
    pub fn hit(&self, key: &str, max: u32, duration: Duration) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, w| w.live(now));
        }
        let w = windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            duration,
            count: 0,
        });
        if !w.live(now) {
            *w = Window {
                start: now,
                duration,
                count: 0,
            };
        }
        if w.count >= max {
            return Err(w.retry_after(now));
        }
        w.count += 1;
        Ok(())
    }

    /// `Some(seconds to wait)` when `key` has used up `max` in its live window.
    pub fn blocked(&self, key: &str, max: u32) -> Option<u64> {
        let now = Instant::now();
        let windows = self.windows.lock();
        let w = windows.get(key).filter(|w| w.live(now))?;
        (w.count >= max).then(|| w.retry_after(now))
    }

    pub fn clear(&self, key: &str) {
        self.windows.lock().remove(key);
    }
}

/// The client's IP: the connection's address, or with trusted-proxy headers
/// configured, the address those headers carry (rightmost unless `useLeftmostIP`).
pub fn client_ip(req: &Request, proxy: &TrustedProxy) -> String {
    client_addr(req, proxy)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// [`client_ip`] before it is written out.
pub fn client_addr(req: &Request, proxy: &TrustedProxy) -> Option<IpAddr> {
    for name in &proxy.headers {
        let Some(value) = req
            .headers()
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
        else {
            continue;
        };
        let mut ips = value.split(',').map(str::trim).filter(|s| !s.is_empty());
        let pick = if proxy.use_leftmost_ip {
            ips.next()
        } else {
            ips.next_back()
        };
        if let Some(ip) = pick.and_then(|s| s.parse::<IpAddr>().ok()) {
            return Some(ip);
        }
    }
    req.remote_addr().as_socket_addr().map(|a| a.ip())
}

/// The PocketBase tags of a request: `(collection, action)`.
fn tag(method: &Method, path: &str) -> Option<(String, &'static str)> {
    let rest = path.strip_prefix("/api/collections/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let action = match (method, parts.as_slice()) {
        (&Method::GET, [_, "records"]) => "list",
        (&Method::POST, [_, "records"]) => "create",
        (&Method::GET, [_, "records", _]) => "view",
        (&Method::PATCH, [_, "records", _]) => "update",
        (&Method::DELETE, [_, "records", _]) => "delete",
        (&Method::POST, [_, a]) if a.starts_with("auth-with-") => "auth",
        (&Method::POST, [_, "auth-refresh"]) => "authRefresh",
        (&Method::POST, [_, a]) if a.starts_with("request-") => "request",
        (&Method::POST, [_, a]) if a.starts_with("confirm-") => "confirm",
        _ => return None,
    };
    Some((parts[0].to_owned(), action))
}

/// The rules that apply: the most specific tag rule and the longest matching path
/// rule (optionally `METHOD /path`).
fn matching<'a>(
    rules: &'a [RateLimitRule],
    method: &Method,
    path: &str,
) -> Vec<(usize, &'a RateLimitRule)> {
    let mut out = Vec::new();
    if let Some((collection, action)) = tag(method, path) {
        let exact = format!("{collection}:{action}");
        let any = format!("*:{action}");
        let found = rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.label == exact)
            .or_else(|| rules.iter().enumerate().find(|(_, r)| r.label == any));
        out.extend(found);
    }
    let path_rule = rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let (m, prefix) = match r.label.split_once(' ') {
                Some((m, p)) => (Some(m), p),
                None => (None, r.label.as_str()),
            };
            let method_ok = m.is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
            (prefix.starts_with('/') && method_ok && path.starts_with(prefix)).then_some((
                i,
                r,
                prefix.len(),
            ))
        })
        .max_by_key(|(_, _, len)| *len);
    out.extend(path_rule.map(|(i, r, _)| (i, r)));
    out
}

pub fn too_many(retry_after: u64) -> Response {
    let mut resp =
        ApiError(Error::new(Code::TooManyRequests, "Too Many Requests.")).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The middleware applying the settings' rate limits.
pub async fn rate_limit<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let Some(state) = req.data::<Arc<AppState>>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let settings = state.services.settings();
    if settings.rate_limits.enabled && req.method() != Method::OPTIONS {
        let rules = matching(&settings.rate_limits.rules, req.method(), req.uri().path());
        if !rules.is_empty() {
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            // A cached token costs a hash lookup, an uncached one a point read: cheap
            // enough for the async worker (see `Ctx::run_quick`).
            let who = state.services.principal_from_token(&token);
            if !who.is_superuser() {
                let client = match who.auth() {
                    Some((c, r)) => format!("{}/{}", c.id, r.id()),
                    None => client_ip(&req, &settings.trusted_proxy),
                };
                for (i, rule) in rules {
                    let applies = match rule.audience.as_str() {
                        "@guest" => who.auth().is_none(),
                        "@auth" => who.auth().is_some(),
                        _ => true,
                    };
                    if !applies {
                        continue;
                    }
                    let key = format!("{i}\u{0}{}\u{0}{client}", rule.label);
                    let max = u32::try_from(rule.max_requests).unwrap_or(u32::MAX);
                    let window = Duration::from_secs(rule.duration.max(1).unsigned_abs());
                    if let Err(wait) = state.limiter.hit(&key, max, window) {
                        return Ok(too_many(wait));
                    }
                }
            }
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_reset() {
        let l = Limiter::default();
        let d = Duration::from_millis(50);
        assert!(l.hit("k", 2, d).is_ok());
        assert!(l.hit("k", 2, d).is_ok());
        assert_eq!(l.hit("k", 2, d), Err(1));
        assert!(l.hit("other", 2, d).is_ok());
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.hit("k", 2, d).is_ok());
    }

    #[test]
    fn the_most_specific_rules_match() {
        let rule = |label: &str| RateLimitRule {
            label: label.into(),
            audience: String::new(),
            duration: 1,
            max_requests: 1,
        };
        let rules = vec![
            rule("*:create"),
            rule("posts:create"),
            rule("/api/"),
            rule("POST /api/collections/"),
        ];
        let labels = |m: Method, p: &str| -> Vec<String> {
            matching(&rules, &m, p)
                .into_iter()
                .map(|(_, r)| r.label.clone())
                .collect()
        };
        assert_eq!(
            labels(Method::POST, "/api/collections/posts/records"),
            ["posts:create", "POST /api/collections/"]
        );
        assert_eq!(
            labels(Method::POST, "/api/collections/tags/records"),
            ["*:create", "POST /api/collections/"]
        );
        assert_eq!(
            labels(Method::GET, "/api/collections/tags/records"),
            ["/api/"]
        );
        assert!(labels(Method::GET, "/_/").is_empty());
    }
}
