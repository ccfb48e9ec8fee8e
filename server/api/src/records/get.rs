use basalt_core::service::{Action, Services};
use poem::handler;
use poem::web::{Json, Path};
use serde_json::Value;

use super::shape;
use crate::context::{Ctx, Step};
use crate::ApiError;

#[handler]
pub async fn get_record(
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let shape = shape(&ctx.request);
    let out = ctx
        .run_quick(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::View, request)?;
            // Expansion reads (and checks) more records: not on the async worker.
            let quick = shape.expand.is_empty() && permit.is_local();
            let view = move |s: &Services| s.get_record(&who, &permit, &c, &id, &shape);
            Ok(if quick {
                Step::Done(view(s)?)
            } else {
                Step::Blocking(Box::new(view))
            })
        })
        .await?;
    Ok(Json(out))
}
