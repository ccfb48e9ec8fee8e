use basalt_core::service::Action;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use super::shape;
use crate::context::{durable, read_body, Ctx};
use crate::ApiError;

#[handler]
pub async fn create_record(
    mut ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    ctx.request.body = body.clone();
    let shape = shape(&ctx.request);
    if let Some(out) = crate::install::intercept(&ctx, req, &collection, &body, &shape).await {
        return out;
    }
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection).map_err(|mut e| {
                e.message = "Missing or invalid collection context.".into();
                e
            })?;
            let permit = s.authorize(&who, &c, Action::Create, request)?;
            s.create_record(&who, &permit, &c, &body, &shape)
        })
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}
