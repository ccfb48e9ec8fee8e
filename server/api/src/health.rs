//! `GET /api/health`.

use poem::handler;
use poem::web::Json;
use serde_json::{json, Value};

#[handler]
pub async fn health() -> Json<Value> {
    Json(json!({"message": "API is healthy.", "code": 200, "data": {}}))
}
