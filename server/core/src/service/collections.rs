//! Collection management (superusers only).

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Principal, Services};
use crate::filter::{Filter, Lookup, RequestInfo};
use crate::record::Record;
use crate::schema::Catalog;
use crate::schema::{validate_collection, Collection};
use crate::value::Value;
use crate::{Code, Error, Result};

/// Superuser-only endpoints reject guests with 401 and other records with 403.
pub fn require_superuser(who: &Principal) -> Result<()> {
    match who {
        Principal::Superuser { .. } => Ok(()),
        Principal::Guest => Err(Error::from_code(Code::Unauthenticated)),
        Principal::Auth { .. } => Err(Error::from_code(Code::SuperuserOnly)),
    }
}

fn parse_collection(json: Json) -> Result<Collection> {
    serde_json::from_value(json).map_err(|e| {
        tracing::debug!(error = %e, "collection definition does not parse");
        Error::new(
            Code::InvalidBody,
            "Failed to load the submitted data due to invalid formatting.",
        )
    })
}

impl Services {
    /// Every collection matching `filter` (over `id`, `name`, `type`, `system`,
    /// `created`, `updated`), ordered by `sort` (same keys, `-` for descending).
    pub fn list_collections(
        &self,
        who: &Principal,
        filter: &str,
        sort: &str,
    ) -> Result<Vec<Arc<Collection>>> {
        require_superuser(who)?;
        let mut all: Vec<Arc<Collection>> = self.catalog().iter().cloned().collect();
        if !filter.trim().is_empty() {
            let meta = Arc::new(meta_collection()?);
            let f = Filter::compile(filter, &meta, &Catalog::default(), None)?;
            let mut kept = Vec::new();
            for c in all {
                if f.matches(&meta_record(&c), &NoLookup, &RequestInfo::default())? {
                    kept.push(c);
                }
            }
            all = kept;
        }
        for key in sort
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .rev()
        {
            let (desc, name) = key
                .strip_prefix('-')
                .map_or((false, key.trim_start_matches('+')), |k| (true, k));
            let pos = META_FIELDS
                .iter()
                .position(|(n, _)| *n == name)
                .ok_or_else(|| {
                    Error::new(Code::InvalidSort, format!("Invalid sort field \"{name}\"."))
                })?;
            all.sort_by(|a, b| {
                let ord = meta_record(a).values[pos].total_cmp(&meta_record(b).values[pos]);
                if desc {
                    ord.reverse()
                } else {
                    ord
                }
            });
        }
        Ok(all)
    }

    pub fn get_collection(&self, who: &Principal, id_or_name: &str) -> Result<Arc<Collection>> {
        require_superuser(who)?;
        self.existing_collection(id_or_name)
    }

    /// Like [`Services::collection`], but a plain 404 as the collection endpoints give.
    fn existing_collection(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.catalog()
            .get(id_or_name)
            .cloned()
            .ok_or_else(Error::not_found)
    }

    pub fn create_collection(&self, who: &Principal, body: Json) -> Result<Arc<Collection>> {
        require_superuser(who)?;
        let mut collection = parse_collection(body)?;
        collection.system = false;
        self.create_collection_unchecked(collection)
    }

    pub(super) fn create_collection_unchecked(
        &self,
        mut collection: Collection,
    ) -> Result<Arc<Collection>> {
        let _guard = self.schema_lock.lock();
        let catalog = self.catalog();
        validate_collection(&mut collection, None, &catalog)?;
        let seq = self.store.put_collection(None, &collection)?;
        self.store.sync(seq)?;
        self.durable.advance(seq);
        let collection = Arc::new(collection);
        self.catalog
            .store(Arc::new(catalog.with(collection.clone())));
        Ok(collection)
    }

    /// Applies a PocketBase-style PATCH: top-level keys replace, `fields` replaces the
    /// whole list (fields are matched to the old ones by id).
    pub fn update_collection(
        &self,
        who: &Principal,
        id_or_name: &str,
        patch: Json,
    ) -> Result<Arc<Collection>> {
        require_superuser(who)?;
        let Json::Object(patch) = patch else {
            return Err(Error::from_code(Code::InvalidBody));
        };
        let _guard = self.schema_lock.lock();
        let catalog = self.catalog();
        let old = self.existing_collection(id_or_name)?;
        let mut merged: Map<String, Json> =
            match serde_json::to_value(&*old).map_err(Error::internal)? {
                Json::Object(m) => m,
                _ => return Err(Error::internal("collection did not serialize to an object")),
            };
        for (k, v) in patch {
            if k != "id" {
                merged.insert(k, v);
            }
        }
        let mut new = parse_collection(Json::Object(merged))?;
        new.index_defs.clear();
        validate_collection(&mut new, Some(&old), &catalog)?;
        let dropped_files = self.dropped_field_files(&old, &new)?;
        let seq = self.store.put_collection(Some(&old), &new)?;
        self.counts.bump();
        self.store.sync(seq)?;
        self.durable.advance(seq);
        let new = Arc::new(new);
        self.catalog.store(Arc::new(catalog.with(new.clone())));
        self.remove_files_later(dropped_files);
        Ok(new)
    }

    /// Deletes a collection and its records. System collections and collections that
    /// other collections' relations point at cannot be deleted.
    pub fn delete_collection(&self, who: &Principal, id_or_name: &str) -> Result<()> {
        require_superuser(who)?;
        let _guard = self.schema_lock.lock();
        let catalog = self.catalog();
        let collection = self.existing_collection(id_or_name)?;
        if collection.system {
            return Err(Error::bad_request("System collections cannot be deleted."));
        }
        let referrers: Vec<String> = catalog
            .relations_to(&collection.id)
            .into_iter()
            .filter(|(c, _)| c.id != collection.id)
            .map(|(c, _)| c.name.clone())
            .fold(Vec::new(), |mut names, n| {
                if !names.contains(&n) {
                    names.push(n);
                }
                names
            });
        if !referrers.is_empty() {
            return Err(Error::bad_request(format!(
                "Failed to delete collection probably due to existing reference in {}.",
                referrers.join(", ")
            )));
        }
        let seq = self.store.delete_collection(&collection)?;
        self.counts.bump();
        self.store.sync(seq)?;
        self.durable.advance(seq);
        self.catalog
            .store(Arc::new(catalog.without(&collection.id)));
        self.remove_collection_files(&collection.id);
        Ok(())
    }

    /// `PUT /api/collections/import`: creates or replaces each given collection (matched
    /// by id, then name) and, with `delete_missing`, deletes the non-system ones not
    /// listed. Collections are applied in order; the first failure stops the import and
    /// reports which collection failed.
    pub fn import_collections(
        &self,
        who: &Principal,
        collections: Vec<Json>,
        delete_missing: bool,
    ) -> Result<()> {
        require_superuser(who)?;
        let mut kept = Vec::new();
        for (i, json) in collections.into_iter().enumerate() {
            let id = json
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            let name = json
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            let existing = self
                .catalog()
                .by_id(&id)
                .cloned()
                .or_else(|| self.catalog().get(&name).cloned());
            let result = match existing {
                Some(old) => self.update_collection(who, &old.id, json),
                None => self.create_collection(who, json),
            };
            match result {
                Ok(c) => kept.push(c.id.clone()),
                Err(mut e) => {
                    e.message = format!("Failed to import collection {i} ({name}): {}", e.message);
                    return Err(e);
                }
            }
        }
        if delete_missing {
            let doomed: Vec<String> = self
                .catalog()
                .iter()
                .filter(|c| !c.system && !kept.contains(&c.id))
                .map(|c| c.id.clone())
                .collect();
            for id in doomed {
                self.delete_collection(who, &id)?;
            }
        }
        Ok(())
    }
}

/// The filterable attributes of a collection, as fields of a virtual collection.
const META_FIELDS: &[(&str, &str)] = &[
    ("id", "text"),
    ("name", "text"),
    ("type", "text"),
    ("system", "bool"),
    ("created", "text"),
    ("updated", "text"),
];

fn meta_collection() -> Result<Collection> {
    let fields: Vec<Json> = META_FIELDS
        .iter()
        .map(|(n, t)| serde_json::json!({"id": n, "name": n, "type": t}))
        .collect();
    serde_json::from_value(
        serde_json::json!({"id": "_collections", "name": "_collections", "fields": fields}),
    )
    .map_err(Error::internal)
}

fn meta_record(c: &Collection) -> Record {
    let kind = serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Record {
        values: vec![
            Value::Text(c.id.clone()),
            Value::Text(c.name.clone()),
            Value::Text(kind),
            Value::Bool(c.system),
            Value::Text(c.created.clone()),
            Value::Text(c.updated.clone()),
        ],
    }
}

/// Collections have no relations to follow.
struct NoLookup;

impl Lookup for NoLookup {
    fn get(&self, _: &Collection, _: &str) -> Result<Option<Record>> {
        Ok(None)
    }

    fn referencing(&self, _: &Collection, _: usize, _: &str) -> Result<Vec<Record>> {
        Ok(Vec::new())
    }

    fn scan(&self, _: &Collection, _: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        Ok(())
    }
}
