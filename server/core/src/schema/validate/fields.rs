//! The checks of a collection's `fields` key, in PocketBase's order: duplicates, the
//! required system fields, system fields kept, no type changes, reserved auth names,
//! then every field's settings. The first failing check is the one reported.

use super::{at, nest, one, settings, Problems};
use crate::error::FieldError;
use crate::schema::{Catalog, Collection, FieldKind};

/// The checks of `fields`, in PocketBase's order; the first failing one is reported.
pub(super) fn check(
    c: &Collection,
    old: Option<&Collection>,
    catalog: &Catalog,
) -> Option<Problems> {
    let checks: [&dyn Fn() -> Option<Problems>; 6] = [
        &|| duplicates(c),
        &|| missing_system_fields(c).map(|(path, err)| at(path, err)),
        &|| old.and_then(|o| system_field_changed(o, c)),
        &|| old.and_then(|o| type_changes(o, c)),
        &|| reserved_auth_names(c),
        &|| field_settings(c, old, catalog),
    ];
    checks.iter().find_map(|check| check())
}

fn duplicates(c: &Collection) -> Option<Problems> {
    let (mut ids, mut names) = (Vec::new(), Vec::new());
    for (i, f) in c.fields.iter().enumerate() {
        if ids.contains(&f.id.as_str()) {
            let err = FieldError::new(
                "validation_duplicated_field_id",
                format!("Duplicated or invalid field id {:?}.", f.id),
            );
            return Some(at(format!("{i}.id"), err));
        }
        let lower = f.name.to_lowercase();
        if names.contains(&lower) {
            let err = FieldError::new(
                "validation_duplicated_field_name",
                format!("Duplicated or invalid field name {}.", f.name),
            )
            .param("fieldName", f.name.as_str());
            return Some(at(format!("{i}.name"), err));
        }
        ids.push(f.id.as_str());
        names.push(lower);
    }
    None
}

/// The `id` primary key and, for auth collections, the auth system fields.
fn missing_system_fields(c: &Collection) -> Option<(String, FieldError)> {
    let by_name = |n: &str| c.fields.iter().find(|f| f.name == n);
    let id_ok =
        by_name("id").is_some_and(|f| matches!(&f.kind, FieldKind::Text(o) if o.primary_key));
    if !id_ok {
        let err = FieldError::new(
            "validation_missing_primary_key",
            "Missing or invalid \"id\" PK field.",
        );
        return Some((String::new(), err));
    }
    if !c.is_auth() {
        return None;
    }
    type KindCheck = fn(&FieldKind) -> bool;
    let wanted: [(&str, KindCheck, bool); 5] = [
        ("password", |k| matches!(k, FieldKind::Password(_)), true),
        ("tokenKey", |k| matches!(k, FieldKind::Text(_)), true),
        ("email", |k| matches!(k, FieldKind::Email(_)), false),
        (
            "emailVisibility",
            |k| matches!(k, FieldKind::Bool(_)),
            false,
        ),
        ("verified", |k| matches!(k, FieldKind::Bool(_)), false),
    ];
    for (name, is_kind, hidden) in wanted {
        let Some(f) = by_name(name).filter(|f| is_kind(&f.kind)) else {
            let err = FieldError::new(
                format!("validation_missing_{name}_field"),
                format!("System \"{name}\" field is required."),
            );
            return Some((String::new(), err));
        };
        if hidden && !(f.hidden && f.system) {
            let err = FieldError::new(
                "validation_must_be_system_and_hidden",
                "The field must be marked as \"System\" and \"Hidden\".",
            );
            return Some((name.to_owned(), err));
        }
        if !f.system {
            let err = FieldError::new(
                "validation_must_be_system",
                "The field must be marked as \"System\".",
            );
            return Some((name.to_owned(), err));
        }
    }
    None
}

fn system_field_changed(old: &Collection, c: &Collection) -> Option<Problems> {
    let changed = old
        .fields
        .iter()
        .filter(|f| f.system)
        .any(|f| c.field_by_id(&f.id).is_none_or(|n| n.name != f.name));
    changed.then(|| {
        one(FieldError::new(
            "validation_system_field_change",
            "System fields cannot be deleted or renamed.",
        ))
    })
}

fn type_changes(old: &Collection, c: &Collection) -> Option<Problems> {
    let problems: Problems = c
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            old.field_by_id(&f.id)
                .is_some_and(|o| o.kind.type_name() != f.kind.type_name())
        })
        .map(|(i, _)| {
            (
                i.to_string(),
                FieldError::new(
                    "validation_field_type_change",
                    "Field type cannot be changed.",
                ),
            )
        })
        .collect();
    (!problems.is_empty()).then_some(problems)
}

fn reserved_auth_names(c: &Collection) -> Option<Problems> {
    if !c.is_auth() {
        return None;
    }
    let problems: Problems = c
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.name.as_str(), "passwordConfirm" | "oldPassword"))
        .map(|(i, _)| {
            let err = FieldError::new(
                "validation_reserved_field_name",
                "The field name is reserved and cannot be used.",
            );
            (format!("{i}.name"), err)
        })
        .collect();
    (!problems.is_empty()).then_some(problems)
}

fn field_settings(c: &Collection, old: Option<&Collection>, catalog: &Catalog) -> Option<Problems> {
    let problems: Problems = (0..c.fields.len())
        .flat_map(|i| nest(i, settings::check(c, i, old, catalog)))
        .collect();
    (!problems.is_empty()).then_some(problems)
}
