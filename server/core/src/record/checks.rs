//! Per-field value checks, PocketBase's `ValidateValue`: one problem per field, with
//! its codes, messages and params.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use regex::{Regex, RegexBuilder};
use serde_json::Value as Json;

use super::{coerce, shape, validators};
use crate::error::FieldError;
use crate::filter::Lookup;
use crate::schema::field::{DomainOptions, FieldKind, TextOptions};
use crate::schema::{Catalog, Collection, Field};
use crate::value::{number_to_json, Value};

/// Text fields without a `max` accept this many characters.
pub const DEFAULT_TEXT_MAX: u64 = 5000;
/// Editor fields without a `maxSize` accept this many bytes.
pub const DEFAULT_EDITOR_MAX: u64 = 5 << 20;
/// Json fields without a `maxSize` accept this many bytes.
pub const DEFAULT_JSON_MAX: u64 = 1 << 20;
/// Password fields without a `max` accept this many characters (bcrypt's limit).
pub const DEFAULT_PASSWORD_MAX: u64 = 71;
/// The record id pattern PocketBase treats as safe without further checks.
pub const DEFAULT_ID_PATTERN: &str = "^[a-z0-9]+$";

/// What a check may need beyond the value itself.
pub struct Context<'a> {
    pub collection: &'a Collection,
    /// The record before this write (`None` on create).
    pub old: Option<&'a crate::record::Record>,
    pub lookup: &'a dyn Lookup,
    pub catalog: &'a Catalog,
    /// File names that were uploaded with this request and so may be new.
    pub new_files: &'a [String],
}

pub fn required() -> FieldError {
    FieldError::new("validation_required", "Cannot be blank.")
}

/// Checks `value` of `collection.fields[pos]`.
pub fn check(pos: usize, value: &Value, ctx: &Context) -> Option<FieldError> {
    let field = ctx.collection.fields.get(pos)?;
    match &field.kind {
        FieldKind::Text(o) if o.primary_key => check_primary_key(o, value, ctx),
        FieldKind::Text(o) => check_text(o, value.as_str().unwrap_or_default()),
        FieldKind::Number(o) => {
            let n = value.as_f64().unwrap_or(0.0);
            if !n.is_finite() {
                return Some(FieldError::new(
                    "validation_not_a_number",
                    "The submitted number is not properly formatted.",
                ));
            }
            if n == 0.0 {
                return o.required.then(required);
            }
            if o.only_int && n.fract() != 0.0 {
                return Some(only_int());
            }
            if let Some(min) = o.min.filter(|m| n < *m) {
                return Some(min_number(min));
            }
            let max = o.max.filter(|m| n > *m)?;
            Some(
                FieldError::new(
                    "validation_max_number_constraint",
                    format!("Must be less or equal than {}.", go_float(max)),
                )
                .param("max", number_to_json(max)),
            )
        }
        FieldKind::Bool(o) => (o.required && value.as_bool() != Some(true)).then(required),
        FieldKind::Email(o) => check_email(o, value.as_str().unwrap_or_default()),
        FieldKind::Url(o) => check_url(o, value.as_str().unwrap_or_default()),
        FieldKind::Editor(o) => {
            let s = value.as_str().unwrap_or_default();
            if o.required && s.is_empty() {
                return Some(required());
            }
            let max = if o.max_size == 0 {
                DEFAULT_EDITOR_MAX
            } else {
                o.max_size
            };
            (s.len() as u64 > max).then(|| {
                FieldError::new(
                    "validation_content_size_limit",
                    format!("The maximum allowed content size is {max} bytes."),
                )
                .param("maxSize", max)
            })
        }
        FieldKind::Date(o) => check_date(o.required, &o.min, &o.max, value),
        FieldKind::Autodate(_) | FieldKind::Password(_) => None,
        FieldKind::Select(o) => {
            let items = shape::items(value);
            if items.is_empty() {
                return o.required.then(required);
            }
            if let Some(err) = too_many(&field.kind, items.len()) {
                return Some(err);
            }
            let bad = items.iter().find(|v| !o.values.contains(v))?;
            Some(
                FieldError::new("validation_invalid_value", format!("Invalid value {bad}."))
                    .param("value", bad.as_str()),
            )
        }
        FieldKind::Json(o) => {
            let raw = match value {
                Value::Json(j) => j.to_string(),
                other => other.to_json().to_string(),
            };
            let max = if o.max_size == 0 {
                DEFAULT_JSON_MAX
            } else {
                o.max_size
            };
            if raw.len() as u64 > max {
                return Some(
                    FieldError::new(
                        "validation_json_size_limit",
                        format!("The maximum allowed JSON size is {max} bytes."),
                    )
                    .param("maxSize", max),
                );
            }
            let blank = matches!(raw.as_str(), "null" | "\"\"" | "[]" | "{}" | "");
            (o.required && blank).then(required)
        }
        FieldKind::Relation(o) => check_relation(field, o, value, ctx),
        FieldKind::File(o) => check_files(field, o.required, value, ctx),
    }
}

pub fn only_int() -> FieldError {
    FieldError::new(
        "validation_only_int_constraint",
        "Decimal numbers are not allowed.",
    )
}

pub fn min_number(min: f64) -> FieldError {
    FieldError::new(
        "validation_min_number_constraint",
        format!("Must be greater or equal than {}.", go_float(min)),
    )
    .param("min", number_to_json(min))
}

/// The text checks shared by every text value (and by autogenerate patterns).
pub fn check_text(o: &TextOptions, s: &str) -> Option<FieldError> {
    if (o.required || o.primary_key) && s.is_empty() {
        return Some(required());
    }
    if s.is_empty() {
        return None;
    }
    let len = s.chars().count() as u64;
    if o.min > 0 && len < o.min {
        return Some(
            FieldError::new(
                "validation_min_text_constraint",
                format!("Must be at least {} character(s).", o.min),
            )
            .param("min", o.min),
        );
    }
    let max = if o.max == 0 { DEFAULT_TEXT_MAX } else { o.max };
    if len > max {
        return Some(
            FieldError::new(
                "validation_max_text_constraint",
                format!("Must be no more than {max} character(s)."),
            )
            .param("max", max),
        );
    }
    if !o.pattern.is_empty() && !pattern_matches(&o.pattern, s) {
        return Some(invalid_format());
    }
    if o.primary_key && o.pattern != DEFAULT_ID_PATTERN {
        return check_id_characters(s);
    }
    None
}

fn invalid_format() -> FieldError {
    FieldError::new("validation_invalid_format", "Invalid value format.")
}

/// Whether `s` matches `pattern`; a pattern that does not compile matches nothing.
/// Compiled patterns are kept per thread (a few hundred at most).
pub fn pattern_matches(pattern: &str, s: &str) -> bool {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= 256 {
                cache.clear();
            }
            let compiled = RegexBuilder::new(pattern).size_limit(1 << 20).build().ok();
            cache.insert(pattern.to_owned(), compiled);
        }
        cache
            .get(pattern)
            .and_then(Option::as_ref)
            .is_some_and(|re| re.is_match(s))
    })
}

const FORBIDDEN_ID_CHARS: &[char] = &[
    '.', '/', '\\', '|', '"', '\'', '`', '<', '>', ':', '?', '*', '%', '$', '\0', '\t', '\n', '\r',
    ' ',
];
const RESERVED_IDS: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Ids also name directories of files: no path characters, no reserved device names.
fn check_id_characters(s: &str) -> Option<FieldError> {
    if let Some(ch) = s.chars().find(|c| FORBIDDEN_ID_CHARS.contains(c)) {
        return Some(
            FieldError::new(
                "validation_forbidden_pk_character",
                format!("'{ch}' is not a valid primary key character."),
            )
            .param("ch", ch.to_string()),
        );
    }
    let reserved = RESERVED_IDS.iter().find(|r| r.eq_ignore_ascii_case(s))?;
    Some(
        FieldError::new(
            "validation_reserved_pk",
            format!("The primary key '{reserved}' is reserved and cannot be used."),
        )
        .param("reserved", *reserved),
    )
}

fn check_primary_key(o: &TextOptions, value: &Value, ctx: &Context) -> Option<FieldError> {
    let id = value.as_str().unwrap_or_default();
    if let Some(old) = ctx.old {
        if old.id() != id {
            return Some(FieldError::new(
                "validation_pk_change",
                "The record primary key cannot be changed.",
            ));
        }
        return None;
    }
    if o.pattern != DEFAULT_ID_PATTERN
        && !id.is_empty()
        && !matches!(ctx.lookup.get(ctx.collection, id), Ok(None))
    {
        return Some(FieldError::new(
            "validation_pk_invalid",
            "The record primary key is invalid or already exists.",
        ));
    }
    check_text(o, id)
}

fn check_email(o: &DomainOptions, s: &str) -> Option<FieldError> {
    if s.is_empty() {
        return o.required.then(required);
    }
    if !validators::is_email(s) {
        return Some(FieldError::new(
            "validation_is_email",
            "Must be a valid email address.",
        ));
    }
    let domain = s.rsplit('@').next().unwrap_or_default();
    domain_problem(o, domain).then(|| {
        FieldError::new(
            "validation_email_domain_not_allowed",
            "Email domain is not allowed.",
        )
    })
}

fn check_url(o: &DomainOptions, s: &str) -> Option<FieldError> {
    if s.is_empty() {
        return o.required.then(required);
    }
    if !validators::is_url(s) {
        return Some(FieldError::new(
            "validation_invalid_url",
            "Must be a valid url.",
        ));
    }
    domain_problem(o, &validators::url_host(s)).then(|| {
        FieldError::new(
            "validation_url_domain_not_allowed",
            "Url domain is not allowed.",
        )
    })
}

/// Domains are compared exactly (case included), like PocketBase.
fn domain_problem(o: &DomainOptions, domain: &str) -> bool {
    let listed =
        |list: &Option<Vec<String>>| list.as_ref().is_some_and(|l| l.iter().any(|d| d == domain));
    let only = o.only_domains.as_ref().is_some_and(|l| !l.is_empty());
    (only && !listed(&o.only_domains)) || listed(&o.except_domains)
}

fn check_date(required_: bool, min: &str, max: &str, value: &Value) -> Option<FieldError> {
    let Some(t) = value.as_str().and_then(coerce::parse_date) else {
        return required_.then(required);
    };
    if let Some(min) = coerce::parse_date(min).filter(|m| t < *m) {
        return Some(date_bound(
            "validation_min_greater_equal_than_required",
            "Must be no less than",
            min,
        ));
    }
    let max = coerce::parse_date(max).filter(|m| t > *m)?;
    Some(date_bound(
        "validation_max_less_equal_than_required",
        "Must be no greater than",
        max,
    ))
}

fn date_bound(code: &str, text: &str, t: DateTime<Utc>) -> FieldError {
    FieldError::new(code, format!("{text} {}.", go_time(t)))
        .param("threshold", t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Go's `Time.String()` for a UTC instant: `2024-01-01 00:00:00.5 +0000 UTC`.
fn go_time(t: DateTime<Utc>) -> String {
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s + " +0000 UTC"
}

/// Go's `%v` of a float64: shortest digits, exponent form below 1e-4 or from 1e6.
pub fn go_float(n: f64) -> String {
    let sci = format!("{n:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return coerce::format_float(n);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

fn too_many(kind: &FieldKind, count: usize) -> Option<FieldError> {
    let max = shape::max_items(kind).filter(|m| count > *m)?;
    Some(
        FieldError::new(
            "validation_too_many_values",
            format!("Select no more than {max}."),
        )
        .param("maxSelect", max),
    )
}

fn check_relation(
    field: &Field,
    o: &crate::schema::field::RelationOptions,
    value: &Value,
    ctx: &Context,
) -> Option<FieldError> {
    let ids = shape::items(value);
    if ids.is_empty() {
        return o.required.then(required);
    }
    if o.min_select > 0 && ids.len() < o.min_select as usize {
        return Some(
            FieldError::new(
                "validation_not_enough_values",
                format!("Select at least {}.", o.min_select),
            )
            .param("minSelect", o.min_select),
        );
    }
    if let Some(err) = too_many(&field.kind, ids.len()) {
        return Some(err);
    }
    let target = ctx
        .catalog
        .by_id(&o.collection_id)
        .map(|t| &**t)
        .or_else(|| (o.collection_id == ctx.collection.id).then_some(ctx.collection));
    let Some(target) = target else {
        return Some(FieldError::new(
            "validation_missing_rel_collection",
            "Relation connection is missing or cannot be accessed.",
        ));
    };
    let all_found = ids
        .iter()
        .all(|id| matches!(ctx.lookup.get(target, id), Ok(Some(_))));
    (!all_found).then(|| {
        FieldError::new(
            "validation_missing_rel_records",
            "Failed to find all relation records with the provided ids.",
        )
    })
}

fn check_files(field: &Field, required_: bool, value: &Value, ctx: &Context) -> Option<FieldError> {
    let names = shape::items(value);
    if names.is_empty() {
        return required_.then(required);
    }
    let old: Vec<String> = ctx
        .old
        .and_then(|r| r.get(ctx.collection, &field.name))
        .map(shape::items)
        .unwrap_or_default();
    let invalid: Vec<String> = names
        .iter()
        .filter(|n| !old.contains(n) && !ctx.new_files.contains(n))
        .map(|n| n.chars().take(250).collect())
        .collect();
    if !invalid.is_empty() {
        return Some(
            FieldError::new(
                "validation_invalid_file",
                format!("Invalid new files: [{}].", invalid.join(" ")),
            )
            .param("invalidFiles", Json::from(invalid)),
        );
    }
    let max = shape::max_items(&field.kind).filter(|m| names.len() > *m)?;
    Some(
        FieldError::new(
            "validation_too_many_files",
            format!("The maximum allowed files is {max}."),
        )
        .param("maxSelect", max),
    )
}

/// PocketBase's checks of a new plain password (`min`, `max`, `pattern`).
pub fn check_password(
    o: &crate::schema::field::PasswordOptions,
    plain: &str,
) -> Option<FieldError> {
    let len = plain.chars().count() as u64;
    if len < o.min {
        return Some(FieldError::new(
            "validation_min_text_constraint",
            format!("Must be at least {} character(s).", o.min),
        ));
    }
    let max = if o.max == 0 {
        DEFAULT_PASSWORD_MAX
    } else {
        o.max
    };
    if len > max {
        return Some(FieldError::new(
            "validation_max_text_constraint",
            format!("Must be less than {max} character(s)."),
        ));
    }
    (!o.pattern.is_empty() && !pattern_matches(&o.pattern, plain)).then(invalid_format)
}
