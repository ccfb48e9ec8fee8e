//! The auth endpoints of auth collections, generic or typed with one collection's record.

use serde_json::{json, Value};

use super::ops::{
    json_body, no_content, ok_json, op, schema_ref, string_fields_body, with, Access,
};

/// The auth endpoints of auth collections; `record` is the collection's record schema.
pub(super) fn auth_operation(action: &str, record: Option<&str>) -> Option<Value> {
    let email_body = string_fields_body;
    let record = record
        .map(schema_ref)
        .unwrap_or_else(|| schema_ref("Record"));
    let auth_ok = ok_json(
        json!({"type": "object", "required": ["token", "record"], "properties": {
        "token": {"type": "string"}, "record": record, "meta": {"type": "object"}}}),
    );
    let a = "Auth";
    let o = match action {
        "auth-with-password" => with(
            op(
                a,
                "authWithPassword",
                "Log in with a password",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["identity", "password"], "properties": {
                "identity": {"type": "string", "description": "The email or another identity field."},
                "password": {"type": "string", "format": "password"},
                "mfaId": {"type": "string"}}}),
                true,
            ),
        ),
        "auth-with-oauth2" => with(
            op(
                a,
                "authWithOAuth2",
                "Log in with an OAuth2 provider",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            json_body(
                json!({"type": "object", "required": ["provider", "code", "codeVerifier", "redirectURL"], "properties": {
                "provider": {"type": "string"}, "code": {"type": "string"}, "codeVerifier": {"type": "string"},
                "redirectURL": {"type": "string"}, "createData": {"type": "object"}, "mfaId": {"type": "string"}}}),
                true,
            ),
        ),
        "auth-refresh" => op(
            a,
            "authRefresh",
            "Refresh the caller's token",
            Access::Authenticated,
            auth_ok,
        ),
        "auth-methods" => op(
            a,
            "authMethods",
            "The collection's login methods",
            Access::Anyone,
            ok_json(json!({"type": "object", "properties": {
                "password": {"type": "object"}, "oauth2": {"type": "object"}, "mfa": {"type": "object"}, "otp": {"type": "object"}}})),
        ),
        "request-verification" => with(
            op(
                a,
                "requestVerification",
                "Send a verification email",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "confirm-verification" => with(
            op(
                a,
                "confirmVerification",
                "Confirm a verification",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token"]),
        ),
        "request-password-reset" => with(
            op(
                a,
                "requestPasswordReset",
                "Send a password reset email",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "confirm-password-reset" => with(
            op(
                a,
                "confirmPasswordReset",
                "Set a new password with a reset token",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token", "password", "passwordConfirm"]),
        ),
        "request-email-change" => with(
            op(
                a,
                "requestEmailChange",
                "Send an email change confirmation",
                Access::Authenticated,
                no_content(),
            ),
            "requestBody",
            email_body(&["newEmail"]),
        ),
        "confirm-email-change" => with(
            op(
                a,
                "confirmEmailChange",
                "Confirm an email change",
                Access::Anyone,
                no_content(),
            ),
            "requestBody",
            email_body(&["token", "password"]),
        ),
        "request-otp" => with(
            op(
                a,
                "requestOtp",
                "Send a one-time password",
                Access::Anyone,
                ok_json(
                    json!({"type": "object", "required": ["otpId"], "properties": {"otpId": {"type": "string"}}}),
                ),
            ),
            "requestBody",
            email_body(&["email"]),
        ),
        "auth-with-otp" => with(
            op(
                a,
                "authWithOtp",
                "Log in with a one-time password",
                Access::Anyone,
                auth_ok,
            ),
            "requestBody",
            email_body(&["otpId", "password"]),
        ),
        _ => return None,
    };
    Some(o)
}
