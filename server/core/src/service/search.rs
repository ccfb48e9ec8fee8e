//! Full-text search on list: `?search=` ranks records with the [`SearchIndex`] port,
//! then every hit goes through the same authorization and filter as list, so a caller
//! never sees (or counts) a record they could not list.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::expand::ExpandTree;
use super::{FieldsPicker, ListOutput, ListParams, Permit, Principal, Services};
use crate::filter::{Filter, SortKey};
use crate::record::Record;
use crate::schema::Collection;
use crate::search::{SearchIndex, SearchQuery, MAX_SEARCH_HITS, MAX_SEARCH_LEN};
use crate::{Code, Error, Result, Value};

/// What `list_records` resolved before handing a search over.
pub(super) struct SearchList<'a> {
    pub params: &'a ListParams,
    /// The caller's filter AND the permit's condition, if any.
    pub filter: Option<Filter>,
    pub sort: Vec<SortKey>,
    pub page: usize,
    pub per_page: usize,
    pub shape: (ExpandTree, FieldsPicker),
}

/// A visible hit: the record and its relevance.
type Scored = (Record, f32);

impl Services {
    /// Wires the full-text search engine in; until then `?search=` answers 503.
    pub fn set_search_index(&self, index: Arc<dyn SearchIndex>) {
        *self.search.write() = Some(index);
    }

    /// The full-text search engine, if one is wired in.
    pub fn search_index(&self) -> Option<Arc<dyn SearchIndex>> {
        self.search.read().clone()
    }

    pub(super) fn search_records(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        list: SearchList<'_>,
    ) -> Result<ListOutput> {
        let text = list.params.search.trim();
        if text.len() > MAX_SEARCH_LEN {
            return Err(Error::new(
                Code::InvalidSearch,
                format!("The search query must be at most {MAX_SEARCH_LEN} bytes long."),
            ));
        }
        if collection.searchable_fields().next().is_none() {
            return Err(Error::new(
                Code::InvalidSearch,
                "The collection has no searchable fields.",
            ));
        }
        let Some(index) = self.search_index() else {
            return Err(Error::new(
                Code::Unavailable,
                "Full-text search is not enabled on this server.",
            ));
        };
        let query = &SearchQuery {
            text,
            all_fields: permit.is_superuser(),
        };
        let offset = (list.page - 1).saturating_mul(list.per_page);
        let (records, total) = if list.filter.is_none() && list.sort.is_empty() {
            self.ranked_page(&*index, collection, query, offset, list.per_page)?
        } else {
            let mut visible = self.visible_hits(&*index, permit, collection, query, &list)?;
            if !list.sort.is_empty() {
                self.sort_hits(&mut visible, &list.sort)?;
            }
            let total = visible.len();
            let page = visible
                .into_iter()
                .skip(offset)
                .take(list.per_page)
                .collect();
            (page, total)
        };
        let highlighter = if list.params.search_highlight {
            Some(index.highlighter(collection, query)?)
        } else {
            None
        };
        let mut items = Vec::with_capacity(records.len());
        for (record, score) in &records {
            let mut item = self.render(who, collection, record, &list.shape)?;
            if let (Some(h), Json::Object(map)) = (&highlighter, &mut item) {
                let highlights = h.highlight(record);
                map.insert(
                    "@search".into(),
                    json!({"score": score, "highlights": highlights}),
                );
            }
            items.push(super::records::Rendered::Json(item));
        }
        let (total_items, total_pages) = if list.params.skip_total {
            (-1, -1)
        } else {
            (total as i64, total.div_ceil(list.per_page) as i64)
        };
        Ok(ListOutput {
            page: list.page,
            per_page: list.per_page,
            total_items,
            total_pages,
            items,
        })
    }

    /// Unconditional callers without a sort: the index pages and counts by itself.
    fn ranked_page(
        &self,
        index: &dyn SearchIndex,
        collection: &Arc<Collection>,
        query: &SearchQuery<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Scored>, usize)> {
        let limit = limit.min(MAX_SEARCH_HITS.saturating_sub(offset));
        let hits = index.search(collection, query, offset.min(MAX_SEARCH_HITS), limit)?;
        let mut records = Vec::with_capacity(hits.hits.len());
        for hit in hits.hits {
            // A hit whose record is already gone (the index trails the store by up
            // to a commit interval) is left out.
            if let Some(record) = self.store.get(collection, &hit.id)? {
                records.push((record, hit.score));
            }
        }
        Ok((records, hits.total))
    }

    /// The best [`MAX_SEARCH_HITS`] matches that pass the filter and the permit's
    /// condition, best first.
    fn visible_hits(
        &self,
        index: &dyn SearchIndex,
        permit: &Permit,
        collection: &Arc<Collection>,
        query: &SearchQuery<'_>,
        list: &SearchList<'_>,
    ) -> Result<Vec<Scored>> {
        let hits = index.search(collection, query, 0, MAX_SEARCH_HITS)?;
        let mut visible = Vec::new();
        for hit in hits.hits {
            let Some(record) = self.store.get(collection, &hit.id)? else {
                continue;
            };
            if let Some(filter) = &list.filter {
                if !filter.matches(&record, self.store(), permit.request())? {
                    continue;
                }
            }
            visible.push((record, hit.score));
        }
        Ok(visible)
    }

    /// Orders hits by `sort` (which overrides relevance), then by relevance, then id.
    fn sort_hits(&self, hits: &mut Vec<Scored>, sort: &[SortKey]) -> Result<()> {
        let mut keyed = Vec::with_capacity(hits.len());
        for (record, score) in hits.drain(..) {
            let keys = sort
                .iter()
                .map(|k| match k {
                    SortKey::Random => Ok(Value::Number(rand::random::<f64>())),
                    k => k.value(&record, self.store()),
                })
                .collect::<Result<Vec<_>>>()?;
            keyed.push((keys, record, score));
        }
        keyed.sort_by(|(ka, ra, sa), (kb, rb, sb)| {
            for ((a, b), key) in ka.iter().zip(kb).zip(sort) {
                let ord = if key.desc() {
                    b.total_cmp(a)
                } else {
                    a.total_cmp(b)
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            sb.total_cmp(sa).then_with(|| ra.id().cmp(rb.id()))
        });
        hits.extend(keyed.into_iter().map(|(_, r, s)| (r, s)));
        Ok(())
    }
}
