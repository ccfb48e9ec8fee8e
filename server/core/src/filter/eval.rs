//! Evaluating a [`Plan`] against a record, with PocketBase's join semantics: a record
//! matches when some assignment of one row to every join alias (a missing relation is
//! one NULL row, like a LEFT JOIN) makes the filter true. Comparisons under `&&` that
//! read the same alias see the same row; independent parts are searched separately,
//! and `||` distributes, so the search stays small.
//!
//! A plain operator on a multi-valued operand additionally requires that no value of
//! it (enumerated afresh, like PocketBase's `NOT EXISTS` subquery) makes the
//! comparison false; `?` operators only need one matching row.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::parse::{bad, Op};
use super::plan::{AliasId, Cmp, Col, Node, Operand, Plan, Term};
pub use super::row::{Env, Row};
use super::sql::{compare, Affinity, Fallback, Kind, Sql, Val};
use super::values::value_sql;
use super::{Lookup, RequestInfo};
use crate::record::Record;
use crate::Result;

/// The most join rows one evaluation may visit before it is refused as too costly.
pub const MAX_JOIN_ROWS: usize = 1 << 22;

static NULL_OPERAND: Operand = Operand {
    term: Term::Const(Val {
        sql: Sql::Null,
        aff: Affinity::None,
        kind: Kind::Null,
    }),
    multi: false,
    fallback: Fallback::Auto,
    guard: None,
    free: Vec::new(),
};

pub struct Ctx<'a> {
    pub(super) plan: &'a Plan,
    pub(super) record: &'a Record,
    pub(super) lookup: &'a dyn Lookup,
    pub(super) req: &'a RequestInfo,
    now: Cell<Option<DateTime<Utc>>>,
    steps: Cell<usize>,
    /// Rows of the aliases that do not depend on a parent row.
    pub(super) cache: RefCell<Vec<Option<Rc<Vec<Row>>>>>,
}

type Visit<'v, 'a> = dyn FnMut(&Ctx<'a>, &mut Env) -> Result<bool> + 'v;

impl<'a> Ctx<'a> {
    pub fn new(
        plan: &'a Plan,
        record: &'a Record,
        lookup: &'a dyn Lookup,
        req: &'a RequestInfo,
    ) -> Ctx<'a> {
        Ctx {
            plan,
            record,
            lookup,
            req,
            now: Cell::new(None),
            steps: Cell::new(0),
            cache: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        if let Some(t) = self.now.get() {
            return t;
        }
        let t = Utc::now();
        self.now.set(Some(t));
        t
    }

    /// Tries every row of the first unbound alias of `free` (parents come first),
    /// recursively, until `visit` says yes.
    pub fn search(
        &self,
        free: &[AliasId],
        env: &mut Env,
        visit: &mut Visit<'_, 'a>,
    ) -> Result<bool> {
        let Some(&a) = free.iter().find(|a| !env.bound(**a)) else {
            return visit(self, env);
        };
        let rows = self.rows(a, env)?;
        for row in rows.iter() {
            self.step()?;
            env.set(a, Some(row.clone()));
            let hit = self.search(free, env, visit);
            env.set(a, None);
            if hit? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts one joined row against [`MAX_JOIN_ROWS`].
    fn step(&self) -> Result<()> {
        let steps = self.steps.get() + 1;
        if steps > MAX_JOIN_ROWS {
            return Err(bad(
                "the filter is too costly to evaluate (too many joined rows)",
            ));
        }
        self.steps.set(steps);
        Ok(())
    }

    pub fn exists(&self, node: &Node, env: &mut Env) -> Result<bool> {
        match node {
            Node::Or(children, _) => {
                for c in children {
                    if self.exists(c, env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::And(children, _) => self.exists_and(children.iter(), env),
            Node::Cmp(c) => self.exists_cmp(c, env),
            Node::Rule { alias, rule, .. } => {
                let (alias, rule) = (*alias, &**rule);
                let chain = Plan::chain(&self.plan.aliases, alias);
                self.search(&chain, env, &mut |ctx, env| {
                    let missing = ctx
                        .record_of(env.row(alias))
                        .is_none_or(|r| r.id().is_empty());
                    Ok(missing || ctx.exists(rule, env)?)
                })
            }
        }
    }

    /// `&&`: cheap parts first; parts sharing an unbound alias are searched together.
    fn exists_and<'n>(
        &self,
        children: impl Iterator<Item = &'n Node>,
        env: &mut Env,
    ) -> Result<bool> {
        let mut pending: Vec<&Node> = Vec::new();
        for c in children {
            if env.all_bound(c.free()) {
                if !self.exists(c, env)? {
                    return Ok(false);
                }
            } else {
                pending.push(c);
            }
        }
        for group in groups(&pending, env) {
            let ok = match group.as_slice() {
                [one] => self.exists(one, env)?,
                many => {
                    let Some(a) = shared_alias(many, env) else {
                        // Unreachable by construction: a group shares an alias.
                        for n in many {
                            if !self.exists(n, env)? {
                                return Ok(false);
                            }
                        }
                        continue;
                    };
                    let rows = self.rows(a, env)?;
                    let mut ok = false;
                    for row in rows.iter() {
                        self.step()?;
                        env.set(a, Some(row.clone()));
                        let hit = self.exists_and(many.iter().copied(), env);
                        env.set(a, None);
                        if hit? {
                            ok = true;
                            break;
                        }
                    }
                    ok
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(super) fn effective<'p>(&self, op: &'p Operand) -> Result<&'p Operand> {
        let Term::Auth(variants) = &op.term else {
            return Ok(op);
        };
        let Some((c, _)) = &self.req.auth else {
            return Ok(&NULL_OPERAND);
        };
        match variants.iter().find(|v| v.collection_id == c.id) {
            None => Ok(&NULL_OPERAND),
            Some(v) => v.operand.as_ref().map_err(|m| bad(m.clone())),
        }
    }

    /// The value of a [`Operand::is_direct`] operand.
    fn direct_value<'e>(&'e self, op: &'e Operand) -> Val<'e> {
        match &op.term {
            Term::Const(v) => Val {
                sql: v.sql.borrowed(),
                aff: v.aff,
                kind: v.kind,
            },
            Term::Col {
                col: Col::Field { pos, aff },
                lower,
                ..
            } => {
                let sql = value_sql(self.record.values.get(*pos));
                if *lower {
                    Val::ident(sql.lower(), Affinity::None)
                } else {
                    Val::ident(sql, *aff)
                }
            }
            _ => Val::null(),
        }
    }

    fn exists_cmp(&self, c: &Cmp, env: &mut Env) -> Result<bool> {
        if c.direct {
            let (l, r) = (self.direct_value(&c.left), self.direct_value(&c.right));
            return Ok(self.test(c, &l, c.left.fallback, &r, c.right.fallback) == Some(true));
        }
        let lo = self.effective(&c.left)?;
        let ro = self.effective(&c.right)?;
        let all = !c.any && (lo.multi || ro.multi);
        let mut checked = false;
        if all {
            let single = if lo.multi { ro } else { lo };
            if (lo.multi && ro.multi) || env.all_bound(&single.free) {
                if !self.all_hold(c, lo, ro, env)? {
                    return Ok(false);
                }
                checked = true;
            }
        }
        let late = all && !checked;
        if env.all_bound(&c.free) {
            return self.leaf(c, lo, ro, env, late);
        }
        self.search(&c.free, env, &mut |ctx, env| ctx.leaf(c, lo, ro, env, late))
    }

    fn test(&self, c: &Cmp, l: &Val, lf: Fallback, r: &Val, rf: Fallback) -> Option<bool> {
        match (&c.pattern, c.op) {
            (Some(p), Op::Like | Op::NotLike) => {
                let text = l.sql.to_text()?;
                Some(p.matches(&text) == (c.op == Op::Like))
            }
            _ => compare(c.op, l, lf, r, rf),
        }
    }

    /// One comparison with every alias bound.
    fn leaf(&self, c: &Cmp, lo: &Operand, ro: &Operand, env: &mut Env, all: bool) -> Result<bool> {
        let l = self.value(lo, env)?;
        let r = self.value(ro, env)?;
        if self.test(c, &l, lo.fallback, &r, ro.fallback) != Some(true) {
            return Ok(false);
        }
        for g in [lo.guard, ro.guard].into_iter().flatten() {
            if !self.email_visible(g, env) {
                return Ok(false);
            }
        }
        if all {
            return self.all_hold(c, lo, ro, env);
        }
        Ok(true)
    }

    /// The match-all check: no value of the multi-valued side makes the comparison false.
    fn all_hold(&self, c: &Cmp, lo: &Operand, ro: &Operand, env: &Env) -> Result<bool> {
        let mut fresh = Env::new();
        for a in Plan::chain(&self.plan.aliases, c.base) {
            fresh.set(a, Some(env.row(a).clone()));
        }
        fn column<'v>(v: &Val<'v>) -> Val<'v> {
            Val::ident(v.sql.clone(), v.aff)
        }
        let fails = |l: &Val, lf, r: &Val, rf| self.test(c, l, lf, r, rf) == Some(false);
        if lo.multi && ro.multi {
            let ls = self.collect(lo, &mut fresh)?;
            let rs = self.collect(ro, &mut fresh)?;
            for l in &ls {
                for r in &rs {
                    if fails(&column(l), lo.fallback, &column(r), ro.fallback) {
                        return Ok(false);
                    }
                }
            }
        } else if lo.multi {
            let r = self.value(ro, env)?;
            for l in self.collect(lo, &mut fresh)? {
                if fails(&column(&l), lo.fallback, &r, Fallback::Auto) {
                    return Ok(false);
                }
            }
        } else {
            let l = self.value(lo, env)?;
            for r in self.collect(ro, &mut fresh)? {
                if fails(&l, Fallback::Auto, &column(&r), ro.fallback) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Every value of `op` over all rows of its aliases.
    fn collect(&self, op: &Operand, env: &mut Env) -> Result<Vec<Val<'static>>> {
        let mut out = Vec::new();
        self.search(&op.free, env, &mut |ctx, env| {
            out.push(ctx.value(op, env)?.into_owned());
            Ok(false)
        })?;
        Ok(out)
    }
}

/// Splits `nodes` into groups connected by shared unbound aliases.
fn groups<'n>(nodes: &[&'n Node], env: &Env) -> Vec<Vec<&'n Node>> {
    let n = nodes.len();
    let mut comp: Vec<usize> = (0..n).collect();
    fn find(comp: &mut [usize], mut i: usize) -> usize {
        while comp[i] != i {
            comp[i] = comp[comp[i]];
            i = comp[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if shares(nodes[i].free(), nodes[j].free(), env) {
                let (a, b) = (find(&mut comp, i), find(&mut comp, j));
                comp[a] = b;
            }
        }
    }
    let mut out: Vec<(usize, Vec<&Node>)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let root = find(&mut comp, i);
        match out.iter_mut().find(|(r, _)| *r == root) {
            Some((_, g)) => g.push(node),
            None => out.push((root, vec![node])),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

fn shares(a: &[AliasId], b: &[AliasId], env: &Env) -> bool {
    a.iter()
        .any(|x| !env.bound(*x) && b.binary_search(x).is_ok())
}

/// The first unbound alias read by at least two of `nodes` (its parent is then bound).
fn shared_alias(nodes: &[&Node], env: &Env) -> Option<AliasId> {
    let mut best: Option<AliasId> = None;
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            for x in a.free() {
                if !env.bound(*x) && b.free().binary_search(x).is_ok() {
                    best = Some(best.map_or(*x, |y| y.min(*x)));
                }
            }
        }
    }
    best
}
