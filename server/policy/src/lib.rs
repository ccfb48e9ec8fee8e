//! The casbin implementation of Basalt's [`PolicyEngine`] port.
//!
//! The policies and role assignments live in the store (the `_policies` and `_roles`
//! system collections, written by the services, so they are durable, backed up and in
//! the change log like any record). [`StoreAdapter`] is the casbin adapter that loads
//! a snapshot of them into a fresh enforcer, which is swapped in atomically: readers
//! never see a half-loaded policy set. This crate never evaluates record conditions;
//! it only answers which roles a subject has and which policy conditions apply.

mod adapter;

use std::collections::BTreeSet;

use basalt_core::policy::{Policy, PolicyEngine, RoleLink};
use basalt_core::service::Action;
use basalt_core::{Error, Result};
use casbin::{CoreApi, DefaultModel, Enforcer, MgmtApi, RbacApi};
use parking_lot::RwLock;

pub use adapter::StoreAdapter;

/// `p = role, collection, action, condition`; `g = subject, role`.
const MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
"#;

/// Role hierarchies deeper than this are cut off (casbin's role manager limit).
const MAX_HIERARCHY_DEPTH: usize = 10;

pub struct CasbinEngine {
    enforcer: RwLock<Enforcer>,
}

impl CasbinEngine {
    /// An engine with no policies and no roles.
    pub fn new() -> Result<CasbinEngine> {
        Ok(CasbinEngine {
            enforcer: RwLock::new(build(StoreAdapter::default())?),
        })
    }
}

fn build(adapter: StoreAdapter) -> Result<Enforcer> {
    futures_executor::block_on(async {
        let model = DefaultModel::from_str(MODEL).await.map_err(internal)?;
        Enforcer::new(model, adapter).await.map_err(internal)
    })
}

fn internal(e: casbin::Error) -> Error {
    Error::internal(format!("policy engine: {e}"))
}

impl PolicyEngine for CasbinEngine {
    fn load(&self, policies: &[Policy], links: &[RoleLink]) -> Result<()> {
        let fresh = build(StoreAdapter::new(policies, links))?;
        *self.enforcer.write() = fresh;
        Ok(())
    }

    fn expand_roles(&self, start: &[String]) -> Vec<String> {
        let enforcer = self.enforcer.read();
        let mut roles: BTreeSet<String> = start.iter().cloned().collect();
        for s in start {
            roles.extend(enforcer.get_implicit_roles_for_user(s, None));
        }
        let _ = MAX_HIERARCHY_DEPTH;
        roles.into_iter().collect()
    }

    fn conditions(&self, roles: &[String], collection_id: &str, action: Action) -> Vec<String> {
        let enforcer = self.enforcer.read();
        let mut out = Vec::new();
        for role in roles {
            let rows = enforcer.get_filtered_policy(
                0,
                vec![
                    role.clone(),
                    collection_id.to_owned(),
                    action.as_str().to_owned(),
                ],
            );
            out.extend(rows.into_iter().filter_map(|mut row| row.pop()));
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests;
