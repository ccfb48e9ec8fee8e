//! `/api/collections`: collection management, superusers only.

use basalt_core::{Code, Error};
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::{json, Value};

use crate::context::{param, read_body, Ctx};
use crate::ApiError;

fn page_params(ctx: &Ctx) -> (usize, usize, bool) {
    let page = param(&ctx.request, "page")
        .parse::<usize>()
        .unwrap_or(1)
        .max(1);
    let per_page = match param(&ctx.request, "perPage").parse::<usize>() {
        Ok(0) | Err(_) => ctx.state.services.limits.default_per_page,
        Ok(n) => n.min(ctx.state.services.limits.max_per_page),
    };
    let skip_total = matches!(param(&ctx.request, "skipTotal"), "1" | "true");
    (page, per_page, skip_total)
}

/// A collection as the API shows it: OAuth2 client secrets are write-only.
fn public_json(c: &basalt_core::schema::Collection) -> Result<Value, ApiError> {
    let mut json = serde_json::to_value(c).map_err(|e| ApiError(Error::internal(e)))?;
    basalt_core::service::hide_client_secrets(&mut json);
    Ok(json)
}

#[handler]
pub async fn list_collections(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let (page, per_page, skip_total) = page_params(&ctx);
    let filter = param(&ctx.request, "filter").to_owned();
    let sort = param(&ctx.request, "sort").to_owned();
    let all = ctx
        .run(move |s, who, _| s.list_collections(&who, &filter, &sort))
        .await?;
    let total = all.len();
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|c| public_json(c).unwrap_or(Value::Null))
        .collect();
    let (total_items, total_pages) = if skip_total {
        (-1, -1)
    } else {
        (total as i64, total.div_ceil(per_page) as i64)
    };
    Ok(Json(json!({
        "page": page, "perPage": per_page, "totalItems": total_items, "totalPages": total_pages, "items": items,
    })))
}

#[handler]
pub async fn get_collection(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = ctx
        .run(move |s, who, _| s.get_collection(&who, &collection))
        .await?;
    Ok(Json(public_json(&c)?))
}

#[handler]
pub async fn create_collection(
    ctx: Ctx,
    req: &Request,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let c = ctx
        .run(move |s, who, _| s.create_collection(&who, Value::Object(body)))
        .await?;
    Ok(Json(public_json(&c)?))
}

#[handler]
pub async fn update_collection(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let c = ctx
        .run(move |s, who, _| s.update_collection(&who, &collection, Value::Object(body)))
        .await?;
    Ok(Json(public_json(&c)?))
}

#[handler]
pub async fn delete_collection(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<poem::http::StatusCode, ApiError> {
    ctx.run(move |s, who, _| s.delete_collection(&who, &collection))
        .await?;
    Ok(poem::http::StatusCode::NO_CONTENT)
}

#[handler]
pub async fn import_collections(
    ctx: Ctx,
    req: &Request,
    body: Body,
) -> Result<poem::http::StatusCode, ApiError> {
    let mut body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let Some(Value::Array(collections)) = body.remove("collections") else {
        return Err(ApiError(
            Error::new(Code::ValidationFailed, "Failed to import the collections.").with_field(
                "collections",
                basalt_core::FieldError::new("validation_required", "Cannot be blank."),
            ),
        ));
    };
    let delete_missing = body
        .get("deleteMissing")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    ctx.run(move |s, who, _| s.import_collections(&who, collections, delete_missing))
        .await?;
    Ok(poem::http::StatusCode::NO_CONTENT)
}
