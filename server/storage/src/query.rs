//! The query planner and executor.
//!
//! Planning: among the collection's indexes, pick the one whose leading columns are
//! fixed by equality constraints and whose next column has a range constraint or is the
//! first sort key. Walk it (backwards for a descending sort); when the walk order is the
//! requested order, stop as soon as the page is full (and no total is wanted).
//! Otherwise scan, keeping a bounded top-k for the requested sort. Every candidate is
//! still checked with the full filter, so plans only ever narrow the work.

use std::cmp::Ordering;
use std::sync::Arc;

use basalt_core::codec::put_index_value;
use basalt_core::filter::{ConstraintOp, SortKey};
use basalt_core::record::Record;
use basalt_core::schema::{Collection, IndexDef};
use basalt_core::store::{Page, Query};
use basalt_core::{Result, Value};
use rand::seq::SliceRandom;

use crate::{sled_err, SledStore};

struct Plan {
    tree: sled::Tree,
    unique: bool,
    lower: Vec<u8>,
    upper: Vec<u8>,
    reverse: bool,
    /// The walk yields records in the requested order.
    ordered: bool,
}

fn choose(store: &SledStore, c: &Collection, q: &Query) -> Result<Option<Plan>> {
    let constraints = q
        .filter
        .as_ref()
        .map(|f| f.constraints())
        .unwrap_or_default();
    let trees = store.trees(c)?;
    let mut best: Option<(u32, Plan)> = None;
    for (def, tree) in &trees.indexes {
        if def.skip_empty.is_some() {
            continue;
        }
        let Some((score, plan)) = plan_for(c, def, tree, &constraints, &q.sort) else {
            continue;
        };
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, plan));
        }
    }
    Ok(best.map(|(_, p)| p))
}

fn plan_for(
    c: &Collection,
    def: &IndexDef,
    tree: &sled::Tree,
    constraints: &[basalt_core::filter::Constraint],
    sort: &[SortKey],
) -> Option<(u32, Plan)> {
    let pos_of = |col: &str| c.field_pos(col);
    let mut prefix = Vec::new();
    let mut eq_cols = 0;
    for col in &def.columns {
        let pos = pos_of(col)?;
        let Some(k) = constraints
            .iter()
            .find(|k| k.field_pos == pos && k.op == ConstraintOp::Eq)
        else {
            break;
        };
        put_index_value(&mut prefix, &k.value);
        eq_cols += 1;
    }
    let (mut lower, mut upper) = (prefix.clone(), prefix.clone());
    upper.push(0xff);
    let mut score = eq_cols as u32 * 4;
    let mut ordered = false;
    let mut reverse = false;
    if let Some(col) = def.columns.get(eq_cols) {
        let pos = pos_of(col)?;
        for k in constraints.iter().filter(|k| k.field_pos == pos) {
            match k.op {
                ConstraintOp::Gt | ConstraintOp::Ge => {
                    lower = prefix.clone();
                    put_index_value(&mut lower, &k.value);
                    score += 2;
                }
                ConstraintOp::Lt | ConstraintOp::Le => {
                    upper = prefix.clone();
                    put_index_value(&mut upper, &k.value);
                    upper.push(0xff);
                    score += 2;
                }
                ConstraintOp::Eq => {}
            }
        }
        if let [SortKey::Field { pos: sp, desc }] = sort {
            if *sp == pos {
                ordered = true;
                reverse = *desc;
                score += 3;
            }
        }
    }
    if score == 0 {
        return None;
    }
    Some((
        score,
        Plan {
            tree: tree.clone(),
            unique: def.unique,
            lower,
            upper,
            reverse,
            ordered,
        },
    ))
}

fn compare(a: &[Value], b: &[Value], sort: &[SortKey]) -> Ordering {
    for (i, k) in sort.iter().enumerate() {
        let ord = a[i].total_cmp(&b[i]);
        let ord = if k.desc() { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Collects matches, either in walk order or through a bounded sort buffer.
struct Collector<'a> {
    store: &'a SledStore,
    q: &'a Query,
    request: basalt_core::filter::RequestInfo,
    ordered: bool,
    matched: usize,
    page: Vec<Record>,
    sorted: Vec<(Vec<Value>, Record)>,
}

impl Collector<'_> {
    /// Offers a candidate; returns false when nothing more is needed.
    fn offer(&mut self, r: Record) -> Result<bool> {
        if let Some(f) = &self.q.filter {
            if !f.matches(&r, self.store, &self.request)? {
                return Ok(true);
            }
        }
        self.matched += 1;
        let want = self.q.offset.saturating_add(self.q.limit);
        if self.ordered || self.q.sort.is_empty() {
            if self.matched > self.q.offset && self.page.len() < self.q.limit {
                self.page.push(r);
            }
            return Ok(self.q.count_total || self.matched < want);
        }
        let keys = self
            .q
            .sort
            .iter()
            .map(|k| k.value(&r, self.store))
            .collect::<Result<Vec<_>>>()?;
        self.sorted.push((keys, r));
        if self.sorted.len() > want.saturating_mul(2).max(1024)
            && !matches!(self.q.sort.first(), Some(SortKey::Random))
        {
            self.trim(want);
        }
        Ok(true)
    }

    fn trim(&mut self, want: usize) {
        let sort = &self.q.sort;
        self.sorted
            .sort_by(|a, b| compare(&a.0, &b.0, sort).then_with(|| a.1.id().cmp(b.1.id())));
        self.sorted.truncate(want);
    }

    fn finish(mut self) -> Page {
        let total = self.q.count_total.then_some(self.matched);
        if self.ordered || self.q.sort.is_empty() {
            return Page {
                records: self.page,
                total,
            };
        }
        if matches!(self.q.sort.first(), Some(SortKey::Random)) {
            self.sorted.shuffle(&mut rand::thread_rng());
        } else {
            self.trim(self.q.offset.saturating_add(self.q.limit));
        }
        let records = self
            .sorted
            .into_iter()
            .skip(self.q.offset)
            .take(self.q.limit)
            .map(|(_, r)| r)
            .collect();
        Page { records, total }
    }
}

pub(crate) fn run(store: &SledStore, c: &Arc<Collection>, q: &Query) -> Result<Page> {
    let plan = choose(store, c, q)?;
    let trees = store.trees(c)?;
    let mut col = Collector {
        store,
        q,
        request: q.request.clone(),
        ordered: plan.as_ref().is_some_and(|p| p.ordered),
        matched: 0,
        page: Vec::new(),
        sorted: Vec::new(),
    };
    if q.limit == 0 && !q.count_total {
        return Ok(Page::default());
    }
    match plan {
        Some(p) => {
            let range = p.tree.range(p.lower.as_slice()..p.upper.as_slice());
            let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
                if p.reverse {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
            for item in iter {
                let (k, v) = item.map_err(sled_err)?;
                let id = if p.unique {
                    v.to_vec()
                } else {
                    k[k.len().saturating_sub(15)..].to_vec()
                };
                let Some(bytes) = trees.records.get(&id).map_err(sled_err)? else {
                    continue;
                };
                if !col.offer(SledStore::decode(c, &bytes)?)? {
                    break;
                }
            }
        }
        None if q.sort.is_empty() => {
            for item in trees.order.iter() {
                let (k, _) = item.map_err(sled_err)?;
                let Some(bytes) = trees.records.get(&k[8..]).map_err(sled_err)? else {
                    continue;
                };
                if !col.offer(SledStore::decode(c, &bytes)?)? {
                    break;
                }
            }
        }
        None => {
            for item in trees.records.iter() {
                let (_, v) = item.map_err(sled_err)?;
                col.offer(SledStore::decode(c, &v)?)?;
            }
        }
    }
    Ok(col.finish())
}
