//! Writes: creates, unique checks, conflicts, atomicity, the change log, lookups.

use std::sync::Arc;

use basalt_core::store::{Action, RecordStore, Write};
use basalt_core::{Code, Value};

use super::fixtures::*;
use super::*;

pub(super) const CASES: [(&str, Case); 14] = [
    ("create_then_get", create_then_get),
    ("duplicate_id_is_not_unique", duplicate_id_is_not_unique),
    ("missing_id_is_rejected", missing_id_is_rejected),
    (
        "unique_index_names_every_column",
        unique_index_names_every_column,
    ),
    (
        "partial_unique_index_skips_empty_values",
        partial_unique_index_skips_empty_values,
    ),
    ("stale_writes_conflict", stale_writes_conflict),
    (
        "update_frees_the_old_unique_value",
        update_frees_the_old_unique_value,
    ),
    ("update_cannot_change_the_id", update_cannot_change_the_id),
    (
        "failed_commit_changes_nothing",
        failed_commit_changes_nothing,
    ),
    ("batch_spans_collections", batch_spans_collections),
    ("change_log_follows_commits", change_log_follows_commits),
    (
        "referencing_follows_relations",
        referencing_follows_relations,
    ),
    ("scan_stops_when_told", scan_stops_when_told),
    ("concurrent_updates_all_apply", concurrent_updates_all_apply),
];

fn create_then_get(store: &dyn RecordStore) {
    let users = put(store, users());
    let u = record(&users, &id(1), &[("name", Value::text("ann"))]);
    let seq = create(store, &users, &u).unwrap();
    assert!(seq > 0);
    store.sync(seq).unwrap();
    assert_eq!(store.get(&users, &id(1)).unwrap(), Some(u));
    assert_eq!(store.get(&users, &id(2)).unwrap(), None);
    assert_eq!(
        store.get(&posts(), &id(1)).unwrap(),
        None,
        "unknown collection"
    );
    let other = Arc::new(posts());
    assert_code(
        create(store, &other, &record(&other, &id(1), &[])),
        Code::CollectionNotFound,
    );
}

fn duplicate_id_is_not_unique(store: &dyn RecordStore) {
    let users = put(store, users());
    create(store, &users, &record(&users, &id(1), &[])).unwrap();
    let again = create(
        store,
        &users,
        &record(&users, &id(1), &[("name", Value::text("bob"))]),
    );
    assert_not_unique(again, &["id"]);
    assert_eq!(
        store.get(&users, &id(1)).unwrap().unwrap().values[1],
        Value::text("")
    );
}

fn missing_id_is_rejected(store: &dyn RecordStore) {
    let users = put(store, users());
    let e = create(store, &users, &record(&users, "", &[])).unwrap_err();
    assert_eq!(e.code, Code::ValidationFailed);
    assert!(e.data.contains_key("id"));
}

fn unique_index_names_every_column(store: &dyn RecordStore) {
    let acc = put(store, accounts());
    let a = record(
        &acc,
        &id(1),
        &[
            ("email", Value::text("a@x")),
            ("name", Value::text("ann")),
            ("team", Value::text("red")),
        ],
    );
    create(store, &acc, &a).unwrap();
    let same_pair = record(
        &acc,
        &id(2),
        &[
            ("email", Value::text("b@x")),
            ("name", Value::text("ann")),
            ("team", Value::text("red")),
        ],
    );
    assert_not_unique(create(store, &acc, &same_pair), &["name", "team"]);
    let same_email = record(
        &acc,
        &id(3),
        &[("email", Value::text("a@x")), ("name", Value::text("cy"))],
    );
    assert_not_unique(create(store, &acc, &same_email), &["email"]);
    let other_team = record(
        &acc,
        &id(4),
        &[
            ("email", Value::text("d@x")),
            ("name", Value::text("ann")),
            ("team", Value::text("blue")),
        ],
    );
    create(store, &acc, &other_team).unwrap();
}

fn partial_unique_index_skips_empty_values(store: &dyn RecordStore) {
    let posts = put(store, posts());
    for n in 0..3 {
        create(store, &posts, &record(&posts, &id(n), &[])).unwrap();
    }
    create(
        store,
        &posts,
        &record(&posts, &id(10), &[("slug", Value::text("hello"))]),
    )
    .unwrap();
    let dup = create(
        store,
        &posts,
        &record(&posts, &id(11), &[("slug", Value::text("hello"))]),
    );
    assert_not_unique(dup, &["slug"]);
    let e = create(
        store,
        &posts,
        &record(&posts, &id(11), &[("slug", Value::text("hello"))]),
    )
    .unwrap_err();
    assert_eq!(e.message, "Failed to create record.");
}

fn stale_writes_conflict(store: &dyn RecordStore) {
    let users = put(store, users());
    let v1 = record(&users, &id(1), &[("name", Value::text("v1"))]);
    let v2 = record(&users, &id(1), &[("name", Value::text("v2"))]);
    let v3 = record(&users, &id(1), &[("name", Value::text("v3"))]);
    create(store, &users, &v1).unwrap();
    update(store, &users, &v1, &v2).unwrap();
    assert_code(update(store, &users, &v1, &v3), Code::Conflict);
    assert_code(delete(store, &users, &v1), Code::Conflict);
    assert_eq!(store.get(&users, &id(1)).unwrap(), Some(v2.clone()));
    delete(store, &users, &v2).unwrap();
    assert_code(update(store, &users, &v2, &v3), Code::Conflict);
    assert_code(delete(store, &users, &v2), Code::Conflict);
    assert_eq!(store.get(&users, &id(1)).unwrap(), None);
}

fn update_frees_the_old_unique_value(store: &dyn RecordStore) {
    let posts = put(store, posts());
    let a1 = record(&posts, &id(1), &[("slug", Value::text("x"))]);
    let a2 = record(&posts, &id(1), &[("slug", Value::text("y"))]);
    create(store, &posts, &a1).unwrap();
    update(store, &posts, &a1, &a2).unwrap();
    let b1 = record(&posts, &id(2), &[("slug", Value::text("x"))]);
    create(store, &posts, &b1).unwrap();
    let b2 = record(&posts, &id(2), &[("slug", Value::text("y"))]);
    let e = update(store, &posts, &b1, &b2).unwrap_err();
    assert_eq!(e.message, "Failed to update record.");
    assert_not_unique(Err(e), &["slug"]);
    // Keeping one's own unique value is fine.
    let a3 = record(
        &posts,
        &id(1),
        &[("slug", Value::text("y")), ("title", Value::text("t"))],
    );
    update(store, &posts, &a2, &a3).unwrap();
    delete(store, &posts, &a3).unwrap();
    update(store, &posts, &b1, &b2).unwrap();
}

fn update_cannot_change_the_id(store: &dyn RecordStore) {
    let users = put(store, users());
    let a = record(&users, &id(1), &[]);
    create(store, &users, &a).unwrap();
    assert_code(
        update(store, &users, &a, &record(&users, &id(2), &[])),
        Code::BadRequest,
    );
    assert_eq!(store.get(&users, &id(2)).unwrap(), None);
}

fn failed_commit_changes_nothing(store: &dyn RecordStore) {
    let posts = put(store, posts());
    let before = create(
        store,
        &posts,
        &record(&posts, &id(0), &[("slug", Value::text("taken"))]),
    )
    .unwrap();
    let batch = vec![
        Write::Create {
            collection: posts.clone(),
            record: record(&posts, &id(1), &[("slug", Value::text("new"))]),
        },
        Write::Create {
            collection: posts.clone(),
            record: record(&posts, &id(2), &[]),
        },
        Write::Create {
            collection: posts.clone(),
            record: record(&posts, &id(3), &[("slug", Value::text("taken"))]),
        },
    ];
    assert_not_unique(store.commit(batch), &["slug"]);
    assert_eq!(store.get(&posts, &id(1)).unwrap(), None);
    assert_eq!(store.get(&posts, &id(2)).unwrap(), None);
    assert!(store.changes_since(before, 10).unwrap().is_empty());
    // The slug the failed batch claimed is free, and seqs keep increasing.
    let after = create(
        store,
        &posts,
        &record(&posts, &id(4), &[("slug", Value::text("new"))]),
    )
    .unwrap();
    assert!(after > before);
    let page = list(
        store,
        &posts,
        Query {
            limit: 10,
            count_total: true,
            ..Query::default()
        },
    );
    assert_eq!(page.total, Some(2));
}

fn batch_spans_collections(store: &dyn RecordStore) {
    let users = put(store, users());
    let posts = put(store, posts());
    let u = record(&users, &id(1), &[]);
    let p = record(&posts, &id(2), &[("author", Value::text(id(1)))]);
    let seq = store
        .commit(vec![
            Write::Create {
                collection: users.clone(),
                record: u.clone(),
            },
            Write::Create {
                collection: posts.clone(),
                record: p.clone(),
            },
        ])
        .unwrap();
    assert_eq!(store.get(&users, &id(1)).unwrap(), Some(u));
    assert_eq!(store.get(&posts, &id(2)).unwrap(), Some(p));
    let changes = store.changes_since(seq - 2, 10).unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!((changes[0].seq, changes[1].seq), (seq - 1, seq));
    assert_eq!(changes[0].collection_id, USERS);
    assert_eq!(changes[1].collection_id, POSTS);
    assert_eq!(
        store.commit(Vec::new()).unwrap(),
        seq,
        "an empty commit allocates nothing"
    );
}

fn change_log_follows_commits(store: &dyn RecordStore) {
    let users = put(store, users());
    let start = store
        .changes_since(0, usize::MAX)
        .unwrap()
        .last()
        .map_or(0, |c| c.seq);
    let a = record(&users, &id(1), &[]);
    let b = record(&users, &id(1), &[("name", Value::text("b"))]);
    let s1 = create(store, &users, &a).unwrap();
    let s2 = update(store, &users, &a, &b).unwrap();
    let s3 = delete(store, &users, &b).unwrap();
    assert!(start < s1 && s1 < s2 && s2 < s3);
    let all = store.changes_since(start, 100).unwrap();
    let seen: Vec<(u64, Action)> = all.iter().map(|c| (c.seq, c.action)).collect();
    assert_eq!(
        seen,
        [
            (s1, Action::Create),
            (s2, Action::Update),
            (s3, Action::Delete)
        ]
    );
    assert!(all
        .iter()
        .all(|c| c.record_id == id(1) && c.collection_id == USERS));
    let deleted: Vec<Option<&Record>> = all.iter().map(|c| c.deleted.as_ref()).collect();
    assert_eq!(
        deleted,
        [None, None, Some(&b)],
        "a delete carries the record's last state"
    );
    assert_eq!(store.changes_since(start, 2).unwrap().len(), 2);
    assert_eq!(store.changes_since(s1, 1).unwrap()[0].seq, s2);
    assert!(store.changes_since(s3, 10).unwrap().is_empty());
    assert!(store.changes_since(u64::MAX, 10).unwrap().is_empty());
    assert!(store.changes_since(start, 0).unwrap().is_empty());
    store.sync(s3).unwrap();
    store.sync(0).unwrap();
    store.sync(u64::MAX).unwrap();
}

fn referencing_follows_relations(store: &dyn RecordStore) {
    let users = put(store, users());
    let posts = put(store, posts());
    let (u1, u2) = (id(1), id(2));
    for u in [&u1, &u2] {
        create(store, &users, &record(&users, u, &[])).unwrap();
    }
    let p1 = record(
        &posts,
        &id(10),
        &[("author", Value::text(&u1)), ("tags", texts(&[&u1, &u2]))],
    );
    let p2 = record(
        &posts,
        &id(11),
        &[("author", Value::text(&u2)), ("tags", texts(&[&u2]))],
    );
    create(store, &posts, &p1).unwrap();
    create(store, &posts, &p2).unwrap();
    let (author, tags) = (
        posts.field_pos("author").unwrap(),
        posts.field_pos("tags").unwrap(),
    );
    let refs = |pos: usize, target: &str| -> Vec<String> {
        let mut ids: Vec<String> = store
            .referencing(&posts, pos, target)
            .unwrap()
            .iter()
            .map(|r| r.id().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(refs(author, &u1), [id(10)]);
    let mut both = vec![id(10), id(11)];
    both.sort();
    assert_eq!(refs(tags, &u2), both);
    assert!(refs(tags, &id(99)).is_empty());
    let p1b = record(
        &posts,
        &id(10),
        &[("author", Value::text(&u2)), ("tags", texts(&[&u1]))],
    );
    update(store, &posts, &p1, &p1b).unwrap();
    assert!(refs(author, &u1).is_empty());
    assert_eq!(refs(tags, &u2), [id(11)]);
    delete(store, &posts, &p2).unwrap();
    assert!(refs(tags, &u2).is_empty());
    assert_eq!(refs(author, &u2), [id(10)]);
    // A field that is not a relation is looked through too.
    let title = posts.field_pos("title").unwrap();
    assert!(refs(title, &u1).is_empty());
}

fn scan_stops_when_told(store: &dyn RecordStore) {
    let users = put(store, users());
    for n in 0..5 {
        create(store, &users, &record(&users, &id(n), &[])).unwrap();
    }
    let mut seen = 0;
    store
        .scan(&users, &mut |_| {
            seen += 1;
            true
        })
        .unwrap();
    assert_eq!(seen, 5);
    seen = 0;
    store
        .scan(&users, &mut |_| {
            seen += 1;
            seen < 2
        })
        .unwrap();
    assert_eq!(seen, 2);
}

fn concurrent_updates_all_apply(store: &dyn RecordStore) {
    let posts = put(store, posts());
    create(
        store,
        &posts,
        &record(&posts, &id(1), &[("views", Value::Number(0.0))]),
    )
    .unwrap();
    let views = posts.field_pos("views").unwrap();
    let (threads, rounds) = (4, 10);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..rounds {
                    loop {
                        let old = store.get(&posts, &id(1)).unwrap().unwrap();
                        let mut new = old.clone();
                        new.values[views] =
                            Value::Number(old.values[views].as_f64().unwrap() + 1.0);
                        match update(store, &posts, &old, &new) {
                            Ok(seq) => {
                                store.sync(seq).unwrap();
                                break;
                            }
                            Err(e) if e.code == Code::Conflict => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    let last = store.get(&posts, &id(1)).unwrap().unwrap();
    assert_eq!(
        last.values[views],
        Value::Number(f64::from(threads * rounds))
    );
}
