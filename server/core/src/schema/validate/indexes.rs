//! Index checks: PocketBase's loose reading of `CREATE INDEX` statements (names,
//! duplicates, unique indexes on system fields), then Basalt's own parse
//! ([`IndexDef`]), which decides what the storage engine can serve.

use std::sync::OnceLock;

use regex::Regex;

use super::{at, one, Problems};
use crate::error::FieldError;
use crate::schema::{Catalog, Collection, IndexDef};

/// One index column as PocketBase reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbColumn {
    pub name: String,
    pub collate: String,
    pub sort: String,
}

/// A `CREATE INDEX` statement as PocketBase reads it (regex-based and forgiving).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbIndex {
    pub unique: bool,
    pub optional: bool,
    pub schema: String,
    pub name: String,
    pub table: String,
    pub columns: Vec<PbColumn>,
    pub filter: String,
}

const TRIM: &[char] = &[
    '`', '"', '\'', '[', ']', '\r', '\n', '\t', '\x0c', '\x0b', ' ',
];

fn index_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?im)create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\(([\s\S]*)\)(?:\s*where\s+([\s\S]*))?").ok()
    })
    .as_ref()
}

fn column_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?im)^([\s\S]+?)(?:\s+collate\s+(\w+))?(?:\s+(asc|desc))?$").ok()
    })
    .as_ref()
}

/// Splits on `sep` outside quotes, brackets and parentheses.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut parts, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, c) if c == sep && depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
}

impl PbIndex {
    /// `None` when PocketBase would find the statement invalid.
    pub fn parse(sql: &str) -> Option<PbIndex> {
        let caps = index_regex()?.captures(sql)?;
        let group = |i: usize| caps.get(i).map_or("", |m| m.as_str());
        let names = split_top(group(3), '.');
        let (schema, name) = match names.as_slice() {
            [schema, name] => (schema.trim_matches(TRIM), name.trim_matches(TRIM)),
            _ => ("", names[0].trim_matches(TRIM)),
        };
        let columns: Vec<PbColumn> = split_top(group(5), ',')
            .iter()
            .filter_map(|raw| {
                let c = column_regex()?.captures(raw)?;
                let name = c.get(1)?.as_str().trim_matches(TRIM);
                (!name.is_empty()).then(|| PbColumn {
                    name: name.to_owned(),
                    collate: c.get(2).map_or("", |m| m.as_str()).trim().to_owned(),
                    sort: c.get(3).map_or("", |m| m.as_str()).to_uppercase(),
                })
            })
            .collect();
        let index = PbIndex {
            unique: !group(1).trim().is_empty(),
            optional: !group(2).trim().is_empty(),
            schema: schema.to_owned(),
            name: name.to_owned(),
            table: group(4).trim_matches(TRIM).to_owned(),
            columns,
            filter: group(6).trim().to_owned(),
        };
        (!index.name.is_empty() && !index.table.is_empty() && !index.columns.is_empty())
            .then_some(index)
    }

    /// The statement in PocketBase's canonical form.
    pub fn build(&self) -> String {
        let mut s = String::from("CREATE ");
        if self.unique {
            s.push_str("UNIQUE ");
        }
        s.push_str("INDEX ");
        if self.optional {
            s.push_str("IF NOT EXISTS ");
        }
        if !self.schema.is_empty() {
            s.push_str(&format!("`{}`.", self.schema));
        }
        s.push_str(&format!("`{}` ON `{}` (", self.name, self.table));
        let multi = self.columns.len() > 1;
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let name = c.name.trim();
                let mut col = if name.contains('(') || name.contains(' ') {
                    name.to_owned()
                } else {
                    format!("`{name}`")
                };
                if !c.collate.is_empty() {
                    col.push_str(&format!(" COLLATE {}", c.collate));
                }
                if !c.sort.is_empty() {
                    col.push_str(&format!(" {}", c.sort));
                }
                col
            })
            .collect();
        if multi {
            s.push_str(&format!("\n  {}\n", cols.join(",\n  ")));
        } else {
            s.push_str(&cols.join(""));
        }
        s.push(')');
        if !self.filter.is_empty() {
            s.push_str(&format!(" WHERE {}", self.filter));
        }
        s
    }

    /// The definition without its names, to compare two indexes.
    fn definition(&self) -> String {
        PbIndex {
            schema: "validator".into(),
            name: "validator".into(),
            table: "validator".into(),
            ..self.clone()
        }
        .build()
    }
}

/// Whether one of `indexes` is a unique index on exactly `column`.
pub fn has_single_unique_index(indexes: &[String], column: &str) -> bool {
    indexes
        .iter()
        .filter_map(|i| PbIndex::parse(i))
        .any(|i| i.unique && i.columns.len() == 1 && i.columns[0].name.eq_ignore_ascii_case(column))
}

fn problem(i: usize, code: &str, message: impl Into<String>) -> Option<Problems> {
    Some(at(i, FieldError::new(code, message)))
}

/// PocketBase's index checks (the first problem only), then Basalt's parse; fills
/// `c.index_defs` with what parsed.
pub fn check(c: &mut Collection, old: Option<&Collection>, catalog: &Catalog) -> Option<Problems> {
    c.index_defs.clear();
    let mut names: Vec<String> = Vec::new();
    let mut definitions: Vec<String> = Vec::new();
    for (i, raw) in c.indexes.iter().enumerate() {
        let Some(parsed) = PbIndex::parse(raw) else {
            return problem(
                i,
                "validation_invalid_index_expression",
                "Invalid CREATE INDEX expression.",
            );
        };
        let lower = parsed.name.to_lowercase();
        if names.contains(&lower) {
            return problem(
                i,
                "validation_duplicated_index_name",
                "The index name already exists.",
            );
        }
        names.push(lower);
        if let Some(other) = index_owner(catalog, c, &parsed.name) {
            return Some(at(
                i,
                FieldError::new(
                    "validation_existing_index_name",
                    format!("The index name is already used in {other} collection."),
                )
                .param("usedTableName", other),
            ));
        }
        let definition = parsed.definition();
        if definitions.contains(&definition) {
            return problem(
                i,
                "validation_duplicated_index_definition",
                "The index definition already exists.",
            );
        }
        definitions.push(definition);
    }
    if let Some(p) = old.and_then(|o| check_system_unique_indexes(o, c)) {
        return Some(p);
    }
    if c.is_auth() {
        for column in ["tokenKey", "email"] {
            if !has_single_unique_index(&c.indexes, column) {
                return Some(one(FieldError::new(
                    "validation_missing_required_unique_index",
                    format!("Missing required unique index for field \"{column}\"."),
                )
                .param("fieldName", column)));
            }
        }
    }
    let mut defs = Vec::with_capacity(c.indexes.len());
    for (i, raw) in c.indexes.iter().enumerate() {
        match IndexDef::parse(raw, c) {
            Ok(def) => defs.push(def),
            Err(msg) => {
                let name = PbIndex::parse(raw).map(|p| p.name).unwrap_or_default();
                return problem(
                    i,
                    "validation_invalid_index_expression",
                    format!("Failed to create index {name} - {msg}."),
                );
            }
        }
    }
    c.index_defs = defs;
    None
}

/// The name of another collection that has an index called `name`.
fn index_owner(catalog: &Catalog, c: &Collection, name: &str) -> Option<String> {
    catalog
        .iter()
        .filter(|o| o.id != c.id)
        .find(|o| {
            o.indexes
                .iter()
                .filter_map(|i| PbIndex::parse(i))
                .any(|i| i.name.eq_ignore_ascii_case(name))
        })
        .map(|o| o.name.clone())
}

/// Unique indexes on system fields may be renamed or made partial, not dropped.
fn check_system_unique_indexes(old: &Collection, c: &Collection) -> Option<Problems> {
    let new: Vec<PbIndex> = c.indexes.iter().filter_map(|i| PbIndex::parse(i)).collect();
    for raw in &old.indexes {
        let Some(mut o) = PbIndex::parse(raw).filter(|i| i.unique) else {
            continue;
        };
        for col in &mut o.columns {
            col.collate.clear();
            col.sort.clear();
        }
        let wanted = o.build();
        let system = o.columns.iter().find_map(|col| {
            old.fields
                .iter()
                .find(|f| f.system && f.name.eq_ignore_ascii_case(&col.name))
        });
        let Some(field) = system else {
            continue;
        };
        let kept = new.iter().any(|n| {
            let mut n = n.clone();
            n.schema = o.schema.clone();
            n.name = o.name.clone();
            n.table = o.table.clone();
            n.filter = o.filter.clone();
            for col in &mut n.columns {
                col.collate.clear();
                col.sort.clear();
            }
            n.build() == wanted
        });
        if !kept {
            return Some(one(FieldError::new(
                "validation_invalid_unique_system_field_index",
                format!(
                    "Unique index definition on system fields ({}) is invalid or missing.",
                    field.name
                ),
            )
            .param("fieldName", field.name.as_str())));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_pocketbase() {
        let i = PbIndex::parse("create unique index if not exists `s`.`idx` on posts (a collate nocase desc, lower(b))  WHERE a != ''").unwrap();
        assert!(i.unique && i.optional);
        assert_eq!(
            (i.schema.as_str(), i.name.as_str(), i.table.as_str()),
            ("s", "idx", "posts")
        );
        assert_eq!(i.columns[0].collate, "nocase");
        assert_eq!(i.columns[0].sort, "DESC");
        assert_eq!(i.columns[1].name, "lower(b)");
        assert_eq!(i.filter, "a != ''");
        assert!(PbIndex::parse("garbage").is_none());
        assert!(PbIndex::parse("CREATE INDEX ON t (a)").is_none());
        assert!(PbIndex::parse("CREATE INDEX x ON t ()").is_none());
    }

    #[test]
    fn builds_the_canonical_form() {
        let i = PbIndex::parse("CREATE INDEX idx_c ON whatever (a)").unwrap();
        assert_eq!(i.build(), "CREATE INDEX `idx_c` ON `whatever` (`a`)");
        let i = PbIndex::parse("CREATE UNIQUE INDEX x ON t (a, b DESC) WHERE a != ''").unwrap();
        assert_eq!(
            i.build(),
            "CREATE UNIQUE INDEX `x` ON `t` (\n  `a`,\n  `b` DESC\n) WHERE a != ''"
        );
    }

    #[test]
    fn finds_single_column_unique_indexes() {
        let idx = vec![
            "CREATE UNIQUE INDEX a ON t (email) WHERE email != ''".to_owned(),
            "CREATE UNIQUE INDEX b ON t (x, tokenKey)".to_owned(),
        ];
        assert!(has_single_unique_index(&idx, "EMAIL"));
        assert!(!has_single_unique_index(&idx, "tokenKey"));
    }
}
