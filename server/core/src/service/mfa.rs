//! Multi-factor authentication (PocketBase's `mfa: {enabled, duration, rule}`).
//!
//! Every auth method ends in [`Services::finish_auth`]. When the collection enables
//! MFA and its rule matches the record (an empty rule always does), the first method
//! only opens an MFA session, persisted in `_mfas`, and the client gets `401 {mfaId}`.
//! A second, different method that passes that `mfaId` within `duration` seconds
//! completes the login and consumes the session. Methods are equals: any two distinct
//! ones make a pair.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::Services;
use crate::filter::{Filter, RequestInfo};
use crate::record::Record;
use crate::schema::Collection;
use crate::store::{Query, Write};
use crate::value::Value;
use crate::{ids, Error, Result};

/// The system collection of open MFA sessions.
pub const MFAS: &str = "_mfas";

/// At most this many stale sessions of a record are swept when it opens a new one.
const MAX_SWEPT: usize = 50;

/// How an auth attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthOutcome {
    /// `{token, record}` (plus `meta` for OAuth2).
    Authenticated(Json),
    /// A second method is needed: the client retries it with this `mfaId`.
    MfaRequired(String),
}

fn text<'a>(c: &Collection, r: &'a Record, field: &str) -> &'a str {
    r.get(c, field).and_then(Value::as_str).unwrap_or_default()
}

impl Services {
    pub(super) fn ensure_mfas(&self) -> Result<()> {
        if self.catalog().get(MFAS).is_some() {
            return Ok(());
        }
        let text = |name: &str| json!({"name": name, "type": "text", "required": true, "max": 255});
        let definition = json!({
            "name": MFAS,
            "type": "base",
            "system": true,
            "fields": [text("collectionRef"), text("recordRef"), text("method")],
            "indexes": ["CREATE INDEX idx_mfas_collection_record ON _mfas (collectionRef, recordRef)"],
        });
        let collection: Collection = serde_json::from_value(definition).map_err(Error::internal)?;
        self.create_collection_unchecked(collection)?;
        Ok(())
    }

    /// The end of every successful auth method (`method`: `password`, `oauth2`,
    /// `otp`, …), after the credentials and the collection's `authRule` passed: either
    /// the auth response, or an MFA step (see the module docs). `mfa_id` is the
    /// client's `mfaId` from a previous step, if any.
    pub fn finish_auth(
        &self,
        collection: &Arc<Collection>,
        record: &Record,
        method: &str,
        mfa_id: Option<&str>,
        request: &RequestInfo,
    ) -> Result<AuthOutcome> {
        let outcome = self.finish_auth_steps(collection, record, method, mfa_id, request)?;
        if matches!(outcome, AuthOutcome::Authenticated(_)) && !method.is_empty() {
            self.notify_login(collection, record, method);
        }
        Ok(outcome)
    }

    fn finish_auth_steps(
        &self,
        collection: &Arc<Collection>,
        record: &Record,
        method: &str,
        mfa_id: Option<&str>,
        request: &RequestInfo,
    ) -> Result<AuthOutcome> {
        if method.is_empty() || !self.wants_mfa(collection, record, request) {
            return self
                .auth_response(collection, record)
                .map(AuthOutcome::Authenticated);
        }
        let sessions = self.collection(MFAS)?;
        let Some(mfa_id) = mfa_id.map(str::trim).filter(|m| !m.is_empty()) else {
            return self.open_mfa(&sessions, collection, record, method);
        };
        let invalid = || Error::bad_request("Invalid or expired MFA session.");
        if !ids::is_valid_id(mfa_id) {
            return Err(invalid());
        }
        let Some(session) = self.store.get(&sessions, mfa_id)? else {
            return Err(invalid());
        };
        if self.mfa_expired(collection, &sessions, &session) {
            let _ = self.write(vec![Write::Delete {
                collection: sessions,
                old: session,
            }]);
            return Err(invalid());
        }
        if text(&sessions, &session, "recordRef") != record.id()
            || text(&sessions, &session, "collectionRef") != collection.id
        {
            return Err(Error::bad_request("Invalid MFA session."));
        }
        if text(&sessions, &session, "method") == method {
            return Err(Error::bad_request(
                "A different authentication method is required.",
            ));
        }
        // Consumed once: a concurrent second use loses the delete and fails.
        self.write(vec![Write::Delete {
            collection: sessions,
            old: session,
        }])
        .map_err(|_| invalid())?;
        self.auth_response(collection, record)
            .map(AuthOutcome::Authenticated)
    }

    /// Whether MFA applies: enabled, and the rule (empty = always) matches the record.
    /// A rule that fails to evaluate asks for MFA (the safer side).
    fn wants_mfa(
        &self,
        collection: &Arc<Collection>,
        record: &Record,
        request: &RequestInfo,
    ) -> bool {
        let Some(mfa) = collection.auth_options.mfa.as_ref() else {
            return false;
        };
        if mfa.enabled != Some(true) {
            return false;
        }
        let rule = mfa.rule.as_deref().unwrap_or_default().trim();
        if rule.is_empty() {
            return true;
        }
        let matches = Filter::compile(rule, collection, &self.catalog(), None)
            .and_then(|f| f.matches(record, self.store(), request));
        matches.unwrap_or_else(|e| {
            tracing::warn!(collection = %collection.name, error = %e, "mfa rule failed; requiring mfa");
            true
        })
    }

    fn mfa_expired(
        &self,
        collection: &Collection,
        sessions: &Collection,
        session: &Record,
    ) -> bool {
        let duration = collection
            .auth_options
            .mfa
            .as_ref()
            .and_then(|m| m.duration)
            .filter(|d| *d > 0)
            .unwrap_or(600);
        let Some(created) = crate::time::parse(text(sessions, session, "created")) else {
            return true;
        };
        chrono::Utc::now() > created + chrono::Duration::seconds(duration)
    }

    /// Opens a session for the first method, sweeping the record's expired ones.
    fn open_mfa(
        &self,
        sessions: &Arc<Collection>,
        collection: &Arc<Collection>,
        record: &Record,
        method: &str,
    ) -> Result<AuthOutcome> {
        let mut writes = Vec::new();
        let mut params = serde_json::Map::new();
        params.insert("c".into(), Json::String(collection.id.clone()));
        params.insert("r".into(), Json::String(record.id().to_owned()));
        let filter = Filter::compile(
            "collectionRef = {:c} && recordRef = {:r}",
            sessions,
            &self.catalog(),
            Some(&params),
        )?;
        let query = Query {
            filter: Some(filter),
            limit: MAX_SWEPT,
            ..Query::default()
        };
        for old in self.store.query(sessions, &query)?.records {
            if self.mfa_expired(collection, sessions, &old) {
                writes.push(Write::Delete {
                    collection: sessions.clone(),
                    old,
                });
            }
        }
        let id = ids::new_id();
        let mut session = Record::zero(sessions);
        session.values[0] = Value::Text(id.clone());
        let now = crate::time::now();
        for (field, value) in [
            ("collectionRef", collection.id.as_str()),
            ("recordRef", record.id()),
            ("method", method),
            ("created", now.as_str()),
            ("updated", now.as_str()),
        ] {
            if let Some(i) = sessions.field_pos(field) {
                session.values[i] = Value::Text(value.to_owned());
            }
        }
        writes.push(Write::Create {
            collection: sessions.clone(),
            record: session,
        });
        self.write(writes)?;
        Ok(AuthOutcome::MfaRequired(id))
    }
}
