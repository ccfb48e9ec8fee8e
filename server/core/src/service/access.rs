//! The one authorization gate. Every channel asks [`Services::authorize`] for a
//! [`Permit`]; record operations require one, so an unchecked call does not compile.

use std::sync::Arc;

use super::{Principal, Services};
use crate::filter::{Filter, Lookup, RequestInfo};
use crate::record::Record;
use crate::schema::Collection;
use crate::{Code, Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    List,
    View,
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::View => "view",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// Proof that `action` on `collection` was authorized for a caller, carrying the
/// record-level condition still to apply (`None` = unconditional).
#[derive(Clone, Debug)]
pub struct Permit {
    collection_id: String,
    action: Action,
    condition: Option<Filter>,
    superuser: bool,
    request: RequestInfo,
}

impl Permit {
    pub fn action(&self) -> Action {
        self.action
    }

    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// What a cached result computed under this permit's condition depends on: the
    /// caller and everything `@request.*` may read.
    pub(super) fn cache_scope(&self) -> String {
        let auth = self
            .request
            .auth
            .as_ref()
            .map(|(c, r)| format!("{}/{}", c.id, r.id()))
            .unwrap_or_default();
        format!(
            "{auth}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}",
            self.request.method, self.request.query, self.request.headers, self.request.body
        )
    }

    pub(super) fn condition(&self) -> Option<&Filter> {
        self.condition.as_ref()
    }

    /// Fails unless this permit was issued for `collection` and `action`.
    pub(super) fn check(&self, collection: &Collection, action: Action) -> Result<()> {
        if self.collection_id == collection.id && self.action == action {
            Ok(())
        } else {
            Err(Error::internal(format!(
                "permit for {}/{} used for {}/{}",
                self.collection_id,
                self.action.as_str(),
                collection.id,
                action.as_str()
            )))
        }
    }

    /// Whether `record` satisfies the permit's condition.
    pub(super) fn allows(&self, record: &Record, lookup: &dyn Lookup) -> Result<bool> {
        match &self.condition {
            None => Ok(true),
            Some(f) => f.matches(record, lookup, &self.request),
        }
    }
}

fn rule(collection: &Collection, action: Action) -> &Option<String> {
    let r = &collection.rules;
    match action {
        Action::List => &r.list_rule,
        Action::View => &r.view_rule,
        Action::Create => &r.create_rule,
        Action::Update => &r.update_rule,
        Action::Delete => &r.delete_rule,
    }
}

impl Services {
    /// Decides whether `who` may perform `action` on `collection`. Superusers always may;
    /// a `null` rule is superusers only (403); `""` is everyone; otherwise the rule is a
    /// condition each record must satisfy.
    pub fn authorize(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        action: Action,
        mut request: RequestInfo,
    ) -> Result<Permit> {
        request.auth = who.auth().map(|(c, r)| (c.clone(), r.clone()));
        let mut permit = Permit {
            collection_id: collection.id.clone(),
            action,
            condition: None,
            superuser: who.is_superuser(),
            request,
        };
        if who.is_superuser() {
            return Ok(permit);
        }
        match rule(collection, action) {
            None => Err(Error::from_code(Code::SuperuserOnly)),
            Some(r) if r.trim().is_empty() => Ok(permit),
            Some(r) => {
                permit.condition = Some(Filter::compile(r, collection, &self.catalog(), None)?);
                Ok(permit)
            }
        }
    }

    /// Whether `who` may view `record` of `collection`; used by expand.
    pub(super) fn can_view(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        record: &Record,
    ) -> bool {
        match self.authorize(who, collection, Action::View, RequestInfo::default()) {
            Ok(permit) => permit.allows(record, self.store()).unwrap_or(false),
            Err(_) => false,
        }
    }
}
