//! Resolving field paths: direct fields, relation hops, back-relations
//! (`comments_via_post`), json paths, the `:each`/`:length`/`:lower` modifiers, the
//! hidden-field rules for non-superusers, and the list rules of joined collections.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::compile::{split_modifier, Compiler, Modifier};
use super::parse::{bad, parse};
use super::plan::{union, AliasId, AliasKind, Col, Node, Operand, Term};
use super::sql::{Affinity, Fallback, Val};
use crate::schema::{Collection, FieldKind};
use crate::Result;

/// The most relation hops (`a.b.c…`) a path may take, like PocketBase.
pub const MAX_PATH_DEPTH: usize = 6;

/// Makes the joins of each compiled list-rule check private to it.
static RULE_SEQ: AtomicU64 = AtomicU64::new(0);

/// The affinity of a field's column in PocketBase's SQLite schema.
pub fn affinity(kind: &FieldKind) -> Affinity {
    match kind {
        FieldKind::Number(_) | FieldKind::Bool(_) => Affinity::Numeric,
        FieldKind::Json(_) => Affinity::None,
        k if k.is_multiple() => Affinity::Numeric,
        _ => Affinity::Text,
    }
}

fn multivalued(kind: &FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_)
    )
}

fn non_filterable(name: &str) -> crate::Error {
    bad(format!("non-filterable field \"{name}\""))
}

fn unique_single(c: &Collection, field: &str) -> bool {
    c.index_defs
        .iter()
        .any(|d| d.unique && d.columns.len() == 1 && d.columns[0] == field)
}

impl Compiler<'_> {
    /// Resolves `props` from the rows of `start`. `multi`: the rows may already be
    /// several; `nullify`: unknown fields resolve to NULL instead of failing (the
    /// `@request.*` paths).
    pub fn path(
        &mut self,
        start: AliasId,
        collection: &Arc<Collection>,
        props: &[&str],
        mut multi: bool,
        nullify: bool,
    ) -> Result<Operand> {
        let mut alias = start;
        let mut coll = collection.clone();
        let Some(last) = props.len().checked_sub(1) else {
            return Err(bad("empty field path"));
        };
        for (i, prop) in props.iter().enumerate() {
            if i == last {
                return self.finalize(alias, &coll, prop, multi, nullify);
            }
            if prop.contains(':') {
                return Err(bad(format!(
                    "a modifier may only end a field path, got \"{prop}\""
                )));
            }
            let pos = coll.field_pos(prop);
            if let Some(pos) = pos {
                let f = &coll.fields[pos];
                if f.hidden && !self.allow_hidden {
                    return Err(non_filterable(prop));
                }
                if matches!(f.kind, FieldKind::Json(_)) {
                    return self.json_path(alias, pos, &props[i + 1..], multi);
                }
            }
            if i >= MAX_PATH_DEPTH {
                return Err(bad(format!(
                    "max nested relations reached for field \"{prop}\" (at most {MAX_PATH_DEPTH})"
                )));
            }
            let Some(pos) = pos else {
                match self.back_relation(alias, &coll, prop, nullify)? {
                    Some((a, c, m)) => (alias, coll, multi) = (a, c, multi | m),
                    None => return Ok(Operand::constant(Val::null())),
                }
                continue;
            };
            let f = coll.fields[pos].clone();
            let Some(rel) = f.relation() else {
                return Err(bad(format!("field \"{prop}\" is not a relation")));
            };
            let target = self.collection_by_id(&rel.collection_id).ok_or_else(|| {
                bad(format!(
                    "missing the collection of relation field \"{prop}\""
                ))
            })?;
            // `author.id` is the relation value itself: no join.
            if !f.kind.is_multiple() && i + 1 == last && props[last] == "id" {
                return self.finalize(alias, &coll, prop, multi, nullify);
            }
            let key = self.child_key(alias, prop);
            let next = self.alias(key, alias, AliasKind::Forward { pos }, Some(target.clone()));
            self.register_join(next)?;
            multi |= f.kind.is_multiple();
            (alias, coll) = (next, target);
        }
        Err(bad("empty field path"))
    }

    fn collection_by_id(&self, id: &str) -> Option<Arc<Collection>> {
        if self.base_collection.id == id {
            return Some(self.base_collection.clone());
        }
        self.catalog.by_id(id).cloned()
    }

    /// `<collection>_via_<field>`: the records of `collection` pointing here.
    fn back_relation(
        &mut self,
        alias: AliasId,
        coll: &Collection,
        prop: &str,
        nullify: bool,
    ) -> Result<Option<(AliasId, Arc<Collection>, bool)>> {
        let miss = |msg: String| if nullify { Ok(None) } else { Err(bad(msg)) };
        let Some((cname, fname)) = prop
            .rsplit_once("_via_")
            .filter(|(c, f)| !c.is_empty() && !f.is_empty())
        else {
            return miss(format!(
                "unknown field \"{prop}\" in collection \"{}\"",
                coll.name
            ));
        };
        let source = if self.base_collection.matches(cname) {
            Some(self.base_collection.clone())
        } else {
            self.catalog.get(cname).cloned()
        };
        let Some(source) = source else {
            return miss(format!("unknown collection \"{cname}\" in \"{prop}\""));
        };
        let Some(pos) = source.field_pos(fname) else {
            return miss(format!(
                "missing back-relation field \"{fname}\" in \"{prop}\""
            ));
        };
        let f = &source.fields[pos];
        let Some(rel) = f.relation() else {
            return miss(format!("\"{fname}\" of \"{prop}\" is not a relation field"));
        };
        if f.hidden && !self.allow_hidden {
            return Err(non_filterable(fname));
        }
        if rel.collection_id != coll.id {
            return miss(format!(
                "\"{fname}\" of \"{cname}\" does not point to \"{}\"",
                coll.name
            ));
        }
        let multi = f.kind.is_multiple() || !unique_single(&source, fname);
        let key = self.child_key(alias, prop);
        let next = self.alias(key, alias, AliasKind::Back { pos }, Some(source.clone()));
        self.register_join(next)?;
        Ok(Some((next, source, multi)))
    }

    fn json_path(
        &mut self,
        alias: AliasId,
        pos: usize,
        rest: &[&str],
        multi: bool,
    ) -> Result<Operand> {
        let mut path: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
        let mut lower = false;
        if let Some(last) = path.last_mut() {
            let (name, modifier) = split_modifier(last)?;
            match modifier {
                Modifier::None => {}
                Modifier::Lower => lower = true,
                _ => return Err(bad(format!("invalid modifier on the json path \"{last}\""))),
            }
            *last = name.to_owned();
        }
        Ok(Operand {
            term: Term::Col {
                alias,
                col: Col::Json { pos, path },
                lower,
            },
            multi,
            fallback: Fallback::Disabled,
            guard: None,
            free: self.chain(alias),
        })
    }

    /// The last segment of a path: a field of `coll` with an optional modifier.
    fn finalize(
        &mut self,
        alias: AliasId,
        coll: &Arc<Collection>,
        prop: &str,
        multi: bool,
        nullify: bool,
    ) -> Result<Operand> {
        let (name, modifier) = split_modifier(prop)?;
        let plain = |term, multi, fallback, free| Operand {
            term,
            multi,
            fallback,
            guard: None,
            free,
        };
        let lower = modifier == Modifier::Lower;
        let Some(pos) = coll.field_pos(name) else {
            let col = match name {
                "collectionId" => Col::CollectionId,
                "collectionName" => Col::CollectionName,
                _ if nullify => return Ok(Operand::constant(Val::null())),
                _ => {
                    return Err(bad(format!(
                        "unknown field \"{name}\" in collection \"{}\"",
                        coll.name
                    )))
                }
            };
            if !matches!(modifier, Modifier::None | Modifier::Lower) {
                return Err(bad(format!("invalid modifier on \"{prop}\"")));
            }
            let term = Term::Col { alias, col, lower };
            return Ok(plain(term, multi, Fallback::Auto, self.chain(alias)));
        };
        let f = coll.fields[pos].clone();
        if f.hidden && !self.allow_hidden {
            return Err(non_filterable(name));
        }
        let only_multi = |m: &str| {
            bad(format!(
                "the :{m} modifier only applies to select, relation and file fields, got \"{prop}\""
            ))
        };
        match modifier {
            Modifier::IsSet => Err(bad(format!(
                "the :isset modifier only applies to @request.* fields, got \"{prop}\""
            ))),
            Modifier::Changed => Err(bad(format!(
                "the :changed modifier only applies to @request.body.* fields, got \"{prop}\""
            ))),
            Modifier::Length if multivalued(&f.kind) => {
                let term = Term::Col {
                    alias,
                    col: Col::Length { pos },
                    lower: false,
                };
                Ok(plain(term, multi, Fallback::Auto, self.chain(alias)))
            }
            Modifier::Each if multivalued(&f.kind) => {
                let key = self.child_key(alias, &format!("{name}:each"));
                let each = self.alias(key, alias, AliasKind::Each { pos }, None);
                let term = Term::Col {
                    alias: each,
                    col: Col::Item,
                    lower: false,
                };
                let multi = multi || f.kind.is_multiple();
                Ok(plain(term, multi, Fallback::Auto, self.chain(each)))
            }
            Modifier::Length => Err(only_multi("length")),
            Modifier::Each => Err(only_multi("each")),
            Modifier::None | Modifier::Lower => {
                let (col, fallback) = match f.kind {
                    FieldKind::Json(_) => (
                        Col::Json {
                            pos,
                            path: Vec::new(),
                        },
                        Fallback::Disabled,
                    ),
                    ref k => (
                        Col::Field {
                            pos,
                            aff: affinity(k),
                        },
                        Fallback::Auto,
                    ),
                };
                let guard =
                    (name == "email" && !self.allow_hidden && coll.is_auth()).then_some(alias);
                Ok(Operand {
                    guard,
                    ..plain(
                        Term::Col { alias, col, lower },
                        multi,
                        fallback,
                        self.chain(alias),
                    )
                })
            }
        }
    }

    /// For non-superuser filters: a join into a superuser-only collection fails, and
    /// one into a collection with a list rule checks that rule on the joined row.
    pub fn register_join(&mut self, alias: AliasId) -> Result<()> {
        if self.allow_hidden {
            return Ok(());
        }
        let Some(c) = self.aliases[alias].collection.clone() else {
            return Ok(());
        };
        let rule = match self.join_rules {
            Some(rules) => rules(&c),
            None => c.rules.list_rule.clone(),
        };
        let Some(rule) = rule.as_deref() else {
            return Err(bad(format!(
                "the fields of \"{}\" can only be filtered by superusers",
                c.name
            )));
        };
        let checked = self
            .rules
            .iter()
            .any(|r| matches!(r, Node::Rule { alias: a, .. } if *a == alias));
        if rule.trim().is_empty() || checked {
            return Ok(());
        }
        let failed = |e: crate::Error| {
            bad(format!(
                "failed to build the list rule of \"{}\": {}",
                c.name, e.message
            ))
        };
        let ast = parse(rule).map_err(failed)?;
        let seq = RULE_SEQ.fetch_add(1, Ordering::Relaxed);
        let node = Compiler {
            catalog: self.catalog,
            params: None,
            allow_hidden: true,
            join_rules: None,
            aliases: &mut *self.aliases,
            rules: &mut *self.rules,
            base: alias,
            base_collection: c.clone(),
            prefix: format!("#{seq}"),
        }
        .node(&ast)
        .map_err(failed)?;
        let free = union(&[&self.chain(alias), node.free()]);
        self.rules.push(Node::Rule {
            alias,
            rule: Box::new(node),
            free,
        });
        Ok(())
    }
}
