//! Per-field settings checks, PocketBase's `ValidateSettings`: every option key of a
//! field reports its first problem, under `fields.<i>.<key>`.

use regex::Regex;
use serde_json::Value as Json;

use super::{at, nest, Problems};
use crate::error::FieldError;
use crate::record::checks::{check_text, min_number, only_int};
use crate::record::{autogen, validators};
use crate::schema::field::{DomainOptions, RelationOptions, TextOptions};
use crate::schema::{Catalog, Collection, CollectionType, Field, FieldKind};

const RESERVED_NAMES: &[&str] = &[
    "null",
    "true",
    "false",
    "_rowid_",
    "collectionId",
    "collectionName",
    "expand",
];

pub fn not_less_than(threshold: impl Into<Json> + std::fmt::Display) -> FieldError {
    let message = format!("Must be no less than {threshold}.");
    FieldError::new("validation_min_greater_equal_than_required", message)
        .param("threshold", threshold)
}

pub fn not_greater_than(threshold: impl Into<Json> + std::fmt::Display) -> FieldError {
    let message = format!("Must be no greater than {threshold}.");
    FieldError::new("validation_max_less_equal_than_required", message)
        .param("threshold", threshold)
}

pub fn length_out_of_range(max: usize) -> FieldError {
    FieldError::new(
        "validation_length_out_of_range",
        format!("The length must be between 1 and {max}."),
    )
    .param("max", max)
    .param("min", 1)
}

pub fn match_invalid() -> FieldError {
    FieldError::new("validation_match_invalid", "Must be in a valid format.")
}

pub fn found_via() -> FieldError {
    FieldError::new(
        "validation_found_via",
        "The value cannot contain \"_via_\".",
    )
}

/// `^\w+$` with Go's ASCII `\w`.
pub fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn required() -> FieldError {
    FieldError::new("validation_required", "Cannot be blank.")
}

/// The settings problems of `c.fields[i]`, relative to `fields.<i>`.
pub fn check(c: &Collection, i: usize, old: Option<&Collection>, catalog: &Catalog) -> Problems {
    let Some(f) = c.fields.get(i) else {
        return Vec::new();
    };
    let mut out = Problems::new();
    let mut key = |k: &str, p: Option<FieldError>| {
        if let Some(err) = p {
            out.push((k.to_owned(), err));
        }
    };
    key(
        "id",
        (f.id.chars().count() > 100).then(|| length_out_of_range(100)),
    );
    key("name", check_name(f));
    let help = f.help.as_deref().unwrap_or_default().chars().count();
    key("help", (help > 300).then(|| length_out_of_range(300)));
    let old_field = old.and_then(|o| o.field_by_id(&f.id));
    let mut nested = Problems::new();
    match &f.kind {
        FieldKind::Text(o) => text(c, f, o, &mut key),
        FieldKind::Number(o) => {
            let int_problem = |v: Option<f64>| {
                v.filter(|n| o.only_int && n.fract() != 0.0)
                    .map(|_| only_int())
            };
            key("min", int_problem(o.min));
            let below_min = match (o.min, o.max) {
                (Some(min), Some(max)) if max < min => Some(min_number(min)),
                _ => None,
            };
            key("max", int_problem(o.max).or(below_min));
        }
        FieldKind::Email(o) | FieldKind::Url(o) => nested = domains(o),
        FieldKind::Autodate(o) => {
            let (old_create, old_update) = match old_field.map(|f| &f.kind) {
                Some(FieldKind::Autodate(p)) => (p.on_create, p.on_update),
                _ => (o.on_create, o.on_update),
            };
            let neither = FieldError::new(
                "validation_required",
                "Either onCreate or onUpdate must be enabled.",
            );
            let mismatch = || FieldError::new("validation_values_mismatch", "Values don't match.");
            let create = if f.system && o.on_create != old_create {
                Some(mismatch())
            } else {
                (!o.on_create && !o.on_update).then(|| neither.clone())
            };
            let update = if f.system && o.on_update != old_update {
                Some(mismatch())
            } else {
                (!o.on_create && !o.on_update).then(|| neither.clone())
            };
            key("onCreate", create);
            key("onUpdate", update);
        }
        FieldKind::Select(o) => {
            key("values", o.values.is_empty().then(required));
            let max = o.values.len().max(1);
            key(
                "maxSelect",
                (o.max_select as usize > max).then(|| not_greater_than(max)),
            );
        }
        FieldKind::Relation(o) => {
            key("collectionId", relation_target(c, o, old_field, catalog));
            let max = if o.min_select > 0 && o.max_select == 0 {
                Some(required())
            } else {
                (o.max_select > 0 && o.max_select < o.min_select)
                    .then(|| not_less_than(o.min_select))
            };
            key("maxSelect", max);
        }
        FieldKind::File(o) => {
            for (j, thumb) in o.thumbs.iter().enumerate() {
                if let Some(err) = thumb_problem(thumb) {
                    nested.push((format!("thumbs.{j}"), err));
                }
            }
        }
        FieldKind::Password(o) => {
            let min = if o.min > 71 {
                Some(not_greater_than(71))
            } else {
                None
            };
            key("min", min);
            let max = if o.max > 0 && o.max < o.min {
                Some(not_less_than(o.min))
            } else {
                (o.max > 71).then(|| not_greater_than(71))
            };
            key("max", max);
            let cost = match o.cost {
                0 => None,
                1..=3 => Some(not_less_than(4)),
                32.. => Some(not_greater_than(31)),
                _ => None,
            };
            key("cost", cost);
            key("pattern", regex_problem(&o.pattern));
        }
        FieldKind::Bool(_) | FieldKind::Editor(_) | FieldKind::Json(_) | FieldKind::Date(_) => {}
    }
    out.extend(nested);
    out
}

fn check_name(f: &Field) -> Option<FieldError> {
    let name = f.name.as_str();
    if name.is_empty() {
        return Some(required());
    }
    if name.chars().count() > 100 {
        return Some(length_out_of_range(100));
    }
    if !is_word(name) {
        return Some(match_invalid());
    }
    if RESERVED_NAMES.contains(&name) {
        return Some(FieldError::new(
            "validation_not_in_invalid",
            "Must not be in list.",
        ));
    }
    name.to_lowercase().contains("_via_").then(found_via)
}

fn text(
    c: &Collection,
    f: &Field,
    o: &TextOptions,
    key: &mut impl FnMut(&str, Option<FieldError>),
) {
    if o.primary_key && f.name != "id" && check_name(f).is_none() {
        key(
            "name",
            Some(FieldError::new(
                "validation_in_invalid",
                "The primary key must be named \"id\".",
            )),
        );
    }
    let keys = c
        .fields
        .iter()
        .filter(|x| matches!(&x.kind, FieldKind::Text(t) if t.primary_key))
        .count();
    key(
        "primaryKey",
        (o.primary_key && keys > 1).then(|| {
            FieldError::new(
                "validation_unsupported_composite_pk",
                "Composite PKs are not supported and the collection must have only 1 PK.",
            )
        }),
    );
    key(
        "max",
        (o.max > 0 && o.max < o.min).then(|| not_less_than(o.min)),
    );
    let pattern = if o.primary_key && o.pattern.is_empty() {
        Some(required())
    } else {
        regex_problem(&o.pattern)
    };
    key("pattern", pattern);
    key(
        "hidden",
        (o.primary_key && f.hidden).then(|| FieldError::new("validation_empty", "Must be blank.")),
    );
    key("required", (o.primary_key && !o.required).then(required));
    let autogen = regex_problem(&o.autogenerate_pattern).or_else(|| autogenerate_problem(o));
    key("autogeneratePattern", autogen);
}

fn regex_problem(pattern: &str) -> Option<FieldError> {
    if pattern.is_empty() {
        return None;
    }
    let err = Regex::new(pattern).err()?;
    let reason = err.to_string();
    let reason = reason.lines().last().unwrap_or_default().trim();
    Some(FieldError::new(
        "validation_invalid_regex",
        format!(
            "Invalid regular expression: {}.",
            reason.trim_end_matches('.')
        ),
    ))
}

/// An autogenerate pattern must be usable and produce values the field accepts.
fn autogenerate_problem(o: &TextOptions) -> Option<FieldError> {
    if o.autogenerate_pattern.is_empty() {
        return None;
    }
    for _ in 0..10 {
        let value = match autogen::generate(&o.autogenerate_pattern) {
            Ok(v) => v,
            Err(e) => {
                return Some(FieldError::new(
                    "validation_invalid_autogenerate_pattern",
                    format!("Invalid autogenerate pattern: {e}."),
                ))
            }
        };
        if check_text(o, &value).is_some() {
            return Some(FieldError::new(
                "validation_invalid_autogenerate_pattern_value",
                format!("The provided autogenerate pattern could produce invalid field values, ex.: {value:?}."),
            ));
        }
    }
    None
}

/// `onlyDomains` and `exceptDomains` exclude each other; each must list domains.
fn domains(o: &DomainOptions) -> Problems {
    let only = o.only_domains.as_deref().unwrap_or_default();
    let except = o.except_domains.as_deref().unwrap_or_default();
    let blank = || FieldError::new("validation_empty", "Must be blank.");
    let mut out = Problems::new();
    let mut side = |key: &str, list: &[String], other: &[String]| {
        if !other.is_empty() && !list.is_empty() {
            out.push((key.to_owned(), blank()));
            return;
        }
        for (j, d) in list.iter().enumerate() {
            if !validators::is_domain(d) {
                let err = FieldError::new("validation_is_domain", "Must be a valid domain.");
                out.extend(nest(key, at(j, err)));
            }
        }
    };
    side("exceptDomains", except, only);
    side("onlyDomains", only, except);
    out
}

fn relation_target(
    c: &Collection,
    o: &RelationOptions,
    old_field: Option<&Field>,
    catalog: &Catalog,
) -> Option<FieldError> {
    if o.collection_id.is_empty() {
        return Some(required());
    }
    if let Some(old) = old_field.and_then(Field::relation) {
        if old.collection_id != o.collection_id {
            return Some(FieldError::new(
                "validation_field_relation_change",
                "The relation collection cannot be changed.",
            ));
        }
    }
    let target_kind = if o.collection_id == c.id {
        Some(c.kind)
    } else {
        catalog.by_id(&o.collection_id).map(|t| t.kind)
    };
    match target_kind {
        None => Some(FieldError::new(
            "validation_field_relation_missing_collection",
            "The relation collection doesn't exist.",
        )),
        Some(CollectionType::View) if c.kind != CollectionType::View => Some(FieldError::new(
            "validation_relation_field_non_view_base_collection",
            "Only view collections are allowed to have relations to other views.",
        )),
        Some(_) => None,
    }
}

/// `WxH`, `WxHt`, `WxHb`, `WxHf` with at least one side non-zero.
fn thumb_problem(thumb: &str) -> Option<FieldError> {
    if matches!(thumb, "0x0" | "0x0t" | "0x0b" | "0x0f") {
        return Some(FieldError::new(
            "validation_not_in_invalid",
            "Must not be in list.",
        ));
    }
    let body = thumb.strip_suffix(['t', 'b', 'f']).unwrap_or(thumb);
    let valid = body.split_once('x').is_some_and(|(w, h)| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(w) && digits(h)
    });
    (!valid).then(match_invalid)
}
