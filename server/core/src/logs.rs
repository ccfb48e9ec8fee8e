//! Request logs (`/api/logs`): the entry shape, the store trait the binary backs with
//! its own log store (never the record store's change log, so logs never reach
//! realtime or search), and listing with the records' filter and sort language over a
//! virtual `_logs` collection (`id`, `created`, `level`, `message`, `data`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::filter::{Filter, Lookup, RequestInfo, SortKey};
use crate::record::Record;
use crate::schema::{Catalog, Collection};
use crate::value::Value;
use crate::Result;

/// One log entry, in PocketBase's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: String,
    /// `YYYY-MM-DD HH:MM:SS.mmmZ`, like record dates.
    pub created: String,
    pub updated: String,
    pub level: i64,
    pub message: String,
    pub data: Json,
}

/// Entries on their way to a [`LogStore`], already written as the JSON lines the
/// store keeps, in runs of one UTC day.
#[derive(Debug, Default)]
pub struct LogBatch {
    text: Vec<u8>,
    /// Each run of consecutive lines of one day: the day and where its text ends.
    days: Vec<(String, usize)>,
}

impl LogBatch {
    /// Adds `entry`.
    pub fn push(&mut self, entry: &LogEntry) {
        self.push_with(&entry.created, |out| {
            // Writing into a `Vec` cannot fail.
            let _ = serde_json::to_writer(out, entry);
        });
    }

    /// Adds an entry created at `created`, which `write` appends as a [`LogEntry`]
    /// serializes: one JSON object, on one line.
    pub fn push_with(&mut self, created: &str, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.text);
        self.text.push(b'\n');
        let day = day_of(created);
        match self.days.last_mut() {
            Some((last, end)) if last == day => *end = self.text.len(),
            _ => self.days.push((day.to_owned(), self.text.len())),
        }
    }

    /// The lines of each day, in the order they were added.
    pub fn days(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        let mut start = 0;
        self.days.iter().map(move |(day, end)| {
            let lines = &self.text[start..*end];
            start = *end;
            (day.as_str(), lines)
        })
    }
}

/// The UTC day (`YYYY-MM-DD`) an entry created at `created` belongs to.
pub fn day_of(created: &str) -> &str {
    created.get(..10).unwrap_or("0000-00-00")
}

/// Where log entries live. Blocking, like the record store.
pub trait LogStore: Send + Sync {
    /// Appends `batch`, each day's lines with one write.
    fn append(&self, batch: &LogBatch) -> Result<()>;
    /// Visits entries newest first until `visit` returns false.
    fn scan(&self, visit: &mut dyn FnMut(LogEntry) -> bool) -> Result<()>;
    fn get(&self, id: &str) -> Result<Option<LogEntry>>;
    /// Deletes entries created before `created` (same format); returns how many.
    fn purge_before(&self, created: &str) -> Result<usize>;
    /// Bytes the store takes on disk, when known.
    fn size_on_disk(&self) -> Option<u64>;
}

/// The virtual collection the filter and sort of `/api/logs` compile against.
pub fn collection() -> &'static Arc<Collection> {
    static C: OnceLock<Arc<Collection>> = OnceLock::new();
    C.get_or_init(|| {
        let def = serde_json::json!({
            "id": "_logs", "name": "_logs", "type": "base", "system": true,
            "fields": [
                {"name": "id", "type": "text", "system": true},
                {"name": "created", "type": "date", "system": true},
                {"name": "updated", "type": "date", "system": true},
                {"name": "level", "type": "number", "system": true},
                {"name": "message", "type": "text", "system": true},
                {"name": "data", "type": "json", "system": true},
            ],
        });
        Arc::new(serde_json::from_value(def).expect("the logs collection is valid"))
    })
}

fn record(e: &LogEntry) -> Record {
    Record {
        values: vec![
            Value::text(&e.id),
            Value::text(&e.created),
            Value::text(&e.updated),
            Value::Number(e.level as f64),
            Value::text(&e.message),
            Value::Json(e.data.clone()),
        ],
    }
}

/// Logs join nothing: every lookup is empty.
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

/// A compiled `filter`, or none.
pub fn compile_filter(input: &str) -> Result<Option<Filter>> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let catalog = Catalog::default();
    Filter::compile(input, collection(), &catalog, None).map(Some)
}

/// Every entry `filter` matches, newest first.
pub fn matching(store: &dyn LogStore, filter: Option<&Filter>) -> Result<Vec<LogEntry>> {
    let request = RequestInfo::default();
    let mut out = Vec::new();
    let mut failed = None;
    store.scan(&mut |e| {
        match filter.map_or(Ok(true), |f| f.matches(&record(&e), &NoLookup, &request)) {
            Ok(true) => out.push(e),
            Ok(false) => {}
            Err(err) => {
                failed = Some(err);
                return false;
            }
        }
        true
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Sorts `entries` by a `sort` parameter (default: newest first).
pub fn sort(entries: &mut [LogEntry], input: &str) -> Result<()> {
    let keys = SortKey::parse_list(input, collection(), &Catalog::default())?;
    if keys.is_empty() {
        return Ok(());
    }
    let mut keyed = Vec::with_capacity(entries.len());
    for e in entries.iter() {
        let r = record(e);
        let mut vals = Vec::with_capacity(keys.len());
        for k in &keys {
            vals.push(k.value(&r, &NoLookup)?);
        }
        keyed.push(vals);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        for (i, k) in keys.iter().enumerate() {
            let o = compare(&keyed[a][i], &keyed[b][i]);
            let o = if k.desc() { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    let sorted: Vec<LogEntry> = order.iter().map(|&i| entries[i].clone()).collect();
    entries.clone_from_slice(&sorted);
    Ok(())
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => format!("{a:?}").cmp(&format!("{b:?}")),
    }
}

/// One hour of `/api/logs/stats`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HourStat {
    pub total: u64,
    /// The hour, `YYYY-MM-DD HH:00:00.000Z`.
    pub date: String,
}

/// Entries per hour, oldest hour first.
pub fn stats(entries: &[LogEntry]) -> Vec<HourStat> {
    let mut hours: BTreeMap<String, u64> = BTreeMap::new();
    for e in entries {
        let Some(hour) = e.created.get(..13) else {
            continue;
        };
        *hours.entry(format!("{hour}:00:00.000Z")).or_default() += 1;
    }
    hours
        .into_iter()
        .map(|(date, total)| HourStat { total, date })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, created: &str, level: i64) -> LogEntry {
        LogEntry {
            id: id.into(),
            created: created.into(),
            updated: created.into(),
            level,
            message: "GET /api/x".into(),
            data: serde_json::json!({"status": 200, "method": "GET"}),
        }
    }

    #[test]
    fn filters_and_sorts_over_the_virtual_collection() {
        let f = compile_filter("data.status = 200 && level >= 0")
            .unwrap()
            .unwrap();
        let r = record(&entry("a", "2026-01-01 10:00:00.000Z", 0));
        let req = RequestInfo::default();
        assert!(f.matches(&r, &NoLookup, &req).unwrap());
        let mut es = vec![
            entry("a", "2026-01-01 10:00:00.000Z", 0),
            entry("b", "2026-01-01 11:00:00.000Z", 4),
        ];
        sort(&mut es, "-level").unwrap();
        assert_eq!(es[0].id, "b");
        assert!(compile_filter("nope = 1").is_err());
    }

    #[test]
    fn stats_group_per_hour() {
        let es = vec![
            entry("a", "2026-01-01 10:00:00.000Z", 0),
            entry("b", "2026-01-01 10:59:00.000Z", 0),
            entry("c", "2026-01-01 11:00:00.000Z", 0),
        ];
        let s = stats(&es);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].total, 2);
        assert_eq!(s[0].date, "2026-01-01 10:00:00.000Z");
    }
}
