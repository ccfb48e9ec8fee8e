//! The extra checks PocketBase runs on writes to auth records before the field checks:
//! `email` and `verified` changes need manage access, and `password` comes with
//! `passwordConfirm` (and `oldPassword` when the owner changes it). When one of these
//! fails, only these problems are reported.

use serde_json::{Map, Value as Json};

use super::coerce::to_text;
use super::input::Access;
use super::Record;
use crate::auth;
use crate::error::{FieldError, FieldErrors};
use crate::schema::Collection;

fn mismatch() -> FieldError {
    FieldError::new("validation_values_mismatch", "Values don't match.")
}

/// The password keys of a request body (`cast.ToString` of each).
#[derive(Debug, Default)]
pub struct Passwords {
    pub password: String,
    pub confirm: String,
    pub old: String,
}

impl Passwords {
    pub fn from_body(body: &Map<String, Json>) -> Passwords {
        let get = |k: &str| body.get(k).map(to_text).unwrap_or_default();
        Passwords {
            password: get("password"),
            confirm: get("passwordConfirm"),
            old: get("oldPassword"),
        }
    }
}

/// Checks `new` (built from `old`, `None` on create) of an auth collection.
pub fn check(
    collection: &Collection,
    old: Option<&Record>,
    new: &Record,
    pw: &Passwords,
    access: Access,
) -> FieldErrors {
    let mut errs = FieldErrors::default();
    let creating = old.is_none();
    let manage = access != Access::Default;
    let value = |r: &Record, f: &str| r.get(collection, f).cloned();
    let old_value = |f: &str| old.and_then(|o| value(o, f));
    if !creating && !manage && value(new, "email") != old_value("email") {
        errs.push("email", mismatch());
    }
    let old_verified = old_value("verified")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let new_verified = value(new, "verified")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !manage && new_verified != old_verified {
        errs.push("verified", mismatch());
    }
    if (creating || !pw.confirm.is_empty() || !pw.old.is_empty()) && pw.password.is_empty() {
        errs.push("password", super::checks::required());
    }
    if (creating || !pw.password.is_empty() || !pw.old.is_empty()) && pw.confirm.is_empty() {
        errs.push("passwordConfirm", super::checks::required());
    } else if pw.confirm != pw.password {
        errs.push("passwordConfirm", mismatch());
    }
    let owner_changes_password =
        !creating && !manage && (!pw.password.is_empty() || !pw.confirm.is_empty());
    if owner_changes_password {
        let hash = old_value("password")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if pw.old.is_empty() {
            errs.push("oldPassword", super::checks::required());
        } else if !auth::verify_password(&pw.old, &hash) {
            errs.push(
                "oldPassword",
                FieldError::new(
                    "validation_invalid_old_password",
                    "Missing or invalid old password.",
                ),
            );
        }
    }
    errs
}
