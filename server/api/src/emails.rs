//! The email flows of auth collections (verification, password reset, email change)
//! and one-time passwords. Mail goes out in the background after the response, so
//! request endpoints answer alike whether or not the account exists.

use std::sync::Arc;

use basalt_core::mail::Mail;
use basalt_core::service::Services;
use poem::http::StatusCode;
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::{json, Map, Value};

use crate::context::{durable, read_body, Ctx};
use crate::ApiError;

fn field(body: &Map<String, Value>, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Sends `mail` off the request path; failures are logged, never shown to the caller.
fn send_later(services: Arc<Services>, mail: Option<Mail>) {
    let Some(mail) = mail else { return };
    tokio::task::spawn_blocking(move || {
        if let Err(e) = services.send_mail(&mail) {
            tracing::error!(error = %e.message, "sending mail failed");
        }
    });
}

async fn body_of(ctx: &Ctx, req: &Request, body: Body) -> Result<Map<String, Value>, ApiError> {
    read_body(req, body, ctx.state.limits.max_body_bytes).await
}

#[handler]
pub async fn request_verification(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let email = field(&body_of(&ctx, req, body).await?, "email");
    let services = ctx.state.services.clone();
    let mail = ctx
        .run(move |s, _, _| s.request_verification(&s.collection(&collection)?, &email))
        .await?;
    send_later(services, mail);
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn confirm_verification(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let token = field(&body_of(&ctx, req, body).await?, "token");
    let state = ctx.state.clone();
    let pending = ctx
        .run(move |s, _, _| s.confirm_verification(&s.collection(&collection)?, &token))
        .await?;
    if let Some(pending) = pending {
        durable(&state, pending).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn request_password_reset(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let email = field(&body_of(&ctx, req, body).await?, "email");
    let services = ctx.state.services.clone();
    let mail = ctx
        .run(move |s, _, _| s.request_password_reset(&s.collection(&collection)?, &email))
        .await?;
    send_later(services, mail);
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn confirm_password_reset(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let body = body_of(&ctx, req, body).await?;
    let (token, password, confirm) = (
        field(&body, "token"),
        field(&body, "password"),
        field(&body, "passwordConfirm"),
    );
    let state = ctx.state.clone();
    let pending = ctx
        .run(move |s, _, _| {
            s.confirm_password_reset(&s.collection(&collection)?, &token, &password, &confirm)
        })
        .await?;
    durable(&state, pending).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn request_email_change(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let new_email = field(&body_of(&ctx, req, body).await?, "newEmail");
    let services = ctx.state.services.clone();
    let mail = ctx
        .run(move |s, who, _| s.request_email_change(&who, &s.collection(&collection)?, &new_email))
        .await?;
    send_later(services, Some(mail));
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn confirm_email_change(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let body = body_of(&ctx, req, body).await?;
    let (token, password) = (field(&body, "token"), field(&body, "password"));
    let state = ctx.state.clone();
    let pending = ctx
        .run(move |s, _, _| s.confirm_email_change(&s.collection(&collection)?, &token, &password))
        .await?;
    durable(&state, pending).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[handler]
pub async fn request_otp(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let email = field(&body_of(&ctx, req, body).await?, "email");
    let state = ctx.state.clone();
    let (otp_id, mail, pending) = ctx
        .run(move |s, _, _| s.request_otp(&s.collection(&collection)?, &email))
        .await?;
    if let Some(pending) = pending {
        durable(&state, pending).await?;
    }
    send_later(state.services.clone(), mail);
    Ok(Json(json!({ "otpId": otp_id })))
}

#[handler]
pub async fn auth_with_otp(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<poem::Response, ApiError> {
    let body = body_of(&ctx, req, body).await?;
    let (otp_id, code) = (field(&body, "otpId"), field(&body, "password"));
    let mfa_id = crate::oauth2::mfa_id(&ctx, &body);
    let state = ctx.state.clone();
    let (out, pending) = ctx
        .run(move |s, _, request| {
            let c = s.collection(&collection)?;
            let (record, pending) = s.auth_with_otp(&c, &otp_id, &code)?;
            Ok((
                s.finish_auth(&c, &record, "otp", mfa_id.as_deref(), &request)?,
                pending,
            ))
        })
        .await?;
    durable(&state, pending).await?;
    Ok(crate::oauth2::auth_reply(out))
}

/// `POST /api/settings/test/email {email}` (served through `openapi::static_api`):
/// sends a test mail now and reports failures.
pub(crate) async fn test_email(ctx: Ctx, body: Map<String, Value>) -> Result<(), ApiError> {
    let to = field(&body, "email");
    ctx.run(move |s, who, _| {
        if !who.is_superuser() {
            return Err(basalt_core::Error::from_code(
                basalt_core::Code::SuperuserOnly,
            ));
        }
        if !to.contains('@') {
            return Err(basalt_core::Error::bad_request(
                "A valid email address is required.",
            ));
        }
        let name = s.settings().meta.app_name.clone();
        s.send_mail(&Mail {
            to,
            subject: format!("{name}: test email"),
            html: format!("<p>This is a test email from {name}. Mail delivery works.</p>"),
        })
    })
    .await
}
