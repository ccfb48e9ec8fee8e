//! The compiled form of a filter.
//!
//! PocketBase compiles a filter to one SQL query in which every relation path,
//! back-relation, `@collection` and `:each` becomes a LEFT JOIN that all comparisons
//! share, and a record matches when some combination of joined rows satisfies the
//! WHERE clause. A [`Plan`] keeps that shape: each join is an [`Alias`] (keyed by its
//! path, so that two filters combined with `and`/`or` share joins the way a rule and a
//! client filter share them in PocketBase), and every node knows the aliases it reads
//! (`free`, parents included, ids in creation order so parents come first).

use std::sync::Arc;

use super::func::Strftime;
use super::like::Pattern;
use super::macros::Macro;
use super::parse::Op;
use super::request::Request;
use super::sql::{Affinity, Fallback, Val};
use crate::schema::Collection;

pub type AliasId = usize;
/// The alias of the record being matched.
pub const ROOT: AliasId = 0;

#[derive(Clone, Debug)]
pub struct Plan {
    pub aliases: Vec<Alias>,
    pub node: Node,
}

#[derive(Clone, Debug)]
pub struct Alias {
    /// The join path; equal keys are the same join.
    pub key: String,
    pub parent: AliasId,
    pub kind: AliasKind,
    /// The collection of the rows; `None` for `:each` item rows.
    pub collection: Option<Arc<Collection>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AliasKind {
    Root,
    /// The records named by the relation field `pos` of the parent row.
    Forward {
        pos: usize,
    },
    /// The records whose relation field `pos` names the parent row.
    Back {
        pos: usize,
    },
    /// Every record of the collection (`@collection.*`).
    All,
    /// The authenticated record, when it belongs to the alias' collection.
    Auth,
    /// The records named by `@request.body.<key>`.
    BodyRelation {
        key: String,
    },
    /// The items of the parent row's multi-valued field `pos` (`:each`).
    Each {
        pos: usize,
    },
    /// The items of `@request.body.<key>` (`:each`).
    BodyEach {
        key: String,
    },
}

/// Sorted alias ids, [`ROOT`] excluded.
pub type Free = Vec<AliasId>;

#[derive(Clone, Debug)]
pub enum Node {
    And(Vec<Node>, Free),
    Or(Vec<Node>, Free),
    Cmp(Box<Cmp>),
    /// A joined collection's list rule: holds when the row of `alias` is missing or
    /// satisfies `rule` (PocketBase's `id = '' || (listRule)` for non-superusers).
    Rule {
        alias: AliasId,
        rule: Box<Node>,
        free: Free,
    },
}

#[derive(Clone, Debug)]
pub struct Cmp {
    pub left: Operand,
    pub op: Op,
    pub any: bool,
    pub right: Operand,
    /// The alias the match-all check is correlated with (the record, or the joined
    /// row a list rule is checked against).
    pub base: AliasId,
    /// The `~`/`!~` pattern when the right side is a constant.
    pub pattern: Option<Pattern>,
    /// Both sides are constants or fields of the record itself (the fast path).
    pub direct: bool,
    pub free: Free,
}

#[derive(Clone, Debug)]
pub struct Operand {
    pub term: Term,
    /// Whether it may yield several values, so that a plain operator must hold for all.
    pub multi: bool,
    pub fallback: Fallback,
    /// An auth row whose `emailVisibility` must be true: a non-superuser filter on a
    /// hidden-by-default `email`.
    pub guard: Option<AliasId>,
    pub free: Free,
}

#[derive(Clone, Debug)]
pub enum Term {
    Const(Val<'static>),
    Macro(Macro),
    Col {
        alias: AliasId,
        col: Col,
        lower: bool,
    },
    Request(Request),
    /// `@request.body.<key>:changed`: set and different from `col` of `alias`.
    Changed {
        key: String,
        alias: AliasId,
        col: Col,
        col_fallback: Fallback,
        numeric: bool,
    },
    /// `@request.auth.<path>` resolved for each auth collection; chosen at run time.
    Auth(Vec<AuthVariant>),
    Geo(Box<[Operand; 4]>),
    Strftime(Box<Strftime>),
}

#[derive(Clone, Debug)]
pub struct AuthVariant {
    pub collection_id: String,
    /// The resolution error is reported only when a request authenticates there.
    pub operand: Result<Operand, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Col {
    Field {
        pos: usize,
        aff: Affinity,
    },
    /// A json field, or a path inside it.
    Json {
        pos: usize,
        path: Vec<String>,
    },
    /// The number of items of a multi-valued field (`:length`).
    Length {
        pos: usize,
    },
    CollectionId,
    CollectionName,
    /// The row itself, for `:each` aliases.
    Item,
}

/// The union of sorted id lists.
pub fn union(sets: &[&Free]) -> Free {
    let mut out: Free = sets.iter().flat_map(|s| s.iter().copied()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Node {
    /// Whether checking it reads the clock: date macros (`@now`, …) or `strftime`.
    pub fn reads_clock(&self) -> bool {
        match self {
            Node::And(nodes, _) | Node::Or(nodes, _) => nodes.iter().any(Node::reads_clock),
            Node::Cmp(cmp) => cmp.left.reads_clock() || cmp.right.reads_clock(),
            Node::Rule { rule, .. } => rule.reads_clock(),
        }
    }

    pub fn free(&self) -> &Free {
        match self {
            Node::And(_, f) | Node::Or(_, f) | Node::Rule { free: f, .. } => f,
            Node::Cmp(c) => &c.free,
        }
    }

    pub fn and(children: Vec<Node>) -> Node {
        let free = union(&children.iter().map(Node::free).collect::<Vec<_>>());
        Node::And(children, free)
    }

    pub fn or(children: Vec<Node>) -> Node {
        let free = union(&children.iter().map(Node::free).collect::<Vec<_>>());
        Node::Or(children, free)
    }

    fn remap(&mut self, map: &[AliasId]) {
        match self {
            Node::And(children, free) | Node::Or(children, free) => {
                children.iter_mut().for_each(|c| c.remap(map));
                remap_free(free, map);
            }
            Node::Cmp(c) => {
                c.left.remap(map);
                c.right.remap(map);
                c.base = map[c.base];
                remap_free(&mut c.free, map);
            }
            Node::Rule { alias, rule, free } => {
                *alias = map[*alias];
                rule.remap(map);
                remap_free(free, map);
            }
        }
    }
}

fn remap_free(free: &mut Free, map: &[AliasId]) {
    for a in free.iter_mut() {
        *a = map[*a];
    }
    free.sort_unstable();
    free.dedup();
}

impl Operand {
    fn reads_clock(&self) -> bool {
        match &self.term {
            // `strftime` without a time, or with `'now'`: counted as reading it always.
            Term::Macro(_) | Term::Strftime(_) => true,
            Term::Auth(variants) => variants
                .iter()
                .any(|v| v.operand.as_ref().is_ok_and(Operand::reads_clock)),
            Term::Geo(args) => args.iter().any(Operand::reads_clock),
            Term::Const(_) | Term::Col { .. } | Term::Request(_) | Term::Changed { .. } => false,
        }
    }

    /// A constant or a field of the record itself, with nothing else to check.
    pub fn is_direct(&self) -> bool {
        let simple = match &self.term {
            Term::Const(_) => true,
            Term::Col { alias, col, .. } => *alias == ROOT && matches!(col, Col::Field { .. }),
            _ => false,
        };
        simple && !self.multi && self.guard.is_none()
    }

    pub fn constant(v: Val<'static>) -> Operand {
        Operand {
            term: Term::Const(v),
            multi: false,
            fallback: Fallback::Auto,
            guard: None,
            free: Vec::new(),
        }
    }

    pub fn remap(&mut self, map: &[AliasId]) {
        remap_free(&mut self.free, map);
        if let Some(g) = &mut self.guard {
            *g = map[*g];
        }
        match &mut self.term {
            Term::Col { alias, .. } | Term::Changed { alias, .. } => *alias = map[*alias],
            Term::Auth(variants) => {
                for v in variants.iter_mut() {
                    if let Ok(op) = &mut v.operand {
                        op.remap(map);
                    }
                }
            }
            Term::Geo(args) => args.iter_mut().for_each(|a| a.remap(map)),
            Term::Strftime(s) => s.remap(map),
            Term::Const(_) | Term::Macro(_) | Term::Request(_) => {}
        }
    }
}

impl Plan {
    /// The aliases from `alias` up to (not including) the root, sorted.
    pub fn chain(aliases: &[Alias], mut alias: AliasId) -> Free {
        let mut out = Vec::new();
        while alias != ROOT {
            out.push(alias);
            alias = aliases[alias].parent;
        }
        out.sort_unstable();
        out
    }

    /// Combines two plans over the same collection; joins with equal keys are shared.
    pub fn combine(a: &Plan, b: &Plan, join: fn(Vec<Node>) -> Node) -> Plan {
        let mut aliases = a.aliases.clone();
        let mut map = vec![ROOT; b.aliases.len()];
        for (i, alias) in b.aliases.iter().enumerate().skip(1) {
            map[i] = match aliases.iter().position(|x| x.key == alias.key) {
                Some(j) => j,
                None => {
                    let mut alias = alias.clone();
                    alias.parent = map[alias.parent];
                    aliases.push(alias);
                    aliases.len() - 1
                }
            };
        }
        let mut other = b.node.clone();
        other.remap(&map);
        Plan {
            aliases,
            node: join(vec![a.node.clone(), other]),
        }
    }
}
