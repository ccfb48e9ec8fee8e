//! How the api crate's own types describe themselves to poem-openapi: the error
//! envelope as every operation's error responses, bodies read by `read_body` (JSON or
//! form, within the size limit) with a documented shape, 204 replies, and the marker
//! of superuser-only operations.

use std::marker::PhantomData;
use std::sync::Arc;

use poem::{Request, RequestBody};
use poem_openapi::registry::{
    MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSecurityScheme, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde_json::{Map, Value};

use super::dto::ErrorEnvelope;
use crate::context::read_body;
use crate::{ApiError, AppState};

/// The name of the security scheme: the `Authorization` header, a raw JWT or
/// `Bearer <jwt>`.
pub const AUTH_SCHEME: &str = "authToken";

/// The error statuses every operation may answer with the envelope.
const ERROR_STATUSES: [(u16, &str); 6] = [
    (
        400,
        "Invalid input (the envelope's `data` names the fields)",
    ),
    (401, "Authentication required"),
    (403, "Not allowed"),
    (404, "Not found"),
    (413, "Body too large"),
    (429, "Too many requests"),
];

fn envelope_response(status: u16, description: &'static str) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: "application/json",
            schema: ErrorEnvelope::schema_ref(),
        }],
        headers: vec![],
    }
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: ERROR_STATUSES
                .iter()
                .map(|(status, description)| envelope_response(*status, description))
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorEnvelope::register(registry);
    }
}

/// A `204 No Content` reply.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// A request body read exactly as the plain handlers read theirs (`read_body`: JSON
/// object or form, empty = `{}`, size-limited, errors in the envelope) and handed to
/// the service as a map, which validates it; `T` is its documented shape.
pub struct Input<T> {
    pub body: Map<String, Value>,
    shape: PhantomData<T>,
}

impl<'a, T: Type> ApiExtractor<'a> for Input<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        let media = |content_type| MetaMediaType {
            content_type,
            schema: T::schema_ref(),
        };
        Some(MetaRequest {
            description: None,
            content: vec![
                media("application/json"),
                media("application/x-www-form-urlencoded"),
            ],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let limit = request
            .data::<Arc<AppState>>()
            .map(|s| s.limits.max_body_bytes)
            .unwrap_or_default();
        let body = read_body(request, body.take()?, limit).await?;
        Ok(Input {
            body,
            shape: PhantomData,
        })
    }
}

/// Marks an operation as superuser-only in the document. It checks nothing itself:
/// the services refuse non-superusers (`Code::SuperuserOnly`) on every such call.
pub struct SuperuserOnly;

impl<'a> ApiExtractor<'a> for SuperuserOnly {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry
            .security_schemes
            .insert(AUTH_SCHEME, security_scheme());
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![AUTH_SCHEME]
    }

    async fn from_request(
        _request: &'a Request,
        _body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(SuperuserOnly)
    }
}

/// The `Authorization` header as an API key: PocketBase's clients send the raw token,
/// `Bearer <token>` works as well.
pub fn security_scheme() -> MetaSecurityScheme {
    MetaSecurityScheme {
        ty: "apiKey",
        description: Some(
            "An auth token from `auth-with-password` (or another auth endpoint), \
             as the raw JWT or as `Bearer <jwt>`.",
        ),
        name: Some("Authorization"),
        key_in: Some("header"),
        scheme: None,
        bearer_format: None,
        flows: None,
        openid_connect_url: None,
    }
}
