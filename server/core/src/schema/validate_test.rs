//! Expected shapes, codes and ids were checked against a real PocketBase 0.40.6.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;
use crate::schema::Field;
use crate::Error;

fn coll(v: Json) -> Collection {
    serde_json::from_value(v).expect("collection json")
}

fn create_in(v: Json, catalog: &Catalog) -> Result<Collection> {
    let mut c = coll(v);
    validate_collection(&mut c, None, catalog)?;
    Ok(c)
}

fn create(v: Json) -> Result<Collection> {
    create_in(v, &Catalog::default())
}

fn update_in(old: &Collection, patch: Json, catalog: &Catalog) -> Result<(Collection, Changes)> {
    let mut merged = serde_json::to_value(old).unwrap();
    for (k, v) in patch.as_object().unwrap() {
        merged[k] = v.clone();
    }
    let mut c = coll(merged);
    let changes = validate_collection(&mut c, Some(old), catalog)?;
    Ok((c, changes))
}

fn update(old: &Collection, patch: Json) -> Result<(Collection, Changes)> {
    update_in(old, patch, &Catalog::new(vec![Arc::new(old.clone())]))
}

/// `(key, code)` of every problem.
fn codes(e: Error) -> Vec<(String, String)> {
    e.data.into_iter().map(|(k, v)| (k, v.code)).collect()
}

fn code_of(e: Error, key: &str) -> String {
    e.data
        .get(key)
        .map(|f| f.code.clone())
        .unwrap_or_else(|| panic!("no problem at {key}: {:?}", e.data))
}

fn names(c: &Collection) -> Vec<&str> {
    c.fields.iter().map(|f| f.name.as_str()).collect()
}

fn catalog_of(cs: &[&Collection]) -> Catalog {
    Catalog::new(cs.iter().map(|c| Arc::new((*c).clone())).collect())
}

#[test]
fn base_collection_gets_the_id_field_first_and_nothing_else() {
    let c = create(json!({"name": "t1", "fields": [{"name": "title", "type": "text"}]})).unwrap();
    assert_eq!(c.id, "pbc_2109205374");
    assert_eq!(names(&c), ["id", "title"]);
    let json = serde_json::to_value(&c.fields[0]).unwrap();
    assert_eq!(json["id"], "text3208210256");
    assert_eq!(json["min"], 15);
    assert_eq!(json["max"], 15);
    assert_eq!(json["pattern"], "^[a-z0-9]+$");
    assert_eq!(json["autogeneratePattern"], "[a-z0-9]{15}");
    assert_eq!(json["primaryKey"], true);
    assert_eq!(json["system"], true);
    assert_eq!(json["required"], true);
    assert_eq!(json["help"], "");
    assert_eq!(c.fields[1].id, "text724990059");
    assert!(c.indexes.is_empty());
    assert!(!c.created.is_empty() && c.created == c.updated);
    let out = serde_json::to_value(&c).unwrap();
    assert!(out.get("authRule").is_none() && out.get("passwordAuth").is_none());
    assert_eq!(c.fields.iter().map(|f| f.slot).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(c.next_slot, 2);
}

#[test]
fn id_field_is_moved_first_and_enforced() {
    let c = create(json!({"name": "t", "fields": [
        {"name": "a", "type": "text"},
        {"name": "id", "type": "text", "hidden": true, "min": 3, "max": 20}
    ]}))
    .unwrap();
    assert_eq!(names(&c), ["id", "a"]);
    assert!(c.fields[0].system && !c.fields[0].hidden);
    let FieldKind::Text(o) = &c.fields[0].kind else {
        panic!()
    };
    assert!(o.primary_key && o.required);
    assert_eq!((o.min, o.max), (3, 20));
    assert_eq!(o.pattern, "^[a-z0-9]+$");
}

#[test]
fn auth_collection_gets_system_fields_indexes_and_options() {
    let c = create(
        json!({"name": "members", "type": "auth", "fields": [{"name": "nick", "type": "text"}]}),
    )
    .unwrap();
    assert_eq!(c.id, "pbc_2620428958");
    assert_eq!(
        names(&c),
        [
            "id",
            "nick",
            "password",
            "tokenKey",
            "email",
            "emailVisibility",
            "verified"
        ]
    );
    let ids: Vec<&str> = c.fields.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids[2..],
        [
            "password901924565",
            "text2504183744",
            "email3885137012",
            "bool1547992806",
            "bool256245529"
        ]
    );
    assert!(c.fields[2].hidden && c.fields[3].hidden && !c.fields[4].hidden);
    assert_eq!(
        c.indexes,
        [
            "CREATE UNIQUE INDEX `idx_tokenKey_pbc_2620428958` ON `members` (`tokenKey`)",
            "CREATE UNIQUE INDEX `idx_email_pbc_2620428958` ON `members` (`email`) WHERE `email` != ''"
        ]
    );
    assert_eq!(c.index_defs.len(), 2);
    assert_eq!(c.auth_rule, Some(Some(String::new())));
    assert_eq!(c.manage_rule, Some(None));
    let out = serde_json::to_value(&c).unwrap();
    assert_eq!(out["authRule"], "");
    assert_eq!(out["manageRule"], Json::Null);
    assert_eq!(
        out["passwordAuth"],
        json!({"enabled": true, "identityFields": ["email"]})
    );
    assert_eq!(out["authToken"], json!({"duration": 432000}));
    assert_eq!(out["otp"]["length"], 8);
    assert_eq!(out["oauth2"]["providers"], json!([]));
    assert!(c.fields[4].kind.required());
    let email = serde_json::to_value(&c.fields[4]).unwrap();
    assert_eq!(email["onlyDomains"], json!([]));
}

#[test]
fn auth_collection_without_fields_keeps_the_scaffold_order() {
    let c = create(json!({"name": "users", "type": "auth"})).unwrap();
    assert_eq!(
        names(&c),
        [
            "id",
            "password",
            "tokenKey",
            "email",
            "emailVisibility",
            "verified"
        ]
    );
}

#[test]
fn auth_null_rules_are_kept_as_null() {
    let c =
        create(json!({"name": "u", "type": "auth", "authRule": null, "manageRule": "id != ''"}))
            .unwrap();
    assert_eq!(c.auth_rule, Some(None));
    assert_eq!(c.manage_rule, Some(Some("id != ''".into())));
    let e = create(json!({"name": "u", "type": "auth", "manageRule": ""})).unwrap_err();
    assert_eq!(
        code_of(e, "manageRule"),
        "validation_nil_or_not_empty_required"
    );
}

#[test]
fn base_collections_drop_auth_only_keys() {
    let c =
        create(json!({"name": "b", "authRule": "x", "manageRule": "y", "otp": {"enabled": true}}))
            .unwrap();
    assert!(c.auth_rule.is_none() && c.manage_rule.is_none() && c.auth_options.is_empty());
}

#[test]
fn name_problems() {
    let existing = create(json!({"name": "Posts", "id": "abc_1"})).unwrap();
    let catalog = catalog_of(&[&existing]);
    let cases = [
        (json!({}), "validation_required"),
        (
            json!({"name": "x".repeat(256)}),
            "validation_length_out_of_range",
        ),
        (json!({"name": "a_via_b"}), "validation_found_via"),
        (json!({"name": "a b"}), "validation_match_invalid"),
        (
            json!({"name": "posts"}),
            "validation_collection_name_exists",
        ),
        (
            json!({"name": "abc_1"}),
            "validation_collection_name_id_duplicate",
        ),
        (
            json!({"name": "_params"}),
            "validation_collection_name_invalid",
        ),
        (
            json!({"name": "_SUPERUSERS"}),
            "validation_collection_name_invalid",
        ),
    ];
    for (v, code) in cases {
        let e = create_in(v.clone(), &catalog).unwrap_err();
        assert_eq!(e.message, "Failed to create collection.");
        assert_eq!(code_of(e, "name"), code, "{v}");
    }
    assert!(create_in(json!({"name": "_x"}), &catalog).is_ok());
    let e = create(json!({"name": "x".repeat(256)})).unwrap_err();
    assert_eq!(e.data["name"].params["max"], 255);
}

#[test]
fn system_collections_keep_name_flag_rules_and_fields() {
    let sys = create(json!({"name": "_superusers", "type": "auth", "system": true})).unwrap();
    let e = update(&sys, json!({"name": "admins"})).unwrap_err();
    assert_eq!(e.message, "Failed to update collection.");
    assert_eq!(
        code_of(e, "name"),
        "validation_collection_system_name_change"
    );
    let e = update(&sys, json!({"system": false})).unwrap_err();
    assert_eq!(
        code_of(e, "system"),
        "validation_collection_system_flag_change"
    );
    let e = update(&sys, json!({"listRule": ""})).unwrap_err();
    assert_eq!(
        code_of(e, "listRule"),
        "validation_collection_system_rule_change"
    );
    let e = update(&sys, json!({"authRule": null})).unwrap_err();
    assert_eq!(
        code_of(e, "authRule"),
        "validation_collection_system_rule_change"
    );
    let mut fields = serde_json::to_value(&sys.fields).unwrap();
    fields[5]["name"] = json!("confirmed");
    let e = update(&sys, json!({"fields": fields})).unwrap_err();
    assert_eq!(code_of(e, "fields"), "validation_system_field_change");
}

#[test]
fn collection_id_problems() {
    let e = create(json!({"name": "a", "id": "bad-id"})).unwrap_err();
    assert_eq!(code_of(e, "id"), "validation_match_invalid");
    let e = create(json!({"name": "a", "id": "x".repeat(101)})).unwrap_err();
    assert_eq!(code_of(e, "id"), "validation_length_out_of_range");
    let first = create(json!({"name": "a", "id": "custom_1"})).unwrap();
    assert_eq!(first.id, "custom_1");
    let e = create_in(
        json!({"name": "b", "id": "custom_1"}),
        &catalog_of(&[&first]),
    )
    .unwrap_err();
    assert_eq!(code_of(e, "id"), "validation_invalid_or_existing_id");
}

#[test]
fn generated_collection_ids_skip_taken_ones() {
    let squatter = create(json!({"name": "other", "id": "pbc_2109205374"})).unwrap();
    let c = create_in(json!({"name": "t1"}), &catalog_of(&[&squatter])).unwrap();
    assert_eq!(c.id, "pbc_21092053742");
    assert!(crate::ids::is_valid_collection_id(&c.id));
}

#[test]
fn type_problems() {
    let e = create(json!({"name": "v", "type": "nope"})).unwrap_err();
    assert_eq!(code_of(e, "type"), "validation_in_invalid");
    assert_eq!(
        create(json!({"name": "e", "type": ""})).unwrap().kind,
        CollectionType::Base
    );
    let e = create(json!({"name": "v", "type": "view"})).unwrap_err();
    assert_eq!(
        codes(e),
        [(
            "type".to_owned(),
            "validation_view_not_supported".to_owned()
        )]
    );
    let base = create(json!({"name": "b"})).unwrap();
    let e = update(&base, json!({"type": "auth"})).unwrap_err();
    assert_eq!(code_of(e, "type"), "validation_collection_type_change");
}

#[test]
fn duplicate_field_names_are_reported_at_their_final_index() {
    let e = create(json!({"name": "q", "fields": [
        {"name": "a", "type": "text"}, {"name": "A", "type": "text"},
        {"name": "bad name", "type": "text"}
    ]}))
    .unwrap_err();
    assert_eq!(
        codes(e.clone()),
        [(
            "fields.2.name".into(),
            "validation_duplicated_field_name".into()
        )]
    );
    assert_eq!(
        e.data["fields.2.name"].message,
        "Duplicated or invalid field name A."
    );
    assert_eq!(e.data["fields.2.name"].params["fieldName"], "A");
}

#[test]
fn same_id_or_unnamed_same_name_fields_collapse() {
    let c = create(json!({"name": "q", "fields": [
        {"name": "a", "type": "text", "id": "x1"}, {"name": "b", "type": "text", "id": "x1"},
        {"name": "c", "type": "text"}, {"name": "c", "type": "number"}
    ]}))
    .unwrap();
    assert_eq!(names(&c), ["id", "b", "c"]);
    assert!(matches!(c.fields[2].kind, FieldKind::Number(_)));
    assert_eq!(c.fields[2].id, "text112844655");
}

#[test]
fn renaming_the_id_field_loses_the_primary_key() {
    let c = create(json!({"name": "q"})).unwrap();
    let mut fields = serde_json::to_value(&c.fields).unwrap();
    fields[0]["name"] = json!("id2");
    let e = update(&c, json!({"fields": fields})).unwrap_err();
    assert_eq!(code_of(e, "fields"), "validation_missing_primary_key");
}

#[test]
fn field_type_changes_and_reserved_auth_names() {
    let c = create(json!({"name": "q", "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "number"}]})).unwrap();
    let mut fields = serde_json::to_value(&c.fields).unwrap();
    fields[1]["type"] = json!("bool");
    fields[2]["type"] = json!("bool");
    let e = update(&c, json!({"fields": fields})).unwrap_err();
    assert_eq!(
        codes(e),
        [
            ("fields.1".into(), "validation_field_type_change".into()),
            ("fields.2".into(), "validation_field_type_change".into())
        ]
    );
    let e = create(json!({"name": "u", "type": "auth", "fields": [{"name": "passwordConfirm", "type": "text"}]})).unwrap_err();
    assert_eq!(
        code_of(e, "fields.1.name"),
        "validation_reserved_field_name"
    );
}

#[test]
fn field_name_problems() {
    let cases = [
        ("", "validation_required"),
        ("a b", "validation_match_invalid"),
        ("expand", "validation_not_in_invalid"),
        ("collectionId", "validation_not_in_invalid"),
        ("null", "validation_not_in_invalid"),
        ("x_via_y", "validation_found_via"),
    ];
    for (name, code) in cases {
        let e =
            create(json!({"name": "q", "fields": [{"name": name, "type": "bool"}]})).unwrap_err();
        assert_eq!(code_of(e, "fields.1.name"), code, "{name}");
    }
    let e = create(json!({"name": "q", "fields": [{"name": "y".repeat(101), "type": "bool"}]}))
        .unwrap_err();
    assert_eq!(
        code_of(e, "fields.1.name"),
        "validation_length_out_of_range"
    );
    let e = create(
        json!({"name": "q", "fields": [{"name": "a", "type": "bool", "id": "i".repeat(101)}]}),
    )
    .unwrap_err();
    assert_eq!(code_of(e, "fields.1.id"), "validation_length_out_of_range");
}

#[test]
fn text_and_number_option_problems() {
    let e = create(json!({"name": "q", "fields": [
        {"name": "t", "type": "text", "min": 5, "max": 2, "pattern": "(("},
        {"name": "n", "type": "number", "min": 5, "max": 2},
        {"name": "n2", "type": "number", "onlyInt": true, "min": 1.5},
        {"name": "g", "type": "text", "autogeneratePattern": "[a-z]{3}", "max": 2},
        {"name": "g2", "type": "text", "autogeneratePattern": "[a-z"},
        {"name": "k", "type": "text", "primaryKey": true, "pattern": "^x$"}
    ]}))
    .unwrap_err();
    assert_eq!(
        codes(e.clone()),
        [
            (
                "fields.0.primaryKey".into(),
                "validation_unsupported_composite_pk".into()
            ),
            (
                "fields.1.max".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            ("fields.1.pattern".into(), "validation_invalid_regex".into()),
            (
                "fields.2.max".into(),
                "validation_min_number_constraint".into()
            ),
            (
                "fields.3.min".into(),
                "validation_only_int_constraint".into()
            ),
            (
                "fields.4.autogeneratePattern".into(),
                "validation_invalid_autogenerate_pattern_value".into()
            ),
            (
                "fields.5.autogeneratePattern".into(),
                "validation_invalid_regex".into()
            ),
            ("fields.6.name".into(), "validation_in_invalid".into()),
            (
                "fields.6.primaryKey".into(),
                "validation_unsupported_composite_pk".into()
            ),
            ("fields.6.required".into(), "validation_required".into()),
        ]
    );
    assert_eq!(e.data["fields.1.max"].message, "Must be no less than 5.");
    assert_eq!(e.data["fields.1.max"].params["threshold"], 5);
    assert_eq!(
        e.data["fields.2.max"].message,
        "Must be greater or equal than 5."
    );
}

#[test]
fn select_relation_file_and_other_option_problems() {
    let target = create(json!({"name": "c"})).unwrap();
    let catalog = catalog_of(&[&target]);
    let e = create_in(
        json!({"name": "q", "fields": [
            {"name": "s", "type": "select"},
            {"name": "s2", "type": "select", "values": ["a", "a"], "maxSelect": 3},
            {"name": "r", "type": "relation"},
            {"name": "r2", "type": "relation", "collectionId": "nope"},
            {"name": "r3", "type": "relation", "collectionId": "c", "minSelect": 3, "maxSelect": 2},
            {"name": "r4", "type": "relation", "collectionId": target.id, "minSelect": 2},
            {"name": "f", "type": "file", "thumbs": ["100x100", "0x0", "10x", "100x50t", "abc", "0x50f"]},
            {"name": "a", "type": "autodate"},
            {"name": "p", "type": "password", "min": 72, "max": 5, "cost": 2},
            {"name": "e", "type": "email", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]},
            {"name": "u", "type": "url", "onlyDomains": ["ok.com", "not a domain"]}
        ]}),
        &catalog,
    )
    .unwrap_err();
    assert_eq!(
        codes(e.clone()),
        [
            ("fields.1.values".into(), "validation_required".into()),
            ("fields.10.exceptDomains".into(), "validation_empty".into()),
            ("fields.10.onlyDomains".into(), "validation_empty".into()),
            (
                "fields.11.onlyDomains.1".into(),
                "validation_is_domain".into()
            ),
            (
                "fields.2.maxSelect".into(),
                "validation_max_less_equal_than_required".into()
            ),
            ("fields.3.collectionId".into(), "validation_required".into()),
            (
                "fields.4.collectionId".into(),
                "validation_field_relation_missing_collection".into()
            ),
            (
                "fields.5.collectionId".into(),
                "validation_field_relation_missing_collection".into()
            ),
            (
                "fields.5.maxSelect".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            ("fields.6.maxSelect".into(), "validation_required".into()),
            (
                "fields.7.thumbs.1".into(),
                "validation_not_in_invalid".into()
            ),
            (
                "fields.7.thumbs.2".into(),
                "validation_match_invalid".into()
            ),
            (
                "fields.7.thumbs.4".into(),
                "validation_match_invalid".into()
            ),
            ("fields.8.onCreate".into(), "validation_required".into()),
            ("fields.8.onUpdate".into(), "validation_required".into()),
            (
                "fields.9.cost".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            (
                "fields.9.max".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            (
                "fields.9.min".into(),
                "validation_max_less_equal_than_required".into()
            ),
        ]
    );
    assert_eq!(
        e.data["fields.2.maxSelect"].message,
        "Must be no greater than 2."
    );
    assert_eq!(
        e.data["fields.8.onCreate"].message,
        "Either onCreate or onUpdate must be enabled."
    );
}

#[test]
fn relations_may_point_at_the_collection_itself_but_not_at_views() {
    let c = create(json!({"name": "tree", "id": "tree_1", "fields": [
        {"name": "parent", "type": "relation", "collectionId": "tree_1", "maxSelect": 1}
    ]}));
    assert!(c.is_ok());
    let mut view = create(json!({"name": "v"})).unwrap();
    view.kind = CollectionType::View;
    let e = create_in(
        json!({"name": "q", "fields": [{"name": "r", "type": "relation", "collectionId": view.id}]}),
        &catalog_of(&[&view]),
    )
    .unwrap_err();
    assert_eq!(
        code_of(e, "fields.1.collectionId"),
        "validation_relation_field_non_view_base_collection"
    );
}

#[test]
fn relation_targets_and_system_autodates_cannot_change() {
    let a = create(json!({"name": "a"})).unwrap();
    let b = create(json!({"name": "b"})).unwrap();
    let q = create_in(
        json!({"name": "q", "fields": [
            {"name": "r", "type": "relation", "collectionId": a.id},
            {"name": "created", "type": "autodate", "onCreate": true, "system": true}
        ]}),
        &catalog_of(&[&a, &b]),
    )
    .unwrap();
    let catalog = catalog_of(&[&a, &b, &q]);
    let mut fields = serde_json::to_value(&q.fields).unwrap();
    fields[1]["collectionId"] = json!(b.id);
    fields[2]["onUpdate"] = json!(true);
    let e = update_in(&q, json!({"fields": fields}), &catalog).unwrap_err();
    assert_eq!(
        codes(e),
        [
            (
                "fields.1.collectionId".into(),
                "validation_field_relation_change".into()
            ),
            (
                "fields.2.onUpdate".into(),
                "validation_values_mismatch".into()
            )
        ]
    );
}

#[test]
fn duplicates_hide_settings_problems() {
    let e = create(json!({"name": "q", "fields": [
        {"name": "s", "type": "select"}, {"name": "x", "type": "text"}, {"name": "X", "type": "text"}
    ]}))
    .unwrap_err();
    assert_eq!(
        codes(e),
        [(
            "fields.3.name".into(),
            "validation_duplicated_field_name".into()
        )]
    );
}

#[test]
fn options_are_normalized() {
    let c = create(json!({"name": "q", "fields": [
        {"name": "d", "type": "date", "min": "2024-01-01", "max": "garbage"},
        {"name": "u", "type": "url"}
    ]}))
    .unwrap();
    let d = serde_json::to_value(&c.fields[1]).unwrap();
    assert_eq!(d["min"], "2024-01-01 00:00:00.000Z");
    assert_eq!(d["max"], "");
    let u = serde_json::to_value(&c.fields[2]).unwrap();
    assert_eq!(u["onlyDomains"], json!([]));
    assert_eq!(u["exceptDomains"], json!([]));
}

#[test]
fn index_problems() {
    let other = create(json!({"name": "other", "fields": [{"name": "a", "type": "text"}], "indexes": ["CREATE INDEX idx_taken ON other (a)"]})).unwrap();
    let catalog = catalog_of(&[&other]);
    let fields = json!([{"name": "a", "type": "text"}, {"name": "b", "type": "text"}]);
    let cases = [
        (
            json!(["CREATE INDEX i1 ON q (a)", "garbage"]),
            "indexes.1",
            "validation_invalid_index_expression",
        ),
        (
            json!([
                "CREATE INDEX i1 ON q (a)",
                "CREATE UNIQUE INDEX I1 ON q (id)"
            ]),
            "indexes.1",
            "validation_duplicated_index_name",
        ),
        (
            json!(["CREATE INDEX i1 ON q (a)", "CREATE INDEX i2 ON q (`a`)"]),
            "indexes.1",
            "validation_duplicated_index_definition",
        ),
        (
            json!(["CREATE INDEX IDX_TAKEN ON q (a)"]),
            "indexes.0",
            "validation_existing_index_name",
        ),
        (
            json!(["CREATE INDEX i1 ON q (nope)"]),
            "indexes.0",
            "validation_invalid_index_expression",
        ),
    ];
    for (indexes, key, code) in cases {
        let e = create_in(
            json!({"name": "q", "fields": fields, "indexes": indexes}),
            &catalog,
        )
        .unwrap_err();
        assert_eq!(codes(e), [(key.to_owned(), code.to_owned())], "{indexes}");
    }
    let e = create_in(
        json!({"name": "q", "fields": fields, "indexes": ["CREATE INDEX i1 ON q (nope)"]}),
        &catalog,
    )
    .unwrap_err();
    assert!(e.data["indexes.0"]
        .message
        .starts_with("Failed to create index i1 - "));
}

#[test]
fn index_tables_follow_the_collection_name() {
    let c = create(
        json!({"name": "q", "fields": [{"name": "a", "type": "text"}], "indexes": [
            "CREATE INDEX idx_a ON whatever (a)", "CREATE INDEX idx_b ON q (a, id)"
        ]}),
    )
    .unwrap();
    assert_eq!(c.indexes[0], "CREATE INDEX `idx_a` ON `q` (`a`)");
    assert_eq!(c.indexes[1], "CREATE INDEX idx_b ON q (a, id)");
    let (renamed, changes) = update(&c, json!({"name": "q2"})).unwrap();
    assert_eq!(renamed.indexes[0], "CREATE INDEX `idx_a` ON `q2` (`a`)");
    assert_eq!(
        renamed.indexes[1],
        "CREATE INDEX `idx_b` ON `q2` (\n  `a`,\n  `id`\n)"
    );
    assert_eq!(changes.renamed_from.as_deref(), Some("q"));
    assert!(changes.added_indexes.is_empty() && changes.dropped_indexes.is_empty());
}

#[test]
fn renaming_an_indexed_field_breaks_the_index_like_pocketbase() {
    let c = create(json!({"name": "q", "fields": [{"name": "a", "type": "text"}], "indexes": ["CREATE INDEX idx_a ON q (a)"]})).unwrap();
    let mut fields = serde_json::to_value(&c.fields).unwrap();
    fields[1]["name"] = json!("a2");
    let e = update(&c, json!({"fields": fields})).unwrap_err();
    assert_eq!(
        code_of(e, "indexes.0"),
        "validation_invalid_index_expression"
    );
}

#[test]
fn unique_indexes_on_system_fields_must_stay() {
    let c = create(json!({"name": "u", "type": "auth", "indexes": ["CREATE UNIQUE INDEX idx_v ON u (verified)"]})).unwrap();
    let e = update(&c, json!({"indexes": []})).unwrap_err();
    assert_eq!(
        code_of(e, "indexes"),
        "validation_invalid_unique_system_field_index"
    );
    let (kept, _) = update(
        &c,
        json!({"indexes": ["CREATE UNIQUE INDEX renamed ON u (verified) WHERE verified != ''"]}),
    )
    .unwrap();
    assert_eq!(kept.indexes.len(), 3);
}

#[test]
fn rules_must_compile() {
    let e =
        create(json!({"name": "q", "listRule": "nope = 1", "viewRule": "", "createRule": null}))
            .unwrap_err();
    assert_eq!(
        codes(e.clone()),
        [("listRule".into(), "validation_invalid_rule".into())]
    );
    assert!(e.data["listRule"]
        .message
        .starts_with("Invalid rule. Raw error: "));
    let c = create(
        json!({"name": "q", "fields": [{"name": "a", "type": "text"}], "listRule": "a = 'x'"}),
    )
    .unwrap();
    assert_eq!(c.rules.list_rule.as_deref(), Some("a = 'x'"));
}

#[test]
fn auth_option_problems() {
    let e = create(json!({"name": "u", "type": "auth",
        "authToken": {"duration": 5}, "fileToken": {"duration": 0},
        "otp": {"enabled": true, "length": 3, "emailTemplate": {"subject": ""}},
        "verificationTemplate": {"subject": "", "body": ""},
        "passwordAuth": {"enabled": true, "identityFields": []}
    }))
    .unwrap_err();
    assert_eq!(
        codes(e),
        [
            (
                "authToken.duration".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            ("fileToken.duration".into(), "validation_required".into()),
            (
                "otp.emailTemplate.subject".into(),
                "validation_required".into()
            ),
            (
                "otp.length".into(),
                "validation_min_greater_equal_than_required".into()
            ),
            (
                "passwordAuth.identityFields".into(),
                "validation_required".into()
            ),
            (
                "verificationTemplate.body".into(),
                "validation_required".into()
            ),
            (
                "verificationTemplate.subject".into(),
                "validation_required".into()
            ),
        ]
    );
}

#[test]
fn auth_cross_checks() {
    let e = create(json!({"name": "u", "type": "auth", "mfa": {"enabled": true}})).unwrap_err();
    assert_eq!(code_of(e, "mfa.enabled"), "validation_mfa_not_enough_auths");
    let e = create(
        json!({"name": "u", "type": "auth", "passwordAuth": {"identityFields": ["email", "nick"]}}),
    )
    .unwrap_err();
    assert_eq!(
        code_of(e, "passwordAuth.identityFields"),
        "validation_missing_field"
    );
    let e = create(
        json!({"name": "u", "type": "auth", "fields": [{"name": "nick", "type": "text"}],
        "passwordAuth": {"identityFields": ["nick"]}}),
    )
    .unwrap_err();
    assert_eq!(
        code_of(e, "passwordAuth.identityFields"),
        "validation_missing_unique_constraint"
    );
    let ok = create(
        json!({"name": "u", "type": "auth", "fields": [{"name": "nick", "type": "text"}],
        "indexes": ["CREATE UNIQUE INDEX idx_nick ON u (nick)"],
        "passwordAuth": {"identityFields": ["nick", "email"]},
        "otp": {"enabled": true}, "mfa": {"enabled": true}}),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn partial_auth_options_are_completed_from_the_previous_version() {
    let c = create(json!({"name": "u", "type": "auth", "otp": {"enabled": true, "length": 6}}))
        .unwrap();
    let (c2, _) = update(&c, json!({"otp": {"duration": 300}})).unwrap();
    let otp = c2.auth_options.otp.unwrap();
    assert_eq!(
        (otp.enabled, otp.length, otp.duration),
        (Some(true), Some(6), Some(300))
    );
}

#[test]
fn slots_follow_field_ids_and_are_never_reused() {
    let c = create(json!({"name": "q", "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "number"}]})).unwrap();
    assert_eq!(c.next_slot, 3);
    let mut fields = serde_json::to_value(&c.fields).unwrap();
    fields[1]["name"] = json!("a2");
    let b = fields[2].clone();
    let fields = json!([fields[0], {"name": "c", "type": "bool"}, fields[1]]);
    let (c2, ch) = update(&c, json!({"fields": fields})).unwrap();
    assert_eq!(names(&c2), ["id", "c", "a2"]);
    assert_eq!(
        c2.fields.iter().map(|f| f.slot).collect::<Vec<_>>(),
        [0, 3, 1]
    );
    assert_eq!(c2.next_slot, 4);
    assert_eq!(ch.renamed_fields, [("a".to_owned(), "a2".to_owned())]);
    assert_eq!(ch.removed_fields, ["b"]);
    assert_eq!(ch.added_fields, ["c"]);
    let (c3, _) = update(&c2, json!({"fields": [fields[0], fields[2], b]})).unwrap();
    assert_eq!(
        c3.fields.iter().map(|f| f.slot).collect::<Vec<_>>(),
        [0, 1, 4]
    );
}

#[test]
fn fields_without_ids_match_old_ones_by_name_and_type() {
    let c = create(json!({"name": "q", "fields": [{"name": "a", "type": "text"}]})).unwrap();
    let (c2, ch) = update(
        &c,
        json!({"fields": [{"name": "a", "type": "text", "max": 9}]}),
    )
    .unwrap();
    assert_eq!(c2.fields[1].id, c.fields[1].id);
    assert_eq!(c2.fields[1].slot, c.fields[1].slot);
    assert!(ch.removed_fields.is_empty());
    let (c3, ch) = update(&c, json!({"fields": [{"name": "a", "type": "number"}]})).unwrap();
    assert_ne!(c3.fields[1].id, c.fields[1].id);
    assert_eq!(ch.removed_fields, ["a"]);
    assert_eq!(ch.added_fields, ["a"]);
}

#[test]
fn changes_report_removed_relations_and_index_edits() {
    let t = create(json!({"name": "t"})).unwrap();
    let q = create_in(
        json!({"name": "q", "fields": [{"name": "r", "type": "relation", "collectionId": t.id}, {"name": "a", "type": "text"}],
            "indexes": ["CREATE INDEX i1 ON q (a)", "CREATE INDEX i2 ON q (a, id)"]}),
        &catalog_of(&[&t]),
    )
    .unwrap();
    let fields = json!([
        serde_json::to_value(&q.fields[0]).unwrap(),
        serde_json::to_value(&q.fields[2]).unwrap()
    ]);
    let (_, ch) = update_in(
        &q,
        json!({"fields": fields, "indexes": ["CREATE UNIQUE INDEX i1 ON q (a)", "CREATE INDEX i3 ON q (id)"]}),
        &catalog_of(&[&t, &q]),
    )
    .unwrap();
    assert_eq!(ch.removed_relations, [("r".to_owned(), t.id.clone())]);
    assert_eq!(ch.added_indexes, ["i1", "i3"]);
    assert_eq!(ch.dropped_indexes, ["i1", "i2"]);
}

#[test]
fn every_problem_key_is_reported_at_once() {
    let e = create(json!({"name": "", "fields": [{"name": "s", "type": "select"}], "indexes": ["x"], "listRule": "nope = 1"})).unwrap_err();
    let keys: Vec<String> = codes(e).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["fields.1.values", "indexes.0", "listRule", "name"]);
}

#[test]
fn hostile_input_does_not_panic() {
    let long = "(".repeat(2000);
    let _ = create(json!({"name": "q", "fields": [
        {"name": "t", "type": "text", "pattern": long, "autogeneratePattern": long},
        {"name": "f", "type": "file", "thumbs": ["x", "", "1x"]}
    ], "indexes": ["", "CREATE INDEX", "CREATE INDEX a ON b ((((", "CREATE INDEX a ON b (`x"]}));
    let _ = create(json!({"name": "é".repeat(300), "id": "ü"}));
    let f: Field = serde_json::from_value(json!({"name": "x", "type": "text"})).unwrap();
    let _ = f;
}

#[test]
fn stored_auth_collections_get_missing_options_back() {
    let mut c = create(json!({"name": "u", "type": "auth"})).unwrap();
    c.auth_options = AuthOptions::default();
    let stored = crate::schema::StoredCollection::from_collection(&c);
    let json = serde_json::to_string(&stored).unwrap();
    let back: crate::schema::StoredCollection = serde_json::from_str(&json).unwrap();
    let back = back.into_collection().unwrap();
    assert_eq!(back.auth_options, AuthOptions::defaults());
    assert_eq!(back.next_slot, c.next_slot);
    assert_eq!(back.index_defs.len(), 2);
}

#[test]
fn system_collections_get_created_and_updated() {
    let c = create(json!({"name": "_superusers", "type": "auth", "system": true})).unwrap();
    assert_eq!(c.id, "pbc_3142635823");
    assert_eq!(
        names(&c),
        [
            "id",
            "password",
            "tokenKey",
            "email",
            "emailVisibility",
            "verified",
            "created",
            "updated"
        ]
    );
    assert_eq!(c.fields[6].id, "autodate2990389176");
    assert_eq!(c.fields[7].id, "autodate3332085495");
    assert!(c.fields[6].system && c.fields[7].system);
    let user = create(json!({"name": "plain", "type": "auth"})).unwrap();
    assert!(user.field("created").is_none());
}

#[test]
fn help_is_written_for_every_kind_but_autodate() {
    let c = create(json!({"name": "q", "fields": [
        {"name": "a", "type": "text", "help": "hint"},
        {"name": "d", "type": "autodate", "onCreate": true, "help": "dropped"},
        {"name": "b", "type": "bool"}
    ]}))
    .unwrap();
    let json = serde_json::to_value(&c.fields).unwrap();
    assert_eq!(json[1]["help"], "hint");
    assert!(json[2].get("help").is_none() && json[2].get("required").is_none());
    assert_eq!(json[3]["help"], "");
    let e = create(
        json!({"name": "q", "fields": [{"name": "a", "type": "bool", "help": "h".repeat(301)}]}),
    )
    .unwrap_err();
    assert_eq!(
        code_of(e, "fields.1.help"),
        "validation_length_out_of_range"
    );
}
