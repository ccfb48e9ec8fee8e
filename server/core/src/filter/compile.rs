//! Resolving identifiers of a parsed filter against the catalog.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::parse::{bad, Ast, Op, Operand};
use super::{Constraint, ConstraintOp};
use crate::schema::{Catalog, Collection, FieldKind};
use crate::value::Value;
use crate::Result;

/// The longest relation path (`a.b.c…`) a filter may follow.
pub const MAX_PATH_DEPTH: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Modifier {
    None,
    Lower,
    Length,
    Each,
    IsSet,
    Changed,
}

/// One hop of a relation path.
#[derive(Clone, Debug)]
pub enum Step {
    /// Follow the relation field at `pos` of the current records into `target`.
    Forward { pos: usize, target: Arc<Collection> },
    /// Records of `source` whose relation field at `pos` points at the current ones.
    Back { source: Arc<Collection>, pos: usize },
}

#[derive(Clone, Debug)]
pub enum Field {
    Pos(usize),
    CollectionId,
    CollectionName,
}

#[derive(Clone, Debug)]
pub enum RequestPart {
    /// `@request.auth.<field>`: resolved against the auth record at run time.
    Auth(String),
    Body(String),
    /// `@request.body.<key>:changed`, with the position of the record field of that name.
    Changed(String, Option<usize>),
    Query(String),
    Header(String),
    Method,
    Context,
}

#[derive(Clone, Debug)]
pub enum Source {
    Literal(Value),
    Path {
        steps: Vec<Step>,
        field: Field,
        multiple: bool,
        zero: Value,
    },
    Request(RequestPart),
    Collection {
        collection: Arc<Collection>,
        field: Field,
    },
    Macro(String),
}

#[derive(Clone, Debug)]
pub struct Operand2 {
    pub source: Source,
    pub modifier: Modifier,
}

#[derive(Clone, Debug)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Cmp(Box<Cmp>),
}

/// One comparison: `left op right`, `any` for the `?` forms.
#[derive(Clone, Debug)]
pub struct Cmp {
    pub left: Operand2,
    pub op: Op,
    pub any: bool,
    pub right: Operand2,
}

const MACROS: &[&str] = &[
    "@now",
    "@second",
    "@minute",
    "@hour",
    "@weekday",
    "@day",
    "@month",
    "@year",
    "@yesterday",
    "@tomorrow",
    "@todayStart",
    "@todayEnd",
    "@monthStart",
    "@monthEnd",
    "@yearStart",
    "@yearEnd",
];

pub fn compile(
    ast: &Ast,
    c: &Arc<Collection>,
    catalog: &Catalog,
    params: Option<&Map<String, Json>>,
) -> Result<Node> {
    Ok(match ast {
        Ast::And(v) => Node::And(
            v.iter()
                .map(|a| compile(a, c, catalog, params))
                .collect::<Result<_>>()?,
        ),
        Ast::Or(v) => Node::Or(
            v.iter()
                .map(|a| compile(a, c, catalog, params))
                .collect::<Result<_>>()?,
        ),
        Ast::Cmp {
            left,
            op,
            any,
            right,
        } => Node::Cmp(Box::new(Cmp {
            left: operand(left, c, catalog, params)?,
            op: *op,
            any: *any,
            right: operand(right, c, catalog, params)?,
        })),
    })
}

pub fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

fn operand(
    o: &Operand,
    c: &Arc<Collection>,
    catalog: &Catalog,
    params: Option<&Map<String, Json>>,
) -> Result<Operand2> {
    let plain = |source| {
        Ok(Operand2 {
            source,
            modifier: Modifier::None,
        })
    };
    match o {
        Operand::Literal(v) => plain(Source::Literal(v.clone())),
        Operand::Param(name) => {
            let v = params
                .and_then(|p| p.get(name))
                .ok_or_else(|| bad(format!("missing value for placeholder {{:{name}}}")))?;
            plain(Source::Literal(json_to_value(v)))
        }
        Operand::Ident(raw) => ident(raw, c, catalog),
    }
}

fn field_ref(c: &Collection, name: &str) -> Result<Field> {
    match name {
        "collectionId" => Ok(Field::CollectionId),
        "collectionName" => Ok(Field::CollectionName),
        _ => c
            .field_pos(name)
            .map(Field::Pos)
            .ok_or_else(|| bad(format!("unknown field \"{name}\" in {}", c.name))),
    }
}

fn ident(raw: &str, c: &Arc<Collection>, catalog: &Catalog) -> Result<Operand2> {
    let (path, modifier) = match raw.split_once(':') {
        Some((p, m)) => (
            p,
            match m {
                "lower" => Modifier::Lower,
                "length" => Modifier::Length,
                "each" => Modifier::Each,
                "isset" => Modifier::IsSet,
                "changed" => Modifier::Changed,
                _ => return Err(bad(format!("unknown modifier \":{m}\""))),
            },
        ),
        None => (raw, Modifier::None),
    };
    if path.starts_with('@') && MACROS.contains(&path) {
        return Ok(Operand2 {
            source: Source::Macro(path.to_owned()),
            modifier,
        });
    }
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad(format!("invalid identifier \"{raw}\"")));
    }
    if let Some(rest) = path.strip_prefix("@request.") {
        let part = match rest.split_once('.') {
            Some(("auth", f)) => RequestPart::Auth(f.to_owned()),
            Some(("body", f)) => RequestPart::Body(f.to_owned()),
            Some(("query", f)) => RequestPart::Query(f.to_owned()),
            Some(("headers", f)) => RequestPart::Header(f.to_ascii_lowercase().replace('-', "_")),
            None if rest == "method" => RequestPart::Method,
            None if rest == "context" => RequestPart::Context,
            _ => return Err(bad(format!("unknown request identifier \"{raw}\""))),
        };
        let body_like = matches!(
            part,
            RequestPart::Body(_) | RequestPart::Query(_) | RequestPart::Header(_)
        );
        if matches!(modifier, Modifier::IsSet) && !body_like
            || matches!(modifier, Modifier::Changed) && !matches!(part, RequestPart::Body(_))
        {
            return Err(bad(format!("the modifier cannot be used on \"{path}\"")));
        }
        if let (Modifier::Changed, RequestPart::Body(k)) = (&modifier, &part) {
            let part = RequestPart::Changed(k.clone(), c.field_pos(k));
            return Ok(Operand2 {
                source: Source::Request(part),
                modifier: Modifier::None,
            });
        }
        return Ok(Operand2 {
            source: Source::Request(part),
            modifier,
        });
    }
    if matches!(modifier, Modifier::IsSet | Modifier::Changed) {
        return Err(bad(format!(
            "the modifier of \"{raw}\" only applies to @request.body fields"
        )));
    }
    if path.starts_with("@collection.") {
        if segments.len() != 3 {
            return Err(bad(format!(
                "expected @collection.<name>.<field>, got \"{raw}\""
            )));
        }
        let name = segments[1].split(':').next().unwrap_or_default();
        let target = catalog
            .get(name)
            .cloned()
            .ok_or_else(|| bad(format!("unknown collection \"{name}\"")))?;
        let field = field_ref(&target, segments[2])?;
        return Ok(Operand2 {
            source: Source::Collection {
                collection: target,
                field,
            },
            modifier,
        });
    }
    if path.starts_with('@') {
        return Err(bad(format!("unknown identifier \"{raw}\"")));
    }
    if segments.len() > MAX_PATH_DEPTH + 1 {
        return Err(bad(format!(
            "relation paths may be at most {MAX_PATH_DEPTH} levels deep"
        )));
    }
    let mut current = c.clone();
    let mut steps = Vec::new();
    let mut multiple = false;
    for seg in &segments[..segments.len() - 1] {
        if let Some(pos) = current.field_pos(seg) {
            let FieldKind::Relation(rel) = &current.fields[pos].kind else {
                return Err(bad(format!("\"{seg}\" is not a relation field")));
            };
            multiple |= rel.max_select != 1;
            let target = catalog
                .by_id(&rel.collection_id)
                .cloned()
                .ok_or_else(|| bad(format!("missing relation collection for \"{seg}\"")))?;
            steps.push(Step::Forward {
                pos,
                target: target.clone(),
            });
            current = target;
        } else if let Some((name, field)) = seg.rsplit_once("_via_") {
            let source = catalog
                .get(name)
                .cloned()
                .ok_or_else(|| bad(format!("unknown collection \"{name}\"")))?;
            let pos = source
                .field_pos(field)
                .ok_or_else(|| bad(format!("unknown field \"{field}\" in {name}")))?;
            if source.fields[pos]
                .relation()
                .is_none_or(|r| r.collection_id != current.id)
            {
                return Err(bad(format!(
                    "\"{seg}\" is not a back-relation of {}",
                    current.name
                )));
            }
            multiple = true;
            steps.push(Step::Back {
                source: source.clone(),
                pos,
            });
            current = source;
        } else {
            return Err(bad(format!("unknown field \"{seg}\" in {}", current.name)));
        }
    }
    let field = field_ref(&current, segments[segments.len() - 1])?;
    let mut zero = Value::Text(String::new());
    if let Field::Pos(p) = field {
        multiple |= current.fields[p].kind.is_multiple();
        zero = current.fields[p].kind.zero();
    }
    Ok(Operand2 {
        source: Source::Path {
            steps,
            field,
            multiple,
            zero,
        },
        modifier,
    })
}

/// Conjunct `<direct single-valued field> <op> <literal>` constraints.
pub fn constraints(node: &Node) -> Vec<Constraint> {
    let mut out = Vec::new();
    let parts: Vec<&Node> = match node {
        Node::And(v) => v.iter().collect(),
        other => vec![other],
    };
    for part in parts {
        if let Node::And(_) = part {
            out.extend(constraints(part));
            continue;
        }
        let Node::Cmp(cmp) = part else { continue };
        let Cmp {
            left,
            op,
            any: false,
            right,
        } = &**cmp
        else {
            continue;
        };
        let (field_side, lit, flipped) = match (&left.source, &right.source) {
            (Source::Path { .. }, Source::Literal(v)) => (left, v, false),
            (Source::Literal(v), Source::Path { .. }) => (right, v, true),
            _ => continue,
        };
        let Source::Path {
            steps,
            field: Field::Pos(pos),
            multiple: false,
            zero,
        } = &field_side.source
        else {
            continue;
        };
        let same_type = matches!(
            (zero, lit),
            (Value::Number(_), Value::Number(_))
                | (Value::Bool(_), Value::Bool(_))
                | (Value::Text(_), Value::Text(_))
        );
        if !steps.is_empty() || field_side.modifier != Modifier::None || !same_type {
            continue;
        }
        let op = match (op, flipped) {
            (Op::Eq, _) => ConstraintOp::Eq,
            (Op::Gt, false) | (Op::Lt, true) => ConstraintOp::Gt,
            (Op::Ge, false) | (Op::Le, true) => ConstraintOp::Ge,
            (Op::Lt, false) | (Op::Gt, true) => ConstraintOp::Lt,
            (Op::Le, false) | (Op::Ge, true) => ConstraintOp::Le,
            _ => continue,
        };
        out.push(Constraint {
            field_pos: *pos,
            op,
            value: lit.clone(),
        });
    }
    out
}
