//! The query executor shared by both stores: filters candidate records and cuts the
//! page, streaming when candidates already come in the requested order and through a
//! bounded top-k otherwise.

use basalt_core::filter::{Lookup, SortKey};
use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::store::Page;

use crate::order::{rank, TopK};
use crate::StorageError;

/// Decides whether a record matches the query's filter.
pub(crate) type Matcher<'a> = &'a dyn Fn(&Record) -> basalt_core::Result<bool>;

/// The engine-independent part of a list query.
#[derive(Clone, Copy)]
pub(crate) struct Spec<'a> {
    pub sort: &'a [SortKey],
    pub offset: usize,
    pub limit: usize,
    pub count_total: bool,
    /// `None`: every record matches.
    pub matcher: Option<Matcher<'a>>,
    /// Most candidates to read (see `Query::budget`).
    pub budget: Option<usize>,
    /// `matcher` holds exactly when every constraint the query was planned with does:
    /// an access whose bounds enforce them all leaves nothing to check.
    pub exact: bool,
}

impl Spec<'_> {
    /// Whether having read `read` candidates exceeds the budget.
    fn over(&self, read: usize) -> bool {
        self.budget.is_some_and(|b| read > b)
    }
}

/// The page of a query that ran out of budget.
fn over_budget() -> Page {
    Page {
        over_budget: true,
        ..Page::default()
    }
}

/// A stored record not decoded yet: its creation seq and encoded fields.
pub(crate) struct Raw<B> {
    pub created: u64,
    pub bytes: B,
}

pub(crate) fn decode(collection: &Collection, bytes: &[u8]) -> Result<Record, StorageError> {
    Record::decode(collection, bytes)
        .map_err(|e| StorageError::Corrupt(format!("record of {}: {e}", collection.id)))
}

/// Runs `spec` over `candidates`. `ordered`: candidates already come in the order the
/// sort asks for, so the walk stops as soon as the page is full (unless counting).
pub(crate) fn run<B: AsRef<[u8]>>(
    collection: &Collection,
    candidates: impl Iterator<Item = Result<Raw<B>, StorageError>>,
    ordered: bool,
    spec: &Spec<'_>,
    lookup: &dyn Lookup,
) -> Result<Page, StorageError> {
    if ordered {
        streamed(collection, candidates, spec)
    } else {
        ranked(collection, candidates, spec, lookup)
    }
}

fn matches(spec: &Spec<'_>, record: &Record) -> Result<bool, StorageError> {
    match spec.matcher {
        Some(m) => m(record).map_err(StorageError::Core),
        None => Ok(true),
    }
}

fn streamed<B: AsRef<[u8]>>(
    collection: &Collection,
    candidates: impl Iterator<Item = Result<Raw<B>, StorageError>>,
    spec: &Spec<'_>,
) -> Result<Page, StorageError> {
    let mut records = Vec::with_capacity(spec.limit.min(1024));
    let mut matched = 0usize;
    for (read, raw) in candidates.enumerate() {
        if records.len() >= spec.limit && !spec.count_total {
            break;
        }
        if spec.over(read + 1) {
            return Ok(over_budget());
        }
        let raw = raw?;
        let wanted = matched >= spec.offset && records.len() < spec.limit;
        if spec.matcher.is_none() {
            // Nothing to check: only records on the page need decoding.
            matched += 1;
            if wanted {
                records.push(decode(collection, raw.bytes.as_ref())?);
            }
            continue;
        }
        let record = decode(collection, raw.bytes.as_ref())?;
        if !matches(spec, &record)? {
            continue;
        }
        matched += 1;
        if wanted {
            records.push(record);
        }
    }
    Ok(Page {
        records,
        total: spec.count_total.then_some(matched),
        over_budget: false,
    })
}

fn ranked<B: AsRef<[u8]>>(
    collection: &Collection,
    candidates: impl Iterator<Item = Result<Raw<B>, StorageError>>,
    spec: &Spec<'_>,
    lookup: &dyn Lookup,
) -> Result<Page, StorageError> {
    let k = spec.offset.saturating_add(spec.limit);
    if k == 0 && !spec.count_total {
        return Ok(Page::default());
    }
    let mut top = TopK::new(k);
    let mut matched = 0usize;
    for (read, raw) in candidates.enumerate() {
        if spec.over(read + 1) {
            return Ok(over_budget());
        }
        let raw = raw?;
        let record = decode(collection, raw.bytes.as_ref())?;
        if !matches(spec, &record)? {
            continue;
        }
        matched += 1;
        if k > 0 {
            top.push(rank(spec.sort, record, raw.created, lookup)?);
        }
    }
    let records = top.into_sorted().into_iter().skip(spec.offset).collect();
    Ok(Page {
        records,
        total: spec.count_total.then_some(matched),
        over_budget: false,
    })
}
