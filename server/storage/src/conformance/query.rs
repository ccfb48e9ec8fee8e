//! List queries: default order, sorts with stable ties, paging, counting, random
//! samples, and filters once the filter language evaluates them.

use std::sync::Arc;

use basalt_core::filter::{Filter, RequestInfo, SortKey};
use basalt_core::record::Record;
use basalt_core::schema::{Catalog, Collection};
use basalt_core::store::RecordStore;
use basalt_core::Value;

use super::fixtures::*;
use super::*;

pub(super) const CASES: [(&str, Case); 7] = [
    (
        "default_order_is_insertion_order",
        default_order_is_insertion_order,
    ),
    ("sorted_pages_are_stable", sorted_pages_are_stable),
    ("sort_by_id", sort_by_id),
    (
        "random_sort_samples_distinct_records",
        random_sort_samples_distinct_records,
    ),
    ("counting_without_a_page", counting_without_a_page),
    ("filters_select_and_count", filters_select_and_count),
    ("budgets_bound_the_reads", budgets_bound_the_reads),
];

/// 30 posts inserted in `n` order; views `n % 5` (many ties), published when `n` is even.
fn seed(store: &dyn RecordStore) -> (Arc<Collection>, Vec<Record>) {
    let posts = put(store, posts());
    let mut all = Vec::new();
    for n in 0..30 {
        let r = record(
            &posts,
            &id(n),
            &[
                ("views", Value::Number((n % 5) as f64)),
                ("published", Value::Bool(n % 2 == 0)),
                ("title", Value::text(format!("t{n:02}"))),
            ],
        );
        create(store, &posts, &r).unwrap();
        all.push(r);
    }
    (posts, all)
}

fn field(c: &Collection, name: &str, desc: bool) -> SortKey {
    SortKey::Field {
        pos: c.field_pos(name).unwrap(),
        desc,
    }
}

/// Reads every page of `per_page` and checks each page's total.
fn all_pages(
    store: &dyn RecordStore,
    c: &Arc<Collection>,
    sort: Vec<SortKey>,
    per_page: usize,
    total: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for page in 0.. {
        let q = Query {
            sort: sort.clone(),
            offset: page * per_page,
            limit: per_page,
            count_total: true,
            ..Query::default()
        };
        let got = list(store, c, q);
        assert_eq!(got.total, Some(total));
        if got.records.is_empty() {
            break;
        }
        assert!(got.records.len() <= per_page);
        out.extend(ids(&got));
    }
    out
}

fn default_order_is_insertion_order(store: &dyn RecordStore) {
    let (posts, all) = seed(store);
    let inserted: Vec<String> = all.iter().map(|r| r.id().to_owned()).collect();
    let mut by_id = inserted.clone();
    by_id.sort();
    assert_ne!(inserted, by_id, "fixture ids must not be in id order");
    assert_eq!(all_pages(store, &posts, Vec::new(), 7, 30), inserted);
    // Updates keep a record's place; deletes leave the others in order.
    let first = &all[0];
    let mut changed = first.clone();
    changed.values[posts.field_pos("title").unwrap()] = Value::text("changed");
    update(store, &posts, first, &changed).unwrap();
    delete(store, &posts, &all[1]).unwrap();
    let page = list(
        store,
        &posts,
        Query {
            limit: 3,
            ..Query::default()
        },
    );
    assert_eq!(ids(&page), [id(0), id(2), id(3)]);
    assert_eq!(page.total, None);
}

fn sorted_pages_are_stable(store: &dyn RecordStore) {
    let (posts, all) = seed(store);
    let views = posts.field_pos("views").unwrap();
    let title = posts.field_pos("title").unwrap();
    let key = |r: &Record| (r.values[views].as_f64().unwrap() as i64, r.id().to_owned());
    let mut asc: Vec<&Record> = all.iter().collect();
    asc.sort_by_key(|r| key(r));
    let want: Vec<String> = asc.iter().map(|r| r.id().to_owned()).collect();
    for per_page in [1, 4, 7, 30, 100] {
        assert_eq!(
            all_pages(
                store,
                &posts,
                vec![field(&posts, "views", false)],
                per_page,
                30
            ),
            want,
            "asc, per page {per_page}"
        );
    }
    let desc: Vec<String> = want.iter().rev().cloned().collect();
    assert_eq!(
        all_pages(store, &posts, vec![field(&posts, "views", true)], 4, 30),
        desc,
        "desc: ties by id descending"
    );
    // Two keys in mixed directions.
    let mut mixed: Vec<&Record> = all.iter().collect();
    mixed.sort_by(|a, b| {
        let va = a.values[views].as_f64().unwrap();
        let vb = b.values[views].as_f64().unwrap();
        vb.total_cmp(&va)
            .then_with(|| a.values[title].as_str().cmp(&b.values[title].as_str()))
    });
    let want_mixed: Vec<String> = mixed.iter().map(|r| r.id().to_owned()).collect();
    let sort = vec![field(&posts, "views", true), field(&posts, "title", false)];
    assert_eq!(all_pages(store, &posts, sort, 6, 30), want_mixed);
    // Past the end: an empty page, still counted.
    let q = Query {
        sort: vec![field(&posts, "views", false)],
        offset: 100,
        limit: 5,
        count_total: true,
        ..Query::default()
    };
    let page = list(store, &posts, q);
    assert!(page.records.is_empty());
    assert_eq!(page.total, Some(30));
}

fn sort_by_id(store: &dyn RecordStore) {
    let (posts, all) = seed(store);
    let mut want: Vec<String> = all.iter().map(|r| r.id().to_owned()).collect();
    want.sort();
    assert_eq!(
        all_pages(store, &posts, vec![field(&posts, "id", false)], 8, 30),
        want
    );
    want.reverse();
    assert_eq!(
        all_pages(store, &posts, vec![field(&posts, "id", true)], 8, 30),
        want
    );
}

fn random_sort_samples_distinct_records(store: &dyn RecordStore) {
    let (posts, _) = seed(store);
    let page = list(
        store,
        &posts,
        Query {
            sort: vec![SortKey::Random],
            limit: 5,
            count_total: true,
            ..Query::default()
        },
    );
    assert_eq!(page.total, Some(30));
    let mut got = ids(&page);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 5);
    for id in &got {
        assert!(store.get(&posts, id).unwrap().is_some());
    }
}

fn counting_without_a_page(store: &dyn RecordStore) {
    let (posts, _) = seed(store);
    let page = list(
        store,
        &posts,
        Query {
            limit: 0,
            count_total: true,
            ..Query::default()
        },
    );
    assert!(page.records.is_empty());
    assert_eq!(page.total, Some(30));
    let empty = Arc::new(users());
    let page = list(
        store,
        &empty,
        Query {
            limit: 10,
            count_total: true,
            ..Query::default()
        },
    );
    assert!(
        page.records.is_empty(),
        "an unknown collection has no records"
    );
}

/// Filter cases run only once `Filter` evaluates expressions (it is a placeholder that
/// matches everything until the filter language lands).
fn filters_select_and_count(store: &dyn RecordStore) {
    let (posts, all) = seed(store);
    let catalog = Catalog::new(vec![posts.clone()]);
    let compile =
        |src: &str| Filter::compile(src, &posts, &catalog, None).expect("filter compiles");
    let probe = compile("views = 999");
    if probe
        .matches(&all[0], store, &RequestInfo::default())
        .unwrap_or(true)
    {
        eprintln!("conformance: filter language not evaluating yet; filter checks skipped");
        return;
    }
    let views = posts.field_pos("views").unwrap();
    let published = posts.field_pos("published").unwrap();
    type Pred = Box<dyn Fn(&Record) -> bool>;
    let target = id(7);
    let cases: Vec<(String, Pred)> = vec![
        (
            "views >= 3".into(),
            Box::new(move |r| r.values[views].as_f64().unwrap() >= 3.0),
        ),
        (
            "views = 2 && published = true".into(),
            Box::new(move |r| {
                r.values[views] == Value::Number(2.0) && r.values[published] == Value::Bool(true)
            }),
        ),
        (
            "published = false || views < 1".into(),
            Box::new(move |r| {
                r.values[published] == Value::Bool(false) || r.values[views].as_f64().unwrap() < 1.0
            }),
        ),
        (
            format!("id = '{target}'"),
            Box::new(move |r| r.id() == target),
        ),
    ];
    for (src, pred) in cases {
        let mut want: Vec<&Record> = all.iter().filter(|r| pred(r)).collect();
        want.sort_by(|a, b| {
            b.values[views]
                .total_cmp(&a.values[views])
                .then_with(|| b.id().cmp(a.id()))
        });
        let want: Vec<String> = want.iter().map(|r| r.id().to_owned()).collect();
        let filter = compile(&src);
        for per_page in [2, 50] {
            let mut got = Vec::new();
            for page in 0..20 {
                let q = Query {
                    filter: Some(filter.clone()),
                    sort: vec![field(&posts, "views", true)],
                    offset: page * per_page,
                    limit: per_page,
                    count_total: true,
                    ..Query::default()
                };
                let p = list(store, &posts, q);
                assert_eq!(p.total, Some(want.len()), "{src}");
                got.extend(ids(&p));
            }
            assert_eq!(got, want, "{src}");
        }
        let unsorted = list(
            store,
            &posts,
            Query {
                filter: Some(filter),
                limit: 100,
                ..Query::default()
            },
        );
        let inserted: Vec<String> = all
            .iter()
            .filter(|r| pred(r))
            .map(|r| r.id().to_owned())
            .collect();
        assert_eq!(ids(&unsorted), inserted, "{src}: insertion order");
    }
}

/// A query within its read budget returns exactly what it returns without one; a query
/// that needs more reads says so instead of returning a partial page. How many reads a
/// query needs depends on the store's plan, but never exceeds the records there are.
fn budgets_bound_the_reads(store: &dyn RecordStore) {
    let (posts, all) = seed(store);
    let catalog = Catalog::new(vec![posts.clone()]);
    let unpublished = Filter::compile("published = false", &posts, &catalog, None).unwrap();
    let cases = [
        // Insertion order, no filter: the page itself.
        Query {
            limit: 5,
            ..Query::default()
        },
        // Every other record matches.
        Query {
            filter: Some(unpublished.clone()),
            limit: 5,
            ..Query::default()
        },
        // A sort no index serves ranks every record.
        Query {
            sort: vec![field(&posts, "title", true)],
            limit: 3,
            ..Query::default()
        },
        // Counting reads every match.
        Query {
            filter: Some(unpublished),
            limit: 1,
            count_total: true,
            ..Query::default()
        },
    ];
    for (i, query) in cases.into_iter().enumerate() {
        let free = list(store, &posts, query.clone());
        assert!(!free.over_budget, "case {i}");
        let mut enough = None;
        for budget in 0..=all.len() {
            let bounded = list(
                store,
                &posts,
                Query {
                    budget: Some(budget),
                    ..query.clone()
                },
            );
            if bounded.over_budget {
                assert!(
                    enough.is_none(),
                    "case {i}: {budget} reads ran out after enough"
                );
                continue;
            }
            enough.get_or_insert(budget);
            assert_eq!(ids(&bounded), ids(&free), "case {i}, budget {budget}");
            assert_eq!(bounded.total, free.total, "case {i}, budget {budget}");
        }
        let enough = enough.expect("as many reads as records always do");
        assert!(
            enough >= free.records.len().max(1),
            "case {i}: {enough} reads"
        );
    }
}
