//! `auth-with-oauth2`, and the one way auth handlers answer: `{token, record}` or, when
//! a second factor is needed, PocketBase's `401 {mfaId}`.

use basalt_core::service::{AuthOutcome, OAuth2Login};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, Body, IntoResponse, Request, Response};
use serde_json::{json, Map, Value};

use crate::context::{param, read_body, Ctx};
use crate::ApiError;

/// The `mfaId` of a second auth step: the query string first, then the body.
pub fn mfa_id(ctx: &Ctx, body: &Map<String, Value>) -> Option<String> {
    let from_query = param(&ctx.request, "mfaId");
    let id = if from_query.is_empty() {
        body.get("mfaId")
            .and_then(Value::as_str)
            .unwrap_or_default()
    } else {
        from_query
    };
    Some(id.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The HTTP answer of an auth attempt. An MFA step is a 401 whose body carries
/// `mfaId` at the top level (where PocketBase and its SDK put it) inside our envelope.
pub fn auth_reply(outcome: AuthOutcome) -> Response {
    match outcome {
        AuthOutcome::Authenticated(body) => poem::web::Json(body).into_response(),
        AuthOutcome::MfaRequired(id) => {
            let body = json!({
                "status": 401,
                "message": "Multi-factor authentication is required: complete the login with another method and this mfaId.",
                "data": {},
                "code": "mfa_required",
                "mfaId": id,
            });
            Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .content_type("application/json")
                .body(body.to_string())
        }
    }
}

#[handler]
pub async fn auth_with_oauth2(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let login = OAuth2Login::from_body(&body)?;
    let mfa_id = mfa_id(&ctx, &body);
    let out = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection)?;
            s.auth_with_oauth2(&who, &c, &login, &request, mfa_id.as_deref())
        })
        .await?;
    Ok(auth_reply(out))
}
