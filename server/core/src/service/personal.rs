//! The personal data of one auth record, for GDPR-style access and erasure requests:
//! `export_user` gathers the record and everything tied to it; `purge_user` deletes it
//! the way a record delete does (cascading relations delete, others unlink, its OAuth2
//! links, MFA sessions, one-time passwords and role assignments go too), after taking
//! the same export, so the operator keeps proof of what was erased.
//!
//! Both are for superusers (the API and `basalt user export|purge`): the export holds
//! records of other collections that the user's own rules might not let them read.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::{Pending, Services, OTPS};
use crate::record::render::{record_to_json, RenderOptions};
use crate::record::Record;
use crate::schema::{Collection, FieldKind};
use crate::store::Write;
use crate::{Error, Result};

/// What happens to a related record when the user is purged.
const DELETE: &str = "delete";
const UNLINK: &str = "unlink";

impl Services {
    /// The auth record of `collection` whose id or email is `who`.
    pub fn find_user(&self, collection: &Arc<Collection>, who: &str) -> Result<Record> {
        if !collection.is_auth() {
            return Err(Error::bad_request(format!(
                "\"{}\" is not an auth collection.",
                collection.name
            )));
        }
        if let Some(r) = self.store().get(collection, who)? {
            return Ok(r);
        }
        if who.contains('@') {
            if let Some(r) = self.find_by_email(collection, who)? {
                return Ok(r);
            }
        }
        Err(Error::not_found())
    }

    /// Everything stored about `user` (see the module docs), as one JSON document.
    pub fn export_user(&self, collection: &Arc<Collection>, user: &Record) -> Result<Json> {
        let writes = self.delete_writes(self.store(), collection, user.clone())?;
        Ok(self.export_of(collection, user, &writes))
    }

    /// Deletes `user` with everything a delete takes along; returns the export taken
    /// just before, from the same reads the delete was computed from.
    pub fn purge_user(
        &self,
        collection: &Arc<Collection>,
        user: &Record,
    ) -> Result<(Json, Pending)> {
        for _ in 0..super::records::MAX_WRITE_RETRIES {
            let current = self.find_user(collection, user.id())?;
            let writes = self.delete_writes(self.store(), collection, current.clone())?;
            let export = self.export_of(collection, &current, &writes);
            match self.commit(writes) {
                Ok(pending) => return Ok((export, pending)),
                Err(e) if e.code == crate::Code::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(super::records::busy())
    }

    fn export_of(&self, collection: &Collection, user: &Record, writes: &[Write]) -> Json {
        let everything = RenderOptions {
            include_hidden: true,
            show_email: true,
        };
        let mut related: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        let mut files = files_of(collection, user);
        for w in writes {
            let (c, old, fate) = match w {
                Write::Delete { collection: c, old } => (c, old, DELETE),
                Write::Update {
                    collection: c, old, ..
                } => (c, old, UNLINK),
                Write::Create { .. } => continue,
            };
            if c.id == collection.id && old.id() == user.id() {
                continue;
            }
            // One-time passwords are short-lived secrets, not data about the person.
            if c.name == OTPS {
                continue;
            }
            if fate == DELETE {
                files.extend(files_of(c, old));
            }
            let mut json = record_to_json(c, old, &everything);
            json.insert("@purge".into(), Json::String(fate.into()));
            related
                .entry(c.name.clone())
                .or_default()
                .push(Json::Object(json));
        }
        json!({
            "exported": crate::time::now(),
            "collection": {"id": collection.id, "name": collection.name},
            "record": Json::Object(record_to_json(collection, user, &everything)),
            "related": related,
            "files": files,
        })
    }
}

/// The files a record holds, with the path that downloads each.
fn files_of(collection: &Collection, record: &Record) -> Vec<Json> {
    let mut out = Vec::new();
    for (pos, field) in collection.fields.iter().enumerate() {
        if !matches!(field.kind, FieldKind::File(_)) {
            continue;
        }
        let Some(value) = record.values.get(pos) else {
            continue;
        };
        for name in value.strings() {
            let mut f = Map::new();
            f.insert("collectionName".into(), collection.name.clone().into());
            f.insert("record".into(), record.id().into());
            f.insert("field".into(), field.name.clone().into());
            f.insert("name".into(), name.into());
            f.insert(
                "path".into(),
                format!("/api/files/{}/{}/{name}", collection.id, record.id()).into(),
            );
            out.push(Json::Object(f));
        }
    }
    out
}
