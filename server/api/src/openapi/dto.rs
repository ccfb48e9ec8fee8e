//! The wire shapes of the static endpoints, as poem-openapi types: the handlers in
//! `static_api` return these, so their schemas in `/api/openapi.json` come from the
//! same Rust types that serialize the responses.
//!
//! Shapes that core builds as JSON (roles, policies) are parsed into these types with
//! unknown fields denied: a field added in core without being added here fails the
//! api tests instead of drifting silently out of the document.

use poem_openapi::types::{MaybeUndefined, ParseFromJSON};
use poem_openapi::{Enum, Object};
use serde_json::Value;

use crate::ApiError;

/// Parses a JSON value core built into its documented DTO.
pub fn typed<T: ParseFromJSON>(value: Value) -> Result<T, ApiError> {
    T::parse_from_json(Some(value)).map_err(|e| {
        ApiError(basalt_core::Error::internal(format!(
            "response does not match its documented shape: {}",
            e.into_message()
        )))
    })
}

/// The error envelope every failing request gets.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// The HTTP status, repeated.
    pub status: u16,
    /// A human-readable message.
    pub message: String,
    /// Per-field errors, nested like the input: `{"title": {"code": …, "message": …}}`.
    pub data: std::collections::BTreeMap<String, Value>,
    /// Basalt's stable machine code of the error (e.g. `not_found`).
    pub code: String,
}

/// `GET /api/health`.
#[derive(Object, Debug)]
pub struct Health {
    pub message: String,
    pub code: u16,
    pub data: EmptyObject,
}

/// An object without properties.
#[derive(Object, Debug, Default)]
pub struct EmptyObject {}

/// `POST /api/files/token`.
#[derive(Object, Debug)]
pub struct FileToken {
    /// A short-lived token to pass as `?token=` to protected files.
    pub token: String,
}

/// One backup archive.
#[derive(Object, Debug)]
pub struct Backup {
    /// The archive's file name, e.g. `pb_backup_20240101000000.zip`.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// `YYYY-MM-DD HH:MM:SS.sssZ`, UTC.
    pub modified: String,
}

/// `POST /api/backups`.
#[derive(Object, Debug)]
pub struct NewBackup {
    /// The archive's name (`[a-z0-9_-]+.zip`); generated when absent.
    pub name: Option<String>,
}

/// The actions a policy grants.
#[derive(Enum, Debug, Clone, Copy)]
#[oai(rename_all = "lowercase")]
pub enum PolicyAction {
    List,
    View,
    Create,
    Update,
    Delete,
}

/// A policy: `role` may do `action` on `collection` where `condition` holds.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    pub id: String,
    pub role: String,
    /// The collection's id.
    pub collection: String,
    /// The collection's name (`null` when it no longer exists).
    pub collection_name: MaybeUndefined<String>,
    pub action: PolicyAction,
    /// A filter expression over the record (`""` = always).
    pub condition: String,
}

/// `POST /api/policies`.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct NewPolicy {
    /// 1-64 characters of letters, digits, `_ . : -`.
    pub role: String,
    /// The collection's id or name.
    pub collection: String,
    pub action: PolicyAction,
    /// A filter expression over the record (`""` or absent = always).
    pub condition: Option<String>,
}

/// `GET /api/policies`.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct PolicyList {
    pub items: Vec<Policy>,
}

/// A role assignment (`subject` is `<collectionId>/<recordId>`) or an inheritance
/// link (`subject` is a role that inherits `role`).
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleLink {
    pub id: String,
    pub subject: String,
    pub role: String,
    /// Assignments: the auth collection's id.
    #[oai(skip_serializing_if_is_none)]
    pub collection_id: Option<String>,
    /// Assignments: the auth collection's name (`null` when it no longer exists).
    pub collection_name: MaybeUndefined<String>,
    /// Assignments: the auth record's id.
    #[oai(skip_serializing_if_is_none)]
    pub record: Option<String>,
    /// Inheritance links: the inherited role.
    #[oai(skip_serializing_if_is_none)]
    pub parent: Option<String>,
}

/// `POST /api/roles/links`: `{role, collection, record}` assigns a role to an auth
/// record; `{role, subject}` makes the role `subject` inherit `role`.
#[derive(Object, Debug)]
pub struct NewRoleLink {
    pub role: String,
    /// An auth collection's id or name (with `record`).
    pub collection: Option<String>,
    /// An auth record's id (with `collection`).
    pub record: Option<String>,
    /// A role that inherits `role` (without `collection`/`record`).
    pub subject: Option<String>,
}

/// `GET /api/roles/links`.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct RoleLinkList {
    pub items: Vec<RoleLink>,
}

/// A known role.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    /// Implicit roles: `everyone`, `authenticated` and one per auth collection.
    pub builtin: bool,
    /// The roles this one inherits.
    pub parents: Vec<String>,
    /// How many auth records are assigned this role.
    pub members: u64,
    /// How many policies this role has.
    pub policies: u64,
}

/// `GET /api/roles`.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct RoleList {
    pub items: Vec<Role>,
}

/// `GET /api/roles/records/{collection}/{record}`.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct RecordRoles {
    /// The record's effective roles, implicit and inherited ones included.
    pub roles: Vec<String>,
}

/// Where a grant comes from.
#[derive(Enum, Debug, Clone, Copy)]
#[oai(rename_all = "lowercase")]
pub enum GrantSource {
    /// The collection's API rule (a policy of `everyone`).
    Rule,
    /// A policy of `/api/policies`.
    Policy,
}

/// One grant of an action.
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct Grant {
    pub role: String,
    pub source: GrantSource,
    /// The policy's id (policies only).
    #[oai(skip_serializing_if_is_none)]
    pub id: Option<String>,
    pub condition: String,
}

/// `GET /api/policies/explain/{collection}`: who may do what.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
pub struct Explanation {
    /// The collection's id.
    pub collection: String,
    pub collection_name: String,
    /// Per action (`list view create update delete`), every grant.
    pub actions: std::collections::BTreeMap<String, Vec<Grant>>,
}

/// `POST /api/settings/test/email`.
#[derive(Object, Debug)]
pub struct TestEmail {
    /// Where to send the test message.
    pub email: String,
}
