//! `/api/settings` (superusers only).

use poem::web::Json;
use poem::{handler, Body, Request};
use serde_json::Value;

use crate::context::{durable, read_body, Ctx};
use crate::ApiError;

#[handler]
pub async fn get_settings(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    Ok(Json(ctx.run(|s, who, _| s.get_settings(&who)).await?))
}

#[handler]
pub async fn update_settings(ctx: Ctx, req: &Request, body: Body) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run(move |s, who, _| s.update_settings(&who, &body))
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}
