//! The query planner: given a query's index-usable constraints and sort, picks how to
//! walk a collection.
//!
//! Rules, in order of preference:
//! 1. a point lookup: equality on `id` (the records tree) or on every column of a
//!    unique index;
//! 2. the access with the most leading index columns fixed by equality, then one
//!    with a range (`<`, `<=`, `>`, `>=`) on the next column, then one whose key order
//!    already is the requested order (walked forward or backward, so the executor can
//!    stop once the page is full);
//! 3. otherwise the insertion-order walk when no sort is asked (ordered), or a full
//!    scan whose matches are ranked by a bounded top-k.
//!
//! An access serves a sort when the sort keys, minus keys fixed by equality, are its
//! key columns in order, all in one direction, followed by the id tie-break (a unique
//! index has no ties). Partial indexes are only used when an equality constraint
//! excludes the zero value they skip. Only scalar fields (not lists, not json) are
//! served, and only by constraints whose value has the field's type: index byte order
//! is `Value::total_cmp` order exactly there. Constraints are a filter's necessary
//! conditions, so candidates are always re-checked by the full filter.

use basalt_core::codec::{index_key, put_index_value};
use basalt_core::filter::{Constraint, ConstraintOp, SortKey};
use basalt_core::schema::{Collection, FieldKind};
use basalt_core::Value;

use crate::keys::successor;

/// What the planner needs of one secondary index, in the caller's field positions.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IndexShape {
    pub unique: bool,
    pub columns: Vec<usize>,
    pub skip: Option<usize>,
}

/// Keys from `lo` (included) up to `hi` (excluded; `None`: to the end).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bounds {
    pub lo: Vec<u8>,
    pub hi: Option<Vec<u8>>,
}

impl Bounds {
    fn all() -> Bounds {
        Bounds {
            lo: Vec::new(),
            hi: None,
        }
    }

    /// Whether no key can fall inside.
    pub fn is_empty(&self) -> bool {
        self.hi.as_ref().is_some_and(|hi| *hi <= self.lo)
    }

    fn raise_lo(&mut self, lo: Option<Vec<u8>>) {
        match lo {
            Some(lo) if lo > self.lo => self.lo = lo,
            Some(_) => {}
            // Nothing sorts after this key: the range is empty.
            None => self.hi = Some(self.lo.clone()),
        }
    }

    fn lower_hi(&mut self, hi: Option<Vec<u8>>) {
        if let Some(hi) = hi {
            if self.hi.as_ref().is_none_or(|h| hi < *h) {
                self.hi = Some(hi);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Access {
    /// Every record, in insertion order.
    Insertion,
    /// Every record, in storage order, for a full scan that ranks its matches.
    Scan,
    /// The records tree (keyed by raw id bytes) within bounds.
    Primary { bounds: Bounds, rev: bool },
    /// Secondary index number `index` within bounds.
    Index {
        index: usize,
        bounds: Bounds,
        rev: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    pub access: Access,
    /// Whether the access yields records in the requested order.
    pub ordered: bool,
    /// Whether every record the access yields meets every constraint: each one is
    /// enforced exactly by its bounds.
    pub enforced: bool,
}

/// How good an access is; compared lexicographically.
type Score = (bool, usize, bool, bool);

pub(crate) fn plan(
    collection: &Collection,
    indexes: &[Option<IndexShape>],
    constraints: &[Constraint],
    sort: &[SortKey],
) -> Plan {
    let usable: Vec<&Constraint> = constraints
        .iter()
        .filter(|c| indexable(collection, c))
        .collect();
    let fixed: Vec<usize> = usable
        .iter()
        .filter(|c| c.op == ConstraintOp::Eq)
        .map(|c| c.field_pos)
        .collect();
    let mut best = if sort.is_empty() {
        (
            Plan {
                access: Access::Insertion,
                ordered: true,
                enforced: false,
            },
            (false, 0, false, true),
        )
    } else {
        (
            Plan {
                access: Access::Scan,
                ordered: false,
                enforced: false,
            },
            (false, 0, false, false),
        )
    };
    let mut consider = |candidate: (Plan, Score)| {
        if candidate.1 > best.1 {
            best = candidate;
        }
    };
    consider(primary(collection, &usable, &fixed, sort));
    for (index, shape) in indexes.iter().enumerate() {
        if let Some(candidate) = shape
            .as_ref()
            .and_then(|s| secondary(collection, index, s, &usable, &fixed, sort))
        {
            consider(candidate);
        }
    }
    let mut plan = best.0;
    // A constraint no index can serve is enforced by none.
    plan.enforced &= usable.len() == constraints.len();
    plan
}

fn primary(
    collection: &Collection,
    usable: &[&Constraint],
    fixed: &[usize],
    sort: &[SortKey],
) -> (Plan, Score) {
    let mut bounds = Bounds::all();
    let text = |c: &Constraint| {
        c.value
            .as_str()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let with_nul = |mut v: Vec<u8>| {
        v.push(0);
        v
    };
    let mut point = false;
    let mut range = false;
    for c in usable.iter().filter(|c| c.field_pos == 0) {
        match c.op {
            ConstraintOp::Eq => {
                point = true;
                bounds.raise_lo(Some(text(c)));
                bounds.lower_hi(Some(with_nul(text(c))));
            }
            ConstraintOp::Gt => bounds.raise_lo(Some(with_nul(text(c)))),
            ConstraintOp::Ge => bounds.raise_lo(Some(text(c))),
            ConstraintOp::Lt => bounds.lower_hi(Some(text(c))),
            ConstraintOp::Le => bounds.lower_hi(Some(with_nul(text(c)))),
        }
        range |= c.op != ConstraintOp::Eq;
    }
    let walk = if point {
        Some(false)
    } else {
        walk_direction(collection, &[0], true, fixed, sort)
    };
    let score = (point, usize::from(point), range && !point, walk.is_some());
    let plan = Plan {
        access: Access::Primary {
            bounds,
            rev: walk.unwrap_or(false),
        },
        ordered: walk.is_some(),
        // Every constraint on the id narrows the bounds to exactly its ids.
        enforced: usable.iter().all(|c| c.field_pos == 0),
    };
    (plan, score)
}

fn secondary(
    collection: &Collection,
    index: usize,
    shape: &IndexShape,
    usable: &[&Constraint],
    fixed: &[usize],
    sort: &[SortKey],
) -> Option<(Plan, Score)> {
    let eq = |pos: usize| {
        usable
            .iter()
            .find(|c| c.field_pos == pos && c.op == ConstraintOp::Eq)
            .map(|c| &c.value)
    };
    if let Some(skip) = shape.skip {
        // A partial index lacks the records whose `skip` field is zero.
        eq(skip).filter(|v| !v.is_zero())?;
    }
    let fixed_prefix: Vec<&Value> = shape.columns.iter().map_while(|&p| eq(p)).collect();
    let k = fixed_prefix.len();
    let prefix = index_key(&fixed_prefix);
    let mut bounds = Bounds {
        lo: prefix.clone(),
        hi: successor(&prefix),
    };
    let mut range = false;
    if let Some(&next) = shape.columns.get(k) {
        for c in usable
            .iter()
            .filter(|c| c.field_pos == next && c.op != ConstraintOp::Eq)
        {
            let mut key = prefix.clone();
            put_index_value(&mut key, &c.value);
            match c.op {
                ConstraintOp::Gt => bounds.raise_lo(successor(&key)),
                ConstraintOp::Ge => bounds.raise_lo(Some(key)),
                ConstraintOp::Lt => bounds.lower_hi(Some(key)),
                ConstraintOp::Le => bounds.lower_hi(successor(&key)),
                ConstraintOp::Eq => {}
            }
            range = true;
        }
    }
    // Equalities on the fixed prefix and ranges on the next column are the bounds;
    // anything else (another column, a second value for a fixed one) is not.
    let enforced = usable.iter().all(|c| match c.op {
        ConstraintOp::Eq => shape.columns[..k]
            .iter()
            .zip(&fixed_prefix)
            .any(|(&p, &v)| p == c.field_pos && *v == c.value),
        _ => shape.columns.get(k) == Some(&c.field_pos),
    });
    let point = shape.unique && k == shape.columns.len();
    let walk = if point {
        Some(false)
    } else {
        walk_direction(collection, &shape.columns[k..], shape.unique, fixed, sort)
    };
    let score = (point, k, range, walk.is_some());
    let plan = Plan {
        access: Access::Index {
            index,
            bounds,
            rev: walk.unwrap_or(false),
        },
        ordered: walk.is_some(),
        enforced,
    };
    Some((plan, score))
}

/// Whether walking keys ordered by `columns` (then the id, unless `unique`) in one
/// direction yields `sort`'s order among records matching the `fixed` equalities; the
/// direction (`true` = backward) if so.
fn walk_direction(
    collection: &Collection,
    columns: &[usize],
    unique: bool,
    fixed: &[usize],
    sort: &[SortKey],
) -> Option<bool> {
    let last_desc = sort.last()?.desc();
    let mut wanted: Vec<(usize, bool)> = Vec::with_capacity(sort.len() + 1);
    for key in sort {
        let SortKey::Field { pos, desc } = key else {
            return None;
        };
        if !collection.fields.get(*pos).is_some_and(|f| scalar(&f.kind)) {
            return None;
        }
        if fixed.contains(pos) {
            continue;
        }
        wanted.push((*pos, *desc));
        if *pos == 0 {
            break;
        }
    }
    if wanted.last().is_none_or(|&(pos, _)| pos != 0) {
        wanted.push((0, last_desc));
    }
    let walk: Vec<usize> = columns
        .iter()
        .copied()
        .filter(|c| !fixed.contains(c))
        .collect();
    let dir = wanted.first()?.1;
    for (i, &(pos, desc)) in wanted.iter().enumerate() {
        let Some(&col) = walk.get(i) else {
            // Past the key columns a unique index has no ties; others order ties by id.
            return (unique || (pos == 0 && desc == dir && i + 1 == wanted.len())).then_some(dir);
        };
        if col != pos || desc != dir {
            return None;
        }
    }
    Some(dir)
}

/// Fields whose values are ordered in an index exactly as `Value::total_cmp` orders them.
fn scalar(kind: &FieldKind) -> bool {
    !kind.is_multiple() && !matches!(kind, FieldKind::Json(_))
}

fn indexable(collection: &Collection, c: &Constraint) -> bool {
    let Some(field) = collection.fields.get(c.field_pos) else {
        return false;
    };
    let nan = matches!(c.value, Value::Number(n) if n.is_nan());
    scalar(&field.kind)
        && !nan
        && std::mem::discriminant(&field.kind.zero()) == std::mem::discriminant(&c.value)
}

#[cfg(test)]
#[path = "planner_test.rs"]
mod tests;
