//! Where plugins meet the services: the before-hooks of the write paths, the custom
//! routes' access check, and the host operations plugins call (system reads and
//! writes that bypass access rules but not validation or before-hooks).

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::records::{busy, MAX_WRITE_RETRIES};
use super::{Action, By, Permit, Principal, Services};
use crate::filter::{Filter, Lookup, RequestInfo, SortKey};
use crate::hooks::{Actor, BeforeWrite, Hooks, Journal, RouteAccess};
use crate::record::render::{record_to_json, RenderOptions};
use crate::record::Record;
use crate::schema::Collection;
use crate::store::{self, Query, Write};
use crate::{Code, Error, Result};

impl Services {
    /// Wires the plugins' hooks in; the first call wins (one set per process life).
    pub fn attach_hooks(&self, hooks: Arc<dyn Hooks>) {
        if self.hooks.set(hooks).is_err() {
            tracing::warn!("hooks were already attached; keeping the first set");
        }
    }

    pub fn hooks(&self) -> Option<&Arc<dyn Hooks>> {
        self.hooks.get()
    }

    /// Committed writes with their before and after states, for the after-hooks.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// A record as superusers see it (hidden fields and email included).
    pub fn render_system(&self, collection: &Collection, record: &Record) -> Map<String, Json> {
        let opts = RenderOptions {
            include_hidden: true,
            show_email: true,
        };
        record_to_json(collection, record, &opts)
    }

    /// Runs the before-hooks (and, for a signup, the before-signup hooks) of a write
    /// that passed its permit: they may change `body` or refuse the write. `id` names
    /// the record of updates and deletes, read through `view`.
    pub(super) fn run_before_hooks(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        action: store::Action,
        id: Option<&str>,
        body: &mut Map<String, Json>,
    ) -> Result<()> {
        let Some(hooks) = self.hooks.get() else {
            return Ok(());
        };
        let signup = action == store::Action::Create
            && collection.is_auth()
            && !permit.is_superuser()
            && hooks.wants_signup();
        if signup {
            hooks.before_signup(&collection.name, body)?;
        }
        if !hooks.wants_before(&collection.name, action) {
            return Ok(());
        }
        let old = match id {
            Some(id) => {
                let record = view
                    .get(collection, id)?
                    .filter(|r| permit.allows(r, view).unwrap_or(false))
                    .ok_or_else(|| Error::from_code(Code::RecordNotFound))?;
                Some(self.render_system(collection, &record))
            }
            None => None,
        };
        let actor = Actor::of_permit(permit);
        hooks.before_write(BeforeWrite {
            action,
            collection,
            id,
            actor: &actor,
            old: old.as_ref(),
            body,
        })
    }

    /// Tells the hooks about a successful login.
    pub(super) fn notify_login(&self, collection: &Collection, record: &Record, method: &str) {
        if let Some(hooks) = self.hooks.get() {
            hooks.after_login(
                &collection.name,
                self.render_system(collection, record),
                method,
            );
        }
    }

    /// Fails unless `who` may call a custom route declared with `access`: 401 for a
    /// guest who needs to authenticate, 403 for a caller without the rights.
    pub fn check_route_access(
        &self,
        who: &Principal,
        access: &RouteAccess,
        request: RequestInfo,
    ) -> Result<()> {
        let denied = || match who {
            Principal::Guest => Error::from_code(Code::Unauthenticated),
            _ => Error::from_code(Code::Forbidden),
        };
        match access {
            RouteAccess::Public => Ok(()),
            RouteAccess::Authenticated if matches!(who, Principal::Guest) => Err(denied()),
            RouteAccess::Authenticated => Ok(()),
            RouteAccess::Superuser if who.is_superuser() => Ok(()),
            RouteAccess::Superuser => Err(denied()),
            RouteAccess::Policy { collection, action } => {
                let collection = self.collection(collection)?;
                match self.authorize(who, &collection, *action, request) {
                    Ok(permit) if permit.is_unconditional() => Ok(()),
                    Ok(_) => Err(denied()),
                    Err(e) if e.code == Code::SuperuserOnly => Err(denied()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// One record, as the system sees it.
    pub fn host_get(&self, collection: &str, id: &str) -> Result<Option<Map<String, Json>>> {
        let c = self.collection(collection)?;
        Ok(self.store.get(&c, id)?.map(|r| self.render_system(&c, &r)))
    }

    /// Records matching `filter`, ordered by `sort`, as the system sees them.
    pub fn host_list(
        &self,
        collection: &str,
        filter: &str,
        sort: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Map<String, Json>>> {
        let c = self.collection(collection)?;
        let catalog = self.catalog();
        let filter = match filter.trim() {
            "" => None,
            f => Some(Filter::compile(f, &c, &catalog, None)?),
        };
        let sort = SortKey::parse_list_with(sort, &c, &catalog, &Default::default())?;
        let limit = match limit {
            0 => self.limits.default_per_page,
            n => n.min(self.limits.max_per_page),
        };
        let query = Query {
            filter,
            sort,
            offset,
            limit,
            count_total: false,
            request: Arc::default(),
            budget: None,
        };
        let page = self.store.query(&c, &query)?;
        Ok(page
            .records
            .iter()
            .map(|r| self.render_system(&c, r))
            .collect())
    }

    /// Creates a record as the system: validated, before-hooks run, durable on return.
    pub fn host_create(
        &self,
        collection: &str,
        mut body: Map<String, Json>,
    ) -> Result<Map<String, Json>> {
        let c = self.collection(collection)?;
        let permit = Permit::system(&c, Action::Create);
        self.run_before_hooks(
            self.store(),
            &permit,
            &c,
            store::Action::Create,
            None,
            &mut body,
        )?;
        let record = self.prepare_create(self.store(), &permit, &c, &body, &[])?;
        self.write_by(
            vec![Write::Create {
                collection: c.clone(),
                record: record.clone(),
            }],
            By::System,
        )?;
        Ok(self.render_system(&c, &record))
    }

    /// Updates a record as the system, like [`Services::host_create`].
    pub fn host_update(
        &self,
        collection: &str,
        id: &str,
        mut body: Map<String, Json>,
    ) -> Result<Map<String, Json>> {
        let c = self.collection(collection)?;
        let permit = Permit::system(&c, Action::Update);
        let store = self.store();
        self.run_before_hooks(
            store,
            &permit,
            &c,
            store::Action::Update,
            Some(id),
            &mut body,
        )?;
        for _ in 0..MAX_WRITE_RETRIES {
            let (old, new) = self.prepare_update(store, &permit, &c, id, &body, &[])?;
            let write = Write::Update {
                collection: c.clone(),
                old,
                new: new.clone(),
            };
            match self.write_by(vec![write], By::System) {
                Ok(()) => return Ok(self.render_system(&c, &new)),
                Err(e) if e.code == Code::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(busy())
    }

    /// Deletes a record (with its cascades) as the system.
    pub fn host_delete(&self, collection: &str, id: &str) -> Result<()> {
        let c = self.collection(collection)?;
        let permit = Permit::system(&c, Action::Delete);
        let store = self.store();
        let mut nothing = Map::new();
        self.run_before_hooks(
            store,
            &permit,
            &c,
            store::Action::Delete,
            Some(id),
            &mut nothing,
        )?;
        for _ in 0..MAX_WRITE_RETRIES {
            let writes = self.prepare_delete(store, &permit, &c, id)?;
            match self.write_by(writes, By::System) {
                Ok(()) => return Ok(()),
                Err(e) if e.code == Code::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(busy())
    }

    /// Creates a collection from its definition unless one of that name exists;
    /// `true` when it was created. A name starting with `_` marks it a system one.
    pub fn ensure_collection(&self, definition: Json) -> Result<bool> {
        let name = definition
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| Error::bad_request("A collection definition needs a name."))?;
        if self.catalog().get(name).is_some() {
            return Ok(false);
        }
        let system = name.starts_with('_');
        let mut collection: Collection = serde_json::from_value(definition).map_err(|e| {
            Error::new(
                Code::InvalidBody,
                format!("The collection definition does not parse: {e}"),
            )
        })?;
        collection.system = system;
        self.create_collection_unchecked(collection)?;
        Ok(true)
    }
}
