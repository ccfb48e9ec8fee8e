use basalt_core::service::Action;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use super::shape;
use crate::context::{durable, Ctx};
use crate::multipart::read_record_input;
use crate::ApiError;

#[handler]
pub async fn update_record(
    mut ctx: Ctx,
    req: &Request,
    Path((collection, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let target = ctx.state.services.collection(&collection).ok();
    let input = read_record_input(req, body, target.as_deref(), &ctx.state.limits).await?;
    let (mut body, uploads) = (input.body, input.uploads);
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
            s.update_record_with_files(&who, &permit, &c, &id, &mut body, uploads, &shape)
        })
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}
