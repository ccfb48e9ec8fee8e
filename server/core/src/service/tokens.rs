//! A cache of resolved auth tokens. Resolving a token costs two JWT decodes (claims,
//! then the signature keyed by the record's `tokenKey`) and a store read, on every
//! request (and again when the request log names the caller); a cached principal costs
//! a hash lookup.
//!
//! A cached principal is used only while nothing it was derived from can have changed:
//! - the token has not expired;
//! - no auth record was written since: every commit touching an auth collection bumps
//!   the version, *after* committing, and a resolution reads the version *before* it
//!   reads the record, so a resolution racing a write is stored under the old version
//!   and never served;
//! - the catalog still holds the very definition the principal was resolved with
//!   (a schema change or a deleted collection misses).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::principal::Principal;
use crate::schema::Catalog;

/// Entries kept before the cache is cleared wholesale.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub(crate) struct TokenCache {
    version: AtomicU64,
    entries: Mutex<HashMap<Box<str>, Cached>>,
}

struct Cached {
    kind: &'static str,
    version: u64,
    /// The token's `exp` claim (unix seconds); valid while `now <= exp`.
    exp: i64,
    principal: Principal,
}

impl TokenCache {
    /// The current auth-write version; read it before reading the auth record.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records that an auth record was written: principals cached before are stale.
    pub fn bump(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self, token: &str, kind: &str, now: i64, catalog: &Catalog) -> Option<Principal> {
        let version = self.version();
        let entries = self.entries.lock();
        let cached = entries.get(token)?;
        let (collection, _) = cached.principal.auth()?;
        let current = catalog.by_id(&collection.id)?;
        let fresh = cached.kind == kind
            && cached.version == version
            && now <= cached.exp
            && Arc::ptr_eq(current, collection);
        fresh.then(|| cached.principal.clone())
    }

    /// Keeps a principal resolved under `version` (read before the record was).
    pub fn put(&self, token: &str, kind: &'static str, version: u64, exp: i64, p: &Principal) {
        if p.auth().is_none() {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            token.into(),
            Cached {
                kind,
                version,
                exp,
                principal: p.clone(),
            },
        );
    }
}
