use basalt_core::service::Action;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use super::shape;
use crate::context::{durable, read_body, Ctx};
use crate::ApiError;

#[handler]
pub async fn update_record(
    mut ctx: Ctx,
    req: &Request,
    Path((collection, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    ctx.request.body = body.clone();
    let shape = shape(&ctx.request);
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection).map_err(|mut e| {
                e.message = "Missing or invalid collection context.".into();
                e
            })?;
            let permit = s.authorize(&who, &c, Action::Update, request)?;
            s.update_record(&who, &permit, &c, &id, &body, &shape)
        })
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}
