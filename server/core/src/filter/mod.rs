//! The filter language (PocketBase's grammar): parser, type-checker against the
//! catalog, and evaluator over records.
//!
//! `parse` turns text into an AST with numbered limits; `compile` resolves identifiers
//! against the catalog (fields, relation paths, back-relations, `@request.*`,
//! `@collection.*`, macros, modifiers); `eval` evaluates against records.

mod compile;
mod eval;
pub mod parse;

use compile::Node;
use std::sync::Arc;

use crate::record::Record;
use crate::schema::{Catalog, Collection};
use crate::value::Value;
use crate::Result;

/// Read access to records that filters need to follow relations, back-relations and
/// `@collection.*` joins. The record store implements it.
pub trait Lookup {
    /// The record `id` of `collection`, if any.
    fn get(&self, collection: &Collection, id: &str) -> Result<Option<Record>>;

    /// Every record of `collection` whose relation field at `field_pos` contains `id`.
    fn referencing(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> Result<Vec<Record>>;

    /// Visits every record of `collection` until `visit` returns false.
    fn scan(&self, collection: &Collection, visit: &mut dyn FnMut(Record) -> bool) -> Result<()>;
}

/// What `@request.*` resolves to. Empty for superuser and plain list calls.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    /// The authenticated record and its collection, if any.
    pub auth: Option<(Arc<Collection>, Record)>,
    pub method: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub query: serde_json::Map<String, serde_json::Value>,
    pub body: serde_json::Map<String, serde_json::Value>,
    pub context: String,
}

/// A comparison usable by an index: `fields[field_pos] <op> value`, where the filter as
/// a whole can only be true if the constraint holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub field_pos: usize,
    pub op: ConstraintOp,
    pub value: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A filter parsed and checked against one collection.
#[derive(Clone, Debug)]
pub struct Filter {
    inner: Arc<Node>,
}

impl Filter {
    /// Parses and type-checks `input` for `collection`. `params` fills `{:name}`
    /// placeholders. Errors are [`crate::Code::InvalidFilter`] (400).
    pub fn compile(
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
        params: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Filter> {
        let ast = parse::parse(input)?;
        let node = compile::compile(&ast, collection, catalog, params)?;
        Ok(Filter {
            inner: Arc::new(node),
        })
    }

    /// Whether `record` satisfies the filter.
    pub fn matches(
        &self,
        record: &Record,
        lookup: &dyn Lookup,
        request: &RequestInfo,
    ) -> Result<bool> {
        eval::eval(&self.inner, record, lookup, request)
    }

    /// Conjunct constraints on direct fields that an index can serve.
    pub fn constraints(&self) -> Vec<Constraint> {
        compile::constraints(&self.inner)
    }

    /// `self && other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter {
            inner: Arc::new(Node::And(vec![
                (*self.inner).clone(),
                (*other.inner).clone(),
            ])),
        }
    }

    /// `self || other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter {
            inner: Arc::new(Node::Or(vec![
                (*self.inner).clone(),
                (*other.inner).clone(),
            ])),
        }
    }
}

/// One key of a `sort` parameter.
#[derive(Clone, Debug)]
pub enum SortKey {
    Random,
    /// A direct field of the collection (an index can serve it).
    Field {
        pos: usize,
        desc: bool,
    },
}

impl SortKey {
    /// Parses a `sort` parameter (`-created,title`, `@random`, relation paths).
    /// Errors are [`crate::Code::InvalidSort`] (400).
    pub fn parse_list(
        input: &str,
        collection: &Arc<Collection>,
        _catalog: &Catalog,
    ) -> Result<Vec<SortKey>> {
        let bad = |m: String| crate::Error::new(crate::Code::InvalidSort, m);
        let mut keys = Vec::new();
        for raw in input.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            if raw == "@random" {
                keys.push(SortKey::Random);
                continue;
            }
            let (desc, name) = match raw.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, raw.strip_prefix('+').unwrap_or(raw)),
            };
            let pos = collection
                .field_pos(name)
                .ok_or_else(|| bad(format!("Invalid sort field \"{name}\".")))?;
            keys.push(SortKey::Field { pos, desc });
        }
        if keys.len() > 16 {
            return Err(bad("At most 16 sort keys are allowed.".into()));
        }
        Ok(keys)
    }

    pub fn desc(&self) -> bool {
        matches!(self, SortKey::Field { desc: true, .. })
    }

    /// The value this key sorts `record` by.
    pub fn value(&self, record: &Record, _lookup: &dyn Lookup) -> Result<Value> {
        Ok(match self {
            SortKey::Random => Value::Null,
            SortKey::Field { pos, .. } => record.values.get(*pos).cloned().unwrap_or(Value::Null),
        })
    }
}
