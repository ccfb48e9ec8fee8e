//! Collection definitions: persistence, index changes, field changes, deletion.

use std::sync::Arc;

use basalt_core::schema::{Collection, Field};
use basalt_core::store::RecordStore;
use basalt_core::{Code, Value};

use super::fixtures::*;
use super::*;

pub(super) const CASES: [(&str, Case); 8] = [
    ("settings_round_trip", settings_round_trip),
    ("stale_writers_lose_nothing", stale_writers_lose_nothing),
    ("collections_round_trip", collections_round_trip),
    (
        "new_unique_index_over_duplicates_fails_cleanly",
        new_unique_index_over_duplicates_fails_cleanly,
    ),
    ("index_changes_take_effect", index_changes_take_effect),
    ("field_changes_keep_values", field_changes_keep_values),
    (
        "removed_relation_fields_are_forgotten",
        removed_relation_fields_are_forgotten,
    ),
    (
        "deleted_collections_leave_nothing",
        deleted_collections_leave_nothing,
    ),
];

fn change(
    store: &dyn RecordStore,
    old: &Collection,
    new: Collection,
) -> Result<Arc<Collection>, basalt_core::Error> {
    store.put_collection(Some(old), &new)?;
    Ok(Arc::new(new))
}

fn settings_round_trip(store: &dyn RecordStore) {
    assert_eq!(store.load_settings().unwrap(), None);
    let first = store.save_settings(br#"{"meta":{"appName":"a"}}"#).unwrap();
    let second = store.save_settings(br#"{"meta":{"appName":"b"}}"#).unwrap();
    assert!(second > first, "every save takes a new sequence");
    store.sync(second).unwrap();
    assert_eq!(
        store.load_settings().unwrap().as_deref(),
        Some(&br#"{"meta":{"appName":"b"}}"#[..])
    );
}

fn collections_round_trip(store: &dyn RecordStore) {
    assert!(store.load_collections().unwrap().is_empty());
    let s1 = store.put_collection(None, &users()).unwrap();
    let s2 = store.put_collection(None, &posts()).unwrap();
    assert!(s2 > s1);
    store.sync(s2).unwrap();
    let loaded = store.load_collections().unwrap();
    let mut want = vec![users(), posts()];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(loaded.len(), 2);
    for (got, want) in loaded.iter().zip(&want) {
        assert_eq!(got.id, want.id);
        assert_eq!(got.fields, want.fields, "fields with ids and slots");
        assert_eq!(got.index_defs, want.index_defs);
        assert_eq!(got.next_slot, want.next_slot);
    }
}

fn new_unique_index_over_duplicates_fails_cleanly(store: &dyn RecordStore) {
    let posts = put(store, posts());
    for n in 0..3 {
        create(
            store,
            &posts,
            &record(&posts, &id(n), &[("title", Value::text("same"))]),
        )
        .unwrap();
    }
    let mut changed = (*posts).clone();
    let mut indexes: Vec<String> = posts.indexes.clone();
    indexes.push("CREATE UNIQUE INDEX idx_title ON posts (title)".into());
    set_indexes(
        &mut changed,
        &indexes.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let e = change(store, &posts, changed).unwrap_err();
    assert_eq!(e.code, Code::ValidationFailed);
    assert_eq!(e.data["indexes"].code, "validation_not_unique");
    // Nothing changed: the old definition is stored and enforced, the new one is not.
    let loaded = store.load_collections().unwrap();
    assert_eq!(loaded[0].index_defs, posts.index_defs);
    create(
        store,
        &posts,
        &record(
            &posts,
            &id(3),
            &[("title", Value::text("same")), ("slug", Value::text("s"))],
        ),
    )
    .unwrap();
    assert_not_unique(
        create(
            store,
            &posts,
            &record(&posts, &id(4), &[("slug", Value::text("s"))]),
        ),
        &["slug"],
    );
}

fn index_changes_take_effect(store: &dyn RecordStore) {
    let posts = put(store, posts());
    for n in 0..4 {
        create(
            store,
            &posts,
            &record(&posts, &id(n), &[("title", Value::text(format!("t{n}")))]),
        )
        .unwrap();
    }
    let mut unique_title = (*posts).clone();
    set_indexes(
        &mut unique_title,
        &["CREATE UNIQUE INDEX idx_title ON posts (title)"],
    );
    let unique_title = change(store, &posts, unique_title).unwrap();
    assert_not_unique(
        create(
            store,
            &unique_title,
            &record(&unique_title, &id(9), &[("title", Value::text("t1"))]),
        ),
        &["title"],
    );
    // The dropped slug index no longer constrains anything.
    for n in 10..12 {
        let values = [
            ("slug", Value::text("same")),
            ("title", Value::text(format!("u{n}"))),
        ];
        create(
            store,
            &unique_title,
            &record(&unique_title, &id(n), &values),
        )
        .unwrap();
    }
    let mut none = (*unique_title).clone();
    set_indexes(&mut none, &[]);
    let none = change(store, &unique_title, none).unwrap();
    create(
        store,
        &none,
        &record(&none, &id(20), &[("title", Value::text("t1"))]),
    )
    .unwrap();
    // Making an index unique again re-checks the data.
    let mut again = (*none).clone();
    set_indexes(
        &mut again,
        &["CREATE UNIQUE INDEX idx_title ON posts (title)"],
    );
    assert_eq!(
        change(store, &none, again).unwrap_err().code,
        Code::ValidationFailed
    );
}

fn field_changes_keep_values(store: &dyn RecordStore) {
    let users = put(store, users());
    let old = record(&users, &id(1), &[("name", Value::text("ann"))]);
    create(store, &users, &old).unwrap();
    // Rename `name` (same field id and slot) and add `age`.
    let mut renamed = (*users).clone();
    renamed.fields[1].name = "fullName".into();
    renamed.fields.push(Field {
        id: "f_age".into(),
        slot: renamed.next_slot,
        ..Field::new("age", number())
    });
    renamed.next_slot += 1;
    let renamed = change(store, &users, renamed).unwrap();
    let got = store.get(&renamed, &id(1)).unwrap().unwrap();
    assert_eq!(got.get(&renamed, "fullName"), Some(&Value::text("ann")));
    assert_eq!(
        got.get(&renamed, "age"),
        Some(&Value::Number(0.0)),
        "an added field reads as zero"
    );
    let mut older = got.clone();
    older.values[2] = Value::Number(42.0);
    update(store, &renamed, &got, &older).unwrap();
    // A reader still holding the old definition sees what it knows.
    assert_eq!(store.get(&users, &id(1)).unwrap(), Some(old));
}

fn removed_relation_fields_are_forgotten(store: &dyn RecordStore) {
    let users = put(store, users());
    let posts = put(store, posts());
    create(store, &users, &record(&users, &id(1), &[])).unwrap();
    create(
        store,
        &posts,
        &record(&posts, &id(2), &[("tags", texts(&[&id(1)]))]),
    )
    .unwrap();
    let mut without = (*posts).clone();
    without.fields.retain(|f| f.name != "tags");
    let without = change(store, &posts, without).unwrap();
    // A new relation field has a new slot: old values do not come back under it.
    let mut with_new = (*without).clone();
    with_new.fields.push(Field {
        id: "f_labels".into(),
        slot: with_new.next_slot,
        ..Field::new("labels", relation(USERS, 0))
    });
    with_new.next_slot += 1;
    let with_new = change(store, &without, with_new).unwrap();
    let labels = with_new.field_pos("labels").unwrap();
    assert!(store
        .referencing(&with_new, labels, &id(1))
        .unwrap()
        .is_empty());
    let p = store.get(&with_new, &id(2)).unwrap().unwrap();
    let mut labelled = p.clone();
    labelled.values[labels] = texts(&[&id(1)]);
    update(store, &with_new, &p, &labelled).unwrap();
    assert_eq!(
        store.referencing(&with_new, labels, &id(1)).unwrap(),
        [labelled]
    );
}

fn deleted_collections_leave_nothing(store: &dyn RecordStore) {
    let posts = put(store, posts());
    create(
        store,
        &posts,
        &record(&posts, &id(1), &[("slug", Value::text("s"))]),
    )
    .unwrap();
    let seq = store.delete_collection(&posts).unwrap();
    store.sync(seq).unwrap();
    assert!(store.load_collections().unwrap().is_empty());
    assert_eq!(store.get(&posts, &id(1)).unwrap(), None);
    assert_code(
        create(store, &posts, &record(&posts, &id(2), &[])),
        Code::CollectionNotFound,
    );
    let again = put(store, super::fixtures::posts());
    assert_eq!(store.get(&again, &id(1)).unwrap(), None);
    let page = list(
        store,
        &again,
        Query {
            limit: 10,
            count_total: true,
            ..Query::default()
        },
    );
    assert_eq!(page.total, Some(0));
    create(
        store,
        &again,
        &record(&again, &id(1), &[("slug", Value::text("s"))]),
    )
    .unwrap();
}

/// A writer still holding the definition from before a field was added (a schema
/// change raced it) neither conflicts forever nor erases the new field's value, and
/// indexes over the new field stay right.
fn stale_writers_lose_nothing(store: &dyn RecordStore) {
    let users = put(store, users());
    let ann = record(&users, &id(1), &[("name", Value::text("ann"))]);
    create(store, &users, &ann).unwrap();
    let mut with_age = (*users).clone();
    with_age.fields.push(Field {
        id: "f_age".into(),
        slot: with_age.next_slot,
        ..Field::new("age", number())
    });
    with_age.next_slot += 1;
    set_indexes(
        &mut with_age,
        &["CREATE UNIQUE INDEX idx_age ON users (age)"],
    );
    let with_age = change(store, &users, with_age).unwrap();
    let age = with_age.field_pos("age").unwrap();
    let current = store.get(&with_age, &id(1)).unwrap().unwrap();
    let mut aged = current.clone();
    aged.values[age] = Value::Number(42.0);
    update(store, &with_age, &current, &aged).unwrap();
    // The stale writer reads and updates through the old definition.
    let seen = store.get(&users, &id(1)).unwrap().unwrap();
    assert_eq!(seen, ann);
    let renamed = record(&users, &id(1), &[("name", Value::text("bob"))]);
    update(store, &users, &seen, &renamed).unwrap();
    let now = store.get(&with_age, &id(1)).unwrap().unwrap();
    assert_eq!(now.values[1], Value::text("bob"));
    assert_eq!(
        now.values[age],
        Value::Number(42.0),
        "the field the writer did not know is kept"
    );
    let other = |n| record(&with_age, &id(n), &[("age", Value::Number(42.0))]);
    assert_not_unique(create(store, &with_age, &other(2)), &["age"]);
    delete(store, &users, &renamed).unwrap();
    create(store, &with_age, &other(3)).unwrap();
}
