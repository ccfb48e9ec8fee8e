//! Plugins' custom routes: `/api/x/<plugin>/…`. The caller is resolved like on any
//! other route, the route's declared access is checked by the services (superuser,
//! authentication, or the collection rule and casbin policies), then the plugin's
//! handler runs on the blocking pool. Its errors go out in the usual envelope.

use basalt_core::hooks::{Actor, RouteCall};
use basalt_core::{Code, Error};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, Body, Request, Response};
use serde_json::Value;

use crate::context::Ctx;
use crate::ApiError;

#[handler]
pub async fn plugin_route(
    mut ctx: Ctx,
    req: &Request,
    Path((plugin, path)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let path = format!("/{path}");
    let method = req.method().as_str().to_owned();
    let Some(hooks) = ctx.state.services.hooks().cloned() else {
        return Err(ApiError(Error::not_found()));
    };
    let Some(access) = hooks.route(&plugin, &method, &path) else {
        return Err(ApiError(Error::not_found()));
    };
    let bytes = body
        .into_bytes()
        .await
        .map_err(|_| ApiError(Error::from_code(Code::InvalidBody)))?;
    let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|_| ApiError(Error::from_code(Code::InvalidBody)))?
    };
    if let Value::Object(map) = &body {
        ctx.request.body = map.clone();
    }
    let query = ctx.request.query.clone();
    let (status, out) = ctx
        .run(move |s, who, request| {
            s.check_route_access(&who, &access, request)?;
            hooks.call_route(RouteCall {
                plugin,
                method,
                path,
                query,
                body,
                actor: Actor::of(&who),
            })
        })
        .await?;
    Ok(Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .body(out.to_string()))
}
