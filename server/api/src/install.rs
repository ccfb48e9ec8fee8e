//! The one-time install token: on a data directory without superusers, `basalt serve`
//! prints a URL carrying it, and a `POST /api/collections/_superusers/records` with the
//! token as `Authorization` creates the first superuser. It authorizes nothing else,
//! works once, and stops working as soon as any superuser exists.

use basalt_core::service::{Shape, SUPERUSERS};
use basalt_core::{Code, Error};
use poem::http::header;
use poem::web::Json;
use poem::Request;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::context::{durable, Ctx};
use crate::ApiError;

/// Random characters in a token: 64 of `[a-z0-9]`, about 330 bits.
const TOKEN_LEN: usize = 64;

/// A secret held only in the serving process's memory.
pub struct InstallToken {
    secret: String,
    /// Serializes install attempts; `true` once one succeeded.
    used: tokio::sync::Mutex<bool>,
}

impl InstallToken {
    pub fn generate() -> InstallToken {
        InstallToken {
            secret: basalt_core::ids::random_string(TOKEN_LEN),
            used: tokio::sync::Mutex::new(false),
        }
    }

    /// The token, to print once to the operator's terminal.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    fn matches(&self, presented: &str) -> bool {
        bool::from(presented.as_bytes().ct_eq(self.secret.as_bytes()))
    }
}

/// Handles a record create on `_superusers` that presents the install token; `None`
/// leaves every other request to the normal authorization path.
pub(crate) async fn intercept(
    ctx: &Ctx,
    req: &Request,
    collection: &str,
    body: &Map<String, Value>,
    shape: &Shape,
) -> Option<Result<Json<Value>, ApiError>> {
    let install = ctx.state.install.as_ref()?;
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let presented = presented
        .strip_prefix("Bearer ")
        .unwrap_or(presented)
        .trim();
    if presented.is_empty() || !install.matches(presented) {
        return None;
    }
    let services = ctx.state.services.clone();
    if services.collection(collection).ok()?.name != SUPERUSERS {
        return None;
    }
    let mut used = install.used.lock().await;
    if *used {
        return Some(Err(ApiError(Error::new(
            Code::Forbidden,
            "The install token was already used; sign in instead.",
        ))));
    }
    let (request, body, shape) = (ctx.request.clone(), body.clone(), shape.clone());
    let created = tokio::task::spawn_blocking(move || {
        services.create_first_superuser(request, &body, &shape)
    })
    .await
    .map_err(|e| ApiError(Error::internal(format!("blocking task failed: {e}"))));
    let result = match created {
        Ok(Ok((out, pending))) => durable(&ctx.state, pending).await.map(|()| Json(out)),
        Ok(Err(e)) => Err(ApiError(e)),
        Err(e) => Err(e),
    };
    *used = result.is_ok();
    Some(result)
}
