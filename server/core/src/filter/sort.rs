//! The `sort` parameter: comma-separated keys, `-` for descending (`+` optional),
//! `@random`, direct fields, relation paths (`author.name`), json paths and the
//! `:lower`/`:length` modifiers. Like PocketBase, an unknown or empty key is an error.

use std::sync::Arc;

use super::compile::Compiler;
use super::eval::{Ctx, Env};
use super::lex::valid_ident;
use super::plan::{Alias, AliasKind, Node, Operand, Plan, Term, ROOT};
use super::values::sql_value;
use super::{CompileOptions, Lookup, RequestInfo};
use crate::record::Record;
use crate::schema::{Catalog, Collection, FieldKind};
use crate::value::Value;
use crate::{Code, Error, Result};

/// The most keys one `sort` may have (PocketBase's default sort expression limit).
pub const MAX_SORT_KEYS: usize = 8;
/// The longest single sort key, in bytes.
pub const MAX_SORT_KEY_LEN: usize = 255;

/// One key of a `sort` parameter.
#[derive(Clone, Debug)]
pub enum SortKey {
    Random,
    /// A direct scalar field of the collection (an index can serve it).
    Field {
        pos: usize,
        desc: bool,
    },
    /// Anything else: relation paths, json paths, multi-valued fields, modifiers.
    Path {
        expr: Arc<SortExpr>,
        desc: bool,
    },
}

/// A compiled non-direct sort key.
#[derive(Debug)]
pub struct SortExpr {
    /// The key as written, without direction.
    pub name: String,
    plan: Plan,
    operand: Operand,
}

fn bad(m: String) -> Error {
    Error::new(Code::InvalidSort, m)
}

impl SortKey {
    /// Parses a `sort` parameter with superuser visibility.
    /// Errors are [`crate::Code::InvalidSort`] (400).
    pub fn parse_list(
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
    ) -> Result<Vec<SortKey>> {
        SortKey::parse_list_with(input, collection, catalog, &CompileOptions::default())
    }

    /// Parses a `sort` parameter; with `allow_hidden` off, hidden fields and
    /// superuser-only collections cannot be sorted by.
    pub fn parse_list_with(
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
        options: &CompileOptions,
    ) -> Result<Vec<SortKey>> {
        if input.trim().is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<&str> = input.split(',').map(str::trim).collect();
        if raw.len() > MAX_SORT_KEYS {
            return Err(bad(format!(
                "at most {MAX_SORT_KEYS} sort keys are allowed"
            )));
        }
        raw.into_iter()
            .map(|k| SortKey::parse_one(k, collection, catalog, options))
            .collect()
    }

    fn parse_one(
        raw: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
        options: &CompileOptions,
    ) -> Result<SortKey> {
        if raw.len() > MAX_SORT_KEY_LEN {
            return Err(bad(format!(
                "a sort key may be at most {MAX_SORT_KEY_LEN} bytes long"
            )));
        }
        let (desc, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let invalid = |why: &str| bad(format!("invalid sort field \"{name}\"{why}"));
        if name == "@random" {
            return Ok(SortKey::Random);
        }
        if name.starts_with('@') || !valid_ident(name) {
            return Err(invalid(""));
        }
        if let Some(pos) = collection.field_pos(name) {
            let f = &collection.fields[pos];
            if f.hidden && !options.allow_hidden {
                return Err(invalid(": the field is hidden"));
            }
            if !f.kind.is_multiple() && !matches!(f.kind, FieldKind::Json(_)) {
                return Ok(SortKey::Field { pos, desc });
            }
        }
        let mut aliases = vec![Alias {
            key: String::new(),
            parent: ROOT,
            kind: AliasKind::Root,
            collection: Some(collection.clone()),
        }];
        // List-rule checks of joined collections only filter; a sort ignores them.
        let mut rules = Vec::new();
        let props: Vec<&str> = name.split('.').collect();
        let operand = Compiler {
            catalog,
            params: None,
            allow_hidden: options.allow_hidden,
            join_rules: options.join_rules.as_deref(),
            aliases: &mut aliases,
            rules: &mut rules,
            base: ROOT,
            base_collection: collection.clone(),
            prefix: String::new(),
        }
        .path(ROOT, collection, &props, false, false)
        .map_err(|e| invalid(&format!(": {}", e.message)))?;
        if !matches!(operand.term, Term::Col { .. }) {
            return Err(invalid(""));
        }
        let expr = SortExpr {
            name: name.to_owned(),
            plan: Plan {
                aliases,
                node: Node::and(Vec::new()),
            },
            operand,
        };
        Ok(SortKey::Path {
            expr: Arc::new(expr),
            desc,
        })
    }

    pub fn desc(&self) -> bool {
        match self {
            SortKey::Random => false,
            SortKey::Field { desc, .. } | SortKey::Path { desc, .. } => *desc,
        }
    }

    /// The value this key sorts `record` by. A path through several records sorts by
    /// the first one's value; a missing relation sorts as null.
    pub fn value(&self, record: &Record, lookup: &dyn Lookup) -> Result<Value> {
        match self {
            SortKey::Random => Ok(Value::Null),
            SortKey::Field { pos, .. } => {
                Ok(record.values.get(*pos).cloned().unwrap_or(Value::Null))
            }
            SortKey::Path { expr, .. } => {
                let req = RequestInfo::default();
                let ctx = Ctx::new(&expr.plan, record, lookup, &req);
                let mut out = Value::Null;
                ctx.search(&expr.operand.free, &mut Env::new(), &mut |ctx, env| {
                    out = sql_value(&ctx.value(&expr.operand, env)?.sql);
                    Ok(true)
                })?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
#[path = "sort_test.rs"]
mod tests;
