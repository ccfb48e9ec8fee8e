//! Auth endpoints of auth collections.

use basalt_core::service::Principal;
use basalt_core::{Code, Error};
use poem::web::{Json, Path};
use poem::{handler, Body, Request};
use serde_json::{json, Value};

use crate::context::{read_body, Ctx};
use crate::ApiError;

#[handler]
pub async fn auth_with_password(
    ctx: Ctx,
    req: &Request,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(req, body, ctx.state.limits.max_body_bytes).await?;
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (identity, password) = (text("identity"), text("password"));
    let out = ctx
        .run(move |s, _, _| {
            let c = s.collection(&collection)?;
            let record = s.auth_with_password(&c, &identity, &password)?;
            s.auth_response(&c, &record)
        })
        .await?;
    Ok(Json(out))
}

#[handler]
pub async fn auth_refresh(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    ctx.run(move |s, _, _| {
        let c = s.collection(&collection)?;
        if !c.is_auth() {
            return Err(Error::bad_request(
                "The collection is not an auth collection.",
            ));
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({
        "password": {"enabled": true, "identityFields": ["email"]},
        "oauth2": {"enabled": false, "providers": []},
        "mfa": {"enabled": false, "duration": 0},
        "otp": {"enabled": false, "duration": 0},
    })))
}
