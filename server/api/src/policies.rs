//! `/api/policies` and `/api/roles`: roles and policies (superusers only).

use poem::http::StatusCode;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::Value;

use crate::context::{durable, read_body, Ctx};
use crate::ApiError;

fn query(ctx: &Ctx, key: &str) -> Option<String> {
    ctx.request
        .query
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[handler]
pub async fn list_policies(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let (collection, role) = (query(&ctx, "collection"), query(&ctx, "role"));
    let out = ctx
        .run(move |s, who, _| s.list_policies(&who, collection.as_deref(), role.as_deref()))
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn create_policy(ctx: Ctx, req: &Request, body: Body) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let state = ctx.state.clone();
    let (out, pending) = ctx.run(move |s, who, _| s.add_policy(&who, &body)).await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}

#[handler]
pub async fn delete_policy(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let state = ctx.state.clone();
    let pending = ctx.run(move |s, who, _| s.delete_policy(&who, &id)).await?;
    durable(&state, pending).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn explain_collection(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let out = ctx
        .run(move |s, who, _| s.explain_collection(&who, &collection))
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn list_roles(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    Ok(Json(ctx.run(move |s, who, _| s.list_roles(&who)).await?))
}

#[handler]
pub async fn list_role_links(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let (role, subject) = (query(&ctx, "role"), query(&ctx, "subject"));
    let out = ctx
        .run(move |s, who, _| s.list_role_links(&who, role.as_deref(), subject.as_deref()))
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn create_role_link(
    ctx: Ctx,
    req: &Request,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run(move |s, who, _| s.add_role_link(&who, &body))
        .await?;
    durable(&state, pending).await?;
    Ok(Json(out))
}

#[handler]
pub async fn delete_role_link(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let state = ctx.state.clone();
    let pending = ctx
        .run(move |s, who, _| s.delete_role_link(&who, &id))
        .await?;
    durable(&state, pending).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn record_roles(
    ctx: Ctx,
    Path((collection, record)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let out = ctx
        .run(move |s, who, _| s.roles_of_record(&who, &collection, &record))
        .await?;
    Ok(Json(out))
}
