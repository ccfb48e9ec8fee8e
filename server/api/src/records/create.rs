use basalt_core::service::Action;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use super::shape;
use crate::context::{read_body, Ctx};
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
    let out = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection).map_err(|mut e| {
                e.message = "Missing or invalid collection context.".into();
                e
            })?;
            let permit = s.authorize(&who, &c, Action::Create, request)?;
            s.create_record(&who, &permit, &c, &body, &shape)
        })
        .await?;
    Ok(Json(out))
}
