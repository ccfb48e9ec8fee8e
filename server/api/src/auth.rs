//! Auth endpoints of auth collections.

use basalt_core::service::Principal;
use basalt_core::{Code, Error};
use poem::web::{Json, Path};
use poem::{handler, Body, Request, Response};
use serde_json::{json, Value};

use crate::context::{read_body, Ctx};
use crate::ratelimit::{client_ip, too_many, LOGIN_FAILURES, LOGIN_WINDOW};
use crate::ApiError;

#[handler]
pub async fn auth_with_password(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (identity, password) = (text("identity"), text("password"));
    let settings = ctx.state.services.settings();
    let guard_key = format!(
        "{}\u{0}{collection}\u{0}{}",
        client_ip(req, &settings.trusted_proxy),
        identity.to_lowercase()
    );
    let failures = &ctx.state.login_failures;
    if let Some(wait) = failures.blocked(&guard_key, LOGIN_FAILURES) {
        return Ok(too_many(wait));
    }
    let state = ctx.state.clone();
    let mfa_id = crate::oauth2::mfa_id(&ctx, &body);
    let result = ctx
        .run(move |s, _, request| {
            let c = s.collection(&collection)?;
            let record = s.auth_with_password(&c, &identity, &password)?;
            s.finish_auth(&c, &record, "password", mfa_id.as_deref(), &request)
        })
        .await;
    match &result {
        Err(ApiError(e)) if e.code == Code::InvalidCredentials => {
            let _ = state
                .login_failures
                .hit(&guard_key, LOGIN_FAILURES, LOGIN_WINDOW);
        }
        Ok(_) => state.login_failures.clear(&guard_key),
        Err(_) => {}
    }
    Ok(crate::oauth2::auth_reply(result?))
}

#[handler]
pub async fn auth_refresh(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let refreshable = basalt_core::auth::peek(ctx.token().trim_start_matches("Bearer ").trim())
        .is_none_or(|claims| claims.refreshable);
    if !refreshable {
        return Err(ApiError(Error::new(
            Code::Forbidden,
            "The current auth token is not refreshable.",
        )));
    }
    let out = ctx
        .run(move |s, who, _| {
            let c = s.collection(&collection)?;
            let (Principal::Superuser {
                collection: ac,
                record,
            }
            | Principal::Auth {
                collection: ac,
                record,
            }) = who
            else {
                return Err(Error::from_code(Code::Unauthenticated));
            };
            if ac.id != c.id {
                return Err(Error::new(
                    Code::Forbidden,
                    "The request requires valid auth record of this collection.",
                ));
            }
            s.auth_response(&c, &record)
        })
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn auth_methods(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let out = ctx
        .run(move |s, _, _| {
            let c = s.collection(&collection)?;
            if !c.is_auth() {
                return Err(Error::bad_request(
                    "The collection is not an auth collection.",
                ));
            }
            let o = &c.auth_options;
            let password = o.password_auth.clone().unwrap_or_default();
            let otp = o.otp.clone().unwrap_or_default();
            let mfa = o.mfa.clone().unwrap_or_default();
            let on = |d: Option<i64>, enabled: bool| if enabled { d.unwrap_or(0) } else { 0 };
            Ok(json!({
                "password": {
                    "enabled": password.enabled.unwrap_or(true),
                    "identityFields": password.identity_fields.unwrap_or_default(),
                },
                "oauth2": s.oauth2_auth_methods(&c),
                "mfa": {
                    "enabled": mfa.enabled.unwrap_or(false),
                    "duration": on(mfa.duration, mfa.enabled.unwrap_or(false)),
                },
                "otp": {
                    "enabled": otp.enabled.unwrap_or(false),
                    "duration": on(otp.duration, otp.enabled.unwrap_or(false)),
                },
            }))
        })
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn impersonate(
    ctx: Ctx,
    req: &Request,
    Path((collection, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let duration = match body.get("duration") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                ApiError(Error::new(
                    Code::InvalidBody,
                    "The duration must be a number of seconds.",
                ))
            })?,
    };
    let out = ctx
        .run(move |s, who, _| {
            let c = s.collection(&collection)?;
            s.impersonate(&who, &c, &id, duration)
        })
        .await?;
    Ok(Json(out))
}
