//! Unit tests of the mapping, the query language and one index's lifecycle (no store).

use basalt_core::record::Record;
use basalt_core::schema::Collection;
use basalt_core::search::SearchQuery;
use basalt_core::{Code, Value};
use serde_json::json;

use crate::index::CollectionIndex;
use crate::mapping::Mapping;
use crate::query;

fn collection(extra: serde_json::Value) -> Collection {
    let mut def = json!({
        "id": "c1", "name": "notes",
        "fields": [
            {"name": "id", "type": "text"},
            {"name": "title", "type": "text", "searchable": true},
            {"name": "body", "type": "editor", "searchable": true},
            {"name": "views", "type": "number"},
        ],
    });
    def.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::from_value(def).unwrap()
}

/// Parses `text` as a superuser would, against the test collection.
fn parse(
    mapping: &Mapping,
    text: &str,
) -> basalt_core::Result<Option<Box<dyn tantivy::query::Query>>> {
    let c = collection(json!({}));
    query::parse(
        mapping,
        &c,
        &SearchQuery {
            text,
            all_fields: true,
        },
    )
}

fn record(id: &str, title: &str, body: &str) -> Record {
    Record {
        values: vec![
            Value::text(id),
            Value::text(title),
            Value::text(body),
            Value::Number(1.0),
        ],
    }
}

#[test]
fn the_fingerprint_follows_what_the_index_depends_on() {
    let base = Mapping::of(&collection(json!({}))).unwrap();
    assert_eq!(base.fields.len(), 2);
    let stemmed = Mapping::of(&collection(json!({"searchLanguage": "english"}))).unwrap();
    assert_ne!(base.dir_name(), stemmed.dir_name());
    let mut renamed = collection(json!({}));
    renamed.fields[1].name = "heading".into();
    assert_ne!(base.dir_name(), Mapping::of(&renamed).unwrap().dir_name());
    let mut plain = collection(json!({}));
    plain.fields[1].kind = serde_json::from_value(json!({"type": "text"})).unwrap();
    plain.fields[2].kind = serde_json::from_value(json!({"type": "editor"})).unwrap();
    assert!(Mapping::of(&plain).is_none());
    assert_eq!(
        base.dir_name(),
        Mapping::of(&collection(json!({}))).unwrap().dir_name()
    );
}

#[test]
fn bad_queries_are_invalid_search_errors() {
    let mapping = Mapping::of(&collection(json!({}))).unwrap();
    for input in [
        "\"open",
        "(a",
        "views:1",
        "nope:a",
        "title:[a TO z]",
        "*",
        "-a",
        "a*",
        &vec!["w"; query::MAX_SEARCH_TERMS + 1].join(" "),
    ] {
        let err = parse(&mapping, input)
            .err()
            .unwrap_or_else(|| panic!("{input}"));
        assert_eq!(err.code, Code::InvalidSearch, "{input}");
    }
    for input in [
        "rust",
        "title:rust",
        "\"a b\"",
        "ru*",
        "\"a b\"*",
        "a OR b",
        "(a b)^2",
    ] {
        assert!(parse(&mapping, input).unwrap().is_some(), "{input}");
    }
    assert!(parse(&mapping, "!!").unwrap().is_none());
}

#[test]
fn an_index_reopens_at_its_committed_sequence_and_only_for_its_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let c = collection(json!({}));
    let mapping = Mapping::of(&c).unwrap();
    let index = CollectionIndex::create(dir.path(), "c1", mapping.clone(), 15 << 20).unwrap();
    index
        .upsert(&c, &record("a", "Rust book", "<p>ownership</p>"))
        .unwrap();
    index
        .upsert(&c, &record("b", "Go book", "<p>goroutines</p>"))
        .unwrap();
    index.commit(7).unwrap();
    index.upsert(&c, &record("a", "Rust tome", "")).unwrap();
    index.delete("b");
    // Not committed: searches still see the committed state.
    let q = parse(&mapping, "book").unwrap().unwrap();
    assert_eq!(index.search(&*q, 0, 10).unwrap().total, 2);
    drop(index);

    let index = CollectionIndex::open(dir.path(), "c1", mapping.clone(), 15 << 20)
        .unwrap()
        .unwrap();
    assert_eq!(index.applied(), 7, "uncommitted work is replayed from here");
    let q = parse(&mapping, "book").unwrap().unwrap();
    assert_eq!(index.search(&*q, 0, 10).unwrap().total, 2);
    index.upsert(&c, &record("a", "Rust tome", "")).unwrap();
    index.delete("b");
    index.commit(9).unwrap();
    assert_eq!(index.search(&*q, 0, 10).unwrap().total, 0);
    let q = parse(&mapping, "tome").unwrap().unwrap();
    let hits = index.search(&*q, 0, 10).unwrap();
    assert_eq!(hits.hits.len(), 1);
    assert_eq!(hits.hits[0].id, "a");
    drop(index);

    let stemmed = Mapping::of(&collection(json!({"searchLanguage": "english"}))).unwrap();
    assert!(CollectionIndex::open(dir.path(), "c1", stemmed, 15 << 20)
        .unwrap()
        .is_none());
}

#[test]
fn hidden_fields_are_searched_by_superusers_only() {
    let mut c = collection(json!({}));
    c.fields[2].hidden = true;
    let mapping = Mapping::of(&c).unwrap();
    let guest = |text| SearchQuery {
        text,
        all_fields: false,
    };
    let err = query::parse(&mapping, &c, &guest("body:x")).err().unwrap();
    assert_eq!(err.code, Code::InvalidSearch);
    let fields = query::searchable(&mapping, &c, &guest("x"));
    assert_eq!(
        fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["title"]
    );
    let all = SearchQuery {
        text: "body:x",
        all_fields: true,
    };
    assert!(query::parse(&mapping, &c, &all).unwrap().is_some());
}
