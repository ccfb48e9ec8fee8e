//! The one table of stable machine error codes, and the error type every service returns.
//!
//! Each [`Code`] has a [`Kind`]; only the api crate maps a `Kind` to an HTTP status.
//! Field-level validation problems travel in [`Error::data`] as PocketBase does:
//! `data.<field> = {code, message}`.

use std::collections::BTreeMap;
use std::fmt;

/// The broad class of an error; the api crate maps it to an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    Internal,
}

macro_rules! codes {
    ($($variant:ident => $kind:ident, $code:literal, $message:literal;)*) => {
        /// A stable machine code, returned to clients as the top-level `code`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub fn kind(self) -> Kind {
                match self { $(Code::$variant => Kind::$kind,)* }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            /// The message shown when nothing more specific is known.
            pub fn default_message(self) -> &'static str {
                match self { $(Code::$variant => $message,)* }
            }
        }
    };
}

codes! {
    BadRequest => BadRequest, "bad_request", "Something went wrong while processing your request.";
    ValidationFailed => BadRequest, "validation_failed", "Failed to create record.";
    InvalidFilter => BadRequest, "invalid_filter", "Invalid filter parameters.";
    InvalidSort => BadRequest, "invalid_sort", "Invalid sort parameters.";
    InvalidExpand => BadRequest, "invalid_expand", "Invalid expand parameters.";
    InvalidSearch => BadRequest, "invalid_search", "Invalid search parameters.";
    InvalidFields => BadRequest, "invalid_fields", "Invalid fields parameters.";
    InvalidBody => BadRequest, "invalid_body", "Failed to load the submitted data due to invalid formatting.";
    InvalidCredentials => BadRequest, "invalid_credentials", "Failed to authenticate.";
    Unauthenticated => Unauthenticated, "unauthenticated", "The request requires valid record authorization token.";
    SuperuserOnly => Forbidden, "superuser_only", "Only superusers can perform this action.";
    Forbidden => Forbidden, "forbidden", "You are not allowed to perform this request.";
    NotFound => NotFound, "not_found", "The requested resource wasn't found.";
    CollectionNotFound => NotFound, "collection_not_found", "Missing collection context.";
    RecordNotFound => NotFound, "record_not_found", "The requested resource wasn't found.";
    RealtimeClientNotFound => NotFound, "realtime_client_not_found", "Missing or invalid client id.";
    RealtimeAuthMismatch => Forbidden, "realtime_auth_mismatch", "The current and the previous request authorization don't match.";
    Conflict => Conflict, "conflict", "The request conflicts with the current state.";
    PayloadTooLarge => PayloadTooLarge, "payload_too_large", "Request entity too large.";
    TooManyRequests => TooManyRequests, "too_many_requests", "Too Many Requests.";
    Unavailable => Unavailable, "unavailable", "The service is temporarily unavailable.";
    Internal => Internal, "internal", "Something went wrong while processing your request.";
    PluginFailed => Internal, "plugin_failed", "A plugin failed while processing your request.";
}

/// One field's problem, reported as `data.<field>`. `params` carries the values the
/// message was built from (`{"min": 3}`), as PocketBase reports them; empty when none.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl FieldError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            code: code.into(),
            message: message.into(),
            params: serde_json::Map::new(),
        }
    }

    /// Adds one message parameter.
    pub fn param(mut self, key: &str, value: impl Into<serde_json::Value>) -> FieldError {
        self.params.insert(key.to_owned(), value.into());
        self
    }
}

/// The error every service returns. `message` is safe to show to clients; internal
/// causes are logged where they happen and never carried here.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub code: Code,
    pub message: String,
    pub data: BTreeMap<String, FieldError>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            data: BTreeMap::new(),
        }
    }

    pub fn from_code(code: Code) -> Error {
        Error::new(code, code.default_message())
    }

    pub fn kind(&self) -> Kind {
        self.code.kind()
    }

    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::new(Code::BadRequest, message)
    }

    pub fn not_found() -> Error {
        Error::from_code(Code::NotFound)
    }

    /// An internal failure: the cause is logged here, the client sees a generic message.
    pub fn internal(cause: impl fmt::Display) -> Error {
        tracing::error!(%cause, "internal error");
        Error::from_code(Code::Internal)
    }

    /// A validation error carrying per-field problems.
    pub fn validation(message: impl Into<String>, data: BTreeMap<String, FieldError>) -> Error {
        Error {
            code: Code::ValidationFailed,
            message: message.into(),
            data,
        }
    }

    /// A validation error with one field problem.
    pub fn invalid_field(message: &str, field: &str, code: &str, text: &str) -> Error {
        Error::validation(message, BTreeMap::new()).with_field(field, FieldError::new(code, text))
    }

    pub fn with_field(mut self, field: impl Into<String>, err: FieldError) -> Error {
        self.data.insert(field.into(), err);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// Collects field errors so that all of them are reported at once.
#[derive(Default, Debug)]
pub struct FieldErrors(pub BTreeMap<String, FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0
            .entry(field.into())
            .or_insert_with(|| FieldError::new(code, message));
    }

    /// Records `err` under `field` unless that field already has a problem.
    pub fn push(&mut self, field: impl Into<String>, err: FieldError) {
        self.0.entry(field.into()).or_insert(err);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise a validation error with `message`.
    pub fn into_result(self, message: &str) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(message, self.0))
        }
    }
}
