//! CORS as PocketBase does it by default (any origin; preflight answered with 204),
//! narrowed to the configured origins when `--origins` lists them: then only a
//! matching `Origin` is echoed back (with `Vary: Origin`), and other origins get no
//! `Access-Control-Allow-Origin` at all, so browsers refuse them.

use std::sync::Arc;

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::AppState;

/// The `Access-Control-Allow-Origin` value for this request, if any.
fn allowed_origin(req: &Request) -> Option<HeaderValue> {
    let any = HeaderValue::from_static("*");
    let Some(state) = req.data::<Arc<AppState>>() else {
        return Some(any);
    };
    let origins = &state.limits.origins;
    if origins.iter().any(|o| o == "*") {
        return Some(any);
    }
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}

pub async fn cors<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let requested_headers = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let allow = allowed_origin(&req);
    let echoes = allow.as_ref().is_some_and(|v| v != "*");
    let finish = |resp: &mut Response| {
        let h = resp.headers_mut();
        if let Some(v) = &allow {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v.clone());
        }
        if echoes || allow.is_none() {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    };
    if req.method() == Method::OPTIONS {
        let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, PUT, PATCH, POST, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            requested_headers.unwrap_or_else(|| HeaderValue::from_static("*")),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        finish(&mut resp);
        return Ok(resp);
    }
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    finish(&mut resp);
    Ok(resp)
}

/// Refuses, before any handler reads it, a body whose declared length exceeds the
/// configured limit (413 in the error envelope). Handlers still bound what they read,
/// for bodies sent without a length.
pub async fn body_limit<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    // Multipart bodies carry files: their handlers bound them per collection from
    // the file fields' limits, within the upload limit.
    let multipart = req
        .content_type()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    let limit = req
        .data::<Arc<AppState>>()
        .map(|s| {
            if multipart {
                usize::try_from(s.limits.max_upload_bytes).unwrap_or(usize::MAX)
            } else {
                s.limits.max_body_bytes
            }
        })
        .unwrap_or(usize::MAX);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let err = basalt_core::Error::new(
            basalt_core::Code::PayloadTooLarge,
            format!("The request body may be at most {limit} bytes."),
        );
        return Ok(crate::ApiError(err).into_response());
    }
    Ok(next.call(req).await?.into_response())
}
