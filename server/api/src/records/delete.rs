use basalt_core::service::Action;
use poem::handler;
use poem::http::StatusCode;
use poem::web::Path;

use crate::context::{durable, Ctx};
use crate::ApiError;

#[handler]
pub async fn delete_record(
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let state = ctx.state.clone();
    let pending = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::Delete, request)?;
            s.delete_record(&permit, &c, &id)
        })
        .await?;
    durable(&state, pending).await?;
    Ok(StatusCode::NO_CONTENT)
}
