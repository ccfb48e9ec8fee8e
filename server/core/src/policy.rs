//! Roles and policies beyond PocketBase's per-collection rules: the port the policy
//! engine (casbin, in `basalt-policy`) implements, and the shapes it is fed.
//!
//! The model: `p = role, collection, action, condition` and `g = subject, role`.
//! Every caller has the implicit role [`EVERYONE`]; an authenticated record also has
//! [`AUTHENTICATED`] and the name of its auth collection, plus the roles assigned to
//! it (subject [`subject_of`]). Roles may inherit roles (`g = role, parent`). A
//! collection's rules act as policies of `everyone`; the services OR the conditions of
//! every matching policy into the record-level condition of a `Permit`.

use crate::service::Action;
use crate::Result;

/// Every caller, signed in or not.
pub const EVERYONE: &str = "everyone";
/// Every signed-in auth record (superusers bypass policies altogether).
pub const AUTHENTICATED: &str = "authenticated";

/// One policy: `role` may perform `action` on the records of `collection_id` that
/// satisfy `condition` (a filter expression; empty = every record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub role: String,
    pub collection_id: String,
    pub action: Action,
    pub condition: String,
}

/// One role assignment: `subject` (an auth record, see [`subject_of`], or a role
/// that inherits) has `role`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleLink {
    pub id: String,
    pub subject: String,
    pub role: String,
}

/// How an auth record is named as a subject: `<collectionId>/<recordId>`. The `/`
/// cannot occur in a role name, so records and roles never collide.
pub fn subject_of(collection_id: &str, record_id: &str) -> String {
    format!("{collection_id}/{record_id}")
}

/// The policy engine. Loaded wholesale from the store at start and after every change;
/// queries are synchronous and cheap (the services cache their results per caller).
pub trait PolicyEngine: Send + Sync + 'static {
    /// Replaces every policy and role assignment the engine knows.
    fn load(&self, policies: &[Policy], links: &[RoleLink]) -> Result<()>;

    /// `start` and every role reachable from any of them through assignments and
    /// inheritance, deduplicated.
    fn expand_roles(&self, start: &[String]) -> Vec<String>;

    /// The conditions of the policies that grant `action` on `collection_id` to any of
    /// `roles`, in a stable order.
    fn conditions(&self, roles: &[String], collection_id: &str, action: Action) -> Vec<String>;
}

/// Whether `name` is usable as a role: 1–64 characters of `[A-Za-z0-9_.:-]`, and not
/// the implicit [`AUTHENTICATED`]-style names reserved for auth collections, which are
/// checked by the services.
pub fn valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}
