//! The filter language (PocketBase's grammar and semantics): parser, type-checker
//! against the catalog, and evaluator over records.
//!
//! `parse` turns text into an AST within numbered limits; `compile` resolves it
//! against the catalog into a plan (fields, relation paths, back-relations,
//! `@request.*`, `@collection.*`, macros, modifiers, functions); `eval` runs the plan
//! against records with the semantics of the SQL PocketBase would generate (shared
//! LEFT JOINs, match-all for multi-valued operands, SQLite affinities, null-vs-empty
//! normalization). Nothing here does IO: related records come through [`Lookup`].

mod compile;
mod constraints;
mod eval;
mod func;
mod lex;
mod like;
mod macros;
pub mod parse;
mod plan;
mod request;
mod resolve;
mod row;
mod sort;
mod sql;
mod strftime;
mod values;

use std::sync::Arc;

use plan::{Node, Plan};

use crate::record::Record;
use crate::schema::{Catalog, Collection};
use crate::value::Value;
use crate::Result;

pub use eval::MAX_JOIN_ROWS;
pub use parse::{MAX_DEPTH, MAX_EXPRESSIONS, MAX_FILTER_LEN, MAX_FUNC_ARGS, MAX_FUNC_DEPTH};
pub use resolve::MAX_PATH_DEPTH;
pub use sort::{SortExpr, SortKey, MAX_SORT_KEYS, MAX_SORT_KEY_LEN};

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
    pub auth: Option<(Arc<Collection>, Arc<Record>)>,
    pub method: String,
    /// Header names lowercased with `-` replaced by `_`.
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub query: serde_json::Map<String, serde_json::Value>,
    pub body: serde_json::Map<String, serde_json::Value>,
    /// `default`, `oauth2`, `otp`, `password`, `realtime`, `protectedFile`; empty
    /// means `default`.
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

/// The list condition a caller must satisfy on the records of a collection its filter
/// joins into: `None` = the caller may not read that collection at all, `""` = every
/// record. The services answer it from the same decision as list requests.
pub type JoinRules = dyn Fn(&Collection) -> Option<String> + Send + Sync;

/// How a filter is checked.
#[derive(Clone)]
pub struct CompileOptions {
    /// Superuser-style: hidden fields are filterable and joined collections are read
    /// regardless of their list rules (also what API rules use). Off for client
    /// filters of other callers: hidden fields and joins into superuser-only
    /// collections are errors, a joined record must pass its collection's list rule,
    /// and an auth record's `email` only matches when `emailVisibility` is on.
    pub allow_hidden: bool,
    /// With `allow_hidden` off: the condition on joined collections; `None` uses each
    /// collection's `listRule`.
    pub join_rules: Option<Arc<JoinRules>>,
}

impl std::fmt::Debug for CompileOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileOptions")
            .field("allow_hidden", &self.allow_hidden)
            .field("join_rules", &self.join_rules.is_some())
            .finish()
    }
}

impl Default for CompileOptions {
    /// What [`Filter::compile`] uses: `allow_hidden` on.
    fn default() -> CompileOptions {
        CompileOptions {
            allow_hidden: true,
            join_rules: None,
        }
    }
}

/// A filter parsed and checked against one collection.
#[derive(Clone, Debug)]
pub struct Filter {
    inner: Arc<Plan>,
}

impl Filter {
    /// Parses and type-checks `input` for `collection`, superuser-style (see
    /// [`CompileOptions`]). `params` fills `{:name}` placeholders. Errors are
    /// [`crate::Code::InvalidFilter`] (400).
    pub fn compile(
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
        params: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Filter> {
        Filter::compile_with(
            input,
            collection,
            catalog,
            params,
            &CompileOptions::default(),
        )
    }

    /// [`Filter::compile`] with explicit options.
    pub fn compile_with(
        input: &str,
        collection: &Arc<Collection>,
        catalog: &Catalog,
        params: Option<&serde_json::Map<String, serde_json::Value>>,
        options: &CompileOptions,
    ) -> Result<Filter> {
        let ast = parse::parse(input)?;
        let plan = compile::compile(&ast, collection, catalog, params, options)?;
        Ok(Filter {
            inner: Arc::new(plan),
        })
    }

    /// Whether `record` satisfies the filter.
    pub fn matches(
        &self,
        record: &Record,
        lookup: &dyn Lookup,
        request: &RequestInfo,
    ) -> Result<bool> {
        let ctx = eval::Ctx::new(&self.inner, record, lookup, request);
        ctx.exists(&self.inner.node, &mut eval::Env::new())
    }

    /// Conjunct constraints on direct fields that an index can serve.
    pub fn constraints(&self) -> Vec<Constraint> {
        constraints::constraints(&self.inner)
    }

    /// Whether the filter holds exactly when all of [`Filter::constraints`] do (it is
    /// nothing but their conjunction): a walk whose bounds enforce every one of them
    /// needs no check of its records.
    pub fn is_its_constraints(&self) -> bool {
        constraints::exact(&self.inner)
    }

    /// Whether checking a record reads nothing but the record itself and the request
    /// (no relation, back-relation or `@collection` joins): a check costs no store
    /// reads.
    pub fn is_local(&self) -> bool {
        self.inner.aliases.iter().all(|a| {
            matches!(
                a.kind,
                plan::AliasKind::Root | plan::AliasKind::Auth | plan::AliasKind::Each { .. }
            )
        })
    }

    /// Whether checking a record reads the clock (date macros, `strftime`): its
    /// result may change with no write at all.
    pub fn reads_clock(&self) -> bool {
        self.inner.node.reads_clock()
    }

    /// `self && other`, for filters of the same collection. Relation joins with the
    /// same path are shared, as between an API rule and a client filter in PocketBase.
    pub fn and(self, other: Filter) -> Filter {
        Filter {
            inner: Arc::new(Plan::combine(&self.inner, &other.inner, Node::and)),
        }
    }

    /// `self || other`, for filters of the same collection.
    pub fn or(self, other: Filter) -> Filter {
        Filter {
            inner: Arc::new(Plan::combine(&self.inner, &other.inner, Node::or)),
        }
    }
}

/// The identifier prefixes PocketBase lets only superusers use in the `filter` and
/// `sort` query parameters: the first one `input` contains, if any. The api answers
/// 403 ("Only superusers can filter by @collection.") when it is `Some`.
pub fn superuser_only_prefix(input: &str) -> Option<&'static str> {
    ["@collection.", "@request."]
        .into_iter()
        .find(|p| input.contains(p))
}

#[cfg(test)]
mod tests;
