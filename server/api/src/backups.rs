//! `/api/backups` (superusers only), PocketBase's shapes: list, create, upload,
//! download (`?token=` with a superuser file or auth token, for browser downloads),
//! delete and restore.

use std::sync::Arc;

use basalt_core::backup::Backups;
use basalt_core::{Code, Error};
use poem::http::StatusCode;
use poem::{handler, Body, Request, Response};
use serde_json::{Map, Value};

use crate::context::{param, Ctx};
use crate::ApiError;

fn port(ctx: &Ctx) -> Result<Arc<dyn Backups>, ApiError> {
    ctx.state
        .backups
        .clone()
        .ok_or_else(|| ApiError(Error::new(Code::NotFound, "Backups are not available.")))
}

/// Runs `f` with the backups port for a superuser.
pub(crate) async fn as_superuser<T: Send + 'static>(
    ctx: Ctx,
    f: impl FnOnce(&dyn Backups) -> basalt_core::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let backups = port(&ctx)?;
    ctx.run(move |_, who, _| {
        if !who.is_superuser() {
            return Err(Error::from_code(Code::SuperuserOnly));
        }
        f(&*backups)
    })
    .await
}

pub(crate) fn no_content() -> Response {
    Response::builder().status(StatusCode::NO_CONTENT).finish()
}

/// `POST /api/backups` (served through `openapi::static_api`): `{name?}`.
pub(crate) async fn create_backup(ctx: Ctx, body: Map<String, Value>) -> Result<(), ApiError> {
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError(Error::invalid_field(
                "An error occurred while validating the submitted data.",
                "name",
                "validation_invalid_string",
                "Must be a string.",
            )))
        }
    };
    as_superuser(ctx, move |b| b.create(name.as_deref()).map(drop)).await
}

#[handler]
pub async fn upload_backup(ctx: Ctx, req: &Request, body: Body) -> Result<Response, ApiError> {
    let limit = ctx.state.limits.max_body_bytes;
    let name = param(&ctx.request, "name").to_owned();
    let content_type = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if !content_type.starts_with("application/zip")
        && !content_type.starts_with("application/octet-stream")
    {
        return Err(ApiError(Error::new(
            Code::BadRequest,
            "Upload the archive as the request body (application/zip) with ?name=<key>.zip.",
        )));
    }
    let bytes = body.into_bytes_limit(limit).await.map_err(|_| {
        ApiError(Error::new(
            Code::PayloadTooLarge,
            format!("The request body may be at most {limit} bytes."),
        ))
    })?;
    as_superuser(ctx, move |b| b.upload(&name, &bytes)).await?;
    Ok(no_content())
}

/// The archive `key` opened for a download: a superuser's token, or a superuser file
/// token as `?token=` (browser downloads). Served through `openapi::static_api`.
pub(crate) async fn open_backup(
    ctx: Ctx,
    key: String,
) -> Result<(tokio::fs::File, u64, String), ApiError> {
    let backups = port(&ctx)?;
    let header_token = ctx.token().to_owned();
    let query_token = param(&ctx.request, "token").to_owned();
    let (path, key) = ctx
        .run(move |s, who, _| {
            let allowed = who.is_superuser()
                || (!query_token.is_empty() && s.is_superuser_download_token(&query_token));
            if !allowed {
                let code = if header_token.is_empty() && query_token.is_empty() {
                    Code::SuperuserOnly
                } else {
                    Code::Forbidden
                };
                return Err(Error::from_code(code));
            }
            backups.path(&key).map(|p| (p, key))
        })
        .await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError(basalt_core::backup::not_found()))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or_default();
    Ok((file, len, key))
}
