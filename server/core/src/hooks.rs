//! The ports through which extensions (plugins) take part in the services' work:
//! hooks before record writes and signups, after logins, custom routes, and the
//! journal of committed writes that after-hooks are driven from.
//!
//! Core knows no plugin API: the binary implements [`Hooks`] over whatever plugins it
//! enables and attaches it with `Services::attach_hooks`. Without it, every hook call
//! is one empty `OnceLock` read.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Map, Value as Json};

use crate::record::Record;
use crate::schema::Collection;
use crate::service::{Action, Permit, Principal};
use crate::store::{self, Seq, Write};
use crate::Result;

/// Who caused a write or a request, as hooks see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Guest,
    Superuser {
        id: String,
    },
    Auth {
        collection: String,
        id: String,
    },
    /// The server or a plugin; also writes whose cause is unknown.
    System,
}

impl Actor {
    pub fn of(who: &Principal) -> Actor {
        match who {
            Principal::Guest => Actor::Guest,
            Principal::Superuser { record, .. } => Actor::Superuser {
                id: record.id().to_owned(),
            },
            Principal::Auth { collection, record } => Actor::Auth {
                collection: collection.name.clone(),
                id: record.id().to_owned(),
            },
        }
    }

    /// The caller a permit was issued to (a system permit has no caller).
    pub fn of_permit(permit: &Permit) -> Actor {
        match (&permit.request().auth, permit.is_superuser()) {
            (Some((_, r)), true) => Actor::Superuser {
                id: r.id().to_owned(),
            },
            (None, true) => Actor::System,
            (Some((c, r)), false) => Actor::Auth {
                collection: c.name.clone(),
                id: r.id().to_owned(),
            },
            (None, false) => Actor::Guest,
        }
    }
}

/// A write about to be validated and committed.
pub struct BeforeWrite<'a> {
    pub action: store::Action,
    pub collection: &'a Collection,
    pub id: Option<&'a str>,
    pub actor: &'a Actor,
    /// The stored record (updates, deletes), rendered as superusers see it.
    pub old: Option<&'a Map<String, Json>>,
    /// The submitted body; what the hooks leave here is validated and stored.
    pub body: &'a mut Map<String, Json>,
}

/// Who may call a custom route; checked by `Services::check_route_access`.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteAccess {
    Public,
    Authenticated,
    Superuser,
    Policy { collection: String, action: Action },
}

/// A request to a custom route, after its access check.
#[derive(Clone, Debug)]
pub struct RouteCall {
    pub plugin: String,
    pub method: String,
    /// The path after `/api/x/<plugin>`, starting with `/`.
    pub path: String,
    pub query: Map<String, Json>,
    pub body: Json,
    pub actor: Actor,
}

/// What extensions hook into. Implementations contain their own failures: a panic
/// never crosses this boundary (it comes back as an error naming its source).
pub trait Hooks: Send + Sync + 'static {
    /// Whether any before-hook applies to `action` on `collection` (a cheap test the
    /// write path makes before rendering anything for the hooks).
    fn wants_before(&self, collection: &str, action: store::Action) -> bool;
    /// Runs the before-hooks; an error (a rejection or a failing hook) stops the write.
    fn before_write(&self, write: BeforeWrite<'_>) -> Result<()>;
    fn wants_signup(&self) -> bool;
    /// Runs the before-signup hooks on a create in an auth collection by anyone but a
    /// superuser.
    fn before_signup(&self, collection: &str, body: &mut Map<String, Json>) -> Result<()>;
    /// Reports a successful login; must not block (queue the work).
    fn after_login(&self, collection: &str, record: Map<String, Json>, method: &str);
    /// Whether committed writes are to be journaled for after-hooks.
    fn wants_after(&self) -> bool;
    /// The access of the custom route `method path` of `plugin`, if there is one.
    fn route(&self, plugin: &str, method: &str, path: &str) -> Option<RouteAccess>;
    /// Runs a custom route: its status (2xx) and JSON body, or an error.
    fn call_route(&self, call: RouteCall) -> Result<(u16, Json)>;
}

/// One write of a commit, kept for the after-hooks.
#[derive(Clone, Debug)]
pub struct Captured {
    pub action: store::Action,
    pub collection: Arc<Collection>,
    pub old: Option<Record>,
    pub new: Option<Record>,
    pub actor: Actor,
}

impl Captured {
    fn of(write: &Write, actor: &Actor) -> Captured {
        let (action, collection, old, new) = match write {
            Write::Create { collection, record } => {
                (store::Action::Create, collection, None, Some(record))
            }
            Write::Update {
                collection,
                old,
                new,
            } => (store::Action::Update, collection, Some(old), Some(new)),
            Write::Delete { collection, old } => {
                (store::Action::Delete, collection, Some(old), None)
            }
        };
        Captured {
            action,
            collection: collection.clone(),
            old: old.cloned(),
            new: new.cloned(),
            actor: actor.clone(),
        }
    }

    pub fn record_id(&self) -> &str {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map(Record::id)
            .unwrap_or_default()
    }
}

/// The most commits the journal holds for a follower that fell behind; older ones
/// are dropped (their after-events then carry what the change log knows).
pub const JOURNAL_MAX: usize = 65_536;

/// Committed writes by sequence, with who made them and the records before and
/// after, until the after-hook follower takes them.
#[derive(Default)]
pub struct Journal {
    commits: Mutex<VecDeque<(Seq, Vec<Captured>)>>,
}

impl Journal {
    pub(crate) fn capture(writes: &[Write], actor: &Actor) -> Vec<Captured> {
        writes.iter().map(|w| Captured::of(w, actor)).collect()
    }

    pub(crate) fn put(&self, seq: Seq, writes: Vec<Captured>) {
        let mut commits = self.commits.lock();
        if commits.len() >= JOURNAL_MAX {
            if let Some((dropped, _)) = commits.pop_front() {
                tracing::warn!(
                    seq = dropped,
                    "after-hooks fell behind; a journaled commit was dropped"
                );
            }
        }
        // Commits land out of order under concurrency; keep the queue sorted.
        let at = commits.partition_point(|(s, _)| *s < seq);
        commits.insert(at, (seq, writes));
    }

    /// Takes the writes of `seq` and forgets every commit at or before it.
    pub fn take(&self, seq: Seq) -> Option<Vec<Captured>> {
        let mut commits = self.commits.lock();
        let mut found = None;
        while let Some((s, _)) = commits.front() {
            if *s > seq {
                break;
            }
            let (s, writes) = commits.pop_front()?;
            if s == seq {
                found = Some(writes);
            }
        }
        found
    }
}
