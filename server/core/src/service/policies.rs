//! Roles and policies: persistence in the `_policies` and `_roles` system collections,
//! loading into the [`PolicyEngine`], the per-caller caches, and the superuser API.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Map, Value as Json};

use super::access::{rule, Grant};
use super::{Action, Pending, Principal, Services, SUPERUSERS};
use crate::error::FieldErrors;
use crate::filter::Filter;
use crate::policy::{self, Policy, PolicyEngine, RoleLink, AUTHENTICATED, EVERYONE};
use crate::record::Record;
use crate::schema::{Catalog, Collection};
use crate::store::Write;
use crate::value::Value;
use crate::{ids, Code, Error, Result};

/// The system collection holding policies.
pub const POLICIES: &str = "_policies";
/// The system collection holding role assignments and inheritance.
pub const ROLES: &str = "_roles";

/// More cached entries than this and a cache starts over.
const MAX_CACHED: usize = 10_000;
/// The longest policy condition accepted, in bytes.
const MAX_CONDITION_LEN: usize = 4096;

/// Compiled grants per (collection, action, role set), valid for one catalog snapshot
/// and one policy generation; and the expanded roles per caller.
#[derive(Default)]
pub(super) struct PermitCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    /// Held (not just compared by address) so a freed catalog's address is never reused
    /// while the cache still refers to it.
    catalog: Option<Arc<Catalog>>,
    grants: HashMap<String, Grant>,
    roles: HashMap<String, Vec<String>>,
}

impl PermitCache {
    pub(super) fn get(&self, catalog: &Arc<Catalog>, key: &str) -> Option<Grant> {
        let inner = self.inner.lock();
        match &inner.catalog {
            Some(c) if Arc::ptr_eq(c, catalog) => inner.grants.get(key).cloned(),
            _ => None,
        }
    }

    pub(super) fn put(&self, catalog: &Arc<Catalog>, key: String, grant: Grant) {
        let mut inner = self.inner.lock();
        let same = matches!(&inner.catalog, Some(c) if Arc::ptr_eq(c, catalog));
        if !same || inner.grants.len() >= MAX_CACHED {
            inner.grants.clear();
            inner.catalog = Some(catalog.clone());
        }
        inner.grants.insert(key, grant);
    }

    fn roles(&self, subject: &str) -> Option<Vec<String>> {
        self.inner.lock().roles.get(subject).cloned()
    }

    fn put_roles(&self, subject: String, roles: Vec<String>) {
        let mut inner = self.inner.lock();
        if inner.roles.len() >= MAX_CACHED {
            inner.roles.clear();
        }
        inner.roles.insert(subject, roles);
    }

    fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.grants.clear();
        inner.roles.clear();
    }
}

fn text<'a>(c: &Collection, r: &'a Record, field: &str) -> &'a str {
    r.get(c, field).and_then(Value::as_str).unwrap_or_default()
}

fn parse_action(s: &str) -> Option<Action> {
    [
        Action::List,
        Action::View,
        Action::Create,
        Action::Update,
        Action::Delete,
    ]
    .into_iter()
    .find(|a| a.as_str() == s)
}

impl Services {
    /// Attaches the policy engine and loads it from the store. Without one, only the
    /// collections' rules apply.
    pub fn attach_policy_engine(&mut self, engine: Arc<dyn PolicyEngine>) -> Result<()> {
        self.policy = Some(engine);
        self.reload_policies()
    }

    pub(super) fn is_policy_store(&self, collection: &Collection) -> bool {
        collection.system && (collection.name == POLICIES || collection.name == ROLES)
    }

    pub(super) fn ensure_policy_collections(&self) -> Result<()> {
        let text = |name: &str| json!({"name": name, "type": "text", "required": true, "max": MAX_CONDITION_LEN});
        let definitions = [
            json!({
                "name": POLICIES,
                "type": "base",
                "system": true,
                "fields": [
                    text("role"),
                    text("collection"),
                    {"name": "action", "type": "select", "required": true, "maxSelect": 1,
                     "values": ["list", "view", "create", "update", "delete"]},
                    {"name": "condition", "type": "text", "max": MAX_CONDITION_LEN},
                ],
            }),
            json!({
                "name": ROLES,
                "type": "base",
                "system": true,
                "fields": [text("subject"), text("role")],
                "indexes": ["CREATE UNIQUE INDEX idx_roles_subject_role ON _roles (subject, role)"],
            }),
        ];
        for definition in definitions {
            let name = definition["name"].as_str().unwrap_or_default();
            if self.catalog().get(name).is_some() {
                continue;
            }
            let collection: Collection =
                serde_json::from_value(definition).map_err(Error::internal)?;
            self.create_collection_unchecked(collection)?;
        }
        Ok(())
    }

    /// Reads every policy and role assignment from the store into the engine and drops
    /// cached decisions. Policies of deleted collections are skipped.
    pub(super) fn reload_policies(&self) -> Result<()> {
        let Some(engine) = &self.policy else {
            return Ok(());
        };
        let (policies, links) = self.read_policies()?;
        engine.load(&policies, &links)?;
        self.permits.clear();
        Ok(())
    }

    fn read_policies(&self) -> Result<(Vec<Policy>, Vec<RoleLink>)> {
        let pc = self.collection(POLICIES)?;
        let rc = self.collection(ROLES)?;
        let mut policies = Vec::new();
        self.store.scan(&pc, &mut |r| {
            if let Some(action) = parse_action(text(&pc, &r, "action")) {
                policies.push(Policy {
                    id: r.id().to_owned(),
                    role: text(&pc, &r, "role").to_owned(),
                    collection_id: text(&pc, &r, "collection").to_owned(),
                    action,
                    condition: text(&pc, &r, "condition").to_owned(),
                });
            }
            true
        })?;
        policies.sort_by(|a, b| {
            (&a.role, &a.collection_id, a.action.as_str(), &a.condition).cmp(&(
                &b.role,
                &b.collection_id,
                b.action.as_str(),
                &b.condition,
            ))
        });
        let mut links = Vec::new();
        self.store.scan(&rc, &mut |r| {
            links.push(RoleLink {
                id: r.id().to_owned(),
                subject: text(&rc, &r, "subject").to_owned(),
                role: text(&rc, &r, "role").to_owned(),
            });
            true
        })?;
        links.sort_by(|a, b| (&a.role, &a.subject).cmp(&(&b.role, &b.subject)));
        Ok((policies, links))
    }

    /// Every role of `who`: the implicit ones and everything reachable through
    /// assignments and inheritance. Cached until the policies change.
    pub(super) fn roles_of(&self, who: &Principal) -> Vec<String> {
        let mut start = vec![EVERYONE.to_owned()];
        let mut key = String::from("guest");
        if let Some((c, r)) = who.auth() {
            key = policy::subject_of(&c.id, r.id());
            start.extend([AUTHENTICATED.to_owned(), c.name.clone(), key.clone()]);
        }
        let Some(engine) = &self.policy else {
            return start;
        };
        if let Some(roles) = self.permits.roles(&key) {
            return roles;
        }
        let roles = engine.expand_roles(&start);
        self.permits.put_roles(key, roles.clone());
        roles
    }
}

/// The superuser API of `/api/policies` and `/api/roles`.
impl Services {
    fn policy_json(&self, catalog: &Catalog, p: &Policy) -> Json {
        json!({
            "id": p.id,
            "role": p.role,
            "collection": p.collection_id,
            "collectionName": catalog.by_id(&p.collection_id).map(|c| c.name.clone()),
            "action": p.action.as_str(),
            "condition": p.condition,
        })
    }

    /// Policies, optionally only those of one collection (id or name) or role.
    pub fn list_policies(
        &self,
        who: &Principal,
        collection: Option<&str>,
        role: Option<&str>,
    ) -> Result<Json> {
        require_superuser(who)?;
        let catalog = self.catalog();
        let collection_id = match collection.filter(|c| !c.is_empty()) {
            Some(c) => Some(self.collection(c)?.id.clone()),
            None => None,
        };
        let (policies, _) = self.read_policies()?;
        let items: Vec<Json> = policies
            .iter()
            .filter(|p| collection_id.as_ref().is_none_or(|c| *c == p.collection_id))
            .filter(|p| role.filter(|r| !r.is_empty()).is_none_or(|r| r == p.role))
            .map(|p| self.policy_json(&catalog, p))
            .collect();
        Ok(json!({ "items": items }))
    }

    /// Adds a policy `{role, collection, action, condition}`; the condition is checked
    /// like an API rule. Effective immediately.
    pub fn add_policy(&self, who: &Principal, body: &Map<String, Json>) -> Result<(Json, Pending)> {
        require_superuser(who)?;
        let field = |k: &str| {
            body.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .trim()
        };
        let (role, coll, action, condition) = (
            field("role"),
            field("collection"),
            field("action"),
            field("condition"),
        );
        let mut errors = FieldErrors::default();
        check_role_name(&mut errors, "role", role);
        let catalog = self.catalog();
        let target = catalog.get(coll).cloned();
        match &target {
            None => errors.add(
                "collection",
                "validation_missing_collection",
                "Missing or unknown collection.",
            ),
            Some(c) if c.system && c.name.starts_with('_') => errors.add(
                "collection",
                "validation_system_collection",
                "Policies cannot open this system collection.",
            ),
            Some(_) => {}
        }
        let action = parse_action(action);
        if action.is_none() {
            errors.add(
                "action",
                "validation_invalid_value",
                "Must be one of list, view, create, update, delete.",
            );
        }
        if condition.len() > MAX_CONDITION_LEN {
            errors.add(
                "condition",
                "validation_max_text_constraint",
                format!("Must be no more than {MAX_CONDITION_LEN} character(s)."),
            );
        } else if let Some(c) = &target {
            if !condition.is_empty() {
                if let Err(e) = Filter::compile(condition, c, &catalog, None) {
                    errors.add(
                        "condition",
                        "validation_invalid_rule",
                        format!("Invalid rule. {}", e.message),
                    );
                }
            }
        }
        errors.into_result("Failed to save the policy.")?;
        let (Some(target), Some(action)) = (target, action) else {
            return Err(Error::internal(
                "policy validated without collection or action",
            ));
        };
        let (policies, _) = self.read_policies()?;
        if policies.iter().any(|p| {
            p.role == role
                && p.collection_id == target.id
                && p.action == action
                && p.condition == condition
        }) {
            return Err(Error::invalid_field(
                "Failed to save the policy.",
                "role",
                "validation_not_unique",
                "The same policy already exists.",
            ));
        }
        let policy = Policy {
            id: ids::new_id(),
            role: role.to_owned(),
            collection_id: target.id.clone(),
            action,
            condition: condition.to_owned(),
        };
        let pc = self.collection(POLICIES)?;
        let record = new_record(
            &pc,
            &policy.id,
            &[
                ("role", role),
                ("collection", &target.id),
                ("action", action.as_str()),
                ("condition", condition),
            ],
        );
        let pending = self.commit(vec![Write::Create {
            collection: pc,
            record,
        }])?;
        Ok((self.policy_json(&catalog, &policy), pending))
    }

    pub fn delete_policy(&self, who: &Principal, id: &str) -> Result<Pending> {
        require_superuser(who)?;
        let pc = self.collection(POLICIES)?;
        let old = self.store.get(&pc, id)?.ok_or_else(Error::not_found)?;
        self.commit(vec![Write::Delete {
            collection: pc,
            old,
        }])
    }

    /// Role assignments and inheritance links, optionally of one role or subject.
    pub fn list_role_links(
        &self,
        who: &Principal,
        role: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Json> {
        require_superuser(who)?;
        let (_, links) = self.read_policies()?;
        let items: Vec<Json> = links
            .iter()
            .filter(|l| role.filter(|r| !r.is_empty()).is_none_or(|r| r == l.role))
            .filter(|l| {
                subject
                    .filter(|s| !s.is_empty())
                    .is_none_or(|s| s == l.subject)
            })
            .map(|l| self.link_json(l))
            .collect();
        Ok(json!({ "items": items }))
    }

    fn link_json(&self, l: &RoleLink) -> Json {
        let catalog = self.catalog();
        let mut out = json!({"id": l.id, "subject": l.subject, "role": l.role});
        if let Some((cid, rid)) = l.subject.split_once('/') {
            out["collectionId"] = json!(cid);
            out["collectionName"] = json!(catalog.by_id(cid).map(|c| c.name.clone()));
            out["record"] = json!(rid);
        } else {
            out["parent"] = json!(l.role);
        }
        out
    }

    /// Adds `{role, collection, record}` (assign a role to an auth record) or
    /// `{role, subject}` where `subject` is a role that then inherits `role`.
    pub fn add_role_link(
        &self,
        who: &Principal,
        body: &Map<String, Json>,
    ) -> Result<(Json, Pending)> {
        require_superuser(who)?;
        let field = |k: &str| {
            body.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .trim()
        };
        let role = field("role");
        let mut errors = FieldErrors::default();
        check_role_name(&mut errors, "role", role);
        let subject = if !field("record").is_empty() || !field("collection").is_empty() {
            match self.auth_subject(field("collection"), field("record")) {
                Ok(s) => s,
                Err(e) => {
                    errors.add("record", "validation_missing_rel_records", e.message);
                    String::new()
                }
            }
        } else {
            check_role_name(&mut errors, "subject", field("subject"));
            field("subject").to_owned()
        };
        errors.into_result("Failed to save the role assignment.")?;
        let (_, links) = self.read_policies()?;
        if links.iter().any(|l| l.subject == subject && l.role == role) {
            return Err(Error::invalid_field(
                "Failed to save the role assignment.",
                "role",
                "validation_not_unique",
                "The subject already has this role.",
            ));
        }
        if subject == role || reaches(&links, role, &subject) {
            return Err(Error::invalid_field(
                "Failed to save the role assignment.",
                "role",
                "validation_role_cycle",
                "The role would inherit from itself.",
            ));
        }
        let link = RoleLink {
            id: ids::new_id(),
            subject: subject.clone(),
            role: role.to_owned(),
        };
        let rc = self.collection(ROLES)?;
        let record = new_record(&rc, &link.id, &[("subject", &subject), ("role", role)]);
        let pending = self.commit(vec![Write::Create {
            collection: rc,
            record,
        }])?;
        Ok((self.link_json(&link), pending))
    }

    pub fn delete_role_link(&self, who: &Principal, id: &str) -> Result<Pending> {
        require_superuser(who)?;
        let rc = self.collection(ROLES)?;
        let old = self.store.get(&rc, id)?.ok_or_else(Error::not_found)?;
        self.commit(vec![Write::Delete {
            collection: rc,
            old,
        }])
    }

    /// The subject name of an existing, non-superuser auth record.
    fn auth_subject(&self, collection: &str, record: &str) -> Result<String> {
        let c = self
            .catalog()
            .get(collection)
            .cloned()
            .filter(|c| c.is_auth() && c.name != SUPERUSERS)
            .ok_or_else(|| Error::bad_request("Missing or unknown auth collection."))?;
        if self.store.get(&c, record)?.is_none() {
            return Err(Error::bad_request("Missing or unknown auth record."));
        }
        Ok(policy::subject_of(&c.id, record))
    }

    /// Every known role: the implicit ones, and those named by assignments and
    /// policies, with their parents and how many subjects and policies they have.
    pub fn list_roles(&self, who: &Principal) -> Result<Json> {
        require_superuser(who)?;
        let (policies, links) = self.read_policies()?;
        let mut builtin: Vec<String> = vec![EVERYONE.into(), AUTHENTICATED.into()];
        builtin.extend(
            self.catalog()
                .iter()
                .filter(|c| c.is_auth() && c.name != SUPERUSERS)
                .map(|c| c.name.clone()),
        );
        let mut names: BTreeSet<String> = builtin.iter().cloned().collect();
        names.extend(policies.iter().map(|p| p.role.clone()));
        names.extend(links.iter().map(|l| l.role.clone()));
        names.extend(
            links
                .iter()
                .filter(|l| !l.subject.contains('/'))
                .map(|l| l.subject.clone()),
        );
        let items: Vec<Json> = names
            .iter()
            .map(|name| {
                json!({
                    "name": name,
                    "builtin": builtin.contains(name),
                    "parents": links.iter().filter(|l| l.subject == *name).map(|l| &l.role).collect::<Vec<_>>(),
                    "members": links.iter().filter(|l| l.role == *name && l.subject.contains('/')).count(),
                    "policies": policies.iter().filter(|p| p.role == *name).count(),
                })
            })
            .collect();
        Ok(json!({ "items": items }))
    }

    /// The effective roles of one auth record (implicit ones included).
    pub fn roles_of_record(&self, who: &Principal, collection: &str, record: &str) -> Result<Json> {
        require_superuser(who)?;
        let c = self.collection(collection)?;
        let r = self.store.get(&c, record)?.ok_or_else(Error::not_found)?;
        let principal = Principal::Auth {
            collection: c,
            record: Arc::new(r),
        };
        let roles: Vec<String> = self
            .roles_of(&principal)
            .into_iter()
            .filter(|r| !r.contains('/'))
            .collect();
        Ok(json!({ "roles": roles }))
    }

    /// "Who can do what" on one collection: per action, the rule (as a policy of
    /// `everyone`) and every policy, with their conditions.
    pub fn explain_collection(&self, who: &Principal, collection: &str) -> Result<Json> {
        require_superuser(who)?;
        let c = self.collection(collection)?;
        let (policies, _) = self.read_policies()?;
        let mut actions = Map::new();
        for action in [
            Action::List,
            Action::View,
            Action::Create,
            Action::Update,
            Action::Delete,
        ] {
            let mut grants = Vec::new();
            if let Some(r) = rule(&c, action) {
                grants.push(json!({"role": EVERYONE, "source": "rule", "condition": r}));
            }
            for p in policies
                .iter()
                .filter(|p| p.collection_id == c.id && p.action == action)
            {
                grants.push(json!({"role": p.role, "source": "policy", "id": p.id, "condition": p.condition}));
            }
            actions.insert(action.as_str().to_owned(), Json::Array(grants));
        }
        Ok(json!({"collection": c.id, "collectionName": c.name, "actions": actions}))
    }
}

fn require_superuser(who: &Principal) -> Result<()> {
    if who.is_superuser() {
        Ok(())
    } else {
        Err(Error::from_code(Code::SuperuserOnly))
    }
}

fn check_role_name(errors: &mut FieldErrors, field: &str, name: &str) {
    if !policy::valid_role_name(name) {
        errors.add(
            field,
            "validation_invalid_role",
            "A role name is 1-64 characters of letters, digits, _ . : and -.",
        );
    }
}

/// Whether `from` already reaches `to` through the inheritance links.
fn reaches(links: &[RoleLink], from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(s) = stack.pop() {
        if s == to {
            return true;
        }
        if seen.insert(s.clone()) {
            stack.extend(
                links
                    .iter()
                    .filter(|l| l.subject == s)
                    .map(|l| l.role.clone()),
            );
        }
    }
    false
}

fn new_record(c: &Collection, id: &str, values: &[(&str, &str)]) -> Record {
    let mut record = Record::zero(c);
    record.values[0] = Value::Text(id.to_owned());
    for (name, v) in values {
        if let Some(i) = c.field_pos(name) {
            record.values[i] = Value::Text((*v).to_owned());
        }
    }
    let now = crate::time::now();
    for name in ["created", "updated"] {
        if let Some(i) = c.field_pos(name) {
            record.values[i] = Value::Text(now.clone());
        }
    }
    record
}
