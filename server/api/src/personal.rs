//! A user's personal data (superusers only): `GET …/records/{id}/export` downloads
//! everything stored about an auth record, `POST …/records/{id}/purge` deletes it with
//! what a delete takes along and answers with the export taken just before.

use basalt_core::{Code, Error};
use poem::http::header;
use poem::web::Path;
use poem::{handler, Response};
use serde_json::Value;

use crate::context::{durable, Ctx};
use crate::ApiError;

fn attachment(name: &str, export: &Value) -> Response {
    Response::builder()
        .content_type("application/json")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.json\""),
        )
        .body(export.to_string())
}

#[handler]
pub async fn export_user(
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (name, export) = ctx
        .run(move |s, who, _| {
            if !who.is_superuser() {
                return Err(Error::from_code(Code::SuperuserOnly));
            }
            let c = s.collection(&collection)?;
            let user = s.find_user(&c, &id)?;
            let name = format!("{}-{}", c.name, user.id());
            Ok((name, s.export_user(&c, &user)?))
        })
        .await?;
    Ok(attachment(&name, &export))
}

#[handler]
pub async fn purge_user(
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let state = ctx.state.clone();
    let (name, export, pending) = ctx
        .run(move |s, who, _| {
            if !who.is_superuser() {
                return Err(Error::from_code(Code::SuperuserOnly));
            }
            let c = s.collection(&collection)?;
            let user = s.find_user(&c, &id)?;
            let name = format!("{}-{}", c.name, user.id());
            let (export, pending) = s.purge_user(&c, &user)?;
            Ok((name, export, pending))
        })
        .await?;
    durable(&state, pending).await?;
    Ok(attachment(&name, &export))
}
