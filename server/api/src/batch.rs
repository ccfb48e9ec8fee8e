//! `POST /api/batch`: PocketBase's transactional batch. The body is
//! `{"requests": [{"method", "url", "headers"?, "body"?}, …]}`; each request is one of
//! the record routes (create `POST …/records`, upsert `PUT …/records`, update `PATCH
//! …/records/{id}`, delete `DELETE …/records/{id}`, each with an optional query string
//! for `expand`/`fields`). The answer is `[{status, body}, …]` in order, or, when any
//! request fails, nothing is written and the failure comes back as PocketBase's
//! `batch_request_failed` envelope naming the request.

use std::time::{Duration, Instant};

use basalt_core::files::Upload;
use basalt_core::service::{BatchAction, BatchFailure, BatchOp, Shape};
use basalt_core::{Code, Error, FieldError};
use poem::http::StatusCode;
use poem::{handler, Body, IntoResponse, Request, Response};
use serde_json::{json, Map, Value as Json};

use crate::context::{durable, form_pairs, Ctx};
use crate::error::envelope;
use crate::multipart::read_input;
use crate::ApiError;

/// The longest request URL accepted inside a batch (PocketBase's limit).
const MAX_URL_LEN: usize = 2000;

#[handler]
pub async fn batch(ctx: Ctx, req: &Request, body: Body) -> Result<Response, ApiError> {
    let settings = ctx.state.services.settings().batch.clone();
    if !settings.enabled || settings.max_requests <= 0 {
        return Err(ApiError(Error::new(
            Code::Forbidden,
            "Batch requests are not allowed.",
        )));
    }
    // `maxBodySize` bounds the whole batch, files included; unset, JSON batches get the
    // JSON limit and multipart ones (with files) the upload limit.
    let (json_limit, multipart_limit) = match u64::try_from(settings.max_body_size) {
        Ok(n) if n > 0 => (usize::try_from(n).unwrap_or(usize::MAX), n),
        _ => (
            ctx.state.limits.max_body_bytes,
            ctx.state.limits.max_upload_bytes,
        ),
    };
    let input = read_input(req, body, json_limit, multipart_limit).await?;
    let max = usize::try_from(settings.max_requests).unwrap_or(usize::MAX);
    let ops = match parse_requests(&ctx, &input.body, input.uploads, max) {
        Ok(ops) => ops,
        Err(Rejected::Invalid(e)) => return Err(e),
        Err(Rejected::Failed(f)) => return Ok(failed(f)),
    };
    let timeout = Duration::from_secs(u64::try_from(settings.timeout).unwrap_or(0).max(1));
    let deadline = Instant::now() + timeout;
    let state = ctx.state.clone();
    let outcome = ctx
        .run(move |s, who, _| Ok(s.run_batch(&who, &ops, deadline)))
        .await?;
    let (results, pending) = match outcome {
        Ok(done) => done,
        Err(failure) => return Ok(failed(failure)),
    };
    durable(&state, pending).await?;
    let items: Vec<Json> = results
        .into_iter()
        .map(|r| json!({"status": r.status, "body": r.body}))
        .collect();
    Ok(poem::web::Json(Json::Array(items)).into_response())
}

/// Why the requests were not turned into operations.
enum Rejected {
    /// The batch itself is malformed.
    Invalid(ApiError),
    /// One request is not a record write: the batch fails on it.
    Failed(BatchFailure),
}

impl From<ApiError> for Rejected {
    fn from(e: ApiError) -> Rejected {
        Rejected::Invalid(e)
    }
}

/// The batch's requests, validated and turned into operations.
fn parse_requests(
    ctx: &Ctx,
    body: &Map<String, Json>,
    uploads: Vec<Upload>,
    max: usize,
) -> Result<Vec<BatchOp>, Rejected> {
    let invalid = |field: String, code: &str, message: String| {
        let mut e = Error::new(Code::BadRequest, "Invalid batch request data.");
        e.data.insert(field, FieldError::new(code, message));
        Rejected::Invalid(ApiError(e))
    };
    let requests = match body.get("requests") {
        Some(Json::Array(items)) if !items.is_empty() => items,
        None | Some(Json::Null) | Some(Json::Array(_)) => {
            return Err(invalid(
                "requests".into(),
                "validation_required",
                "Cannot be blank.".into(),
            ))
        }
        Some(_) => {
            return Err(invalid(
                "requests".into(),
                "validation_invalid_value",
                "Must be a list of requests.".into(),
            ))
        }
    };
    if requests.len() > max {
        return Err(invalid(
            "requests".into(),
            "validation_length_too_long",
            format!("The length must be between 0 and {max}."),
        ));
    }
    let mut files: Vec<Vec<Upload>> = vec![Vec::new(); requests.len()];
    for mut upload in uploads {
        let Some((i, field)) = request_file_key(&upload.key) else {
            return Err(invalid(
                upload.key,
                "validation_invalid_file_key",
                "File parts must be named requests.<index>.<field>.".into(),
            ));
        };
        let Some(slot) = files.get_mut(i) else {
            return Err(invalid(
                upload.key,
                "validation_invalid_file_key",
                format!("There is no request {i} for this file."),
            ));
        };
        upload.key = field;
        slot.push(upload);
    }
    let mut files = files.into_iter();
    let mut ops = Vec::with_capacity(requests.len());
    for (i, item) in requests.iter().enumerate() {
        let Json::Object(item) = item else {
            return Err(invalid(
                format!("requests.{i}"),
                "validation_invalid_value",
                "Must be an object with method and url.".into(),
            ));
        };
        let method = item
            .get("method")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            return Err(invalid(
                format!("requests.{i}.method"),
                "validation_in_invalid",
                "Must be a valid value.".into(),
            ));
        }
        let url = item.get("url").and_then(Json::as_str).unwrap_or_default();
        if url.is_empty() || url.len() > MAX_URL_LEN {
            return Err(invalid(
                format!("requests.{i}.url"),
                "validation_length_out_of_range",
                format!("The url must be between 1 and {MAX_URL_LEN} characters."),
            ));
        }
        let op_body = match item.get("body") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => {
                return Err(invalid(
                    format!("requests.{i}.body"),
                    "validation_invalid_value",
                    "Must be an object.".into(),
                ))
            }
        };
        let Some((collection, action, query)) = route(&method, url) else {
            // PocketBase runs the batch up to here, then fails on this request.
            return Err(Rejected::Failed(BatchFailure {
                index: Some(i),
                error: Error::bad_request(format!(
                    "{method} {url} is not a record create, upsert, update or delete."
                )),
            }));
        };
        let mut request = ctx.request.clone();
        if let Some(Json::Object(headers)) = item.get("headers") {
            for (name, value) in headers {
                if name.eq_ignore_ascii_case("authorization") {
                    continue; // the batch's own caller is the only auth
                }
                if let Some(v) = value.as_str() {
                    request.headers.insert(
                        name.to_ascii_lowercase().replace('-', "_"),
                        Json::String(v.to_owned()),
                    );
                }
            }
        }
        request.query = Map::new();
        for (k, v) in form_pairs(query) {
            request.query.insert(k, Json::String(v));
        }
        request.body = op_body.clone();
        request.context = "batch".into();
        let shape = Shape {
            expand: crate::context::param(&request, "expand").to_owned(),
            fields: crate::context::param(&request, "fields").to_owned(),
        };
        ops.push(BatchOp {
            collection,
            action,
            body: op_body,
            request,
            shape,
            uploads: files.next().unwrap_or_default(),
        });
    }
    Ok(ops)
}

/// `requests.<i>.<field>` or `requests[<i>].<field>`: the request index and the field
/// (with its modifiers).
fn request_file_key(key: &str) -> Option<(usize, String)> {
    let rest = key.strip_prefix("requests")?;
    let (index, field) = if let Some(rest) = rest.strip_prefix('.') {
        rest.split_once('.')?
    } else {
        let (index, field) = rest.strip_prefix('[')?.split_once(']')?;
        (index, field.strip_prefix('.')?)
    };
    let index = index.parse().ok()?;
    (!field.is_empty()).then(|| (index, field.to_owned()))
}

/// Which record route `method url` names: its collection, action and query string.
fn route<'u>(method: &str, url: &'u str) -> Option<(String, BatchAction, &'u str)> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let rest = path.strip_prefix("/api/collections/")?;
    let mut parts = rest.split('/');
    let collection = decode(parts.next()?)?;
    if parts.next()? != "records" {
        return None;
    }
    let id = parts.next().map(decode);
    if parts.next().is_some() {
        return None;
    }
    let action = match (method, id) {
        ("POST", None) => BatchAction::Create,
        ("PUT", None) => BatchAction::Upsert,
        ("PATCH", Some(Some(id))) => BatchAction::Update { id },
        ("DELETE", Some(Some(id))) => BatchAction::Delete { id },
        _ => return None,
    };
    Some((collection, action, query))
}

/// A percent-decoded, non-empty path segment.
fn decode(segment: &str) -> Option<String> {
    let s = urlencoding::decode(segment).ok()?.into_owned();
    (!s.is_empty()).then_some(s)
}

/// PocketBase's failure envelope: 400 with
/// `data.requests.<i> = {code: "batch_request_failed", message, response}`, where
/// `response` is the envelope the request alone would have answered with.
fn failed(failure: BatchFailure) -> Response {
    let mut data = Map::new();
    if let Some(i) = failure.index {
        data.insert(
            "requests".into(),
            json!({ i.to_string(): {
                "code": "batch_request_failed",
                "message": "Batch request failed.",
                "response": envelope(&failure.error),
            }}),
        );
    }
    let body = json!({
        "status": 400,
        "message": "Batch transaction failed.",
        "data": data,
        "code": "batch_request_failed",
    });
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("application/json")
        .body(body.to_string())
}
