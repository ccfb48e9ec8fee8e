//! Collection validation: checks a client-supplied definition against the catalog and
//! its previous version, fills in ids, system fields and storage slots, and reports
//! every problem at once in PocketBase's shape (`data.fields.<i>.<key>`, …).

use std::sync::Arc;

use regex::Regex;

use super::field::{AutodateOptions, PasswordOptions, RequiredOnly, TextOptions};
use super::{Catalog, Collection, CollectionType, Field, FieldKind, IndexDef};
use crate::error::FieldErrors;
use crate::filter::Filter;
use crate::{ids, time, Result};

/// What changed between two versions of a collection.
#[derive(Debug, Default)]
pub struct Changes {
    pub renamed_fields: Vec<(String, String)>,
    pub removed_fields: Vec<String>,
}

const RESERVED_FIELD_NAMES: &[&str] =
    &["expand", "collectionId", "collectionName", "password:hash"];
const MAX_NAME_LEN: usize = 255;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn system_field(name: &str, kind: FieldKind, hidden: bool) -> Field {
    Field {
        id: format!("{}{}", kind.type_name(), stable_digits(name)),
        system: true,
        hidden,
        ..Field::new(name, kind)
    }
}

fn stable_digits(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

fn id_field() -> Field {
    system_field(
        "id",
        FieldKind::Text(TextOptions {
            required: true,
            primary_key: true,
            min: 15,
            max: 15,
            pattern: "^[a-z0-9]+$".into(),
            autogenerate_pattern: "[a-z0-9]{15}".into(),
            searchable: false,
        }),
        false,
    )
}

fn auth_fields() -> Vec<Field> {
    vec![
        system_field(
            "password",
            FieldKind::Password(PasswordOptions {
                required: true,
                min: 8,
                max: 0,
                pattern: String::new(),
                cost: 0,
            }),
            true,
        ),
        system_field(
            "tokenKey",
            FieldKind::Text(TextOptions {
                required: true,
                min: 30,
                max: 60,
                autogenerate_pattern: "[a-zA-Z0-9]{50}".into(),
                ..TextOptions::default()
            }),
            true,
        ),
        system_field(
            "email",
            FieldKind::Email(super::field::DomainOptions {
                required: true,
                ..Default::default()
            }),
            false,
        ),
        system_field(
            "emailVisibility",
            FieldKind::Bool(RequiredOnly::default()),
            false,
        ),
        system_field("verified", FieldKind::Bool(RequiredOnly::default()), false),
    ]
}

fn autodate(name: &str, on_update: bool) -> Field {
    system_field(
        name,
        FieldKind::Autodate(AutodateOptions {
            on_create: true,
            on_update,
        }),
        false,
    )
}

/// Validates `c` (in place) for creation (`old` = None) or as the new version of `old`.
pub fn validate_collection(
    c: &mut Collection,
    old: Option<&Collection>,
    catalog: &Catalog,
) -> Result<Changes> {
    let mut errs = FieldErrors::default();
    let message = if old.is_some() {
        "Failed to update collection."
    } else {
        "Failed to create collection."
    };
    match old {
        Some(o) => {
            c.id = o.id.clone();
            c.system = o.system;
            c.created = o.created.clone();
            c.next_slot = o.next_slot;
            if c.kind != o.kind {
                errs.add(
                    "type",
                    "validation_collection_type_change",
                    "Collection type cannot be changed.",
                );
            }
            if o.system && c.name != o.name {
                errs.add(
                    "name",
                    "validation_collection_system_name_change",
                    "System collection name cannot be changed.",
                );
            }
        }
        None => {
            if c.id.is_empty() {
                c.id = format!("pbc_{}", ids::random_string(10));
            } else if !ids::is_valid_collection_id(&c.id) || catalog.by_id(&c.id).is_some() {
                errs.add(
                    "id",
                    "validation_invalid_id",
                    "The collection id is invalid or already in use.",
                );
            }
            c.created = time::now();
            c.next_slot = 0;
        }
    }
    c.updated = time::now();
    check_name(c, catalog, &mut errs);
    if c.kind == CollectionType::View {
        errs.add(
            "type",
            "validation_unsupported_type",
            "View collections are not supported yet.",
        );
    }
    let changes = check_fields(c, old, catalog, &mut errs);
    if c.is_auth() {
        c.auth_rule.get_or_insert(Some(String::new()));
        c.manage_rule.get_or_insert(None);
    } else {
        c.auth_rule = None;
        c.manage_rule = None;
    }
    check_indexes(c, &mut errs);
    check_rules(c, catalog, &mut errs);
    errs.into_result(message)?;
    Ok(changes)
}

fn check_name(c: &Collection, catalog: &Catalog, errs: &mut FieldErrors) {
    if c.name.is_empty() {
        errs.add("name", "validation_required", "Cannot be blank.");
    } else if !valid_name(&c.name) || (c.name.starts_with('_') && !c.system) {
        errs.add("name", "validation_invalid_collection_name", "Invalid collection name - must be letters, digits and underscores, not starting with _.");
    } else if catalog
        .iter()
        .any(|o| o.id != c.id && o.name.eq_ignore_ascii_case(&c.name))
    {
        errs.add(
            "name",
            "validation_collection_name_exists",
            "Collection name must be unique (case insensitive).",
        );
    }
}

fn ensure_system_fields(c: &mut Collection) {
    let mut wanted = vec![id_field()];
    if c.is_auth() {
        wanted.extend(auth_fields());
        if c.field("created").is_none() && c.fields.iter().all(|f| f.system || f.name != "created")
        {
            wanted.push(autodate("created", false));
            wanted.push(autodate("updated", true));
        }
    }
    for (i, want) in wanted.into_iter().enumerate() {
        let pos = c.fields.iter().position(|f| f.name == want.name);
        let field = match pos {
            Some(p) => {
                let mut f = c.fields.remove(p);
                if f.kind.type_name() != want.kind.type_name() {
                    f.kind = want.kind.clone();
                }
                f.system = true;
                if f.id.is_empty() {
                    f.id = want.id;
                }
                f
            }
            None => want,
        };
        c.fields.insert(i.min(c.fields.len()), field);
    }
}

fn check_fields(
    c: &mut Collection,
    old: Option<&Collection>,
    catalog: &Catalog,
    errs: &mut FieldErrors,
) -> Changes {
    ensure_system_fields(c);
    let mut changes = Changes::default();
    let mut seen_names: Vec<String> = Vec::new();
    let mut seen_ids: Vec<String> = Vec::new();
    for i in 0..c.fields.len() {
        let key = |k: &str| format!("fields.{i}.{k}");
        let f = &mut c.fields[i];
        let previous = old.and_then(|o| {
            if f.id.is_empty() {
                None
            } else {
                o.field_by_id(&f.id)
            }
        });
        match previous {
            Some(p) => {
                f.slot = p.slot;
                if p.kind.type_name() != f.kind.type_name() {
                    errs.add(
                        key("type"),
                        "validation_field_type_change",
                        "Field type cannot be changed.",
                    );
                }
                if p.name != f.name {
                    changes
                        .renamed_fields
                        .push((p.name.clone(), f.name.clone()));
                }
                if p.system {
                    f.system = true;
                }
            }
            None => {
                if f.id.is_empty() || f.id.len() > 100 {
                    f.id = format!("{}{}", f.kind.type_name(), rand_digits());
                }
                f.slot = c.next_slot;
                c.next_slot += 1;
            }
        }
        let f = &c.fields[i];
        let lower = f.name.to_ascii_lowercase();
        if f.name.is_empty() {
            errs.add(key("name"), "validation_required", "Cannot be blank.");
        } else if !valid_name(&f.name)
            || RESERVED_FIELD_NAMES
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&f.name))
        {
            errs.add(
                key("name"),
                "validation_field_invalid_name",
                "The field name is invalid or reserved.",
            );
        } else if seen_names.contains(&lower) {
            errs.add(
                key("name"),
                "validation_duplicated_field_name",
                "Duplicated or invalid field name.",
            );
        }
        if seen_ids.contains(&f.id) {
            errs.add(
                key("id"),
                "validation_duplicated_field_id",
                "Duplicated field id.",
            );
        }
        seen_names.push(lower);
        seen_ids.push(f.id.clone());
        check_options(c, i, catalog, errs);
    }
    if let Some(o) = old {
        for f in &o.fields {
            if c.field_by_id(&f.id).is_none() {
                if f.system {
                    errs.add(
                        "fields",
                        "validation_system_field_removed",
                        format!("System field \"{}\" cannot be removed.", f.name),
                    );
                }
                changes.removed_fields.push(f.name.clone());
            }
        }
    }
    changes
}

fn rand_digits() -> String {
    let n: u32 = rand::random();
    n.to_string()
}

fn check_options(c: &Collection, i: usize, catalog: &Catalog, errs: &mut FieldErrors) {
    let key = |k: &str| format!("fields.{i}.{k}");
    match &c.fields[i].kind {
        FieldKind::Text(o) => {
            if o.max > 0 && o.min > o.max {
                errs.add(
                    key("min"),
                    "validation_min_greater_than_max",
                    "Min must be less than or equal to max.",
                );
            }
            if !o.pattern.is_empty() && Regex::new(&o.pattern).is_err() {
                errs.add(
                    key("pattern"),
                    "validation_invalid_regex",
                    "Invalid regular expression pattern.",
                );
            }
        }
        FieldKind::Number(o) => {
            if let (Some(min), Some(max)) = (o.min, o.max) {
                if min > max {
                    errs.add(
                        key("min"),
                        "validation_min_greater_than_max",
                        "Min must be less than or equal to max.",
                    );
                }
            }
        }
        FieldKind::Date(o) => {
            for (k, v) in [("min", &o.min), ("max", &o.max)] {
                if !v.is_empty() && time::parse(v).is_none() {
                    errs.add(key(k), "validation_invalid_date", "Must be a valid date.");
                }
            }
        }
        FieldKind::Select(o) => {
            if o.values.is_empty() {
                errs.add(key("values"), "validation_required", "Cannot be blank.");
            }
            let mut sorted = o.values.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != o.values.len() {
                errs.add(
                    key("values"),
                    "validation_duplicated_values",
                    "The values must be unique.",
                );
            }
            if o.max_select as usize > o.values.len().max(1) {
                errs.add(
                    key("maxSelect"),
                    "validation_max_select_too_large",
                    "Max select must not exceed the number of values.",
                );
            }
        }
        FieldKind::Relation(o) => {
            let target_ok = o.collection_id == c.id
                || catalog
                    .by_id(&o.collection_id)
                    .is_some_and(|t| t.kind != CollectionType::View);
            if o.collection_id.is_empty() {
                errs.add(
                    key("collectionId"),
                    "validation_required",
                    "Cannot be blank.",
                );
            } else if !target_ok {
                errs.add(
                    key("collectionId"),
                    "validation_missing_collection",
                    "The relation collection doesn't exist.",
                );
            }
            if o.max_select > 0 && o.min_select > o.max_select {
                errs.add(
                    key("minSelect"),
                    "validation_min_greater_than_max",
                    "Min select must not exceed max select.",
                );
            }
        }
        FieldKind::File(o) => {
            for t in &o.thumbs {
                if !valid_thumb(t) {
                    errs.add(
                        key("thumbs"),
                        "validation_invalid_thumb_format",
                        format!("Invalid thumb format \"{t}\"."),
                    );
                }
            }
        }
        _ => {}
    }
}

fn valid_thumb(t: &str) -> bool {
    let body = t.strip_suffix(['t', 'b', 'f']).unwrap_or(t);
    let Some((w, h)) = body.split_once('x') else {
        return false;
    };
    match (w.parse::<u32>(), h.parse::<u32>()) {
        (Ok(w), Ok(h)) => w > 0 || h > 0,
        _ => false,
    }
}

fn check_indexes(c: &mut Collection, errs: &mut FieldErrors) {
    let mut defs: Vec<IndexDef> = Vec::new();
    if c.is_auth() {
        let email = format!(
            "CREATE UNIQUE INDEX `idx_email_{}` ON `{}` (`email`) WHERE `email` != ''",
            c.id, c.name
        );
        let token = format!(
            "CREATE UNIQUE INDEX `idx_tokenKey_{}` ON `{}` (`tokenKey`)",
            c.id, c.name
        );
        for sql in [token, email] {
            let prefix = sql.split(" ON ").next().unwrap_or_default().to_owned();
            if !c.indexes.iter().any(|i| i.starts_with(&prefix)) {
                c.indexes.push(sql);
            }
        }
    }
    for (i, sql) in c.indexes.iter().enumerate() {
        match IndexDef::parse(sql, c) {
            Ok(d) if defs.iter().any(|x| x.name.eq_ignore_ascii_case(&d.name)) => {
                errs.add(
                    format!("indexes.{i}"),
                    "validation_duplicated_index_name",
                    "The index name must be unique.",
                );
            }
            Ok(d) => defs.push(d),
            Err(m) => errs.add(
                format!("indexes.{i}"),
                "validation_invalid_index_expression",
                m,
            ),
        }
    }
    c.index_defs = defs;
}

fn check_rules(c: &Collection, catalog: &Catalog, errs: &mut FieldErrors) {
    let me = Arc::new(c.clone());
    let catalog = catalog.with(me.clone());
    let r = &c.rules;
    let mut rules = vec![
        ("listRule", &r.list_rule),
        ("viewRule", &r.view_rule),
        ("createRule", &r.create_rule),
        ("updateRule", &r.update_rule),
        ("deleteRule", &r.delete_rule),
    ];
    if let Some(a) = &c.auth_rule {
        rules.push(("authRule", a));
    }
    if let Some(m) = &c.manage_rule {
        rules.push(("manageRule", m));
    }
    for (name, rule) in rules {
        let Some(rule) = rule.as_deref().filter(|r| !r.trim().is_empty()) else {
            continue;
        };
        if let Err(e) = Filter::compile(rule, &me, &catalog, None) {
            errs.add(
                name,
                "validation_invalid_rule",
                format!("Invalid rule: {}", e.message),
            );
        }
    }
}
