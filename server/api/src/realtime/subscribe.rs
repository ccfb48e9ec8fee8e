//! `POST /api/realtime {clientId, subscriptions}`: replaces a client's subscriptions
//! and sets whose rules they are checked with.

use basalt_core::service::{Principal, Topic};
use basalt_core::{Code, Error, FieldError};
use poem::http::StatusCode;
use poem::{handler, Body, Request};
use serde_json::Value as Json;

use crate::context::{read_body, Ctx};
use crate::ratelimit::client_ip;
use crate::ApiError;

#[handler]
pub async fn set_subscriptions(
    req: &Request,
    ctx: Ctx,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let state = ctx.state.clone();
    let form = read_body(req, body, state.limits.max_body_bytes).await?;
    let hub = state.realtime.clone();
    let (client_id, topics) = validate(&form, &hub.limits)?;
    let client = hub
        .get(&client_id)
        .ok_or_else(|| ApiError(Error::from_code(Code::RealtimeClientNotFound)))?;
    let ip = client_ip(req, &state.services.settings().trusted_proxy);
    if !client.ip.is_empty() && client.ip != ip {
        return Err(ApiError(Error::bad_request("Invalid realtime client.")));
    }
    let who = ctx.run(|_, who, _| Ok(who)).await?;
    {
        let mut current = client.state.lock();
        if current.who.auth().is_some() && !same_auth(&current.who, &who) {
            return Err(ApiError(Error::from_code(Code::RealtimeAuthMismatch)));
        }
        current.who = who;
        current.topics = topics;
    }
    client.touch.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

fn same_auth(a: &Principal, b: &Principal) -> bool {
    match (a.auth(), b.auth()) {
        (Some((ca, ra)), Some((cb, rb))) => ca.id == cb.id && ra.id() == rb.id(),
        (None, None) => true,
        _ => false,
    }
}

/// The client id and the parsed subscriptions, or PocketBase's validation error.
fn validate(
    form: &serde_json::Map<String, Json>,
    limits: &super::RealtimeLimits,
) -> Result<(String, Vec<Topic>), ApiError> {
    let invalid = |field: &str, code: &str, message: String| {
        ApiError(
            Error::from_code(Code::BadRequest).with_field(field, FieldError::new(code, message)),
        )
    };
    let client_id = match form.get("clientId") {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(_) => {
            return Err(invalid(
                "clientId",
                "validation_invalid_string",
                "Must be a string.".into(),
            ))
        }
    };
    if client_id.is_empty() {
        return Err(invalid(
            "clientId",
            "validation_required",
            "Cannot be blank.".into(),
        ));
    }
    if client_id.chars().count() > 255 {
        return Err(invalid(
            "clientId",
            "validation_length_out_of_range",
            "The length must be between 1 and 255.".into(),
        ));
    }
    let raw: Vec<String> = match form.get("subscriptions") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| match v {
                Json::String(s) => Ok(s.clone()),
                _ => Err(invalid(
                    "subscriptions",
                    "validation_invalid_string",
                    "Every subscription must be a string.".into(),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(Json::String(s)) => vec![s.clone()],
        Some(_) => {
            return Err(invalid(
                "subscriptions",
                "validation_invalid_array",
                "Must be an array of strings.".into(),
            ))
        }
    };
    if raw.len() > limits.max_subscriptions {
        return Err(invalid(
            "subscriptions",
            "validation_length_too_long",
            format!(
                "The length must be no more than {}.",
                limits.max_subscriptions
            ),
        ));
    }
    for (i, s) in raw.iter().enumerate() {
        if s.chars().count() > limits.max_topic_len {
            return Err(invalid(
                &format!("subscriptions.{i}"),
                "validation_length_too_long",
                format!("The length must be no more than {}.", limits.max_topic_len),
            ));
        }
        // An event name cannot hold a line break in SSE framing.
        if s.contains(['\r', '\n']) {
            return Err(invalid(
                &format!("subscriptions.{i}"),
                "validation_invalid_topic",
                "A subscription cannot contain line breaks.".into(),
            ));
        }
    }
    let mut topics: Vec<Topic> = Vec::with_capacity(raw.len());
    for s in raw.iter().filter(|s| !s.is_empty()) {
        if !topics.iter().any(|t| t.raw == *s) {
            topics.push(Topic::parse(s));
        }
    }
    Ok((client_id, topics))
}
