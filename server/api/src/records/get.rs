use basalt_core::service::Action;
use poem::handler;
use poem::web::{Json, Path};
use serde_json::Value;

use super::shape;
use crate::context::Ctx;
use crate::ApiError;

#[handler]
pub async fn get_record(
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let shape = shape(&ctx.request);
    let out = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::View, request)?;
            s.get_record(&who, &permit, &c, &id, &shape)
        })
        .await?;
    Ok(Json(out))
}
