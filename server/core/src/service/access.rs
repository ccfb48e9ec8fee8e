//! The one authorization gate. Every channel asks [`Services::authorize`] for a
//! [`Permit`]; record operations require one, so an unchecked call does not compile.

use std::sync::Arc;

use super::{Principal, Services};
use crate::filter::{CompileOptions, Filter, JoinRules, Lookup, RequestInfo};
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
    /// Shared with the queries run under the permit.
    request: Arc<RequestInfo>,
}

impl Permit {
    /// The permit of the server itself (plugins' host calls): superuser rights, no
    /// caller.
    pub(super) fn system(collection: &Collection, action: Action) -> Permit {
        Permit {
            collection_id: collection.id.clone(),
            action,
            condition: None,
            superuser: true,
            request: Arc::default(),
        }
    }

    /// Whether the permit holds for every record (no record-level condition).
    pub fn is_unconditional(&self) -> bool {
        self.condition.is_none()
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// [`Permit::request`], shared.
    pub fn shared_request(&self) -> &Arc<RequestInfo> {
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

    /// Whether checking a record against this permit reads nothing from the store
    /// beyond the record (see [`Filter::is_local`]).
    pub fn is_local(&self) -> bool {
        self.condition.as_ref().is_none_or(Filter::is_local)
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

pub(super) fn rule(collection: &Collection, action: Action) -> &Option<String> {
    let r = &collection.rules;
    match action {
        Action::List => &r.list_rule,
        Action::View => &r.view_rule,
        Action::Create => &r.create_rule,
        Action::Update => &r.update_rule,
        Action::Delete => &r.delete_rule,
    }
}

/// What the rules and policies grant a caller on one collection and action.
#[derive(Clone, Debug)]
pub(super) enum Grant {
    /// No rule or policy applies: superusers only.
    Denied,
    /// Every record.
    Always,
    /// The records matching the OR of the conditions, as one filter.
    When(Filter),
}

impl Grant {
    /// The condition as filter text, for joins from client filters.
    fn source(sources: &[String]) -> Option<String> {
        match sources {
            [] => None,
            _ if sources.iter().any(|s| s.trim().is_empty()) => Some(String::new()),
            [one] => Some(one.clone()),
            many => Some(
                many.iter()
                    .map(|s| format!("({s})"))
                    .collect::<Vec<_>>()
                    .join(" || "),
            ),
        }
    }
}

impl Services {
    /// Decides whether `who` may perform `action` on `collection`. Superusers always may;
    /// otherwise the collection's rule (a policy of `everyone`) and the policies of the
    /// caller's roles are OR-ed: none → 403 (superusers only), one empty → every record,
    /// else the condition each record must satisfy.
    pub fn authorize(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        action: Action,
        mut request: RequestInfo,
    ) -> Result<Permit> {
        if action != Action::List && action != Action::View && self.is_policy_store(collection) {
            return Err(Error::bad_request(format!(
                "Records of {} are managed through /api/roles and /api/policies.",
                collection.name
            )));
        }
        request.auth = who.auth().map(|(c, r)| (c.clone(), r.clone()));
        let mut permit = Permit {
            collection_id: collection.id.clone(),
            action,
            condition: None,
            superuser: who.is_superuser(),
            request: Arc::new(request),
        };
        if who.is_superuser() {
            return Ok(permit);
        }
        match self.grant(who, collection, action)? {
            Grant::Denied => Err(Error::from_code(Code::SuperuserOnly)),
            Grant::Always => Ok(permit),
            Grant::When(filter) => {
                permit.condition = Some(filter);
                Ok(permit)
            }
        }
    }

    /// The conditions under which `who` may perform `action` on `collection`, as
    /// filter sources: the collection's rule first, then the matching policies.
    pub(super) fn condition_sources(
        &self,
        who: &Principal,
        collection: &Collection,
        action: Action,
    ) -> Vec<String> {
        let mut sources: Vec<String> = rule(collection, action).iter().cloned().collect();
        if let Some(engine) = &self.policy {
            let roles = self.roles_of(who);
            sources.extend(engine.conditions(&roles, &collection.id, action));
        }
        sources
    }

    /// [`Services::condition_sources`] compiled into one [`Grant`], cached per role set
    /// until the catalog or the policies change.
    fn grant(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        action: Action,
    ) -> Result<Grant> {
        let catalog = self.catalog();
        let roles = self.roles_of(who);
        let key = format!(
            "{}\u{0}{}\u{0}{}",
            collection.id,
            action.as_str(),
            roles.join("\u{1}")
        );
        if let Some(grant) = self.permits.get(&catalog, &key) {
            return Ok(grant);
        }
        let sources = self.condition_sources(who, collection, action);
        let grant = match Grant::source(&sources) {
            None => Grant::Denied,
            Some(s) if s.trim().is_empty() => Grant::Always,
            Some(s) => Grant::When(Filter::compile(&s, collection, &catalog, None)?),
        };
        self.permits.put(&catalog, key, grant.clone());
        Ok(grant)
    }

    /// How a client filter of `who` is compiled: superusers see everything; others
    /// may not touch hidden fields, and a join into another collection must pass that
    /// collection's list decision for `who` (rule or policies).
    pub(super) fn client_compile_options(self: &Services, who: &Principal) -> CompileOptions {
        if who.is_superuser() {
            return CompileOptions::default();
        }
        let sources: Arc<JoinRules> = {
            let policy = self.policy.clone();
            let roles = self.roles_of(who);
            Arc::new(move |c: &Collection| {
                let mut sources: Vec<String> = rule(c, Action::List).iter().cloned().collect();
                if let Some(engine) = &policy {
                    sources.extend(engine.conditions(&roles, &c.id, Action::List));
                }
                Grant::source(&sources)
            })
        };
        CompileOptions {
            allow_hidden: false,
            join_rules: Some(sources),
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
