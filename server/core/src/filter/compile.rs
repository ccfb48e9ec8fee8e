//! Type-checking a parsed filter against the catalog into a [`Plan`]: literals and
//! placeholders, macros, `@request.*`, `@collection.*`, and field paths (resolved in
//! `resolve`).

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::like::{self, Pattern};
use super::macros::Macro;
use super::parse::{bad, Ast, Op, Operand as AstOperand};
use super::plan::{
    union, Alias, AliasId, AliasKind, AuthVariant, Cmp, Col, Node, Operand, Plan, Term, ROOT,
};
use super::request::{Part, Request, StaticMod, PLAIN_AUTH_FIELDS};
use super::sql::{Fallback, Kind, ParamKind, Sql, Val};
use super::{CompileOptions, JoinRules};
use crate::schema::{Catalog, Collection, FieldKind};
use crate::Result;

/// A field modifier (`name:modifier`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    None,
    IsSet,
    Each,
    Length,
    Lower,
    Changed,
}

/// Splits `name:modifier`; a segment with more than one `:` is left whole (and so
/// names no field).
pub fn split_modifier(prop: &str) -> Result<(&str, Modifier)> {
    let mut parts = prop.split(':');
    let (Some(name), Some(m), None) = (parts.next(), parts.next(), parts.next()) else {
        return Ok((prop, Modifier::None));
    };
    let m = match m {
        "isset" => Modifier::IsSet,
        "each" => Modifier::Each,
        "length" => Modifier::Length,
        "lower" => Modifier::Lower,
        "changed" => Modifier::Changed,
        _ => return Err(bad(format!("unknown modifier \":{m}\" in \"{prop}\""))),
    };
    Ok((name, m))
}

pub struct Compiler<'a> {
    pub catalog: &'a Catalog,
    pub params: Option<&'a Map<String, Json>>,
    pub allow_hidden: bool,
    pub join_rules: Option<&'a JoinRules>,
    pub aliases: &'a mut Vec<Alias>,
    /// List-rule checks of joined collections, ANDed to the whole filter.
    pub rules: &'a mut Vec<Node>,
    /// The alias plain field names refer to: the record, or a joined row whose list
    /// rule is being compiled.
    pub base: AliasId,
    pub base_collection: Arc<Collection>,
    /// Makes the aliases of a list-rule check private to it.
    pub prefix: String,
}

/// Compiles `ast` for `collection`.
pub fn compile(
    ast: &Ast,
    collection: &Arc<Collection>,
    catalog: &Catalog,
    params: Option<&Map<String, Json>>,
    options: &CompileOptions,
) -> Result<Plan> {
    let mut aliases = vec![Alias {
        key: String::new(),
        parent: ROOT,
        kind: AliasKind::Root,
        collection: Some(collection.clone()),
    }];
    let mut rules = Vec::new();
    let node = Compiler {
        catalog,
        params,
        allow_hidden: options.allow_hidden,
        join_rules: options.join_rules.as_deref(),
        aliases: &mut aliases,
        rules: &mut rules,
        base: ROOT,
        base_collection: collection.clone(),
        prefix: String::new(),
    }
    .node(ast)?;
    let node = if rules.is_empty() {
        node
    } else {
        rules.insert(0, node);
        Node::and(rules)
    };
    Ok(Plan { aliases, node })
}

/// A placeholder value, as PocketBase splices it into the filter text: strings quoted,
/// numbers as numbers, booleans and null as the identifiers `true`/`false`/`null`,
/// anything else as its JSON text.
pub fn json_literal(j: &Json) -> Val<'static> {
    match j {
        Json::Null => Val::null(),
        Json::Bool(b) => Val::known(*b),
        Json::Number(n) => Val::param(Sql::Real(n.as_f64().unwrap_or(0.0)), ParamKind::Real),
        Json::String(s) => Val::param(Sql::Text(Cow::Owned(s.clone())), ParamKind::Text),
        other => Val::param(Sql::Text(Cow::Owned(other.to_string())), ParamKind::Text),
    }
}

impl Compiler<'_> {
    /// The alias of `key`, created under `parent` if new.
    pub fn alias(
        &mut self,
        key: String,
        parent: AliasId,
        kind: AliasKind,
        collection: Option<Arc<Collection>>,
    ) -> AliasId {
        if let Some(i) = self.aliases.iter().position(|a| a.key == key) {
            return i;
        }
        self.aliases.push(Alias {
            key,
            parent,
            kind,
            collection,
        });
        self.aliases.len() - 1
    }

    /// The key of a join `seg` below `parent`.
    pub fn child_key(&self, parent: AliasId, seg: &str) -> String {
        let pk = &self.aliases[parent].key;
        if parent == self.base && !self.prefix.is_empty() {
            format!("{}{pk}.{seg}", self.prefix)
        } else {
            format!("{pk}.{seg}")
        }
    }

    pub fn chain(&self, alias: AliasId) -> Vec<AliasId> {
        Plan::chain(self.aliases, alias)
    }

    pub fn node(&mut self, ast: &Ast) -> Result<Node> {
        Ok(match ast {
            Ast::And(parts) => {
                Node::and(parts.iter().map(|p| self.node(p)).collect::<Result<_>>()?)
            }
            Ast::Or(parts) => Node::or(parts.iter().map(|p| self.node(p)).collect::<Result<_>>()?),
            Ast::Cmp {
                left,
                op,
                any,
                right,
            } => {
                let left = self.operand(left)?;
                let right = self.operand(right)?;
                let pattern = match (&right.term, op) {
                    (Term::Const(v), Op::Like | Op::NotLike) => const_pattern(v),
                    _ => None,
                };
                let free = union(&[&left.free, &right.free]);
                let direct = left.is_direct() && right.is_direct();
                Node::Cmp(Box::new(Cmp {
                    left,
                    op: *op,
                    any: *any,
                    right,
                    base: self.base,
                    pattern,
                    direct,
                    free,
                }))
            }
        })
    }

    pub fn operand(&mut self, o: &AstOperand) -> Result<Operand> {
        match o {
            AstOperand::Text(s) => Ok(Operand::constant(Val::param(
                Sql::Text(Cow::Owned(s.clone())),
                ParamKind::Text,
            ))),
            AstOperand::Number(s) => {
                let n: f64 = s
                    .parse()
                    .map_err(|_| bad(format!("invalid number \"{s}\"")))?;
                Ok(Operand::constant(Val::param(Sql::Real(n), ParamKind::Real)))
            }
            AstOperand::Param(name) => {
                let v = self
                    .params
                    .and_then(|p| p.get(name))
                    .ok_or_else(|| bad(format!("missing value for the placeholder {{:{name}}}")))?;
                Ok(Operand::constant(json_literal(v)))
            }
            AstOperand::Func { name, args } => self.function(name, args),
            AstOperand::Ident(raw) => self.ident(raw),
        }
    }

    fn ident(&mut self, raw: &str) -> Result<Operand> {
        if let Some(m) = Macro::parse(raw) {
            return Ok(Operand {
                term: Term::Macro(m),
                ..Operand::constant(Val::null())
            });
        }
        if raw.get(1..).unwrap_or_default().contains(['@', '#']) || raw.starts_with('#') {
            return Err(bad(format!("invalid identifier \"{raw}\"")));
        }
        let props: Vec<&str> = raw.split('.').collect();
        match props[0] {
            "@collection" => return self.collection_path(raw, &props),
            "@request" => return self.request(raw, &props),
            p if p.starts_with('@') => {
                return Err(bad(format!("unknown identifier \"{raw}\"")));
            }
            _ => {}
        }
        if self.base_collection.field(raw).is_none() {
            match raw.to_ascii_lowercase().as_str() {
                "true" => return Ok(Operand::constant(Val::known(true))),
                "false" => return Ok(Operand::constant(Val::known(false))),
                "null" => return Ok(Operand::constant(Val::null())),
                _ => {}
            }
        }
        let base = self.base;
        let collection = self.base_collection.clone();
        self.path(base, &collection, &props, false, false)
    }

    fn collection_path(&mut self, raw: &str, props: &[&str]) -> Result<Operand> {
        if props.len() < 3 {
            return Err(bad(format!(
                "expected @collection.<name>.<field>, got \"{raw}\""
            )));
        }
        let (name, alias_name) = match props[1].split_once(':') {
            Some((n, a)) if !a.is_empty() => (n, Some(a)),
            Some((n, _)) => (n, None),
            None => (props[1], None),
        };
        let collection = if self.base_collection.matches(name) {
            self.base_collection.clone()
        } else {
            self.catalog
                .get(name)
                .cloned()
                .ok_or_else(|| bad(format!("unknown collection \"{name}\" in \"{raw}\"")))?
        };
        let key = match alias_name {
            Some(a) => format!("{}@collection:{a}:{}", self.prefix, collection.id),
            None => format!("{}@collection.{}", self.prefix, collection.name),
        };
        let alias = self.alias(key, ROOT, AliasKind::All, Some(collection.clone()));
        self.register_join(alias)?;
        self.path(alias, &collection, &props[2..], true, false)
    }

    fn request(&mut self, raw: &str, props: &[&str]) -> Result<Operand> {
        let unknown = || bad(format!("unknown request field \"{raw}\""));
        let req = |r: Request| Ok(Operand::constant(Val::null()).with_term(Term::Request(r)));
        match (props.get(1).copied(), props.len()) {
            (Some("context"), 2) => req(Request::Context),
            (Some("method"), 2) => req(Request::Method),
            (Some("auth"), n) if n >= 3 => self.auth(&props[2..]),
            (Some("body"), n) if n >= 3 => self.body(raw, &props[2..]),
            (Some(part @ ("query" | "headers")), n) if n >= 3 => {
                let part = if part == "query" {
                    Part::Query
                } else {
                    Part::Headers
                };
                self.static_map(raw, part, &props[2..])
            }
            _ => Err(unknown()),
        }
    }

    /// `@request.query|headers|body.<keys>[:isset|:lower]`.
    fn static_map(&mut self, raw: &str, part: Part, keys: &[&str]) -> Result<Operand> {
        let (last, modifier) = split_modifier(keys[keys.len() - 1])?;
        let modifier = match modifier {
            Modifier::None => StaticMod::None,
            Modifier::IsSet => StaticMod::IsSet,
            Modifier::Lower => StaticMod::Lower,
            _ => {
                return Err(bad(format!(
                    "invalid modifier in \"{raw}\": only :isset and :lower apply here"
                )))
            }
        };
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let n = keys.len();
        keys[n - 1] = last.to_owned();
        if part == Part::Headers {
            keys.iter_mut().for_each(|k| *k = k.to_ascii_lowercase());
        }
        let numeric = self
            .base_collection
            .field(last)
            .is_some_and(|f| matches!(f.kind, FieldKind::Number(_)));
        let r = Request::Map {
            part,
            keys,
            modifier,
            numeric,
        };
        Ok(Operand::constant(Val::null()).with_term(Term::Request(r)))
    }

    fn auth(&mut self, props: &[&str]) -> Result<Operand> {
        if props.len() == 1 && PLAIN_AUTH_FIELDS.contains(&props[0]) {
            let r = Request::AuthPlain(props[0].to_owned());
            return Ok(Operand::constant(Val::null()).with_term(Term::Request(r)));
        }
        let auth_collections: Vec<Arc<Collection>> = self
            .catalog
            .iter()
            .filter(|c| c.is_auth())
            .cloned()
            .collect();
        let mut variants = Vec::new();
        for c in auth_collections {
            let key = format!("{}@auth:{}", self.prefix, c.id);
            let alias = self.alias(key, ROOT, AliasKind::Auth, Some(c.clone()));
            let operand = self
                .register_join(alias)
                .and_then(|()| self.path(alias, &c, props, false, true))
                .map_err(|e| e.message);
            variants.push(AuthVariant {
                collection_id: c.id.clone(),
                operand,
            });
        }
        let frees: Vec<&Vec<AliasId>> = variants
            .iter()
            .filter_map(|v| v.operand.as_ref().ok().map(|o| &o.free))
            .collect();
        let free = union(&frees);
        Ok(Operand {
            free,
            ..Operand::constant(Val::null()).with_term(Term::Auth(variants))
        })
    }

    fn body(&mut self, raw: &str, props: &[&str]) -> Result<Operand> {
        let (name, modifier) = split_modifier(props[0])?;
        let Some(pos) = self.base_collection.field_pos(name) else {
            return self.static_map(raw, Part::Body, props);
        };
        let field = self.base_collection.fields[pos].clone();
        let multivalued = matches!(
            field.kind,
            FieldKind::Select(_) | FieldKind::Relation(_) | FieldKind::File(_)
        );
        let not_multi = || {
            bad(format!(
                "field \"{name}\" doesn't support multivalue operations"
            ))
        };
        if let (Some(rel), true) = (field.relation(), props.len() > 1) {
            if modifier != Modifier::None {
                return Err(bad(format!("invalid modifier in \"{raw}\"")));
            }
            let target = self
                .catalog
                .by_id(&rel.collection_id)
                .cloned()
                .ok_or_else(|| {
                    bad(format!(
                        "missing the collection of relation field \"{name}\""
                    ))
                })?;
            let key = format!("{}@body.{name}", self.prefix);
            let kind = AliasKind::BodyRelation {
                key: name.to_owned(),
            };
            let alias = self.alias(key, ROOT, kind, Some(target.clone()));
            self.register_join(alias)?;
            return self.path(alias, &target, &props[1..], field.kind.is_multiple(), true);
        }
        if props.len() > 1 {
            return self.static_map(raw, Part::Body, props);
        }
        let req = |r: Request| Ok(Operand::constant(Val::null()).with_term(Term::Request(r)));
        match modifier {
            Modifier::Each => {
                if !multivalued {
                    return Err(not_multi());
                }
                let key = format!("{}@bodyeach.{name}", self.prefix);
                let kind = AliasKind::BodyEach {
                    key: name.to_owned(),
                };
                let alias = self.alias(key, ROOT, kind, None);
                Ok(Operand {
                    term: Term::Col {
                        alias,
                        col: Col::Item,
                        lower: false,
                    },
                    multi: field.kind.is_multiple(),
                    fallback: Fallback::Auto,
                    guard: None,
                    free: self.chain(alias),
                })
            }
            Modifier::Length if multivalued => req(Request::BodyLength(name.to_owned())),
            Modifier::Length => Err(not_multi()),
            Modifier::Lower => req(Request::BodyLower(name.to_owned())),
            Modifier::Changed => Ok(Operand {
                term: Term::Changed {
                    key: name.to_owned(),
                    alias: self.base,
                    col: match field.kind {
                        FieldKind::Json(_) => Col::Json {
                            pos,
                            path: Vec::new(),
                        },
                        ref k => Col::Field {
                            pos,
                            aff: super::resolve::affinity(k),
                        },
                    },
                    col_fallback: if matches!(field.kind, FieldKind::Json(_)) {
                        Fallback::Disabled
                    } else {
                        Fallback::Auto
                    },
                    numeric: matches!(field.kind, FieldKind::Number(_)),
                },
                multi: false,
                fallback: Fallback::Disabled,
                guard: None,
                free: self.chain(self.base),
            }),
            Modifier::IsSet | Modifier::None => self.static_map(raw, Part::Body, props),
        }
    }
}

impl Operand {
    fn with_term(self, term: Term) -> Operand {
        Operand { term, ..self }
    }
}

/// The `~` pattern of a constant right side, as PocketBase builds it.
fn const_pattern(v: &Val) -> Option<Pattern> {
    let text = match (&v.kind, &v.sql) {
        (Kind::Param(ParamKind::Text), Sql::Text(t)) => like::wrap(t),
        (Kind::Param(ParamKind::Real), Sql::Real(r)) => like::wrap(&format!("{r}")),
        (Kind::Known, Sql::Int(i)) => format!("%{i}%"),
        _ => return None,
    };
    Some(Pattern::new(&text))
}
