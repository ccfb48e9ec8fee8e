//! Join rows and the values read from them: which rows an alias can take given its
//! parent's row (related records, back-references, a whole collection, the auth
//! record, `:each` items; a single NULL row when there are none, like a LEFT JOIN),
//! and the SQL value of an operand once its aliases are bound.

use std::rc::Rc;

use super::eval::Ctx;
use super::func::geo_distance;
use super::parse::Op;
use super::plan::{AliasId, AliasKind, Col, Operand, Term, ROOT};
use super::request::{body_ids, body_items, json_param};
use super::sql::{compare, Affinity, Fallback, Sql, Val};
use super::strftime::strftime;
use super::values::{each_items, json_extract, length, value_sql};
use crate::record::Record;
use crate::value::Value;
use crate::Result;

#[derive(Clone, Debug)]
pub enum Row {
    Null,
    Root,
    Auth,
    Rec(Rc<Record>),
    Item(Rc<Sql<'static>>),
}

/// The rows bound to aliases so far; the root is always bound.
pub struct Env {
    root: Row,
    rows: Vec<Option<Row>>,
}

impl Env {
    pub fn new() -> Env {
        Env {
            root: Row::Root,
            rows: Vec::new(),
        }
    }

    pub fn row(&self, a: AliasId) -> &Row {
        if a == ROOT {
            return &self.root;
        }
        self.rows
            .get(a)
            .and_then(Option::as_ref)
            .unwrap_or(&Row::Null)
    }

    pub fn bound(&self, a: AliasId) -> bool {
        a == ROOT || self.rows.get(a).is_some_and(Option::is_some)
    }

    pub fn all_bound(&self, free: &[AliasId]) -> bool {
        free.iter().all(|a| self.bound(*a))
    }

    pub fn set(&mut self, a: AliasId, row: Option<Row>) {
        if self.rows.len() <= a {
            self.rows.resize(a + 1, None);
        }
        self.rows[a] = row;
    }
}

impl Ctx<'_> {
    pub(super) fn record_of<'e>(&'e self, row: &'e Row) -> Option<&'e Record> {
        match row {
            Row::Root => Some(self.record),
            Row::Auth => self.req.auth.as_ref().map(|(_, r)| &**r),
            Row::Rec(r) => Some(r),
            Row::Null | Row::Item(_) => None,
        }
    }

    /// The rows alias `a` can take, given the bound row of its parent.
    pub(super) fn rows(&self, a: AliasId, env: &Env) -> Result<Rc<Vec<Row>>> {
        let alias = &self.plan.aliases[a];
        let independent = matches!(
            alias.kind,
            AliasKind::All
                | AliasKind::Auth
                | AliasKind::BodyRelation { .. }
                | AliasKind::BodyEach { .. }
        );
        if independent {
            if let Some(Some(rows)) = self.cache.borrow().get(a) {
                return Ok(rows.clone());
            }
        }
        let parent = self.record_of(env.row(alias.parent));
        let mut out = Vec::new();
        if let Some(c) = &alias.collection {
            match &alias.kind {
                AliasKind::Root => out.push(Row::Root),
                AliasKind::Forward { pos } => {
                    let ids = parent.and_then(|p| p.values.get(*pos)).map(Value::strings);
                    for id in ids.unwrap_or_default() {
                        out.push(
                            self.lookup
                                .get(c, id)?
                                .map_or(Row::Null, |r| Row::Rec(Rc::new(r))),
                        );
                    }
                }
                AliasKind::Back { pos } => {
                    if let Some(p) = parent {
                        let found = self.lookup.referencing(c, *pos, p.id())?;
                        out.extend(found.into_iter().map(|r| Row::Rec(Rc::new(r))));
                    }
                }
                AliasKind::All => self.lookup.scan(c, &mut |r| {
                    out.push(Row::Rec(Rc::new(r)));
                    true
                })?,
                AliasKind::Auth => {
                    if self.req.auth.as_ref().is_some_and(|(ac, _)| ac.id == c.id) {
                        out.push(Row::Auth);
                    }
                }
                AliasKind::BodyRelation { key } => {
                    for id in body_ids(self.req, key) {
                        if let Some(r) = self.lookup.get(c, &id)? {
                            out.push(Row::Rec(Rc::new(r)));
                        }
                    }
                }
                AliasKind::Each { .. } | AliasKind::BodyEach { .. } => {}
            }
        } else {
            let items = match &alias.kind {
                AliasKind::Each { pos } => each_items(parent.and_then(|p| p.values.get(*pos))),
                AliasKind::BodyEach { key } => body_items(self.req, key),
                _ => Vec::new(),
            };
            out.extend(items.into_iter().map(|s| Row::Item(Rc::new(s))));
        }
        if out.is_empty() {
            out.push(Row::Null);
        }
        let rows = Rc::new(out);
        if independent {
            let mut cache = self.cache.borrow_mut();
            if cache.len() <= a {
                cache.resize(a + 1, None);
            }
            cache[a] = Some(rows.clone());
        }
        Ok(rows)
    }

    /// Whether the auth record bound to `alias` shows its email.
    pub(super) fn email_visible(&self, alias: AliasId, env: &Env) -> bool {
        let rec = self.record_of(env.row(alias));
        let coll = self.plan.aliases[alias].collection.as_deref();
        match (rec, coll) {
            (Some(r), Some(c)) => matches!(r.get(c, "emailVisibility"), Some(Value::Bool(true))),
            _ => false,
        }
    }

    /// The value of `op` with its aliases bound in `env`.
    pub fn value<'e>(&'e self, op: &'e Operand, env: &'e Env) -> Result<Val<'e>> {
        let op = self.effective(op)?;
        Ok(match &op.term {
            Term::Const(v) => Val {
                sql: v.sql.borrowed(),
                aff: v.aff,
                kind: v.kind,
            },
            Term::Macro(m) => m.cached_value(self.now()),
            Term::Col { alias, col, lower } => {
                let v = self.column(*alias, col, env);
                if *lower {
                    Val::ident(v.sql.lower(), Affinity::None)
                } else {
                    v
                }
            }
            Term::Request(r) => r.value(self.req),
            Term::Changed {
                key,
                alias,
                col,
                col_fallback,
                numeric,
            } => {
                let changed = self.req.body.contains_key(key) && {
                    let body = json_param(self.req.body.get(key), *numeric);
                    let current = self.column(*alias, col, env);
                    compare(Op::Ne, &body, Fallback::Auto, &current, *col_fallback) == Some(true)
                };
                Val::ident(Sql::Int(i64::from(changed)), Affinity::None)
            }
            Term::Auth(_) => Val::null(),
            Term::Geo(args) => {
                let [a, b, c, d] = &**args;
                let (a, b) = (self.value(a, env)?, self.value(b, env)?);
                let (c, d) = (self.value(c, env)?, self.value(d, env)?);
                Val::ident(
                    geo_distance([&a.sql, &b.sql, &c.sql, &d.sql]),
                    Affinity::None,
                )
            }
            Term::Strftime(s) => {
                let time = match &s.time {
                    Some(t) => Some(self.value(t, env)?),
                    None => None,
                };
                let now = self.now().naive_utc();
                let out = strftime(&s.format, time.as_ref().map(|t| &t.sql), &s.modifiers, now);
                Val::ident(
                    out.map_or(Sql::Null, |t| Sql::Text(t.into())),
                    Affinity::None,
                )
            }
        })
    }

    fn column<'e>(&'e self, alias: AliasId, col: &Col, env: &'e Env) -> Val<'e> {
        let row = env.row(alias);
        let aff = match col {
            Col::Field { aff, .. } => *aff,
            Col::CollectionId | Col::CollectionName => Affinity::Text,
            _ => Affinity::None,
        };
        if let Row::Item(sql) = row {
            return Val::ident(sql.borrowed(), Affinity::None);
        }
        let Some(rec) = self.record_of(row) else {
            let sql = if matches!(col, Col::Length { .. }) {
                Sql::Int(0)
            } else {
                Sql::Null
            };
            return Val::ident(sql, aff);
        };
        let field = |pos: &usize| rec.values.get(*pos);
        let coll = self.plan.aliases[alias].collection.as_deref();
        let sql = match col {
            Col::Field { pos, .. } => value_sql(field(pos)),
            Col::Json { pos, path } => json_extract(field(pos), path),
            Col::Length { pos } => Sql::Int(length(field(pos))),
            Col::CollectionId => coll.map_or(Sql::Null, |c| Sql::Text(c.id.as_str().into())),
            Col::CollectionName => coll.map_or(Sql::Null, |c| Sql::Text(c.name.as_str().into())),
            Col::Item => Sql::Null,
        };
        Val::ident(sql, aff)
    }
}
