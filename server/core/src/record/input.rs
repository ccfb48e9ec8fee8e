//! Turning a request body into a record, PocketBase's way: values are coerced to the
//! field's type, `+`/`-` modifiers are applied, and every problem is reported at once.

use serde_json::{Map, Value as Json};

use super::Record;
use crate::error::FieldErrors;
use crate::filter::Lookup;
use crate::schema::field::FieldKind;
use crate::schema::{Catalog, Collection, Field};
use crate::value::Value;
use crate::{auth, ids, time, Result};

/// Who is writing: some fields are reserved to superusers.
#[derive(Clone, Copy, Debug, Default)]
pub struct InputOptions {
    pub superuser: bool,
}

/// Text fields without a `max` accept this many characters.
pub const DEFAULT_TEXT_MAX: usize = 5000;
/// Editor fields without a `maxSize` accept this many bytes.
pub const DEFAULT_EDITOR_MAX: usize = 5 << 20;
/// Json fields without a `maxSize` accept this many bytes.
pub const DEFAULT_JSON_MAX: usize = 1 << 20;

/// Applies `body` to `existing` (update) or to a fresh record (create).
pub fn apply_input(
    collection: &Collection,
    existing: Option<&Record>,
    body: &Map<String, Json>,
    lookup: &dyn Lookup,
    catalog: &Catalog,
    opts: &InputOptions,
) -> Result<Record> {
    let creating = existing.is_none();
    let mut record = existing
        .cloned()
        .unwrap_or_else(|| Record::zero(collection));
    let mut errs = FieldErrors::default();
    if creating {
        match body.get("id") {
            None | Some(Json::Null) => record.values[0] = Value::Text(ids::new_id()),
            Some(Json::String(s)) if s.is_empty() => record.values[0] = Value::Text(ids::new_id()),
            Some(Json::String(s)) if ids::is_valid_id(s) => {
                record.values[0] = Value::Text(s.clone())
            }
            Some(_) => errs.add("id", "validation_invalid_format", "Invalid value format."),
        }
    }
    for (pos, field) in collection.fields.iter().enumerate() {
        if field.system && !is_settable_system_field(collection, field, opts) {
            continue;
        }
        if let FieldKind::Password(_) = field.kind {
            continue;
        }
        if let Err(e) = apply_field(field, &mut record.values[pos], body) {
            errs.add(field.name.clone(), &e.0, e.1);
        }
    }
    if collection.is_auth() {
        apply_password(collection, &mut record, body, creating, &mut errs);
    }
    let now = time::now();
    for (pos, field) in collection.fields.iter().enumerate() {
        if let FieldKind::Autodate(o) = &field.kind {
            if (creating && o.on_create) || o.on_update {
                record.values[pos] = Value::Text(now.clone());
            }
        }
    }
    for (pos, field) in collection.fields.iter().enumerate() {
        if errs.0.contains_key(&field.name) || pos == 0 {
            continue;
        }
        if let Err((code, message)) = validate(field, &record.values[pos], lookup, catalog) {
            errs.add(field.name.clone(), &code, message);
        }
    }
    let message = if creating {
        "Failed to create record."
    } else {
        "Failed to update record."
    };
    errs.into_result(message)?;
    Ok(record)
}

fn is_settable_system_field(collection: &Collection, field: &Field, opts: &InputOptions) -> bool {
    collection.is_auth()
        && (matches!(field.name.as_str(), "email" | "emailVisibility")
            || field.name == "verified" && opts.superuser)
}

type FieldProblem = (String, String);

fn problem(code: &str, message: impl Into<String>) -> FieldProblem {
    (code.to_owned(), message.into())
}

fn apply_field(
    field: &Field,
    slot: &mut Value,
    body: &Map<String, Json>,
) -> Result<(), FieldProblem> {
    let name = &field.name;
    if let FieldKind::Autodate(_) = field.kind {
        return Ok(());
    }
    if let Some(raw) = body.get(name) {
        *slot = prepare(field, raw)?;
    }
    let multiple = field.kind.is_multiple();
    if let FieldKind::Number(_) = field.kind {
        if let Some(raw) = body.get(&format!("{name}+")) {
            *slot = Value::Number(slot.as_f64().unwrap_or(0.0) + to_number(raw));
        }
        if let Some(raw) = body.get(&format!("{name}-")) {
            *slot = Value::Number(slot.as_f64().unwrap_or(0.0) - to_number(raw));
        }
        return Ok(());
    }
    if !matches!(
        field.kind,
        FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_)
    ) {
        return Ok(());
    }
    let mut items: Vec<String> = slot.strings().into_iter().map(str::to_owned).collect();
    let mut touched = false;
    if let Some(raw) = body.get(&format!("+{name}")) {
        let mut front = strings_of(raw);
        front.retain(|s| !items.contains(s));
        front.extend(items);
        items = front;
        touched = true;
    }
    if let Some(raw) = body.get(&format!("{name}+")) {
        for s in strings_of(raw) {
            if !items.contains(&s) {
                items.push(s);
            }
        }
        touched = true;
    }
    if let Some(raw) = body.get(&format!("{name}-")) {
        let remove = strings_of(raw);
        items.retain(|s| !remove.contains(s));
        touched = true;
    }
    if touched {
        *slot = if multiple {
            Value::List(items.into_iter().map(Value::Text).collect())
        } else {
            Value::Text(items.pop().unwrap_or_default())
        };
    }
    Ok(())
}

fn to_number(raw: &Json) -> f64 {
    match raw {
        Json::Number(n) => n.as_f64().unwrap_or(0.0),
        Json::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .unwrap_or(0.0),
        Json::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

fn to_text(raw: &Json) -> String {
    match raw {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Number(n) => crate::value::number_to_json(n.as_f64().unwrap_or(0.0)).to_string(),
        other => other.to_string(),
    }
}

fn strings_of(raw: &Json) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    match raw {
        Json::Array(items) => items.iter().map(to_text).for_each(&mut push),
        Json::Null => {}
        other => push(to_text(other)),
    }
    out
}

/// Coerces a raw JSON value to the field's type.
fn prepare(field: &Field, raw: &Json) -> Result<Value, FieldProblem> {
    Ok(match &field.kind {
        FieldKind::Number(_) => match raw {
            Json::String(s)
                if !s.trim().is_empty()
                    && s.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) =>
            {
                return Err(problem(
                    "validation_invalid_number",
                    "Must be a valid number.",
                ));
            }
            _ => Value::Number(to_number(raw)),
        },
        FieldKind::Bool(_) => Value::Bool(match raw {
            Json::Bool(b) => *b,
            Json::String(s) => matches!(s.trim(), "true" | "1" | "TRUE" | "True"),
            Json::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
            _ => false,
        }),
        FieldKind::Date(_) => {
            let s = to_text(raw);
            if s.trim().is_empty() {
                Value::Text(String::new())
            } else {
                Value::Text(
                    time::normalize(&s).ok_or_else(|| {
                        problem("validation_invalid_date", "Must be a valid date.")
                    })?,
                )
            }
        }
        FieldKind::Json(_) => Value::Json(match raw {
            Json::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone())),
            other => other.clone(),
        }),
        FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_) => {
            let mut items = strings_of(raw);
            if field.kind.is_multiple() {
                Value::List(items.into_iter().map(Value::Text).collect())
            } else {
                Value::Text(items.pop().unwrap_or_default())
            }
        }
        _ => Value::Text(to_text(raw)),
    })
}

fn apply_password(
    collection: &Collection,
    record: &mut Record,
    body: &Map<String, Json>,
    creating: bool,
    errs: &mut FieldErrors,
) {
    let Some(pos) = collection.field_pos("password") else {
        return;
    };
    let password = body.get("password").map(to_text).unwrap_or_default();
    if password.is_empty() {
        if creating {
            errs.add("password", "validation_required", "Cannot be blank.");
        }
        return;
    }
    let min = match &collection.fields[pos].kind {
        FieldKind::Password(o) if o.min > 0 => o.min as usize,
        _ => 8,
    };
    if password.chars().count() < min {
        errs.add(
            "password",
            "validation_min_text_constraint",
            format!("Must be at least {min} character(s)."),
        );
    } else if password.len() > 71 {
        errs.add(
            "password",
            "validation_max_text_constraint",
            "Must be less than 72 character(s).",
        );
    }
    if body.get("passwordConfirm").map(to_text).unwrap_or_default() != password {
        errs.add(
            "passwordConfirm",
            "validation_values_mismatch",
            "Values don't match.",
        );
    }
    if !errs.is_empty() {
        return;
    }
    match auth::hash_password(&password) {
        Ok(hash) => record.values[pos] = Value::Text(hash),
        Err(_) => errs.add(
            "password",
            "validation_invalid_password",
            "The password could not be set.",
        ),
    }
    if let Some(tk) = collection.field_pos("tokenKey") {
        record.values[tk] = Value::Text(ids::random_string(50));
    }
}

/// Checks one value against its field's constraints.
fn validate(
    field: &Field,
    value: &Value,
    lookup: &dyn Lookup,
    catalog: &Catalog,
) -> Result<(), FieldProblem> {
    if field.kind.required() && value.is_zero() && !matches!(field.kind, FieldKind::Password(_)) {
        return Err(problem("validation_required", "Cannot be blank."));
    }
    if value.is_zero() {
        return Ok(());
    }
    match &field.kind {
        FieldKind::Text(o) => {
            let s = value.as_str().unwrap_or_default();
            let n = s.chars().count();
            let max = if o.max == 0 {
                DEFAULT_TEXT_MAX
            } else {
                o.max as usize
            };
            if n < o.min as usize {
                return Err(problem(
                    "validation_min_text_constraint",
                    format!("Must be at least {} character(s).", o.min),
                ));
            }
            if n > max {
                return Err(problem(
                    "validation_max_text_constraint",
                    format!("Must be less than {max} character(s)."),
                ));
            }
            if !o.pattern.is_empty() && !regex::Regex::new(&o.pattern).is_ok_and(|r| r.is_match(s))
            {
                return Err(problem(
                    "validation_invalid_format",
                    "Invalid value format.",
                ));
            }
        }
        FieldKind::Number(o) => {
            let n = value.as_f64().unwrap_or(0.0);
            if o.only_int && n.fract() != 0.0 {
                return Err(problem(
                    "validation_only_int_constraint",
                    "Only integers are allowed.",
                ));
            }
            if o.min.is_some_and(|m| n < m) {
                return Err(problem(
                    "validation_min_number_constraint",
                    format!("Must be larger than {}.", o.min.unwrap_or(0.0)),
                ));
            }
            if o.max.is_some_and(|m| n > m) {
                return Err(problem(
                    "validation_max_number_constraint",
                    format!("Must be less than {}.", o.max.unwrap_or(0.0)),
                ));
            }
        }
        FieldKind::Email(o) => {
            let s = value.as_str().unwrap_or_default();
            if !is_email(s) {
                return Err(problem(
                    "validation_is_email",
                    "Must be a valid email address.",
                ));
            }
            let domain = s.rsplit('@').next().unwrap_or_default();
            check_domain(domain, o, "validation_email_domain_not_allowed")?;
        }
        FieldKind::Url(o) => {
            let s = value.as_str().unwrap_or_default();
            let Some(host) = url_host(s) else {
                return Err(problem("validation_is_url", "Must be a valid url."));
            };
            check_domain(&host, o, "validation_url_domain_not_allowed")?;
        }
        FieldKind::Editor(o) => {
            let max = if o.max_size == 0 {
                DEFAULT_EDITOR_MAX
            } else {
                o.max_size as usize
            };
            if value.as_str().unwrap_or_default().len() > max {
                return Err(problem(
                    "validation_content_size_limit",
                    format!("The maximum allowed content size is {max} bytes."),
                ));
            }
        }
        FieldKind::Date(o) => {
            let s = value.as_str().unwrap_or_default();
            if let Some(min) = time::normalize(&o.min).filter(|m| s < m.as_str()) {
                return Err(problem(
                    "validation_min_date_constraint",
                    format!("Must be no earlier than {min}."),
                ));
            }
            if let Some(max) = time::normalize(&o.max).filter(|m| s > m.as_str()) {
                return Err(problem(
                    "validation_max_date_constraint",
                    format!("Must be no later than {max}."),
                ));
            }
        }
        FieldKind::Select(o) => {
            let items = value.strings();
            if let Some(bad) = items.iter().find(|v| !o.values.iter().any(|x| x == *v)) {
                return Err(problem(
                    "validation_invalid_value",
                    format!("Invalid value {bad}."),
                ));
            }
            let max = o.max_select.max(1) as usize;
            if items.len() > max {
                return Err(problem(
                    "validation_too_many_values",
                    format!("Select no more than {max}."),
                ));
            }
        }
        FieldKind::Json(o) => {
            let max = if o.max_size == 0 {
                DEFAULT_JSON_MAX
            } else {
                o.max_size as usize
            };
            if value.to_json().to_string().len() > max {
                return Err(problem(
                    "validation_json_size_limit",
                    format!("The maximum allowed JSON size is {max} bytes."),
                ));
            }
        }
        FieldKind::Relation(o) => {
            let items = value.strings();
            if o.max_select > 1 && items.len() > o.max_select as usize {
                return Err(problem(
                    "validation_too_many_values",
                    format!("Select no more than {}.", o.max_select),
                ));
            }
            if items.len() < o.min_select as usize {
                return Err(problem(
                    "validation_not_enough_values",
                    format!("Select at least {}.", o.min_select),
                ));
            }
            let target = catalog.by_id(&o.collection_id);
            for id in items {
                let found = match target {
                    Some(t) => lookup
                        .get(t, id)
                        .map_err(|_| {
                            problem(
                                "validation_missing_rel_records",
                                "Failed to check relation records.",
                            )
                        })?
                        .is_some(),
                    None => false,
                };
                if !found {
                    return Err(problem(
                        "validation_missing_rel_records",
                        "Failed to find all relation records with the provided ids.",
                    ));
                }
            }
        }
        FieldKind::File(o) => {
            let max = o.max_select.max(1) as usize;
            if value.strings().len() > max {
                return Err(problem(
                    "validation_too_many_values",
                    format!("Select no more than {max}."),
                ));
            }
        }
        FieldKind::Bool(_) | FieldKind::Autodate(_) | FieldKind::Password(_) => {}
    }
    Ok(())
}

fn check_domain(
    domain: &str,
    o: &crate::schema::field::DomainOptions,
    code: &str,
) -> Result<(), FieldProblem> {
    let domain = domain.to_ascii_lowercase();
    let listed = |list: &Option<Vec<String>>| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
    };
    if o.only_domains.as_ref().is_some_and(|l| !l.is_empty()) && !listed(&o.only_domains) {
        return Err(problem(code, "Domain is not allowed."));
    }
    if listed(&o.except_domains) {
        return Err(problem(code, "Domain is not allowed."));
    }
    Ok(())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

/// The host of an http(s) URL, if `s` is one.
fn url_host(s: &str) -> Option<String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    let ok = !host.is_empty()
        && !s.chars().any(char::is_whitespace)
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    ok.then(|| host.to_ascii_lowercase())
}
