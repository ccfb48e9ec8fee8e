//! What every handler extracts: the state, the caller's token and the request facts
//! that rules can see (`@request.*`), plus body and query parsing with limits.

use std::sync::Arc;

use basalt_core::filter::RequestInfo;
use basalt_core::service::{Pending, Principal, Services};
use basalt_core::{Code, Error, FieldError};
use poem::http::header;
use poem::{FromRequest, Request, RequestBody};
use serde_json::{Map, Value as Json};

use crate::{ApiError, AppState};

/// Limits of the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Largest JSON or form body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Origins CORS allows (`*` = any).
    pub origins: Vec<String>,
    /// Largest multipart body with files, in bytes, whatever the file fields allow.
    pub max_upload_bytes: u64,
    /// Realtime connections: queues, timeouts, counts.
    pub realtime: crate::realtime::RealtimeLimits,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_body_bytes: 32 << 20,
            origins: vec!["*".into()],
            max_upload_bytes: 1 << 30,
            realtime: crate::realtime::RealtimeLimits::default(),
        }
    }
}

/// The request context of a handler.
pub struct Ctx {
    pub state: Arc<AppState>,
    token: String,
    pub request: RequestInfo,
}

impl<'a> FromRequest<'a> for Ctx {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Ctx> {
        let state = req
            .data::<Arc<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError(Error::internal("application state missing")))?;
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut headers = Map::new();
        for (name, value) in req.headers() {
            if let Ok(v) = value.to_str() {
                headers.insert(name.as_str().replace('-', "_"), Json::String(v.to_owned()));
            }
        }
        let request = RequestInfo {
            method: req.method().as_str().to_owned(),
            headers,
            query: query_map(req),
            ..RequestInfo::default()
        };
        Ok(Ctx {
            state,
            token,
            request,
        })
    }
}

impl Ctx {
    /// The raw `Authorization` header value.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Runs `f` on the blocking pool with the resolved caller: the store blocks.
    pub async fn run<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Services, Principal, RequestInfo) -> basalt_core::Result<T> + Send + 'static,
    {
        self.run_quick(move |_, who, request| {
            Ok(Step::Blocking(Box::new(move |s: &Services| {
                f(s, who, request)
            })))
        })
        .await
    }
}

/// What a [`Ctx::run_quick`] step decided: done on the spot, the rest of the work to
/// run on the blocking pool, or handed to something that reports back without parking
/// a thread (a queued commit).
pub enum Step<T> {
    Done(T),
    Blocking(Rest<T>),
    Wait(tokio::sync::oneshot::Receiver<basalt_core::Result<T>>),
}

/// The part of a request's work left for the blocking pool.
pub type Rest<T> = Box<dyn FnOnce(&Services) -> basalt_core::Result<T> + Send>;

impl Ctx {
    /// Like [`Ctx::run`], but `f` first runs right on the async worker: it must only
    /// do what is known to be cheap there (resolving the caller, a point read and a
    /// permit check whose condition reads nothing more; a cached token costs a hash
    /// lookup, an uncached one a point read), and hand anything that may cost more to
    /// the blocking pool as [`Step::Blocking`]. A hop to the blocking pool and back
    /// wakes two threads, about a fifth of the CPU a record view takes otherwise.
    pub async fn run_quick<T, F>(self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Services, Principal, RequestInfo) -> basalt_core::Result<Step<T>>,
    {
        let Ctx {
            state,
            token,
            request,
        } = self;
        let services = state.services.clone();
        let principal = services.principal_from_token(&token);
        match f(&services, principal, request).map_err(ApiError)? {
            Step::Done(out) => Ok(out),
            Step::Blocking(rest) => tokio::task::spawn_blocking(move || rest(&services))
                .await
                .map_err(|e| ApiError(Error::internal(format!("blocking task failed: {e}"))))?
                .map_err(ApiError),
            Step::Wait(reply) => reply
                .await
                .map_err(|_| ApiError(Error::internal("a queued step was dropped")))?
                .map_err(ApiError),
        }
    }
}

/// Waits, without parking a thread, until a committed write is on disk: a write is
/// acknowledged only after that.
pub async fn durable(state: &AppState, pending: Pending) -> Result<(), ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    state.services.when_durable(
        pending,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    match rx.await {
        Ok(r) => r.map_err(ApiError),
        Err(_) => Err(ApiError(Error::internal("durability notification dropped"))),
    }
}

/// The query string as a JSON map of strings (last value wins).
pub fn query_map(req: &Request) -> Map<String, Json> {
    let mut map = Map::new();
    for (k, v) in form_pairs(req.uri().query().unwrap_or_default()) {
        map.insert(k, Json::String(v));
    }
    map
}

pub(crate) fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |x: &str| {
                let x = x.replace('+', " ");
                urlencoding::decode(&x).map(|c| c.into_owned()).unwrap_or(x)
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// A query parameter as text ("" when absent).
pub fn param<'a>(request: &'a RequestInfo, name: &str) -> &'a str {
    request
        .query
        .get(name)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

fn invalid_body(message: String) -> ApiError {
    ApiError(
        Error::new(
            Code::InvalidBody,
            "Failed to load the submitted data due to invalid formatting.",
        )
        .with_field("body", FieldError::new("validation_invalid_body", message)),
    )
}

/// Reads a JSON object or form body (empty → `{}`) within the size limit.
pub async fn read_body(
    req: &Request,
    body: poem::Body,
    limit: usize,
) -> Result<Map<String, Json>, ApiError> {
    let bytes = body.into_bytes_limit(limit).await.map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => ApiError(Error::new(
            Code::PayloadTooLarge,
            format!("The request body may be at most {limit} bytes."),
        )),
        other => invalid_body(other.to_string()),
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let content_type = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(&bytes).map_err(|e| invalid_body(e.to_string()))?;
        let mut map = Map::new();
        for (k, v) in form_pairs(text) {
            map.insert(k, Json::String(v));
        }
        return Ok(map);
    }
    match serde_json::from_slice::<Json>(&bytes) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(invalid_body("the body must be a JSON object".into())),
        Err(e) => Err(invalid_body(e.to_string())),
    }
}
