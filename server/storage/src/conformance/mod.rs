//! The conformance suite: what every [`RecordStore`] must do, written once against the
//! trait alone and run against each implementation (`run_conformance(|| store)`).
//!
//! Test code: it panics on the first broken expectation, naming the case.

mod query;
mod records;
mod schema;

use std::sync::Arc;

use basalt_core::record::Record;
use basalt_core::schema::{Collection, Field, FieldKind, IndexDef};
use basalt_core::store::{Page, Query, RecordStore, Seq, Write};
use basalt_core::{Code, Error, Value};

/// A case of the suite; it gets a fresh, empty store.
pub type Case = fn(&dyn RecordStore);

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, Case)> {
    let mut all = Vec::new();
    all.extend(records::CASES);
    all.extend(query::CASES);
    all.extend(schema::CASES);
    all
}

/// Runs every case, each against a store fresh from `make`.
pub fn run_conformance<S: RecordStore>(make: impl Fn() -> S) {
    for (name, case) in cases() {
        eprintln!("conformance: {name}");
        let store = make();
        case(&store);
    }
}

/// Fixture collections and records shared by the cases (and the crate's own tests).
pub mod fixtures {
    use super::*;

    pub const USERS: &str = "pbc_users";
    pub const POSTS: &str = "pbc_posts";
    pub const ACCOUNTS: &str = "pbc_accounts";

    /// A collection with an `id` field first, then `fields`, with stable field ids
    /// (`f_<name>`) and slots, and `indexes` parsed.
    pub fn collection(
        id: &str,
        name: &str,
        fields: &[(&str, FieldKind)],
        indexes: &[&str],
    ) -> Collection {
        let mut c: Collection =
            serde_json::from_value(serde_json::json!({ "id": id, "name": name }))
                .expect("minimal collection");
        c.fields.push(Field {
            id: "f_id".into(),
            slot: 0,
            ..Field::new("id", FieldKind::Text(Default::default()))
        });
        for (i, (field, kind)) in fields.iter().enumerate() {
            c.fields.push(Field {
                id: format!("f_{field}"),
                slot: i as u32 + 1,
                ..Field::new(field, kind.clone())
            });
        }
        c.next_slot = fields.len() as u32 + 1;
        set_indexes(&mut c, indexes);
        c
    }

    /// Replaces the indexes of `c`.
    pub fn set_indexes(c: &mut Collection, indexes: &[&str]) {
        c.indexes = indexes.iter().map(|s| s.to_string()).collect();
        c.index_defs = indexes
            .iter()
            .map(|s| IndexDef::parse(s, c).expect("fixture index"))
            .collect();
    }

    pub fn text() -> FieldKind {
        FieldKind::Text(Default::default())
    }

    pub fn number() -> FieldKind {
        FieldKind::Number(Default::default())
    }

    pub fn boolean() -> FieldKind {
        FieldKind::Bool(Default::default())
    }

    pub fn relation(target: &str, max_select: u32) -> FieldKind {
        let options = serde_json::json!({ "type": "relation", "collectionId": target, "maxSelect": max_select });
        serde_json::from_value(options).expect("relation options")
    }

    pub fn users() -> Collection {
        collection(USERS, "users", &[("name", text())], &[])
    }

    /// Posts: a partial unique index on `slug`, indexes on `views` and
    /// `(published, views)`, a single (`author`) and a multiple (`tags`) relation.
    pub fn posts() -> Collection {
        collection(
            POSTS,
            "posts",
            &[
                ("title", text()),
                ("views", number()),
                ("published", boolean()),
                ("slug", text()),
                ("author", relation(USERS, 1)),
                ("tags", relation(USERS, 0)),
            ],
            &[
                "CREATE UNIQUE INDEX idx_slug ON posts (slug) WHERE slug != ''",
                "CREATE INDEX idx_views ON posts (views)",
                "CREATE INDEX idx_pub_views ON posts (published, views)",
            ],
        )
    }

    /// Accounts: unique `email`, and unique `(name, team)`.
    pub fn accounts() -> Collection {
        collection(
            ACCOUNTS,
            "accounts",
            &[("email", text()), ("name", text()), ("team", text())],
            &[
                "CREATE UNIQUE INDEX idx_email ON accounts (email)",
                "CREATE UNIQUE INDEX idx_name_team ON accounts (name, team)",
            ],
        )
    }

    /// A record of `c` with the given values; other fields are zero.
    pub fn record(c: &Collection, id: &str, values: &[(&str, Value)]) -> Record {
        let mut r = Record::zero(c);
        r.values[0] = Value::text(id);
        for (name, value) in values {
            let pos = c
                .field_pos(name)
                .unwrap_or_else(|| panic!("fixture field {name}"));
            r.values[pos] = value.clone();
        }
        r
    }

    /// The `n`th test id: 15 characters, not in `n` order.
    pub fn id(n: usize) -> String {
        format!("x{:014}", (n * 7_919 + 13) % 10_007)
    }

    pub fn texts(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::text(*s)).collect())
    }
}

/// Stores `c` as a new collection and returns it shared.
fn put(store: &dyn RecordStore, c: Collection) -> Arc<Collection> {
    store.put_collection(None, &c).expect("put collection");
    Arc::new(c)
}

fn create(store: &dyn RecordStore, c: &Arc<Collection>, r: &Record) -> Result<Seq, Error> {
    store.commit(vec![Write::Create {
        collection: c.clone(),
        record: r.clone(),
    }])
}

fn update(
    store: &dyn RecordStore,
    c: &Arc<Collection>,
    old: &Record,
    new: &Record,
) -> Result<Seq, Error> {
    store.commit(vec![Write::Update {
        collection: c.clone(),
        old: old.clone(),
        new: new.clone(),
    }])
}

fn delete(store: &dyn RecordStore, c: &Arc<Collection>, old: &Record) -> Result<Seq, Error> {
    store.commit(vec![Write::Delete {
        collection: c.clone(),
        old: old.clone(),
    }])
}

fn list(store: &dyn RecordStore, c: &Arc<Collection>, query: Query) -> Page {
    store.query(c, &query).expect("query")
}

fn ids(page: &Page) -> Vec<String> {
    page.records.iter().map(|r| r.id().to_owned()).collect()
}

/// Asserts a validation error whose data names exactly `fields`, each not unique.
fn assert_not_unique(result: Result<Seq, Error>, fields: &[&str]) {
    let e = result.expect_err("expected a uniqueness failure");
    assert_eq!(e.code, Code::ValidationFailed, "{e}");
    let mut named: Vec<&str> = e.data.keys().map(String::as_str).collect();
    named.sort_unstable();
    let mut want = fields.to_vec();
    want.sort_unstable();
    assert_eq!(named, want, "{e:?}");
    for fe in e.data.values() {
        assert_eq!(fe.code, "validation_not_unique");
        assert_eq!(fe.message, "Value must be unique.");
    }
}

fn assert_code<T: std::fmt::Debug>(result: Result<T, Error>, code: Code) {
    match result {
        Err(e) => assert_eq!(e.code, code, "{e:?}"),
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
    }
}
