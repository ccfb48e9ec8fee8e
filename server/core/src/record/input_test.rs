//! Expected values, codes, messages and params were checked against a real
//! PocketBase 0.40.6 (same bodies sent to both).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value as Json};

use super::*;
use crate::schema::validate_collection;
use crate::Error;

/// Records by `(collection id, record id)`.
#[derive(Default)]
struct Mem(Mutex<BTreeMap<(String, String), Record>>);

impl Mem {
    fn put(&self, c: &Collection, r: Record) {
        self.0.lock().insert((c.id.clone(), r.id().to_owned()), r);
    }
}

impl Lookup for Mem {
    fn get(&self, c: &Collection, id: &str) -> Result<Option<Record>> {
        Ok(self.0.lock().get(&(c.id.clone(), id.to_owned())).cloned())
    }
    fn referencing(&self, _: &Collection, _: usize, _: &str) -> Result<Vec<Record>> {
        Ok(Vec::new())
    }
    fn scan(&self, _: &Collection, _: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        Ok(())
    }
}

fn collection(v: Json, catalog: &Catalog) -> Arc<Collection> {
    let mut c: Collection = serde_json::from_value(v).unwrap();
    validate_collection(&mut c, None, catalog).unwrap();
    Arc::new(c)
}

/// A base collection with one field of every kind, like the one used against PocketBase.
fn kitchen() -> (Arc<Collection>, Catalog) {
    let c = collection(
        json!({"name": "c", "fields": [
            {"name": "t", "type": "text"}, {"name": "n", "type": "number"},
            {"name": "b", "type": "bool"}, {"name": "e", "type": "email"},
            {"name": "u", "type": "url"}, {"name": "ed", "type": "editor"},
            {"name": "d", "type": "date"},
            {"name": "s", "type": "select", "values": ["a", "b", "c"]},
            {"name": "sm", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "j", "type": "json"}, {"name": "f", "type": "file"},
            {"name": "fm", "type": "file", "maxSelect": 3},
            {"name": "h", "type": "text", "hidden": true},
            {"name": "cr", "type": "autodate", "onCreate": true},
            {"name": "up", "type": "autodate", "onCreate": true, "onUpdate": true},
            {"name": "uo", "type": "autodate", "onUpdate": true}
        ]}),
        &Catalog::default(),
    );
    let catalog = Catalog::new(vec![c.clone()]);
    (c, catalog)
}

fn body(v: Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap_or_default()
}

const SUPER: Input = Input {
    access: Access::Superuser,
    new_files: &[],
};
const GUEST: Input = Input {
    access: Access::Default,
    new_files: &[],
};

fn write(
    c: &Collection,
    old: Option<&Record>,
    v: Json,
    lookup: &Mem,
    catalog: &Catalog,
    input: &Input,
) -> Result<Record> {
    apply_input_as(c, old, &body(v), lookup, catalog, input)
}

fn create(c: &Collection, v: Json) -> Result<Record> {
    let (_, catalog) = kitchen();
    write(c, None, v, &Mem::default(), &catalog, &SUPER)
}

fn get(c: &Collection, r: &Record, f: &str) -> Json {
    r.get(c, f).map(Value::to_json).unwrap_or(Json::Null)
}

fn codes(e: &Error) -> Vec<(&str, &str)> {
    e.data
        .iter()
        .map(|(k, v)| (k.as_str(), v.code.as_str()))
        .collect()
}

#[test]
fn empty_create_gets_an_id_zero_values_and_create_dates() {
    let (c, _) = kitchen();
    let r = create(&c, json!({})).unwrap();
    assert!(crate::ids::is_valid_id(r.id()));
    for (f, want) in [
        ("t", json!("")),
        ("n", json!(0)),
        ("b", json!(false)),
        ("sm", json!([])),
        ("s", json!("")),
        ("j", json!(null)),
        ("fm", json!([])),
        ("uo", json!("")),
    ] {
        assert_eq!(get(&c, &r, f), want, "{f}");
    }
    let cr = get(&c, &r, "cr");
    assert_eq!(cr.as_str().unwrap().len(), 24);
    assert_eq!(cr, get(&c, &r, "up"));
}

#[test]
fn values_are_coerced_like_pocketbase() {
    let (c, _) = kitchen();
    let r = create(
        &c,
        json!({"t": 12.5, "n": "12", "b": "1", "s": ["a", "b"], "sm": "b", "j": "abc",
               "d": "2024-01-02T03:04:05+02:00", "ed": 12}),
    )
    .unwrap();
    for (f, want) in [
        ("t", json!("12.5")),
        ("n", json!(12)),
        ("b", json!(true)),
        ("s", json!("b")),
        ("sm", json!(["b"])),
        ("j", json!("abc")),
        ("d", json!("2024-01-02 01:04:05.000Z")),
        ("ed", json!("12")),
    ] {
        assert_eq!(get(&c, &r, f), want, "{f}");
    }
    let r = create(
        &c,
        json!({"t": [1, 2], "n": "12abc", "b": "yes", "sm": "[\"a\",\"b\"]", "j": "[1, 2]", "d": "bad"}),
    )
    .unwrap();
    for (f, want) in [
        ("t", json!("")),
        ("n", json!(0)),
        ("b", json!(false)),
        ("sm", json!(["a", "b"])),
        ("j", json!([1, 2])),
        ("d", json!("")),
    ] {
        assert_eq!(get(&c, &r, f), want, "{f}");
    }
}

#[test]
fn client_ids_follow_the_id_field() {
    let (c, catalog) = kitchen();
    let e = create(&c, json!({"id": "abc"})).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_min_text_constraint")]);
    assert_eq!(e.data["id"].message, "Must be at least 15 character(s).");
    assert_eq!(e.data["id"].params["min"], 15);
    let e = create(&c, json!({"id": "ABCDEFGHIJKLMNO"})).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_invalid_format")]);
    let r = create(&c, json!({"id": 123456789012345u64})).unwrap();
    assert_eq!(r.id(), "123456789012345");
    let r = create(&c, json!({"id": ""})).unwrap();
    assert_eq!(r.id().len(), 15);
    let mem = Mem::default();
    let e = write(
        &c,
        Some(&r),
        json!({"id": "zzzzzzzzzzzzzzz"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap_err();
    assert_eq!(e.message, "Failed to update record.");
    assert_eq!(codes(&e), [("id", "validation_pk_change")]);
    let same = write(&c, Some(&r), json!({"id": r.id()}), &mem, &catalog, &SUPER).unwrap();
    assert_eq!(same.id(), r.id());
}

#[test]
fn custom_primary_keys_are_checked_for_path_characters_and_duplicates() {
    let c = collection(
        json!({"name": "k", "fields": [{"name": "id", "type": "text", "pattern": "^.+$", "min": 1, "max": 20}]}),
        &Catalog::default(),
    );
    let catalog = Catalog::new(vec![c.clone()]);
    let mem = Mem::default();
    let e = write(&c, None, json!({"id": "a/b"}), &mem, &catalog, &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_forbidden_pk_character")]);
    assert_eq!(
        e.data["id"].message,
        "'/' is not a valid primary key character."
    );
    let e = write(&c, None, json!({"id": "nul"}), &mem, &catalog, &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_reserved_pk")]);
    let r = write(&c, None, json!({"id": "Taken"}), &mem, &catalog, &SUPER).unwrap();
    mem.put(&c, r);
    let e = write(&c, None, json!({"id": "Taken"}), &mem, &catalog, &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_pk_invalid")]);
}

#[test]
fn hidden_and_system_keys_are_ignored_unless_allowed() {
    let (c, catalog) = kitchen();
    let mem = Mem::default();
    let v = json!({"h": "secret", "cr": "2020-01-01", "collectionId": "x", "expand": {"a": 1}, "nope": 1, "t+": "x"});
    let guest = write(&c, None, v.clone(), &mem, &catalog, &GUEST).unwrap();
    assert_eq!(get(&c, &guest, "h"), "");
    assert_eq!(get(&c, &guest, "t"), "");
    assert_ne!(get(&c, &guest, "cr"), "2020-01-01 00:00:00.000Z");
    let sup = write(&c, None, v, &mem, &catalog, &SUPER).unwrap();
    assert_eq!(get(&c, &sup, "h"), "secret");
}

#[test]
fn modifiers_apply_shortest_key_first() {
    let (c, catalog) = kitchen();
    let mem = Mem::default();
    let r = create(&c, json!({"n": 10, "n+": 5})).unwrap();
    assert_eq!(get(&c, &r, "n"), 15);
    let r = create(
        &c,
        json!({"n+": 5, "n-": 2, "s+": "b", "sm": ["a", "b"], "sm-": "a", "+sm": ["c"]}),
    )
    .unwrap();
    assert_eq!(get(&c, &r, "n"), 3);
    assert_eq!(get(&c, &r, "s"), "b");
    assert_eq!(get(&c, &r, "sm"), json!(["c", "b"]));
    let r2 = write(
        &c,
        Some(&r),
        json!({"sm+": "[\"a\"]", "s+": ["a", "c"], "n-": "1.5"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r2, "sm"), json!(["c", "b", "a"]));
    assert_eq!(get(&c, &r2, "s"), "c");
    assert_eq!(get(&c, &r2, "n"), 1.5);
}

#[test]
fn text_and_number_constraints() {
    let (c, _) = kitchen();
    let e = create(&c, json!({"t": "x".repeat(5001), "n": "NaN"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("n", "validation_not_a_number"),
            ("t", "validation_max_text_constraint")
        ]
    );
    assert_eq!(
        e.data["t"].message,
        "Must be no more than 5000 character(s)."
    );
    assert_eq!(e.data["t"].params["max"], 5000);
    assert_eq!(
        e.data["n"].message,
        "The submitted number is not properly formatted."
    );
    let c2 = collection(
        json!({"name": "nums", "fields": [
            {"name": "n", "type": "number", "min": 1, "max": 1000000, "onlyInt": true},
            {"name": "r", "type": "number", "required": true},
            {"name": "t", "type": "text", "min": 3, "max": 5, "pattern": "^[a-z]+$", "required": true}
        ]}),
        &Catalog::default(),
    );
    let e = create(&c2, json!({"n": 0.5, "t": "ab"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("n", "validation_only_int_constraint"),
            ("r", "validation_required"),
            ("t", "validation_min_text_constraint")
        ]
    );
    assert_eq!(e.data["n"].message, "Decimal numbers are not allowed.");
    let e = create(&c2, json!({"n": 2000000, "r": 1, "t": "ABC"})).unwrap_err();
    assert_eq!(e.data["n"].message, "Must be less or equal than 1e+06.");
    assert_eq!(e.data["n"].params["max"], 1000000);
    assert_eq!(codes(&e)[1], ("t", "validation_invalid_format"));
    let e = create(&c2, json!({"n": -3, "r": 1, "t": "abc"})).unwrap_err();
    assert_eq!(e.data["n"].message, "Must be greater or equal than 1.");
    assert!(create(&c2, json!({"n": 0, "r": 1, "t": "abc"})).is_ok());
    let e = create(&c2, json!({"r": 1, "t": ""})).unwrap_err();
    assert_eq!(codes(&e), [("t", "validation_required")]);
}

#[test]
fn email_url_and_editor_constraints() {
    let c = collection(
        json!({"name": "x", "fields": [
            {"name": "e", "type": "email", "onlyDomains": ["example.com"]},
            {"name": "e2", "type": "email", "exceptDomains": ["bad.com"]},
            {"name": "u", "type": "url", "onlyDomains": ["example.com"]},
            {"name": "ed", "type": "editor", "maxSize": 5}
        ]}),
        &Catalog::default(),
    );
    let e = create(&c, json!({"e": "x@EXAMPLE.com", "e2": "x@bad.com", "u": "http://example.com:80/x", "ed": "123456"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("e", "validation_email_domain_not_allowed"),
            ("e2", "validation_email_domain_not_allowed"),
            ("ed", "validation_content_size_limit"),
            ("u", "validation_url_domain_not_allowed")
        ]
    );
    assert_eq!(e.data["e"].message, "Email domain is not allowed.");
    assert_eq!(e.data["u"].message, "Url domain is not allowed.");
    assert_eq!(
        e.data["ed"].message,
        "The maximum allowed content size is 5 bytes."
    );
    let e = create(&c, json!({"e": "a@b", "u": "nope"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("e", "validation_is_email"),
            ("u", "validation_invalid_url")
        ]
    );
    assert_eq!(e.data["u"].message, "Must be a valid url.");
    assert!(create(
        &c,
        json!({"e": "x@example.com", "u": "https://example.com/x", "ed": "12345"})
    )
    .is_ok());
}

#[test]
fn date_bounds() {
    let c = collection(
        json!({"name": "x", "fields": [
            {"name": "d", "type": "date", "min": "2024-01-01", "max": "2024-12-31 10:00:00.5Z"},
            {"name": "r", "type": "date", "required": true}
        ]}),
        &Catalog::default(),
    );
    let e = create(&c, json!({"d": "2023-06-01", "r": "bad"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("d", "validation_min_greater_equal_than_required"),
            ("r", "validation_required")
        ]
    );
    assert_eq!(
        e.data["d"].message,
        "Must be no less than 2024-01-01 00:00:00 +0000 UTC."
    );
    assert_eq!(e.data["d"].params["threshold"], "2024-01-01T00:00:00Z");
    let e = create(&c, json!({"d": "2025-06-01", "r": "2024-01-01"})).unwrap_err();
    assert_eq!(
        e.data["d"].message,
        "Must be no greater than 2024-12-31 10:00:00.5 +0000 UTC."
    );
    assert_eq!(e.data["d"].params["threshold"], "2024-12-31T10:00:00.500Z");
}

#[test]
fn select_and_json_constraints() {
    let c = collection(
        json!({"name": "x", "fields": [
            {"name": "s", "type": "select", "values": ["a", "b", "c"], "maxSelect": 2},
            {"name": "s2", "type": "select", "values": ["a"], "required": true},
            {"name": "j", "type": "json", "maxSize": 10},
            {"name": "jr", "type": "json", "required": true}
        ]}),
        &Catalog::default(),
    );
    let e = create(
        &c,
        json!({"s": ["a", "z"], "s2": 5, "j": {"aaaa": "bbbbbbbbbbbb"}, "jr": ""}),
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("j", "validation_json_size_limit"),
            ("jr", "validation_required"),
            ("s", "validation_invalid_value"),
            ("s2", "validation_invalid_value")
        ]
    );
    assert_eq!(e.data["s"].message, "Invalid value z.");
    assert_eq!(e.data["s"].params["value"], "z");
    assert_eq!(
        e.data["j"].message,
        "The maximum allowed JSON size is 10 bytes."
    );
    let e = create(&c, json!({"s": ["a", "b", "c"], "s2": "a", "jr": "null"})).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("jr", "validation_required"),
            ("s", "validation_too_many_values")
        ]
    );
    assert_eq!(e.data["s"].message, "Select no more than 2.");
    for blank in [json!([]), json!({}), json!(null)] {
        assert!(create(&c, json!({"s2": "a", "jr": blank})).is_err());
    }
    assert!(create(&c, json!({"s2": "a", "jr": false})).is_ok());
    assert!(create(&c, json!({"s2": "a", "jr": 0})).is_ok());
}

#[test]
fn relation_constraints() {
    let (target, _) = kitchen();
    let mem = Mem::default();
    let ids: Vec<String> = (0..3)
        .map(|_| {
            let r = create(&target, json!({})).unwrap();
            let id = r.id().to_owned();
            mem.put(&target, r);
            id
        })
        .collect();
    let c = collection(
        json!({"name": "c2", "fields": [
            {"name": "r", "type": "relation", "collectionId": target.id, "maxSelect": 1, "required": true},
            {"name": "rm", "type": "relation", "collectionId": target.id, "maxSelect": 2, "minSelect": 2},
            {"name": "gone", "type": "relation", "collectionId": target.id, "maxSelect": 1}
        ]}),
        &Catalog::new(vec![target.clone()]),
    );
    let catalog = Catalog::new(vec![target.clone(), c.clone()]);
    let run = |v: Json, catalog: &Catalog| write(&c, None, v, &mem, catalog, &SUPER);
    let e = run(json!({"rm": [ids[0]]}), &catalog).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("r", "validation_required"),
            ("rm", "validation_not_enough_values")
        ]
    );
    assert_eq!(e.data["rm"].message, "Select at least 2.");
    let e = run(
        json!({"r": "nope", "rm": [ids[0], ids[1], ids[2]]}),
        &catalog,
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("r", "validation_missing_rel_records"),
            ("rm", "validation_too_many_values")
        ]
    );
    assert_eq!(
        e.data["r"].message,
        "Failed to find all relation records with the provided ids."
    );
    let r = run(
        json!({"r": [ids[0], ids[1]], "rm": [ids[0], ids[1], ids[0]]}),
        &catalog,
    )
    .unwrap();
    assert_eq!(get(&c, &r, "r"), ids[1].as_str());
    assert_eq!(get(&c, &r, "rm"), json!([ids[0], ids[1]]));
    let without_target = Catalog::new(vec![c.clone()]);
    let e = run(
        json!({"r": ids[0], "rm": [ids[0], ids[1]]}),
        &without_target,
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("r", "validation_missing_rel_collection"),
            ("rm", "validation_missing_rel_collection")
        ]
    );
}

#[test]
fn file_fields_accept_only_known_names() {
    let (c, catalog) = kitchen();
    let mem = Mem::default();
    let e = create(&c, json!({"f": "x.png"})).unwrap_err();
    assert_eq!(codes(&e), [("f", "validation_invalid_file")]);
    assert_eq!(e.data["f"].message, "Invalid new files: [x.png].");
    assert_eq!(e.data["f"].params["invalidFiles"], json!(["x.png"]));
    let uploaded = ["a.txt".to_owned(), "b.txt".to_owned(), "c.txt".to_owned()];
    let input = Input {
        access: Access::Superuser,
        new_files: &uploaded,
    };
    let r = write(
        &c,
        None,
        json!({"fm": ["a.txt", "b.txt"], "f": "c.txt"}),
        &mem,
        &catalog,
        &input,
    )
    .unwrap();
    assert_eq!(get(&c, &r, "fm"), json!(["a.txt", "b.txt"]));
    let e = write(
        &c,
        Some(&r),
        json!({"fm": ["b.txt", "new.txt", "z"]}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap_err();
    assert_eq!(e.data["fm"].message, "Invalid new files: [new.txt z].");
    let r2 = write(
        &c,
        Some(&r),
        json!({"fm-": "a.txt", "f": ""}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r2, "fm"), json!(["b.txt"]));
    assert_eq!(get(&c, &r2, "f"), "");
    let e = write(
        &c,
        Some(&r2),
        json!({"fm+": "a.txt"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap_err();
    assert_eq!(codes(&e), [("fm", "validation_invalid_file")]);
    let many = ["1", "2", "3", "4"].map(String::from);
    let input = Input {
        access: Access::Superuser,
        new_files: &many,
    };
    let e = write(&c, None, json!({"fm": many}), &mem, &catalog, &input).unwrap_err();
    assert_eq!(codes(&e), [("fm", "validation_too_many_files")]);
    assert_eq!(e.data["fm"].message, "The maximum allowed files is 3.");
}

#[test]
fn update_keeps_values_and_refreshes_update_dates() {
    let (c, catalog) = kitchen();
    let mem = Mem::default();
    let mut r = create(&c, json!({"t": "a", "n": 3})).unwrap();
    let cr = c.field_pos("cr").unwrap();
    let up = c.field_pos("up").unwrap();
    r.values[cr] = Value::text("2000-01-01 00:00:00.000Z");
    r.values[up] = Value::text("2000-01-01 00:00:00.000Z");
    let r2 = write(
        &c,
        Some(&r),
        json!({"n+": 1, "up": "1999-01-01"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r2, "t"), "a");
    assert_eq!(get(&c, &r2, "n"), 4);
    assert_eq!(get(&c, &r2, "cr"), "2000-01-01 00:00:00.000Z");
    assert_ne!(get(&c, &r2, "up"), "2000-01-01 00:00:00.000Z");
    assert_eq!(get(&c, &r2, "uo"), get(&c, &r2, "up"));
    let r3 = write(
        &c,
        Some(&r2),
        json!({"j": null, "n": null, "sm": null, "t": null}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r3, "j"), Json::Null);
    assert_eq!(get(&c, &r3, "n"), 0);
    assert_eq!(get(&c, &r3, "t"), "");
}

#[test]
fn stored_values_of_another_shape_are_conformed() {
    let (c, catalog) = kitchen();
    let mut r = create(&c, json!({})).unwrap();
    let sm = c.field_pos("sm").unwrap();
    r.values[sm] = Value::text("a");
    r.values.truncate(sm + 1);
    let r2 = write(
        &c,
        Some(&r),
        json!({"sm+": "b"}),
        &Mem::default(),
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r2, "sm"), json!(["a", "b"]));
    assert_eq!(r2.values.len(), c.fields.len());
}

#[test]
fn autogenerate_patterns_fill_empty_text_on_create() {
    let c = collection(
        json!({"name": "g", "fields": [{"name": "code", "type": "text", "autogeneratePattern": "[A-Z]{4}"}]}),
        &Catalog::default(),
    );
    let catalog = Catalog::new(vec![c.clone()]);
    let mem = Mem::default();
    let r = write(&c, None, json!({}), &mem, &catalog, &SUPER).unwrap();
    let code = get(&c, &r, "code");
    assert!(
        code.as_str()
            .unwrap()
            .chars()
            .all(|ch| ch.is_ascii_uppercase())
            && code.as_str().unwrap().len() == 4
    );
    let r = write(&c, None, json!({"code": "given"}), &mem, &catalog, &SUPER).unwrap();
    assert_eq!(get(&c, &r, "code"), "given");
    let r2 = write(
        &c,
        Some(&r),
        json!({"code:autogenerate": "x-"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    assert_eq!(get(&c, &r2, "code").as_str().unwrap().len(), 6);
    let r3 = write(&c, Some(&r), json!({"code": ""}), &mem, &catalog, &SUPER).unwrap();
    assert_eq!(get(&c, &r3, "code"), "");
}

fn users() -> (Arc<Collection>, Catalog) {
    let u = collection(
        json!({"name": "members", "type": "auth", "fields": [{"name": "nick", "type": "text"}]}),
        &Catalog::default(),
    );
    let catalog = Catalog::new(vec![u.clone()]);
    (u, catalog)
}

#[test]
fn auth_create_checks_passwords_first() {
    let (u, catalog) = users();
    let mem = Mem::default();
    let run = |v: Json, input: &Input| write(&u, None, v, &mem, &catalog, input);
    let e = run(json!({"email": "a@example.com"}), &GUEST).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("password", "validation_required"),
            ("passwordConfirm", "validation_required")
        ]
    );
    let e = run(json!({"password": "1234567"}), &GUEST).unwrap_err();
    assert_eq!(codes(&e), [("passwordConfirm", "validation_required")]);
    let e = run(
        json!({"password": "12345678", "passwordConfirm": "x"}),
        &GUEST,
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [("passwordConfirm", "validation_values_mismatch")]
    );
    assert_eq!(e.data["passwordConfirm"].message, "Values don't match.");
    let pw = json!({"email": "bad", "password": "12345678", "passwordConfirm": "12345678", "verified": true, "nick": "x".repeat(6000)});
    let e = run(pw.clone(), &GUEST).unwrap_err();
    assert_eq!(codes(&e), [("verified", "validation_values_mismatch")]);
    let e = run(pw, &SUPER).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("email", "validation_is_email"),
            ("nick", "validation_max_text_constraint")
        ]
    );
    let long = "x".repeat(72);
    let e = run(
        json!({"email": "c@example.com", "password": long, "passwordConfirm": long}),
        &SUPER,
    )
    .unwrap_err();
    assert_eq!(codes(&e), [("password", "validation_max_text_constraint")]);
    assert_eq!(
        e.data["password"].message,
        "Must be less than 71 character(s)."
    );
    let e = run(
        json!({"email": "c@example.com", "password": "1234567", "passwordConfirm": "1234567"}),
        &SUPER,
    )
    .unwrap_err();
    assert_eq!(
        e.data["password"].message,
        "Must be at least 8 character(s)."
    );
    let e = run(
        json!({"password": "12345678", "passwordConfirm": "12345678", "oldPassword": "zzz"}),
        &GUEST,
    )
    .unwrap_err();
    assert_eq!(codes(&e), [("email", "validation_required")]);
}

#[test]
fn auth_create_hashes_the_password_and_generates_a_token_key() {
    let (u, catalog) = users();
    let r = write(
        &u,
        None,
        json!({"email": "a@example.com", "password": "12345678", "passwordConfirm": "12345678", "tokenKey": "x", "emailVisibility": true}),
        &Mem::default(),
        &catalog,
        &GUEST,
    )
    .unwrap();
    let hash = get(&u, &r, "password");
    assert!(crate::auth::verify_password(
        "12345678",
        hash.as_str().unwrap()
    ));
    assert_eq!(get(&u, &r, "tokenKey").as_str().unwrap().len(), 50);
    assert_eq!(get(&u, &r, "emailVisibility"), true);
    assert_eq!(get(&u, &r, "verified"), false);
}

#[test]
fn auth_ids_are_unique_across_auth_collections() {
    let (u, _) = users();
    let other = collection(
        json!({"name": "admins", "type": "auth"}),
        &Catalog::default(),
    );
    let catalog = Catalog::new(vec![u.clone(), other.clone()]);
    let mem = Mem::default();
    let mut taken = Record::zero(&other);
    taken.values[0] = Value::text("aaaaaaaaaaaaaaa");
    mem.put(&other, taken);
    let v = json!({"id": "aaaaaaaaaaaaaaa", "email": "a@example.com", "password": "12345678", "passwordConfirm": "12345678"});
    let e = write(&u, None, v, &mem, &catalog, &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("id", "validation_invalid_auth_id")]);
}

#[test]
fn auth_updates_need_old_password_or_manage_access() {
    let (u, catalog) = users();
    let mem = Mem::default();
    let r = write(
        &u,
        None,
        json!({"email": "a@example.com", "password": "12345678", "passwordConfirm": "12345678"}),
        &mem,
        &catalog,
        &SUPER,
    )
    .unwrap();
    let upd = |v: Json, input: &Input| write(&u, Some(&r), v, &mem, &catalog, input);
    let nick = upd(json!({"nick": "n"}), &GUEST).unwrap();
    assert_eq!(get(&u, &nick, "tokenKey"), get(&u, &r, "tokenKey"));
    let e = upd(json!({"password": "abcdefgh"}), &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("passwordConfirm", "validation_required")]);
    let e = upd(
        json!({"password": "abcdefgh", "passwordConfirm": "abcdefgh"}),
        &GUEST,
    )
    .unwrap_err();
    assert_eq!(codes(&e), [("oldPassword", "validation_required")]);
    let e = upd(
        json!({"password": "abcdefgh", "passwordConfirm": "abcdefgh", "oldPassword": "nope"}),
        &GUEST,
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [("oldPassword", "validation_invalid_old_password")]
    );
    let e = upd(json!({"oldPassword": "12345678"}), &GUEST).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("password", "validation_required"),
            ("passwordConfirm", "validation_required")
        ]
    );
    let changed = upd(
        json!({"password": "abcdefgh", "passwordConfirm": "abcdefgh", "oldPassword": "12345678"}),
        &GUEST,
    )
    .unwrap();
    assert!(crate::auth::verify_password(
        "abcdefgh",
        get(&u, &changed, "password").as_str().unwrap()
    ));
    assert_ne!(get(&u, &changed, "tokenKey"), get(&u, &r, "tokenKey"));
    let e = upd(
        json!({"email": "new@example.com", "verified": true}),
        &GUEST,
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("email", "validation_values_mismatch"),
            ("verified", "validation_values_mismatch")
        ]
    );
    let manager = Input {
        access: Access::Manager,
        new_files: &[],
    };
    let moved = upd(
        json!({"email": "new@example.com", "verified": true}),
        &manager,
    )
    .unwrap();
    assert_eq!(get(&u, &moved, "email"), "new@example.com");
    assert_ne!(get(&u, &moved, "tokenKey"), get(&u, &r, "tokenKey"));
    let e = upd(json!({"tokenKey": "short"}), &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("tokenKey", "validation_min_text_constraint")]);
    let ignored = upd(json!({"tokenKey": "short"}), &GUEST).unwrap();
    assert_eq!(get(&u, &ignored, "tokenKey"), get(&u, &r, "tokenKey"));
    let e = upd(json!({"password": "", "passwordConfirm": ""}), &SUPER).unwrap_err();
    assert_eq!(codes(&e), [("password", "validation_required")]);
}

#[test]
fn the_simple_options_map_to_access() {
    let (c, catalog) = kitchen();
    let mem = Mem::default();
    let v = body(json!({"h": "x"}));
    let r = apply_input(
        &c,
        None,
        &v,
        &mem,
        &catalog,
        &InputOptions { superuser: true },
    )
    .unwrap();
    assert_eq!(get(&c, &r, "h"), "x");
    let r = apply_input(&c, None, &v, &mem, &catalog, &InputOptions::default()).unwrap();
    assert_eq!(get(&c, &r, "h"), "");
}

#[test]
fn every_field_problem_is_reported_at_once() {
    let (c, _) = kitchen();
    let e = create(
        &c,
        json!({"e": "x", "u": "y", "s": "z", "sm": ["q"], "f": "nope", "n": "inf"}),
    )
    .unwrap_err();
    assert_eq!(e.message, "Failed to create record.");
    let keys: Vec<&str> = codes(&e).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["e", "f", "n", "s", "sm", "u"]);
}

#[test]
fn arbitrary_values_never_panic() {
    let (c, catalog) = kitchen();
    let (u, auth_catalog) = users();
    let mem = Mem::default();
    let values = [
        json!(null),
        json!(true),
        json!(-1e308),
        json!(""),
        json!("[\"a\", 1]"),
        json!([[[]]]),
        json!({"a": [1, {"b": null}]}),
        json!("２０２４-01-02"),
        json!("\u{0}\u{ffff}"),
        json!(u64::MAX),
    ];
    for field in c.fields.iter().chain(u.fields.iter()) {
        for key in [
            field.name.clone(),
            format!("{}+", field.name),
            format!("+{}", field.name),
            format!("{}-", field.name),
            format!("{}:autogenerate", field.name),
        ] {
            for v in &values {
                let mut b = Map::new();
                b.insert(key.clone(), v.clone());
                let _ = apply_input_as(&c, None, &b, &mem, &catalog, &SUPER);
                b.insert("passwordConfirm".into(), v.clone());
                let _ = apply_input_as(&u, None, &b, &mem, &auth_catalog, &GUEST);
            }
        }
    }
}
