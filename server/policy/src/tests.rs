use basalt_core::policy::{Policy, PolicyEngine, RoleLink};
use basalt_core::service::Action;

use super::CasbinEngine;

fn policy(role: &str, collection: &str, action: Action, condition: &str) -> Policy {
    Policy {
        id: String::new(),
        role: role.into(),
        collection_id: collection.into(),
        action,
        condition: condition.into(),
    }
}

fn link(subject: &str, role: &str) -> RoleLink {
    RoleLink {
        id: String::new(),
        subject: subject.into(),
        role: role.into(),
    }
}

#[test]
fn roles_are_inherited_and_conditions_collected() {
    let engine = CasbinEngine::new().unwrap();
    engine
        .load(
            &[
                policy(
                    "editor",
                    "posts",
                    Action::Update,
                    "author = @request.auth.id",
                ),
                policy("viewer", "posts", Action::List, "published = true"),
                policy("viewer", "posts", Action::List, ""),
                policy("viewer", "notes", Action::List, "x = 1"),
            ],
            &[link("users/u1", "editor"), link("editor", "viewer")],
        )
        .unwrap();
    let roles = engine.expand_roles(&["everyone".into(), "users/u1".into()]);
    assert_eq!(roles, ["editor", "everyone", "users/u1", "viewer"]);
    assert_eq!(
        engine.conditions(&roles, "posts", Action::List),
        ["", "published = true"]
    );
    assert_eq!(
        engine.conditions(&roles, "posts", Action::Update),
        ["author = @request.auth.id"]
    );
    assert!(engine
        .conditions(&roles, "posts", Action::Delete)
        .is_empty());
    let guest = engine.expand_roles(&["everyone".into()]);
    assert!(engine.conditions(&guest, "posts", Action::List).is_empty());
}

#[test]
fn load_replaces_everything() {
    let engine = CasbinEngine::new().unwrap();
    engine
        .load(&[policy("r", "c", Action::View, "")], &[link("s", "r")])
        .unwrap();
    engine.load(&[], &[]).unwrap();
    assert_eq!(engine.expand_roles(&["s".into()]), ["s"]);
    assert!(engine
        .conditions(&["r".into()], "c", Action::View)
        .is_empty());
}
