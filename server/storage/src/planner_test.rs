use std::sync::Arc;

use basalt_core::codec::index_key;
use basalt_core::filter::{Constraint, ConstraintOp, SortKey};
use basalt_core::schema::Collection;
use basalt_core::Value;

use super::*;
use crate::conformance::fixtures;
use crate::layout::Layout;

// Index numbers of the `posts` fixture.
const SLUG: usize = 0;
const VIEWS: usize = 1;
const PUB_VIEWS: usize = 2;

fn posts() -> Collection {
    fixtures::posts()
}

fn pos(name: &str) -> usize {
    posts().field_pos(name).unwrap()
}

fn c(field: &str, op: ConstraintOp, value: Value) -> Constraint {
    Constraint {
        field_pos: pos(field),
        op,
        value,
    }
}

fn by(field: &str, desc: bool) -> SortKey {
    SortKey::Field {
        pos: pos(field),
        desc,
    }
}

fn plan_for(constraints: &[Constraint], sort: &[SortKey]) -> Plan {
    let posts = posts();
    let shapes = Layout::new(Arc::new(posts.clone())).unwrap().shapes(&posts);
    plan(&posts, &shapes, constraints, sort)
}

fn access_index(p: &Plan) -> Option<(usize, bool)> {
    match &p.access {
        Access::Index { index, rev, .. } => Some((*index, *rev)),
        _ => None,
    }
}

#[test]
fn no_query_walks_insertion_order() {
    assert_eq!(
        plan_for(&[], &[]),
        Plan {
            access: Access::Insertion,
            ordered: true,
            enforced: false
        }
    );
}

#[test]
fn an_index_serves_a_sort_in_either_direction() {
    let p = plan_for(&[], &[by("views", false)]);
    assert_eq!((access_index(&p), p.ordered), (Some((VIEWS, false)), true));
    let p = plan_for(&[], &[by("views", true)]);
    assert_eq!((access_index(&p), p.ordered), (Some((VIEWS, true)), true));
    // An explicit id tie-break in the same direction is what the index gives anyway.
    let p = plan_for(&[], &[by("views", true), by("id", true)]);
    assert_eq!((access_index(&p), p.ordered), (Some((VIEWS, true)), true));
}

#[test]
fn sorts_no_walk_serves_are_ranked_over_a_scan() {
    for sort in [
        vec![by("title", false)],
        vec![SortKey::Random],
        vec![by("views", false), by("title", false)],
        vec![by("views", false), by("id", true)],
        vec![by("tags", false)],
    ] {
        let p = plan_for(&[], &sort);
        assert_eq!(
            p,
            Plan {
                access: Access::Scan,
                ordered: false,
                enforced: false
            },
            "{sort:?}"
        );
    }
}

#[test]
fn id_equality_is_a_point_lookup() {
    let p = plan_for(
        &[c("id", ConstraintOp::Eq, Value::text("abc"))],
        &[by("title", false)],
    );
    let Access::Primary { bounds, .. } = &p.access else {
        panic!("{p:?}")
    };
    assert_eq!(
        bounds,
        &Bounds {
            lo: b"abc".to_vec(),
            hi: Some(b"abc\0".to_vec())
        }
    );
    assert!(p.ordered, "at most one record is always in order");
}

#[test]
fn id_sorts_and_ranges_walk_the_records_tree() {
    let p = plan_for(
        &[c("id", ConstraintOp::Gt, Value::text("m"))],
        &[by("id", true)],
    );
    assert_eq!(
        p,
        Plan {
            access: Access::Primary {
                bounds: Bounds {
                    lo: b"m\0".to_vec(),
                    hi: None
                },
                rev: true
            },
            ordered: true,
            enforced: true
        }
    );
}

#[test]
fn partial_unique_index_needs_a_non_empty_equality() {
    let p = plan_for(&[c("slug", ConstraintOp::Eq, Value::text("hello"))], &[]);
    assert_eq!((access_index(&p), p.ordered), (Some((SLUG, false)), true));
    let p = plan_for(&[c("slug", ConstraintOp::Eq, Value::text(""))], &[]);
    assert_eq!(p.access, Access::Insertion);
}

#[test]
fn equality_prefix_then_sorted_column() {
    let cs = [c("published", ConstraintOp::Eq, Value::Bool(true))];
    let p = plan_for(&cs, &[by("views", true)]);
    assert_eq!(
        (access_index(&p), p.ordered),
        (Some((PUB_VIEWS, true)), true)
    );
    // Sorting by a column fixed by equality changes nothing.
    let p = plan_for(&cs, &[by("published", false), by("views", true)]);
    assert_eq!(
        (access_index(&p), p.ordered),
        (Some((PUB_VIEWS, true)), true)
    );
    let Access::Index { bounds, .. } = &p.access else {
        panic!()
    };
    let prefix = index_key(&[&Value::Bool(true)]);
    assert_eq!(bounds.lo, prefix);
    assert_eq!(bounds.hi, crate::keys::successor(&prefix));
}

#[test]
fn equality_on_a_non_unique_index_orders_by_id() {
    let p = plan_for(
        &[c("views", ConstraintOp::Eq, Value::Number(3.0))],
        &[by("id", false)],
    );
    assert_eq!((access_index(&p), p.ordered), (Some((VIEWS, false)), true));
    // Without a sort, matches still come back in insertion order: ranked.
    let p = plan_for(&[c("views", ConstraintOp::Eq, Value::Number(3.0))], &[]);
    assert_eq!((access_index(&p), p.ordered), (Some((VIEWS, false)), false));
}

#[test]
fn ranges_become_tight_bounds() {
    let cs = [
        c("views", ConstraintOp::Gt, Value::Number(2.0)),
        c("views", ConstraintOp::Ge, Value::Number(1.0)),
        c("views", ConstraintOp::Le, Value::Number(4.0)),
        c("views", ConstraintOp::Lt, Value::Number(9.0)),
    ];
    let p = plan_for(&cs, &[by("title", false)]);
    let Access::Index {
        index: VIEWS,
        bounds,
        ..
    } = &p.access
    else {
        panic!("{p:?}")
    };
    assert!(!p.ordered);
    let key = |n: f64| index_key(&[&Value::Number(n)]);
    assert_eq!(bounds.lo, crate::keys::successor(&key(2.0)).unwrap());
    assert_eq!(bounds.hi, crate::keys::successor(&key(4.0)));
    let p = plan_for(
        &[
            c("views", ConstraintOp::Gt, Value::Number(5.0)),
            c("views", ConstraintOp::Lt, Value::Number(1.0)),
        ],
        &[],
    );
    let Access::Index { bounds, .. } = &p.access else {
        panic!("{p:?}")
    };
    assert!(bounds.is_empty());
}

#[test]
fn constraints_an_index_cannot_serve_are_ignored() {
    // Wrong type for the field, a NaN, a list field, an unknown position.
    let cs = [
        c("views", ConstraintOp::Eq, Value::text("3")),
        c("views", ConstraintOp::Gt, Value::Number(f64::NAN)),
        c("tags", ConstraintOp::Eq, Value::text("x")),
        Constraint {
            field_pos: 99,
            op: ConstraintOp::Eq,
            value: Value::Null,
        },
    ];
    assert_eq!(
        plan_for(&cs, &[]),
        Plan {
            access: Access::Insertion,
            ordered: true,
            enforced: false
        }
    );
}

#[test]
fn unknown_index_columns_disable_the_index() {
    let posts = posts();
    let mut caller = posts.clone();
    caller.fields.retain(|f| f.name != "views");
    let shapes = Layout::new(Arc::new(posts)).unwrap().shapes(&caller);
    assert!(shapes[VIEWS].is_none());
    assert!(shapes[SLUG].is_some());
}

#[test]
fn bounds_that_enforce_every_constraint_say_so() {
    let published = c("published", ConstraintOp::Eq, Value::Bool(true));
    let popular = c("views", ConstraintOp::Gt, Value::Number(500.0));
    let p = plan_for(&[published.clone(), popular.clone()], &[by("views", true)]);
    assert_eq!(access_index(&p), Some((PUB_VIEWS, true)));
    assert!(p.enforced);
    // Two ranges on the walked column narrow the same bounds.
    let capped = c("views", ConstraintOp::Le, Value::Number(900.0));
    assert!(plan_for(&[popular.clone(), capped], &[]).enforced);
    // A partial index holds every record its equality asks for.
    let slug = c("slug", ConstraintOp::Eq, Value::text("a"));
    let p = plan_for(std::slice::from_ref(&slug), &[]);
    assert_eq!(access_index(&p), Some((SLUG, false)));
    assert!(p.enforced);
    let p = plan_for(&[c("id", ConstraintOp::Ge, Value::text("m"))], &[]);
    assert!(matches!(p.access, Access::Primary { .. }) && p.enforced);
    // A constraint on a column the walk does not bound...
    let titled = c("title", ConstraintOp::Eq, Value::text("x"));
    assert!(!plan_for(&[published.clone(), popular.clone(), titled], &[]).enforced);
    // ...a range on a column an equality already fixed...
    let five = c("views", ConstraintOp::Eq, Value::Number(5.0));
    let p = plan_for(&[five.clone(), popular], &[]);
    assert_eq!(access_index(&p), Some((VIEWS, false)));
    assert!(!p.enforced);
    // ...a second value for a fixed column, or no index at all: the records are checked.
    let six = c("views", ConstraintOp::Eq, Value::Number(6.0));
    assert!(!plan_for(&[five, six], &[]).enforced);
    let p = plan_for(&[c("title", ConstraintOp::Eq, Value::text("x"))], &[]);
    assert_eq!(p.access, Access::Insertion);
    assert!(!p.enforced);
}
