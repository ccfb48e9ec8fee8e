//! Collection validation: checks a client-supplied definition against the catalog and
//! its previous version, fills in ids, system fields, default options and storage
//! slots, and reports problems in PocketBase's shape and order.
//!
//! Like PocketBase, every top-level key (`name`, `fields`, `indexes`, `listRule`, …)
//! reports its first failing check; problems under different keys are all reported.
//! Nested problems use dotted keys (`fields.2.name`), which the api crate nests.

mod auth;
mod changes;
mod fields;
mod fields_list;
mod indexes;
mod settings;

use std::fmt::Display;
use std::sync::Arc;

use super::{AuthOptions, Catalog, Collection, CollectionType, FieldKind};
use crate::error::{FieldError, FieldErrors};
use crate::filter::Filter;
use crate::record::coerce;
use crate::{time, Result};
use settings::{found_via, is_word, length_out_of_range, match_invalid};

pub use changes::Changes;
pub use fields_list::crc32;
pub use indexes::PbIndex;

/// Problems under one key, as `(relative path, error)`; `""` is the key itself.
pub(crate) type Problems = Vec<(String, FieldError)>;

fn one(err: FieldError) -> Problems {
    vec![(String::new(), err)]
}

fn at(path: impl Display, err: FieldError) -> Problems {
    vec![(path.to_string(), err)]
}

fn nest(prefix: impl Display, problems: Problems) -> Problems {
    problems
        .into_iter()
        .map(|(p, e)| {
            let path = if p.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{p}")
            };
            (path, e)
        })
        .collect()
}

/// Collection names PocketBase uses for internal tables and system collections; a user
/// collection may not take one of them.
const RESERVED_NAMES: &[&str] = &[
    "_collections",
    "_params",
    "_migrations",
    "_logs",
    "_superusers",
    "_externalAuths",
    "_mfas",
    "_otps",
    "_authOrigins",
];

/// Validates `c` (in place) for creation (`old` = None) or as the new version of `old`.
pub fn validate_collection(
    c: &mut Collection,
    old: Option<&Collection>,
    catalog: &Catalog,
) -> Result<Changes> {
    let message = if old.is_some() {
        "Failed to update collection."
    } else {
        "Failed to create collection."
    };
    prepare(c, old, catalog);
    let mut errs = FieldErrors::default();
    let mut report = |key: &str, problems: Option<Problems>| {
        for (path, err) in nest(key, problems.unwrap_or_default()) {
            errs.push(path, err);
        }
    };
    report("id", check_id(c, old, catalog));
    report(
        "system",
        old.filter(|o| o.system != c.system).map(|_| {
            one(FieldError::new(
                "validation_collection_system_flag_change",
                "System collection state cannot be changed.",
            ))
        }),
    );
    report("type", check_type(c, old));
    report("name", check_name(c, old, catalog).map(one));
    if c.kind != CollectionType::View {
        report("fields", fields::check(c, old, catalog));
    }
    for (key, problem) in check_rules(c, old, catalog) {
        report(key, problem.map(one));
    }
    report("indexes", indexes::check(c, old, catalog));
    report("searchLanguage", check_search_language(c).map(one));
    if c.is_auth() {
        for (path, err) in auth::check(c, old, catalog) {
            errs.push(path, err);
        }
    }
    errs.into_result(message)?;
    changes::assign_slots(c, old);
    Ok(old.map(|o| changes::changes(o, c)).unwrap_or_default())
}

/// Basalt's `searchLanguage` must name a stemmer full-text search has.
fn check_search_language(c: &Collection) -> Option<FieldError> {
    let lang = c.search_language.as_str();
    if lang.is_empty() || crate::search::LANGUAGES.contains(&lang) {
        return None;
    }
    Some(FieldError::new(
        "validation_invalid_search_language",
        format!(
            "Unknown search language; use one of: {}.",
            crate::search::LANGUAGES.join(", ")
        ),
    ))
}

/// PocketBase's normalization before validation: ids, field list, system fields and
/// indexes, auth options and rules, date option format, timestamps.
fn prepare(c: &mut Collection, old: Option<&Collection>, catalog: &Catalog) {
    let kind = kind_name(c.kind);
    c.fields = fields_list::normalize(std::mem::take(&mut c.fields));
    // One clock reading: a new collection's `created` and `updated` are equal.
    let now = time::now();
    match old {
        Some(o) => {
            c.id = o.id.clone();
            c.created = o.created.clone();
        }
        None => {
            if c.id.is_empty() {
                c.id = unused_collection_id(&format!("{kind}{}", c.name), catalog);
            }
            c.created = now.clone();
        }
    }
    c.updated = now;
    if c.kind != CollectionType::View {
        fields_list::ensure_system_fields(c);
    }
    if old.is_none() && c.system {
        fields_list::add_system_autodates(c);
    }
    fields_list::normalize_index_tables(c);
    if c.is_auth() {
        let base = old
            .filter(|o| o.is_auth())
            .map_or_else(AuthOptions::defaults, |o| o.auth_options.clone());
        c.auth_options.fill_from(&base);
        let old_oauth2 = old.and_then(|o| o.auth_options.oauth2.as_ref());
        if let (Some(new), Some(prev)) = (c.auth_options.oauth2.as_mut(), old_oauth2) {
            new.keep_client_secrets(prev);
        }
        c.auth_options.fill_from(&AuthOptions::defaults());
        c.auth_rule.get_or_insert(Some(String::new()));
        c.manage_rule.get_or_insert(None);
        unset_missing_mapped_fields(c);
    } else {
        c.auth_options = AuthOptions::default();
        c.auth_rule = None;
        c.manage_rule = None;
    }
    for f in &mut c.fields {
        f.help = match f.kind {
            FieldKind::Autodate(_) => None,
            _ => Some(f.help.take().unwrap_or_default()),
        };
        match &mut f.kind {
            FieldKind::Date(o) => {
                o.min = normalized_date(&o.min);
                o.max = normalized_date(&o.max);
            }
            FieldKind::Email(o) | FieldKind::Url(o) => {
                o.only_domains.get_or_insert_with(Vec::new);
                o.except_domains.get_or_insert_with(Vec::new);
            }
            _ => {}
        }
    }
}

fn kind_name(kind: CollectionType) -> &'static str {
    match kind {
        CollectionType::Base => "base",
        CollectionType::Auth => "auth",
        CollectionType::View => "view",
        CollectionType::Unknown => "unknown",
    }
}

/// `pbc_<crc32(type + name)>`, with a numeric suffix when taken.
fn unused_collection_id(seed: &str, catalog: &Catalog) -> String {
    let base = format!("pbc_{}", crc32(seed));
    let mut id = base.clone();
    for n in 2..1000 {
        if catalog.by_id(&id).is_none() {
            break;
        }
        id = format!("{base}{n}");
    }
    id
}

fn normalized_date(s: &str) -> String {
    coerce::parse_date(s).map(time::format).unwrap_or_default()
}

fn unset_missing_mapped_fields(c: &mut Collection) {
    let names: Vec<String> = c.fields.iter().map(|f| f.name.clone()).collect();
    let Some(mapped) = c
        .auth_options
        .oauth2
        .as_mut()
        .and_then(|o| o.mapped_fields.as_mut())
    else {
        return;
    };
    for slot in [
        &mut mapped.id,
        &mut mapped.name,
        &mut mapped.username,
        &mut mapped.avatar_url,
    ] {
        if slot
            .as_ref()
            .is_some_and(|n| !n.is_empty() && !names.contains(n))
        {
            *slot = Some(String::new());
        }
    }
}

fn check_id(c: &Collection, old: Option<&Collection>, catalog: &Catalog) -> Option<Problems> {
    if old.is_some() {
        return None;
    }
    let err = if c.id.is_empty() {
        FieldError::new("validation_required", "Cannot be blank.")
    } else if c.id.chars().count() > 100 {
        length_out_of_range(100)
    } else if !is_word(&c.id) {
        match_invalid()
    } else if catalog.by_id(&c.id).is_some() {
        FieldError::new(
            "validation_invalid_or_existing_id",
            "The model id is invalid or already exists.",
        )
    } else {
        return None;
    };
    Some(one(err))
}

fn check_type(c: &Collection, old: Option<&Collection>) -> Option<Problems> {
    if c.kind == CollectionType::Unknown {
        return Some(one(FieldError::new(
            "validation_in_invalid",
            "Must be a valid value.",
        )));
    }
    if c.kind == CollectionType::View {
        return Some(one(FieldError::new(
            "validation_view_not_supported",
            "View collections are not supported yet.",
        )));
    }
    let changed = old.is_some_and(|o| o.kind != c.kind);
    changed.then(|| {
        one(FieldError::new(
            "validation_collection_type_change",
            "Collection type cannot be changed.",
        ))
    })
}

fn check_name(c: &Collection, old: Option<&Collection>, catalog: &Catalog) -> Option<FieldError> {
    let name = c.name.as_str();
    if name.is_empty() {
        return Some(FieldError::new("validation_required", "Cannot be blank."));
    }
    if name.chars().count() > 255 {
        return Some(length_out_of_range(255));
    }
    if name.to_lowercase().contains("_via_") {
        return Some(found_via());
    }
    if !is_word(name) {
        return Some(match_invalid());
    }
    if old.is_some_and(|o| o.system && o.name != name) {
        return Some(FieldError::new(
            "validation_collection_system_name_change",
            "System collection name cannot be changed.",
        ));
    }
    let others = || catalog.iter().filter(|o| o.id != c.id);
    if others().any(|o| o.name.eq_ignore_ascii_case(name)) {
        return Some(FieldError::new(
            "validation_collection_name_exists",
            "Collection name must be unique (case insensitive).",
        ));
    }
    if others().any(|o| o.id == name) {
        return Some(FieldError::new(
            "validation_collection_name_id_duplicate",
            "The name must not match an existing collection id.",
        ));
    }
    let renamed = old.is_none_or(|o| o.name != name);
    let reserved = RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name));
    (renamed && reserved && !c.system).then(|| {
        FieldError::new(
            "validation_collection_name_invalid",
            "The name shouldn't match with an existing internal table.",
        )
    })
}

fn rules_of(r: &super::Rules) -> [(&'static str, Option<String>); 5] {
    [
        ("listRule", r.list_rule.clone()),
        ("viewRule", r.view_rule.clone()),
        ("createRule", r.create_rule.clone()),
        ("updateRule", r.update_rule.clone()),
        ("deleteRule", r.delete_rule.clone()),
    ]
}

/// The API rules: each must compile, and system collections keep theirs.
fn check_rules(
    c: &Collection,
    old: Option<&Collection>,
    catalog: &Catalog,
) -> Vec<(&'static str, Option<FieldError>)> {
    let old_rules = old.filter(|o| o.system).map(|o| rules_of(&o.rules));
    rules_of(&c.rules)
        .into_iter()
        .enumerate()
        .map(|(i, (key, rule))| {
            let old_rule = old_rules.as_ref().map(|o| o[i].1.clone());
            let problem = rule_problem(rule.as_deref(), c, catalog)
                .or_else(|| system_rule_change(old_rule, &rule));
            (key, problem)
        })
        .collect()
}

/// A non-empty rule must compile against the new version of the collection.
fn rule_problem(rule: Option<&str>, c: &Collection, catalog: &Catalog) -> Option<FieldError> {
    let rule = rule.filter(|r| !r.is_empty())?;
    let me = Arc::new(c.clone());
    let catalog = catalog.with(me.clone());
    let err = Filter::compile(rule, &me, &catalog, None).err()?;
    Some(FieldError::new(
        "validation_invalid_rule",
        format!("Invalid rule. Raw error: {}", err.message),
    ))
}

/// System collections keep their rules; `old` is `Some` only for those.
fn system_rule_change(old: Option<Option<String>>, new: &Option<String>) -> Option<FieldError> {
    let old = old?;
    (old != *new).then(|| {
        FieldError::new(
            "validation_collection_system_rule_change",
            "System collection API rule cannot be changed.",
        )
    })
}

#[cfg(test)]
#[path = "validate_test.rs"]
mod tests;
