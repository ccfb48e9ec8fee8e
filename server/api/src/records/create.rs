use basalt_core::service::{Action, Services};
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use super::shape;
use crate::context::{durable, Ctx, Step};
use crate::multipart::read_record_input;
use crate::ApiError;

#[handler]
pub async fn create_record(
    mut ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let target = ctx.state.services.collection(&collection).ok();
    let input = read_record_input(req, body, target.as_deref(), &ctx.state.limits).await?;
    let (mut body, uploads) = (input.body, input.uploads);
    ctx.request.body = body.clone();
    let shape = shape(&ctx.request);
    if let Some(out) = crate::install::intercept(&ctx, req, &collection, &body, &shape).await {
        return out;
    }
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run_quick(move |s, who, request| {
            let c = s.collection(&collection).map_err(|mut e| {
                e.message = "Missing or invalid collection context.".into();
                e
            })?;
            let permit = s.authorize(&who, &c, Action::Create, request)?;
            if uploads.is_empty() && s.creates_quickly(&permit, &c) {
                let (reply, wait) = tokio::sync::oneshot::channel();
                let done = Box::new(move |out| {
                    let _ = reply.send(out);
                });
                s.create_record_then(&who, &permit, &c, &body, &shape, done)?;
                return Ok(Step::Wait(wait));
            }
            Ok(Step::Blocking(Box::new(move |s: &Services| {
                s.create_record_with_files(&who, &permit, &c, &mut body, uploads, &shape)
            })))
        })
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}
