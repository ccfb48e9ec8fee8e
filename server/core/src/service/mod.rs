//! The use cases: everything the API does, independent of HTTP.
//!
//! [`Services`] owns the catalog snapshot and the store port. Methods are synchronous
//! (the store blocks); the api crate calls them from `spawn_blocking`, except the few
//! it may call on an async worker: those that only read a record or two
//! (`Ctx::run_quick` in the api crate), and [`Services::create_record_then`], which
//! queues its commit and reports back through a callback.

mod access;
mod batch;
mod collections;
mod compiled;
mod counts;
mod download;
mod emails;
mod expand;
mod extension;
mod fields;
mod files;
mod install;
mod mfa;
mod oauth2;
mod personal;
mod policies;
mod principal;
mod realtime;
mod records;
mod search;
mod settings;
mod signal;
mod tokens;

pub use access::{Action, Permit};
pub use batch::{BatchAction, BatchFailure, BatchOp, BatchResult};
pub use emails::OTPS;
pub use fields::FieldsPicker;
pub use files::{FileTarget, Staged, DEFAULT_MAX_FILE_SIZE};
pub use mfa::{AuthOutcome, MFAS};
pub use oauth2::{
    hide_client_secrets, resolve_oauth2_provider, s256_challenge as pkce_s256, OAuth2Login,
    EXTERNAL_AUTHS,
};
pub use policies::{POLICIES, ROLES};
pub use principal::Principal;
pub use realtime::Topic;
pub use records::{Created, ListOutput, ListParams, Rendered, Shape};
pub use signal::DurableSignal;

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::{Mutex, RwLock};

use crate::schema::{Catalog, Collection};
use crate::search::SearchIndex;
use crate::store::RecordStore;
use crate::{Code, Error, Result};

/// The name of the system auth collection of superusers.
pub const SUPERUSERS: &str = "_superusers";

/// A committed write that is not yet known to be durable. Acknowledge it to a client
/// only after [`Services::when_durable`] reported success.
#[must_use = "a write must not be acknowledged before it is durable"]
#[derive(Debug)]
pub struct Pending {
    seq: crate::store::Seq,
    /// Storage keys (a trailing `/` = everything under it) of files the write made
    /// obsolete; removed once the write is durable, never before.
    obsolete: Vec<String>,
}

/// On whose behalf a commit is made, for the after-hooks' journal.
#[derive(Clone, Copy)]
enum By<'a> {
    Permit(&'a Permit),
    Principal(&'a Principal),
    System,
}

impl By<'_> {
    fn actor(self) -> crate::hooks::Actor {
        match self {
            By::Permit(p) => crate::hooks::Actor::of_permit(p),
            By::Principal(p) => crate::hooks::Actor::of(p),
            By::System => crate::hooks::Actor::System,
        }
    }
}

/// Numbers for every limit the services enforce.
#[derive(Clone, Debug)]
pub struct Limits {
    pub default_per_page: usize,
    pub max_per_page: usize,
    pub max_expand_depth: usize,
    pub max_expand_keys: usize,
    pub max_fields_len: usize,
    pub superuser_token_secs: i64,
    pub auth_token_secs: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            default_per_page: 30,
            max_per_page: 1000,
            max_expand_depth: 6,
            max_expand_keys: 50,
            max_fields_len: 4096,
            superuser_token_secs: 86_400,
            auth_token_secs: 604_800,
        }
    }
}

pub struct Services {
    store: Arc<dyn RecordStore>,
    catalog: ArcSwap<Catalog>,
    /// Serializes schema changes; record writes never take it.
    schema_lock: Mutex<()>,
    secret: String,
    counts: Arc<counts::CountCache>,
    filters: compiled::FilterCache,
    tokens: tokens::TokenCache,
    durable: Arc<DurableSignal>,
    policy: Option<Arc<dyn crate::policy::PolicyEngine>>,
    permits: policies::PermitCache,
    settings: ArcSwap<crate::settings::Settings>,
    mailer: Option<Arc<dyn crate::mail::Mailer>>,
    oauth_http: Option<Arc<dyn crate::oauth_http::OAuthHttp>>,
    /// The full-text search engine, wired in by the binary (see `set_search_index`).
    search: RwLock<Option<Arc<dyn SearchIndex>>>,
    /// Blob storage of file fields, wired in by the binary (see `attach_files`).
    files: RwLock<Option<Arc<dyn crate::files::FileStore>>>,
    file_opener: Option<Arc<dyn crate::files::FileStoreOpener>>,
    /// Plugins' hooks, wired in by the binary (see `attach_hooks`); unset = none.
    hooks: std::sync::OnceLock<Arc<dyn crate::hooks::Hooks>>,
    /// Committed writes kept for after-hooks (only while hooks want them).
    journal: crate::hooks::Journal,
    pub limits: Limits,
}

impl Services {
    /// Loads the catalog from the store and creates the system collections a fresh
    /// data directory lacks. `secret` signs auth tokens.
    pub fn open(store: Arc<dyn RecordStore>, secret: String, limits: Limits) -> Result<Services> {
        let collections = store
            .load_collections()?
            .into_iter()
            .map(Arc::new)
            .collect();
        let settings = Services::load_settings(&*store)?;
        let services = Services {
            store,
            catalog: ArcSwap::from_pointee(Catalog::new(collections)),
            schema_lock: Mutex::new(()),
            secret,
            counts: Arc::default(),
            filters: compiled::FilterCache::default(),
            tokens: tokens::TokenCache::default(),
            durable: Arc::default(),
            policy: None,
            permits: policies::PermitCache::default(),
            settings: ArcSwap::from_pointee(settings),
            mailer: None,
            oauth_http: None,
            search: RwLock::new(None),
            files: RwLock::new(None),
            file_opener: None,
            hooks: std::sync::OnceLock::new(),
            journal: crate::hooks::Journal::default(),
            limits,
        };
        services.ensure_superusers()?;
        services.ensure_policy_collections()?;
        services.ensure_otp_collection()?;
        services.ensure_external_auths()?;
        services.ensure_mfas()?;
        Ok(services)
    }

    /// The current catalog snapshot; hold it for the whole request.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    pub fn store(&self) -> &dyn RecordStore {
        &*self.store
    }

    /// Looks a collection up by id or name.
    pub fn collection(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.catalog()
            .get(id_or_name)
            .cloned()
            .ok_or_else(|| Error::from_code(Code::CollectionNotFound))
    }

    /// The one way services write records: commit atomically and retire cached list
    /// totals. The result is not durable yet: the caller must not acknowledge the write
    /// before [`Services::when_durable`] reports it on disk. A conflict comes back as
    /// `Code::Conflict` for the caller to re-read and retry. Writes to the policy
    /// collections (a policy change, or role assignments removed with a deleted user)
    /// reload the policy engine, so they apply to the very next request.
    fn commit(&self, writes: Vec<crate::store::Write>) -> Result<Pending> {
        self.commit_by(writes, By::System)
    }

    /// [`Services::commit`] on behalf of `by`, whom after-hooks are told about.
    fn commit_by(&self, writes: Vec<crate::store::Write>, by: By<'_>) -> Result<Pending> {
        let captured = match self.hooks.get() {
            Some(hooks) if hooks.wants_after() && !writes.is_empty() => {
                Some(crate::hooks::Journal::capture(&writes, &by.actor()))
            }
            _ => None,
        };
        let policies = writes.iter().any(|w| self.is_policy_store(w.collection()));
        let obsolete = files::obsolete_keys(&writes);
        let auth = writes.iter().any(|w| w.collection().is_auth());
        let seq = self.store.commit(writes)?;
        if auth {
            // After the commit: see `tokens`.
            self.tokens.bump();
        }
        if let Some(captured) = captured {
            self.journal.put(seq, captured);
        }
        self.counts.bump();
        if policies {
            self.reload_policies()?;
        }
        Ok(Pending { seq, obsolete })
    }

    /// Whether a commit to `collection` needs more after it than retiring cached totals:
    /// writes of auth records (cached principals), of the policy collections (the
    /// policy engine reloads), or any write while after-hooks listen (the journal).
    fn commit_has_aftermath(&self, collection: &Collection) -> bool {
        collection.is_auth()
            || self.is_policy_store(collection)
            || self.hooks.get().is_some_and(|hooks| hooks.wants_after())
    }

    /// [`Services::commit`] without blocking: the store queues the writes and `done`
    /// gets the result, on another thread. Only for writes whose commit has no
    /// aftermath (see [`Services::commit_has_aftermath`]); others are refused.
    fn commit_then(
        &self,
        writes: Vec<crate::store::Write>,
        done: Box<dyn FnOnce(Result<Pending>) + Send>,
    ) -> Result<()> {
        if writes
            .iter()
            .any(|w| self.commit_has_aftermath(w.collection()))
        {
            return Err(Error::internal(
                "a commit with an aftermath was not sent to the blocking pool",
            ));
        }
        let obsolete = files::obsolete_keys(&writes);
        let counts = self.counts.clone();
        self.store.clone().commit_then(
            writes,
            Box::new(move |committed| {
                done(committed.map(|seq| {
                    counts.bump();
                    Pending { seq, obsolete }
                }))
            }),
        );
        Ok(())
    }

    /// [`Services::commit`], then block until it is durable (command-line paths).
    fn write(&self, writes: Vec<crate::store::Write>) -> Result<()> {
        self.write_by(writes, By::System)
    }

    /// [`Services::write`] on behalf of `by`.
    fn write_by(&self, writes: Vec<crate::store::Write>, by: By<'_>) -> Result<()> {
        let pending = self.commit_by(writes, by)?;
        self.store.sync(pending.seq)?;
        self.durable.advance(pending.seq);
        if let Some(cleanup) = self.obsolete_cleanup(&pending) {
            cleanup();
        }
        Ok(())
    }

    /// Calls `done` once the write behind `pending` is on disk, without parking a
    /// thread.
    pub fn when_durable(&self, pending: Pending, done: Box<dyn FnOnce(Result<()>) + Send>) {
        let signal = self.durable.clone();
        let seq = pending.seq;
        let cleanup = self.obsolete_cleanup(&pending);
        self.store.sync_then(
            seq,
            Box::new(move |result| {
                if result.is_ok() {
                    signal.advance(seq);
                    if let Some(cleanup) = cleanup {
                        cleanup();
                    }
                }
                done(result)
            }),
        );
    }

    /// Advances whenever writes become durable; followers of the change log wait on it.
    pub fn durable_signal(&self) -> Arc<DurableSignal> {
        self.durable.clone()
    }

    fn ensure_superusers(&self) -> Result<()> {
        if self.catalog().get(SUPERUSERS).is_some() {
            return Ok(());
        }
        let definition = serde_json::json!({
            // The official JS SDK knows the superusers collection by this id.
            "id": "pbc_3142635823",
            "name": SUPERUSERS,
            "type": "auth",
            "system": true,
        });
        let collection: Collection = serde_json::from_value(definition).map_err(Error::internal)?;
        self.create_collection_unchecked(collection)?;
        Ok(())
    }
}
