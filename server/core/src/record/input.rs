//! Turning a request body into a record, PocketBase's way: values are coerced to the
//! field's type, `+`/`-` modifiers are applied, and every field problem is reported
//! at once (see `checks` for the codes).
//!
//! Order, as in PocketBase: body keys are applied shortest first (so `{"n": 1, "n+": 2}`
//! is 3); keys naming hidden fields are ignored unless a superuser writes; auth
//! collections then check `email`/`verified`/`password*` and stop there on failure;
//! then empty fields with an `autogeneratePattern` are filled on create, and every
//! field is checked. Autodates and password hashes are set last.

use serde_json::{Map, Value as Json};

use super::auth_input::{self, Passwords};
use super::checks::{self, Context};
use super::{autogen, coerce, shape, Record};
use crate::error::{FieldError, FieldErrors};
use crate::filter::Lookup;
use crate::schema::field::FieldKind;
use crate::schema::{Catalog, Collection, Field};
use crate::value::Value;
use crate::{auth, time, Error, Result};

pub use super::checks::{DEFAULT_EDITOR_MAX, DEFAULT_JSON_MAX, DEFAULT_TEXT_MAX};

/// Who is writing: hidden fields, `email` and `verified` of auth records, and password
/// changes without `oldPassword` need more than default access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    #[default]
    Default,
    /// Passed the auth collection's `manageRule`.
    Manager,
    Superuser,
}

/// The simple form of [`Input`]: superuser or not.
#[derive(Clone, Copy, Debug, Default)]
pub struct InputOptions {
    pub superuser: bool,
}

/// Everything about a write besides the body.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    pub access: Access,
    /// Names of files uploaded with this request: file fields accept them as new
    /// values (any other name must already be on the record).
    pub new_files: &'a [String],
}

/// Applies `body` to `existing` (update) or to a fresh record (create).
pub fn apply_input(
    collection: &Collection,
    existing: Option<&Record>,
    body: &Map<String, Json>,
    lookup: &dyn Lookup,
    catalog: &Catalog,
    opts: &InputOptions,
) -> Result<Record> {
    let input = Input {
        access: if opts.superuser {
            Access::Superuser
        } else {
            Access::Default
        },
        new_files: &[],
    };
    apply_input_as(collection, existing, body, lookup, catalog, &input)
}

/// [`apply_input`] with the full [`Input`].
pub fn apply_input_as(
    collection: &Collection,
    existing: Option<&Record>,
    body: &Map<String, Json>,
    lookup: &dyn Lookup,
    catalog: &Catalog,
    input: &Input,
) -> Result<Record> {
    let creating = existing.is_none();
    let message = if creating {
        "Failed to create record."
    } else {
        "Failed to update record."
    };
    let old = existing.map(|r| conformed(collection, r));
    let mut record = old.clone().unwrap_or_else(|| Record::zero(collection));
    let plains = load(collection, &mut record, body, input.access);
    if collection.is_auth() {
        let pw = Passwords::from_body(body);
        auth_input::check(collection, old.as_ref(), &record, &pw, input.access)
            .into_result(message)?;
    }
    if creating {
        autogenerate(collection, &mut record)?;
    }
    let ctx = Context {
        collection,
        old: old.as_ref(),
        lookup,
        catalog,
        new_files: input.new_files,
    };
    let mut errs = FieldErrors::default();
    for (pos, field) in collection.fields.iter().enumerate() {
        let problem = match &field.kind {
            FieldKind::Password(o) => check_password(o, &record.values[pos], plains.get(pos)),
            _ => checks::check(pos, &record.values[pos], &ctx),
        };
        if let Some(err) = problem {
            errs.push(field.name.clone(), err);
        }
    }
    errs.into_result(message)?;
    if creating && collection.is_auth() {
        check_auth_id_unique(collection, record.id(), lookup, catalog).into_result(message)?;
    }
    finish(collection, old.as_ref(), &mut record, &plains)?;
    Ok(record)
}

/// `existing` with every value in its field's shape.
fn conformed(collection: &Collection, existing: &Record) -> Record {
    let mut values = existing.values.clone();
    values.resize(collection.fields.len(), Value::Null);
    Record {
        values: collection
            .fields
            .iter()
            .zip(values)
            .map(|(f, v)| shape::conform(&f.kind, v))
            .collect(),
    }
}

/// What a body key does to a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Set,
    Prepend,
    Append,
    Subtract,
    Autogenerate,
}

/// The field and operation a body key names, PocketBase's setters: `name` for every
/// field, `+name`/`name+`/`name-` for select, relation and file, `name+`/`name-` for
/// numbers, `name:autogenerate` for text.
fn resolve(collection: &Collection, key: &str) -> Option<(usize, Op)> {
    collection.fields.iter().enumerate().find_map(|(pos, f)| {
        let name = f.name.as_str();
        if key == name {
            return Some((pos, Op::Set));
        }
        let listy = matches!(
            f.kind,
            FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_)
        );
        let op = match &f.kind {
            _ if listy && key.strip_prefix('+') == Some(name) => Op::Prepend,
            FieldKind::Number(_)
            | FieldKind::Select(_)
            | FieldKind::Relation(_)
            | FieldKind::File(_)
                if key.strip_suffix('+') == Some(name) =>
            {
                Op::Append
            }
            FieldKind::Number(_)
            | FieldKind::Select(_)
            | FieldKind::Relation(_)
            | FieldKind::File(_)
                if key.strip_suffix('-') == Some(name) =>
            {
                Op::Subtract
            }
            FieldKind::Text(_) if key.strip_suffix(":autogenerate") == Some(name) => {
                Op::Autogenerate
            }
            _ => return None,
        };
        Some((pos, op))
    })
}

/// New plain passwords by field position.
#[derive(Debug, Default)]
struct Plains(Vec<(usize, String)>);

impl Plains {
    fn get(&self, pos: usize) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(p, _)| *p == pos)
            .map(|(_, s)| s.as_str())
    }
}

/// Applies the body keys in PocketBase's order; returns the plain passwords set.
fn load(
    collection: &Collection,
    record: &mut Record,
    body: &Map<String, Json>,
    access: Access,
) -> Plains {
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort_by_key(|k| k.len());
    let mut plains = Plains::default();
    for key in keys {
        let Some((pos, op)) = resolve(collection, key) else {
            continue;
        };
        let field = &collection.fields[pos];
        let password_exception = collection.is_auth() && field.name == "password";
        if field.hidden && access != Access::Superuser && !password_exception {
            continue;
        }
        let raw = &body[key.as_str()];
        if let FieldKind::Password(_) = field.kind {
            plains.0.push((pos, coerce::to_text(raw)));
            continue;
        }
        let slot = &mut record.values[pos];
        *slot = apply(field, op, std::mem::replace(slot, Value::Null), raw);
    }
    plains
}

/// The new value of `field` after `op` with `raw` on `current`.
fn apply(field: &Field, op: Op, current: Value, raw: &Json) -> Value {
    match &field.kind {
        FieldKind::Number(_) => {
            let n = current.as_f64().unwrap_or(0.0);
            Value::Number(match op {
                Op::Append => n + coerce::to_float(raw),
                Op::Subtract => n - coerce::to_float(raw),
                _ => coerce::to_float(raw),
            })
        }
        FieldKind::Bool(_) => Value::Bool(coerce::to_bool(raw)),
        FieldKind::Date(_) => Value::Text(coerce::to_date(raw)),
        FieldKind::Json(_) => Value::Json(coerce::to_json_value(raw)),
        FieldKind::Autodate(_) | FieldKind::Password(_) => current,
        FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_) => {
            let given = match field.kind {
                FieldKind::File(_) => coerce::to_file_names(raw),
                _ => coerce::to_unique_strings(raw),
            };
            let mut items = shape::items(&current);
            items = match op {
                Op::Prepend => given.into_iter().chain(items).collect(),
                Op::Append => items.into_iter().chain(given).collect(),
                Op::Subtract => items.into_iter().filter(|i| !given.contains(i)).collect(),
                _ => given,
            };
            shape::from_items(&field.kind, coerce::unique_nonempty(items))
        }
        FieldKind::Text(o) if op == Op::Autogenerate => {
            let mut text = coerce::to_text(raw);
            if !o.autogenerate_pattern.is_empty() {
                text.push_str(&autogen::generate(&o.autogenerate_pattern).unwrap_or_default());
            }
            Value::Text(text)
        }
        _ => Value::Text(coerce::to_text(raw)),
    }
}

/// Fills empty text fields that have an `autogeneratePattern` (the id among them).
fn autogenerate(collection: &Collection, record: &mut Record) -> Result<()> {
    for (pos, field) in collection.fields.iter().enumerate() {
        let FieldKind::Text(o) = &field.kind else {
            continue;
        };
        if o.autogenerate_pattern.is_empty() || !record.values[pos].is_zero() {
            continue;
        }
        let value = autogen::generate(&o.autogenerate_pattern).map_err(|e| {
            Error::bad_request(format!(
                "Failed to autogenerate \"{}\" value: {e}.",
                field.name
            ))
        })?;
        record.values[pos] = Value::Text(value);
    }
    Ok(())
}

fn check_password(
    o: &crate::schema::field::PasswordOptions,
    current: &Value,
    plain: Option<&str>,
) -> Option<FieldError> {
    let hash_empty = match plain {
        Some(p) => p.is_empty(),
        None => current.is_zero(),
    };
    if o.required && hash_empty {
        return Some(checks::required());
    }
    checks::check_password(o, plain.filter(|p| !p.is_empty())?)
}

/// Auth record ids are unique across all auth collections, so that a token's id
/// names one record.
fn check_auth_id_unique(
    collection: &Collection,
    id: &str,
    lookup: &dyn Lookup,
    catalog: &Catalog,
) -> FieldErrors {
    let mut errs = FieldErrors::default();
    let taken = catalog
        .iter()
        .filter(|c| c.is_auth() && c.id != collection.id)
        .any(|c| !matches!(lookup.get(c, id), Ok(None)));
    if taken {
        errs.push(
            "id",
            FieldError::new(
                "validation_invalid_auth_id",
                "Invalid or duplicated auth record id.",
            ),
        );
    }
    errs
}

/// Autodates, a fresh `tokenKey` when an auth record's password or email changed,
/// and password hashes.
fn finish(
    collection: &Collection,
    old: Option<&Record>,
    record: &mut Record,
    plains: &Plains,
) -> Result<()> {
    let now = time::now();
    for (pos, field) in collection.fields.iter().enumerate() {
        if let FieldKind::Autodate(o) = &field.kind {
            if (old.is_none() && o.on_create) || (old.is_some() && o.on_update) {
                record.values[pos] = Value::Text(now.clone());
            }
        }
    }
    if let (Some(old), true) = (old, collection.is_auth()) {
        let same = |f: &str| old.get(collection, f) == record.get(collection, f);
        let new_password = plains
            .0
            .iter()
            .any(|(pos, p)| !p.is_empty() && collection.fields[*pos].name == "password");
        if same("tokenKey") && (new_password || !same("email")) {
            refresh_token_key(collection, record);
        }
    }
    for (pos, plain) in &plains.0 {
        record.values[*pos] = Value::Text(if plain.is_empty() {
            String::new()
        } else {
            auth::hash_password(plain)?
        });
    }
    Ok(())
}

fn refresh_token_key(collection: &Collection, record: &mut Record) {
    let Some(pos) = collection.field_pos("tokenKey") else {
        return;
    };
    let pattern = match &collection.fields[pos].kind {
        FieldKind::Text(o) if !o.autogenerate_pattern.is_empty() => o.autogenerate_pattern.as_str(),
        _ => "[a-zA-Z0-9]{50}",
    };
    let key = autogen::generate(pattern).unwrap_or_else(|_| crate::ids::random_string(50));
    record.values[pos] = Value::Text(key);
}

#[cfg(test)]
#[path = "input_test.rs"]
mod tests;
