use poem::handler;
use poem::web::Json;
use serde_json::{json, Value};

use crate::context::Ctx;
use crate::ApiError;

/// `POST /api/files/token`: `{token}`, a short-lived token for protected files.
#[handler]
pub async fn file_token(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let token = ctx.run(move |s, who, _| s.issue_file_token(&who)).await?;
    Ok(Json(json!({ "token": token })))
}
