//! Normalizing the submitted field list the way PocketBase builds its `FieldsList`:
//! a field without id gets `<type><crc32(name)>` and replaces an earlier field of the
//! same name; a field with an id replaces an earlier field with that id. Then the
//! system fields are enforced (`id`, and for auth collections `password`, `tokenKey`,
//! `email`, `emailVisibility`, `verified`) with their unique indexes.

use super::indexes::{has_single_unique_index, PbIndex};
use crate::schema::field::{
    AutodateOptions, DomainOptions, PasswordOptions, RequiredOnly, TextOptions,
};
use crate::schema::{Collection, Field, FieldKind};

/// CRC-32 (IEEE), as PocketBase uses it for default ids.
pub fn crc32(s: &str) -> u32 {
    let mut crc = !0u32;
    for b in s.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Adds `field` to `list` with PocketBase's replace rules. `at` = `Some(0)` prepends.
pub fn add(list: &mut Vec<Field>, mut field: Field, at: Option<usize>) {
    let by_name = field.id.is_empty();
    if by_name {
        let base = format!("{}{}", field.kind.type_name(), crc32(&field.name));
        let mut id = base.clone();
        for n in 2..1000 {
            if !list.iter().any(|f| f.id == id) {
                break;
            }
            id = format!("{base}{n}");
        }
        field.id = id;
    }
    let existing = list.iter().position(|f| {
        if by_name {
            !field.name.is_empty() && f.name == field.name
        } else {
            f.id == field.id
        }
    });
    match (existing, at) {
        (Some(i), None) => {
            if by_name {
                field.id = list[i].id.clone();
            }
            list[i] = field;
        }
        (Some(i), Some(pos)) => {
            if by_name {
                field.id = list[i].id.clone();
            }
            list.remove(i);
            list.insert(pos.min(list.len()), field);
        }
        (None, Some(pos)) => list.insert(pos.min(list.len()), field),
        (None, None) => list.push(field),
    }
}

/// Rebuilds `fields` through [`add`], as PocketBase does when it reads them.
pub fn normalize(fields: Vec<Field>) -> Vec<Field> {
    let mut list = Vec::with_capacity(fields.len());
    for f in fields {
        add(&mut list, f, None);
    }
    list
}

fn system(name: &str, kind: FieldKind, hidden: bool) -> Field {
    Field {
        system: true,
        hidden,
        ..Field::new(name, kind)
    }
}

/// Enforces the system fields of `c` and (for auth collections) their indexes.
pub fn ensure_system_fields(c: &mut Collection) {
    ensure_id_field(c);
    if !c.is_auth() {
        return;
    }
    ensure(
        c,
        "password",
        |k| matches!(k, FieldKind::Password(_)),
        || {
            FieldKind::Password(PasswordOptions {
                required: true,
                min: 8,
                ..PasswordOptions::default()
            })
        },
    );
    ensure(
        c,
        "tokenKey",
        |k| matches!(k, FieldKind::Text(_)),
        || {
            FieldKind::Text(TextOptions {
                required: true,
                min: 30,
                max: 60,
                autogenerate_pattern: "[a-zA-Z0-9]{50}".into(),
                ..TextOptions::default()
            })
        },
    );
    ensure(
        c,
        "email",
        |k| matches!(k, FieldKind::Email(_)),
        || {
            FieldKind::Email(DomainOptions {
                required: true,
                ..DomainOptions::default()
            })
        },
    );
    ensure(
        c,
        "emailVisibility",
        |k| matches!(k, FieldKind::Bool(_)),
        || FieldKind::Bool(RequiredOnly::default()),
    );
    ensure(
        c,
        "verified",
        |k| matches!(k, FieldKind::Bool(_)),
        || FieldKind::Bool(RequiredOnly::default()),
    );
    ensure_unique_index(c, "tokenKey", "");
    ensure_unique_index(c, "email", " WHERE `email` != ''");
}

/// The `id` text primary key: enforced if present (by name, as text), else
/// prepended. Basalt also keeps it first, where records store their id.
fn ensure_id_field(c: &mut Collection) {
    let existing = c
        .fields
        .iter()
        .position(|f| f.name == "id" && matches!(f.kind, FieldKind::Text(_)));
    let Some(pos) = existing else {
        let id = system(
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
        );
        let rest = std::mem::take(&mut c.fields);
        c.fields = vec![];
        add(&mut c.fields, id, None);
        for f in rest {
            add(&mut c.fields, f, None);
        }
        return;
    };
    let mut field = c.fields.remove(pos);
    field.system = true;
    field.hidden = false;
    if let FieldKind::Text(o) = &mut field.kind {
        o.required = true;
        o.primary_key = true;
        if o.pattern.is_empty() {
            o.pattern = "^[a-z0-9]+$".into();
        }
    }
    c.fields.insert(0, field);
}

/// Enforces a system field by name and type, or adds it (replacing a same-named field
/// of another type, like PocketBase).
fn ensure(
    c: &mut Collection,
    name: &str,
    is_kind: impl Fn(&FieldKind) -> bool,
    kind: impl FnOnce() -> FieldKind,
) {
    let hidden = matches!(name, "password" | "tokenKey");
    let Some(field) = c
        .fields
        .iter_mut()
        .find(|f| f.name == name && is_kind(&f.kind))
    else {
        add(&mut c.fields, system(name, kind(), hidden), None);
        return;
    };
    field.system = true;
    match &mut field.kind {
        FieldKind::Password(o) => {
            field.hidden = true;
            o.required = true;
        }
        FieldKind::Text(o) => {
            field.hidden = true;
            o.required = true;
        }
        FieldKind::Email(_) => field.hidden = false,
        _ => {}
    }
}

/// System collections (created by Basalt itself, never through the API) carry
/// `created` and `updated` system autodates, like PocketBase's own.
pub fn add_system_autodates(c: &mut Collection) {
    for (name, on_update) in [("created", false), ("updated", true)] {
        if c.field(name).is_some() {
            continue;
        }
        let kind = FieldKind::Autodate(AutodateOptions {
            on_create: true,
            on_update,
        });
        add(&mut c.fields, system(name, kind, false), None);
    }
}

fn ensure_unique_index(c: &mut Collection, column: &str, filter: &str) {
    if has_single_unique_index(&c.indexes, column) {
        return;
    }
    let mut name = format!("idx_{column}_{}", c.id);
    name.truncate(64);
    c.indexes.push(format!(
        "CREATE UNIQUE INDEX `{name}` ON `{}` (`{column}`){filter}",
        c.name
    ));
}

/// Rewrites indexes whose table is not the collection's name (PocketBase keeps them in
/// sync, so a rename needs no index edits). Unparsable ones are left for validation.
pub fn normalize_index_tables(c: &mut Collection) {
    for raw in &mut c.indexes {
        let Some(mut parsed) = PbIndex::parse(raw) else {
            continue;
        };
        if parsed.table == c.name {
            continue;
        }
        parsed.table = c.name.clone();
        *raw = parsed.build();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_pocketbase_ids() {
        assert_eq!(crc32("id"), 3_208_210_256);
        assert_eq!(crc32("title"), 724_990_059);
        assert_eq!(crc32("password"), 901_924_565);
        assert_eq!(crc32("basec"), 1_020_017_247);
    }

    fn text(name: &str, id: &str) -> Field {
        Field {
            id: id.into(),
            ..Field::new(name, FieldKind::Text(TextOptions::default()))
        }
    }

    #[test]
    fn same_names_and_ids_replace_in_place() {
        let list = normalize(vec![
            text("a", ""),
            text("b", "x1"),
            text("a", ""),
            text("c", "x1"),
        ]);
        let names: Vec<&str> = list.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(list[0].id, "text3904355907");
        assert_eq!(list[1].id, "x1");
    }

    #[test]
    fn generated_ids_avoid_taken_ones() {
        let list = normalize(vec![text("x", "text3904355907"), text("a", "")]);
        assert_eq!(list[1].id, "text39043559072");
    }
}
