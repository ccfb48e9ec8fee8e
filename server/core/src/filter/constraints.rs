//! Index-usable constraints: the top-level `&&` conjuncts `<direct field> <op>
//! <literal>` of single-valued scalar fields, with the literal converted the way the
//! comparison converts it (so the constraint holds exactly when the comparison does).

use super::parse::Op;
use super::plan::{Cmp, Col, Node, Plan, Term, ROOT};
use super::sql::{numeric_of, Kind, Sql, Val};
use super::values::sql_value;
use super::{Constraint, ConstraintOp};
use crate::schema::FieldKind;
use crate::value::Value;

pub fn constraints(plan: &Plan) -> Vec<Constraint> {
    let mut out = Vec::new();
    collect(&plan.node, plan, &mut out);
    out
}

/// Whether every top-level `&&` conjunct yields a constraint (see `Filter::is_its_constraints`).
pub fn exact(plan: &Plan) -> bool {
    fn all(node: &Node, plan: &Plan) -> bool {
        match node {
            Node::And(children, _) => children.iter().all(|c| all(c, plan)),
            Node::Cmp(c) => constraint(c, plan).is_some(),
            Node::Or(..) | Node::Rule { .. } => false,
        }
    }
    all(&plan.node, plan)
}

fn collect(node: &Node, plan: &Plan, out: &mut Vec<Constraint>) {
    match node {
        Node::And(children, _) => children.iter().for_each(|c| collect(c, plan, out)),
        Node::Cmp(c) => out.extend(constraint(c, plan)),
        Node::Or(..) | Node::Rule { .. } => {}
    }
}

fn direct(term: &Term) -> Option<usize> {
    match term {
        Term::Col {
            alias: ROOT,
            col: Col::Field { pos, .. },
            lower: false,
        } => Some(*pos),
        _ => None,
    }
}

fn constraint(c: &Cmp, plan: &Plan) -> Option<Constraint> {
    let (pos, lit, flipped) = match (&c.left.term, &c.right.term) {
        (l, Term::Const(v)) if direct(l).is_some() => (direct(l)?, v, false),
        (Term::Const(v), r) if direct(r).is_some() => (direct(r)?, v, true),
        _ => return None,
    };
    if c.base != ROOT {
        return None;
    }
    let kind = &plan.aliases[ROOT]
        .collection
        .as_ref()?
        .fields
        .get(pos)?
        .kind;
    if kind.is_multiple() || matches!(kind, FieldKind::Json(_)) {
        return None;
    }
    let op = match (c.op, flipped) {
        (Op::Eq, _) => ConstraintOp::Eq,
        (Op::Gt, false) | (Op::Lt, true) => ConstraintOp::Gt,
        (Op::Ge, false) | (Op::Le, true) => ConstraintOp::Ge,
        (Op::Lt, false) | (Op::Gt, true) => ConstraintOp::Lt,
        (Op::Le, false) | (Op::Ge, true) => ConstraintOp::Le,
        _ => return None,
    };
    let value = match kind {
        FieldKind::Number(_) => number(lit, op)?,
        FieldKind::Bool(_) if op == ConstraintOp::Eq => match numeric(lit)? {
            1.0 => Value::Bool(true),
            0.0 => Value::Bool(false),
            _ => return None,
        },
        FieldKind::Bool(_) => return None,
        _ => text(lit, op)?,
    };
    Some(Constraint {
        field_pos: pos,
        op,
        value,
    })
}

/// The literal as a NUMERIC column compares it; `None` when it stays text.
fn numeric(lit: &Val) -> Option<f64> {
    match &lit.sql {
        Sql::Int(i) => Some(*i as f64),
        Sql::Real(r) => Some(*r),
        Sql::Text(t) => match numeric_of(t)? {
            Sql::Int(i) => Some(i as f64),
            Sql::Real(r) => Some(r),
            _ => None,
        },
        Sql::Null => None,
    }
}

fn number(lit: &Val, op: ConstraintOp) -> Option<Value> {
    let n = numeric(lit)?;
    if n.is_nan() {
        return None;
    }
    // The index orders -0 before 0 while comparisons treat them as equal.
    if n == 0.0 {
        return match op {
            ConstraintOp::Eq => None,
            ConstraintOp::Ge | ConstraintOp::Lt => Some(Value::Number(-0.0)),
            ConstraintOp::Gt | ConstraintOp::Le => Some(Value::Number(0.0)),
        };
    }
    Some(Value::Number(n))
}

/// The literal as a TEXT column compares it.
fn text(lit: &Val, op: ConstraintOp) -> Option<Value> {
    if lit.kind == Kind::Null || lit.sql.is_null() {
        // `field = null` means `field = ''`; ordering against NULL is never true.
        return (op == ConstraintOp::Eq).then(|| Value::Text(String::new()));
    }
    let t = lit.sql.to_text()?;
    Some(sql_value(&Sql::Text(t)))
}
