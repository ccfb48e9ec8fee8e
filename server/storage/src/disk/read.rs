//! Reads: list queries (planner + executor), the [`Lookup`] methods and the change
//! log. Each holds the registry shared for its whole run, so no schema change drops a
//! tree under it.
//!
//! [`Lookup`]: basalt_core::filter::Lookup

use std::ops::Bound;
use std::sync::Arc;

use ::sled::{IVec, Tree};
use basalt_core::filter::Constraint;
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::{Change, Page, Query, Seq};

use super::{Handles, SledStore};
use crate::exec::{self, decode, Matcher, Raw, Spec};
use crate::planner::{self, Access, Bounds};
use crate::{changes, keys, StorageError};

/// A stored record value: the creation seq, then the encoded record.
pub(crate) struct Stored(IVec);

impl AsRef<[u8]> for Stored {
    fn as_ref(&self) -> &[u8] {
        self.0.get(8..).unwrap_or_default()
    }
}

fn raw(id: &[u8], value: IVec) -> Result<Raw<Stored>, StorageError> {
    let created = keys::read_seq(&value).ok_or_else(|| {
        StorageError::Corrupt(format!(
            "record {} has no creation seq",
            String::from_utf8_lossy(id)
        ))
    })?;
    Ok(Raw {
        created,
        bytes: Stored(value),
    })
}

type Candidates<'a> = Box<dyn Iterator<Item = Result<Raw<Stored>, StorageError>> + 'a>;

impl SledStore {
    pub(super) fn query_inner(
        &self,
        collection: &Arc<Collection>,
        query: &Query,
    ) -> Result<Page, StorageError> {
        let registry = self.registry.read_recursive();
        let Some(handles) = registry.get(&collection.id) else {
            return Ok(Page {
                records: Vec::new(),
                total: query.count_total.then_some(0),
                over_budget: false,
            });
        };
        let constraints = query
            .filter
            .as_ref()
            .map(|f| f.constraints())
            .unwrap_or_default();
        let matcher = |r: &Record| match &query.filter {
            Some(f) => f.matches(r, self, &query.request),
            None => Ok(true),
        };
        let spec = Spec {
            sort: &query.sort,
            offset: query.offset,
            limit: query.limit,
            count_total: query.count_total,
            matcher: query.filter.is_some().then_some(&matcher as Matcher<'_>),
            budget: query.budget,
            exact: query
                .filter
                .as_ref()
                .is_some_and(|f| f.is_its_constraints()),
        };
        self.run_query(handles, collection, &constraints, &spec)
    }

    /// Plans and runs a query. `constraints` must be necessary conditions of
    /// `spec.matcher` (or empty).
    pub(crate) fn run_query(
        &self,
        handles: &Handles,
        collection: &Collection,
        constraints: &[Constraint],
        spec: &Spec<'_>,
    ) -> Result<Page, StorageError> {
        let shapes = handles.layout.shapes(collection);
        let plan = planner::plan(collection, &shapes, constraints, spec.sort);
        let mut spec = *spec;
        let mut total = None;
        if spec.matcher.is_none() && spec.count_total {
            // Everything matches: count keys without decoding records.
            total = Some(handles.records.len());
            spec.count_total = false;
        }
        if let Some(page) = self.probe_insertion(handles, collection, &plan, &spec)? {
            return Ok(page);
        }
        if spec.exact && plan.enforced {
            // Every candidate matches (the probe above walked another way, and checked).
            spec.matcher = None;
        }
        let candidates: Candidates<'_> = match &plan.access {
            Access::Insertion => insertion(handles),
            Access::Scan => Box::new(handles.records.iter().map(|kv| {
                let (k, v) = kv?;
                raw(&k, v)
            })),
            Access::Primary { bounds, rev } => {
                Box::new(walk(&handles.records, bounds, *rev).map(|kv| {
                    let (k, v) = kv?;
                    raw(&k, v)
                }))
            }
            Access::Index { index, bounds, rev } => through_index(handles, *index, bounds, *rev)?,
        };
        let mut page = exec::run(collection, candidates, plan.ordered, &spec, self)?;
        if total.is_some() && !page.over_budget {
            page.total = total;
        }
        Ok(page)
    }

    /// A list without sort returns records in insertion order, which an index walk does
    /// not give: it ranks every match, as many reads as there are matches. When an
    /// index range holds many candidates, the insertion-order walk (filtering as it
    /// goes) usually fills the page after a few times the page size: it is tried
    /// within a budget first. `None`: not applicable, or the budget ran out before the
    /// page was full (the caller then walks the index as planned). Totals need every
    /// match anyway, so counting queries keep the plan.
    fn probe_insertion(
        &self,
        handles: &Handles,
        collection: &Collection,
        plan: &planner::Plan,
        spec: &Spec<'_>,
    ) -> Result<Option<Page>, StorageError> {
        let Access::Index { index, bounds, rev } = &plan.access else {
            return Ok(None);
        };
        if plan.ordered || !spec.sort.is_empty() || spec.count_total {
            return Ok(None);
        }
        let budget = PROBE_FACTOR
            .saturating_mul(spec.offset.saturating_add(spec.limit))
            .saturating_add(PROBE_MIN);
        // The probe could read more than the query may: the plan runs (and stops at
        // the query's budget) instead.
        if spec.budget.is_some_and(|b| b < budget) {
            return Ok(None);
        }
        let Some(tree) = handles.indexes.get(*index) else {
            return Ok(None);
        };
        // Few candidates: ranking them is cheaper than any walk.
        if walk(tree, bounds, *rev).take(budget).count() < budget {
            return Ok(None);
        }
        let mut walked = 0usize;
        let candidates = insertion(handles).take(budget).inspect(|_| walked += 1);
        let page = exec::run(collection, candidates, true, spec, self)?;
        let full = page.records.len() >= spec.limit;
        if !(full || walked < budget) {
            return Ok(None);
        }
        #[cfg(test)]
        PROBED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Some(page))
    }

    pub(super) fn get_inner(
        &self,
        collection: &Collection,
        id: &str,
    ) -> Result<Option<Record>, StorageError> {
        let registry = self.registry.read_recursive();
        let Some(handles) = registry.get(&collection.id) else {
            return Ok(None);
        };
        let Some(value) = handles.cache.get(&handles.records, id.as_bytes())? else {
            return Ok(None);
        };
        decode(collection, raw(id.as_bytes(), value)?.bytes.as_ref()).map(Some)
    }

    pub(super) fn referencing_inner(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> Result<Vec<Record>, StorageError> {
        let registry = self.registry.read_recursive();
        let (Some(handles), Some(field)) = (
            registry.get(&collection.id),
            collection.fields.get(field_pos),
        ) else {
            return Ok(Vec::new());
        };
        let points_at = |r: &Record| {
            r.values
                .get(field_pos)
                .is_some_and(|v| v.strings().contains(&id))
        };
        let layout = &handles.layout;
        let reverse = layout
            .relations
            .iter()
            .zip(&handles.reverse)
            .find(|(rel, _)| {
                layout
                    .def
                    .fields
                    .get(rel.pos)
                    .is_some_and(|f| f.slot == field.slot)
            });
        let mut out = Vec::new();
        let Some((_, tree)) = reverse else {
            // Not a stored relation field: look at every record.
            for kv in handles.records.iter() {
                let (k, v) = kv?;
                let record = decode(collection, raw(&k, v)?.bytes.as_ref())?;
                if points_at(&record) {
                    out.push(record);
                }
            }
            return Ok(out);
        };
        let prefix = keys::reverse_prefix(id);
        for key in tree.scan_prefix(&prefix).keys() {
            let key = key?;
            let Some(referrer) = key.get(prefix.len()..) else {
                continue;
            };
            // A referrer deleted since is simply skipped.
            let Some(value) = handles.cache.get(&handles.records, referrer)? else {
                continue;
            };
            let record = decode(collection, raw(referrer, value)?.bytes.as_ref())?;
            if points_at(&record) {
                out.push(record);
            }
        }
        Ok(out)
    }

    pub(super) fn scan_inner(
        &self,
        collection: &Collection,
        visit: &mut dyn FnMut(Record) -> bool,
    ) -> Result<(), StorageError> {
        let registry = self.registry.read_recursive();
        let Some(handles) = registry.get(&collection.id) else {
            return Ok(());
        };
        for kv in handles.records.iter() {
            let (k, v) = kv?;
            if !visit(decode(collection, raw(&k, v)?.bytes.as_ref())?) {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn changes_since_inner(
        &self,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<Change>, StorageError> {
        let Some(start) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        for kv in self.changes.range(keys::seq_bytes(start)..).take(limit) {
            let (k, v) = kv?;
            let (mut change, deleted) = keys::read_seq(&k)
                .and_then(|seq| changes::decode(seq, &v))
                .ok_or_else(|| StorageError::Corrupt("change log entry".into()))?;
            if let Some(bytes) = deleted {
                let registry = self.registry.read_recursive();
                change.deleted = registry
                    .get(&change.collection_id)
                    .and_then(|h| h.layout.decode(&bytes).ok());
            }
            out.push(change);
        }
        Ok(out)
    }
}

type Walk<'a> = Box<dyn Iterator<Item = ::sled::Result<(IVec, IVec)>> + 'a>;

/// The entries of `tree` within `bounds`, forward or backward.
fn walk<'a>(tree: &'a Tree, bounds: &Bounds, rev: bool) -> Walk<'a> {
    if bounds.is_empty() {
        return Box::new(std::iter::empty());
    }
    let range = (
        Bound::Included(bounds.lo.clone()),
        bounds.hi.clone().map_or(Bound::Unbounded, Bound::Excluded),
    );
    let iter = tree.range(range);
    if rev {
        Box::new(iter.rev())
    } else {
        Box::new(iter)
    }
}

/// Every record in insertion order.
/// The insertion-order probe's budget: this many times the records up to the end of
/// the page, plus [`PROBE_MIN`].
const PROBE_FACTOR: usize = 4;
const PROBE_MIN: usize = 64;

/// Pages the probe served, for tests.
#[cfg(test)]
pub(super) static PROBED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn insertion(handles: &Handles) -> Candidates<'_> {
    Box::new(handles.order.iter().keys().filter_map(|key| {
        let step = || -> Result<Option<Raw<Stored>>, StorageError> {
            let key = key?;
            let id = keys::order_key_id(&key)
                .ok_or_else(|| StorageError::Corrupt("insertion-order key".into()))?;
            // Deleted since the key was read: skip it.
            let Some(value) = handles.cache.get(&handles.records, id)? else {
                return Ok(None);
            };
            raw(id, value).map(Some)
        };
        step().transpose()
    }))
}

/// The records an index range points at, in index order.
fn through_index<'a>(
    handles: &'a Handles,
    index: usize,
    bounds: &Bounds,
    rev: bool,
) -> Result<Candidates<'a>, StorageError> {
    let (Some(ix), Some(tree)) = (
        handles.layout.indexes.get(index),
        handles.indexes.get(index),
    ) else {
        return Err(StorageError::Corrupt(format!(
            "planned index {index} is missing"
        )));
    };
    let (unique, columns) = (ix.unique, ix.columns.len());
    Ok(Box::new(walk(tree, bounds, rev).filter_map(move |kv| {
        let step = || -> Result<Option<Raw<Stored>>, StorageError> {
            let (key, value) = kv?;
            let id = if unique {
                value.as_ref()
            } else {
                let len = keys::index_values_len(&key, columns)
                    .ok_or_else(|| StorageError::Corrupt("index key".into()))?;
                key.get(len..).unwrap_or_default()
            };
            let Some(stored) = handles.cache.get(&handles.records, id)? else {
                return Ok(None);
            };
            raw(id, stored).map(Some)
        };
        step().transpose()
    })))
}
