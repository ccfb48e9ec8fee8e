//! Rendering records: relation expansion (`expand`), and the relation side effects of
//! deleting a record (cascade or unlink).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Limits, Principal, Services};
use crate::filter::Lookup;
use crate::record::render::{record_to_json, RenderOptions};
use crate::record::Record;
use crate::schema::{Collection, FieldKind};
use crate::store::Write;
use crate::value::Value;
use crate::{Code, Error, Result};

/// Back-relation expansion returns at most this many records per key, like PocketBase.
const MAX_BACK_RELATIONS: usize = 1000;
/// A delete that would cascade to more records than this is refused.
const MAX_CASCADE: usize = 10_000;

/// A parsed `expand` parameter: `author,comments_via_post.user` as a tree.
#[derive(Clone, Debug, Default)]
pub struct ExpandTree {
    children: BTreeMap<String, ExpandTree>,
}

impl ExpandTree {
    pub fn parse(input: &str, limits: &Limits) -> Result<ExpandTree> {
        let mut root = ExpandTree::default();
        let bad = |m: String| Error::new(Code::InvalidExpand, m);
        let paths: Vec<&str> = input
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if paths.len() > limits.max_expand_keys {
            return Err(bad(format!(
                "At most {} expand paths are allowed.",
                limits.max_expand_keys
            )));
        }
        for path in paths {
            let parts: Vec<&str> = path.split('.').collect();
            if parts.len() > limits.max_expand_depth {
                return Err(bad(format!(
                    "Expand paths may be at most {} relations deep.",
                    limits.max_expand_depth
                )));
            }
            let mut node = &mut root;
            for part in parts {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return Err(bad(format!("Invalid expand path \"{path}\".")));
                }
                node = node.children.entry(part.to_owned()).or_default();
            }
        }
        Ok(root)
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

impl Services {
    /// A record as JSON, without expansion, showing what `who` may see.
    pub(super) fn render_plain(
        &self,
        who: &Principal,
        collection: &Collection,
        record: &Record,
    ) -> Map<String, Json> {
        record_to_json(
            collection,
            record,
            &self.render_options(who, collection, record),
        )
    }

    /// What `who` may see of `record`: hidden fields for superusers, the email for
    /// superusers and the record's owner.
    pub(super) fn render_options(
        &self,
        who: &Principal,
        collection: &Collection,
        record: &Record,
    ) -> RenderOptions {
        let owner = who
            .auth()
            .is_some_and(|(c, r)| c.id == collection.id && r.id() == record.id());
        RenderOptions {
            include_hidden: who.is_superuser(),
            show_email: who.is_superuser() || owner,
        }
    }

    /// Expands `tree` on `record`. Related records the caller cannot view are left out;
    /// unknown keys are ignored, like PocketBase.
    pub(super) fn expand(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        record: &Record,
        tree: &ExpandTree,
        depth: usize,
    ) -> Result<Option<Map<String, Json>>> {
        let catalog = self.catalog();
        let mut out = Map::new();
        let mut known = false;
        for (key, sub) in &tree.children {
            let (target, related, single) = if let Some(pos) = collection.field_pos(key) {
                let Some(rel) = collection.fields[pos].relation() else {
                    continue;
                };
                let Some(target) = catalog.by_id(&rel.collection_id).cloned() else {
                    continue;
                };
                let mut related = Vec::new();
                for id in record.values[pos].strings() {
                    if let Some(r) = self.store.get(&target, id)? {
                        related.push(r);
                    }
                }
                (target, related, rel.max_select == 1)
            } else if let Some((name, field)) = key.rsplit_once("_via_") {
                let Some(target) = catalog.get(name).cloned() else {
                    continue;
                };
                let Some(pos) = target.field_pos(field) else {
                    continue;
                };
                let Some(rel) = target.fields[pos].relation() else {
                    continue;
                };
                if rel.collection_id != collection.id {
                    continue;
                }
                let mut related = self.store.referencing(&target, pos, record.id())?;
                related.truncate(MAX_BACK_RELATIONS);
                let unique = rel.max_select == 1
                    && target
                        .index_defs
                        .iter()
                        .any(|i| i.unique && i.columns.len() == 1 && i.columns[0] == field);
                (target, related, unique)
            } else {
                continue;
            };
            known = true;
            let mut items = Vec::new();
            for r in related.iter().filter(|r| self.can_view(who, &target, r)) {
                let mut json = self.render_plain(who, &target, r);
                if !sub.is_empty() && depth < self.limits.max_expand_depth {
                    if let Some(nested) = self.expand(who, &target, r, sub, depth + 1)? {
                        json.insert("expand".into(), Json::Object(nested));
                    }
                }
                items.push(Json::Object(json));
            }
            if items.is_empty() {
                continue;
            }
            let value = if single {
                items.swap_remove(0)
            } else {
                Json::Array(items)
            };
            out.insert(key.clone(), value);
        }
        Ok(known.then_some(out))
    }

    /// The writes that delete `old` atomically with its relation side effects: records
    /// pointing at it through `cascadeDelete` relations are deleted too (recursively);
    /// other references are removed from the pointing records, and a required relation
    /// that would become empty makes the whole delete fail.
    pub(super) fn delete_writes(
        &self,
        view: &dyn Lookup,
        collection: &Arc<Collection>,
        old: Record,
    ) -> Result<Vec<Write>> {
        let catalog = self.catalog();
        let mut deleted: Vec<(Arc<Collection>, Record)> = vec![(collection.clone(), old)];
        let mut updates: HashMap<(String, String), (Arc<Collection>, Record, Record)> =
            HashMap::new();
        let mut next = 0;
        while next < deleted.len() {
            let (coll, rec) = deleted[next].clone();
            next += 1;
            for (ref_coll, pos) in catalog.relations_to(&coll.id) {
                for referrer in view.referencing(&ref_coll, pos, rec.id())? {
                    let key = (ref_coll.id.clone(), referrer.id().to_owned());
                    if deleted
                        .iter()
                        .any(|(c, r)| c.id == key.0 && r.id() == key.1)
                    {
                        continue;
                    }
                    let Some(rel) = ref_coll.fields[pos].relation() else {
                        continue;
                    };
                    let current = updates.get(&key).map_or(&referrer, |(_, _, new)| new);
                    let remaining: Vec<Value> = current.values[pos]
                        .strings()
                        .into_iter()
                        .filter(|id| *id != rec.id())
                        .map(|id| Value::Text(id.to_owned()))
                        .collect();
                    if rel.cascade_delete && remaining.is_empty() {
                        // PocketBase deletes a record whose cascading relation loses its
                        // last target; a multi relation that keeps others is only unlinked.
                        let original = updates.remove(&key).map_or(referrer, |(_, old, _)| old);
                        deleted.push((ref_coll.clone(), original));
                        if deleted.len() > MAX_CASCADE {
                            return Err(Error::bad_request(
                                "The delete would cascade to too many records.",
                            ));
                        }
                        continue;
                    }
                    if rel.required && remaining.is_empty() {
                        return Err(Error::bad_request(
                            "Failed to delete record. Make sure that the record is not part of a required relation reference.",
                        ));
                    }
                    let entry = updates
                        .entry(key)
                        .or_insert_with(|| (ref_coll.clone(), referrer.clone(), referrer));
                    entry.2.values[pos] = match &ref_coll.fields[pos].kind {
                        FieldKind::Relation(r) if r.max_select == 1 => remaining
                            .into_iter()
                            .next()
                            .unwrap_or(Value::Text(String::new())),
                        _ => Value::List(remaining),
                    };
                }
            }
        }
        let mut owned = Vec::new();
        for (coll, rec) in deleted.iter().filter(|(c, _)| c.is_auth()) {
            owned.extend(self.owned_by(coll, rec)?);
        }
        let mut writes: Vec<Write> = deleted
            .into_iter()
            .chain(owned)
            .map(|(collection, old)| Write::Delete { collection, old })
            .collect();
        writes.extend(
            updates
                .into_values()
                .map(|(collection, old, new)| Write::Update {
                    collection,
                    old,
                    new,
                }),
        );
        Ok(writes)
    }

    /// What an auth record owns in the system collections and must go with it: its
    /// OAuth2 links, MFA sessions, one-time passwords and role assignments (a later
    /// record reusing the id must not inherit them).
    fn owned_by(
        &self,
        collection: &Collection,
        record: &Record,
    ) -> Result<Vec<(Arc<Collection>, Record)>> {
        let mut owned = Vec::new();
        let catalog = self.catalog();
        for name in [super::oauth2::EXTERNAL_AUTHS, super::MFAS, super::OTPS] {
            if let Some(c) = catalog.get(name) {
                let rows = self.find_all(
                    c,
                    "collectionRef = {:c} && recordRef = {:r}",
                    &[("c", &collection.id), ("r", record.id())],
                    MAX_CASCADE,
                )?;
                owned.extend(rows.into_iter().map(|r| (c.clone(), r)));
            }
        }
        if let Some(roles) = catalog.get(super::ROLES) {
            let subject = crate::policy::subject_of(&collection.id, record.id());
            let rows = self.find_all(roles, "subject = {:s}", &[("s", &subject)], MAX_CASCADE)?;
            owned.extend(rows.into_iter().map(|r| (roles.clone(), r)));
        }
        Ok(owned)
    }
}
