//! Mapping errors to PocketBase's envelope `{status, message, data}` (+ our `code`).

use basalt_core::{Code, Error, Kind};
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde_json::json;

/// The one error type handlers return.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError(e)
    }
}

pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON envelope of `e`: `{status, message, data, code}`.
pub fn envelope(e: &Error) -> serde_json::Value {
    json!({
        "status": status_of(e.kind()).as_u16(),
        "message": e.message,
        "data": nest(&e.data),
        "code": e.code.as_str(),
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.kind());
        let body = envelope(&self.0);
        Response::builder()
            .status(status)
            .content_type("application/json")
            .body(body.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ApiError {}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        status_of(self.0.kind())
    }

    fn as_response(&self) -> Response {
        ApiError(self.0.clone()).into_response()
    }
}

/// Turns any error poem produced itself (unknown route, wrong method, unreadable body)
/// into the envelope.
pub async fn envelope_for_poem_error(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return ApiError(api.0.clone()).into_response();
    }
    let code = match err.status() {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Code::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::Forbidden,
        s if s.is_client_error() => Code::BadRequest,
        _ => {
            tracing::error!(error = %err, "unhandled server error");
            Code::Internal
        }
    };
    ApiError(Error::from_code(code)).into_response()
}

/// PocketBase nests field errors: `fields.1.name` becomes `{"fields": {"1": {"name": …}}}`.
fn nest(data: &std::collections::BTreeMap<String, basalt_core::FieldError>) -> serde_json::Value {
    let mut root = serde_json::Map::new();
    for (key, err) in data {
        let mut node = &mut root;
        let mut parts = key.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                let leaf = serde_json::to_value(err).unwrap_or_else(|_| json!({}));
                node.insert(part.to_owned(), leaf);
                break;
            }
            let child = node.entry(part.to_owned()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            let Some(obj) = child.as_object_mut() else {
                break;
            };
            node = obj;
        }
    }
    serde_json::Value::Object(root)
}
