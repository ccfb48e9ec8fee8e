use serde_json::json;

use super::{ids, Fx};
use crate::filter::{CompileOptions, Filter, RequestInfo};

const ALL: [&str; 4] = ["p1", "p2", "p3", "p4"];

fn map(j: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    j.as_object().cloned().unwrap()
}

fn user() -> CompileOptions {
    CompileOptions {
        allow_hidden: false,
        join_rules: None,
    }
}

#[test]
fn request_auth() {
    let fx = Fx::new();
    let none = RequestInfo::default();
    let (u1, u2, u3) = (fx.auth("u1"), fx.auth("u2"), fx.auth("u3"));
    ids!(fx, "posts", "author = @request.auth.id", &u1 => ["p1"]);
    ids!(fx, "posts", "@request.auth.id != ''", &none => []);
    ids!(fx, "posts", "@request.auth.id = ''", &none => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.collectionName = 'users' && @request.auth.collectionId = '_pb_users_'", &u1 => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.email = 'a@x.io' && @request.auth.verified = false", &u1 => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.emailVisibility = true", &u2 => []);
    // Other fields join the auth record.
    ids!(fx, "posts", "@request.auth.name = 'Ann' && @request.auth.team.name = 'red'", &u1 => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.friends.name ?= 'Bob'", &u1 => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.friends.name = 'Bob'", &u3 => []);
    ids!(fx, "posts", "@request.auth.nope = null && @request.auth.a.b = null", &u1 => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.auth.name = null", &none => ["p1", "p2", "p3", "p4"]);
    let rule = "author = @request.auth.id || author.friends.id ?= @request.auth.id";
    ids!(fx, "posts", rule, &u2 => ["p1", "p2", "p4"]);
    ids!(fx, "comments", "author.team = @request.auth.team", &u1 => ["c3"]);
}

#[test]
fn request_query_headers_method_context() {
    let fx = Fx::new();
    let req = RequestInfo {
        method: "POST".into(),
        query: map(json!({"q": "Hello World", "views": "25.5", "n": "10"})),
        headers: map(json!({"x_token": "abc"})),
        ..RequestInfo::default()
    };
    ids!(fx, "posts", "title = @request.query.q", &req => ["p1"]);
    ids!(fx, "posts", "views = @request.query.views", &req => ["p3"]);
    ids!(fx, "posts", "views = @request.query.n", &req => ["p1"]);
    ids!(fx, "posts", "title = @request.query.n", &req => []);
    ids!(fx, "posts", "@request.query.missing = null && @request.query.missing = ''", &req => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.query.q:isset = true && @request.query.nope:isset = false", &req => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.query.q:lower = 'hello world'", &req => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.headers.x_token = 'abc' && @request.headers.X_Token = 'abc'", &req => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "@request.method = 'POST' && @request.context = 'default'", &req => ["p1", "p2", "p3", "p4"]);
    let oauth = RequestInfo {
        context: "oauth2".into(),
        ..RequestInfo::default()
    };
    ids!(fx, "posts", "@request.context != 'oauth2'", &oauth => []);
}

#[test]
fn request_body() {
    let fx = Fx::new();
    let req = RequestInfo {
        body: map(json!({
            "title": "Hello World", "views": "10", "tags": ["t1", "t2"], "author": "u1",
            "labels": ["a", "b"], "obj": {"k": [1, {"z": "deep"}]}, "flag": true, "none": null,
        })),
        ..RequestInfo::default()
    };
    let q = |f: &str| fx.ids_req("posts", f, &req);
    assert_eq!(
        q("@request.body.title:isset = true && @request.body.none:isset = true"),
        ALL
    );
    assert!(q("@request.body.nope:isset = true").is_empty());
    assert_eq!(q("@request.body.title:changed = true"), ["p2", "p3", "p4"]);
    assert_eq!(q("@request.body.title:changed = false"), ["p1"]);
    assert_eq!(q("@request.body.views:changed = false"), ["p1"]);
    assert_eq!(q("@request.body.status:changed = false"), ALL);
    assert_eq!(
        q("@request.body.tags:length = 2 && @request.body.status:length = 0"),
        ALL
    );
    assert_eq!(q("@request.body.labels:each ?= 'b'"), ALL);
    assert!(q("@request.body.labels:each = 'a'").is_empty());
    assert_eq!(q("@request.body.labels:each ~ ''"), ALL);
    assert_eq!(q("@request.body.author.name = 'Ann'"), ALL);
    assert_eq!(q("@request.body.tags.name ?= 'go'"), ALL);
    assert!(q("@request.body.tags.name = 'go'").is_empty());
    assert_eq!(q("@request.body.tags.weight >= 3"), ALL);
    assert_eq!(q("@request.body.title:lower = 'hello world'"), ALL);
    assert_eq!(
        q("@request.body.obj.k.1.z = 'deep' && @request.body.obj.k.0 = 1"),
        ALL
    );
    assert_eq!(
        q("@request.body.flag = true && @request.body.none = null"),
        ALL
    );
    assert_eq!(q("views = @request.body.views"), ["p1"]);
    assert_eq!(
        q("title = @request.body.title && tags:length = @request.body.tags:length"),
        ["p1"]
    );
    ids!(fx, "posts", "@request.body.title = null && @request.body.author.name = null" => ["p1", "p2", "p3", "p4"]);
}

#[test]
fn hidden_fields_need_superusers() {
    let fx = Fx::new();
    for f in [
        "secret = 'hush'",
        "author.secret = 's1'",
        "author.password = ''",
        "@collection.users.tokenKey = ''",
    ] {
        assert!(
            fx.err("posts", f, &user()).contains("non-filterable"),
            "{f}"
        );
    }
    ids!(fx, "posts", "secret = 'hush'" => ["p1"]);
    // Emails of other users only match when they are visible.
    let f = fx.compile("users", "email ~ 'x.io'", &user()).unwrap();
    assert_eq!(
        fx.run("users", &f, &RequestInfo::default()).unwrap(),
        ["u1"]
    );
    ids!(fx, "users", "email ~ 'x.io'" => ["u1", "u2", "u3"]);
    let f = fx
        .compile("posts", "author.email:lower ~ 'x.io'", &user())
        .unwrap();
    assert_eq!(
        fx.run("posts", &f, &RequestInfo::default()).unwrap(),
        ["p1"]
    );
}

#[test]
fn joined_collections_apply_their_list_rules() {
    let fx = Fx::new();
    let none = RequestInfo::default();
    assert!(fx
        .err("posts", "private_ref.value = 'x'", &user())
        .contains("superusers"));
    ids!(fx, "posts", "private_ref.value = 'x'" => ["p1"]);
    // `ruled` lists only visible records: p2's hidden one rules p2 out entirely.
    let f = fx
        .compile("posts", "ruled_ref.label != 'zzz'", &user())
        .unwrap();
    assert_eq!(fx.run("posts", &f, &none).unwrap(), ["p1", "p3", "p4"]);
    let f = fx
        .compile("posts", "ruled_ref.label = 'hidden'", &user())
        .unwrap();
    assert!(fx.run("posts", &f, &none).unwrap().is_empty());
    ids!(fx, "posts", "ruled_ref.label = 'hidden'" => ["p2"]);
    ids!(fx, "posts", "ruled_ref.label != 'zzz'" => ["p1", "p2", "p3", "p4"]);
}

#[test]
fn combined_filters_share_joins() {
    let fx = Fx::new();
    let none = RequestInfo::default();
    let rule = fx
        .compile("posts", "tags.name ?= 'rust'", &CompileOptions::default())
        .unwrap();
    let client = fx.compile("posts", "tags.weight ?= 3", &user()).unwrap();
    let both = rule.clone().and(client.clone());
    assert!(fx.run("posts", &both, &none).unwrap().is_empty());
    let either = rule.clone().or(client);
    assert_eq!(fx.run("posts", &either, &none).unwrap(), ["p1", "p2"]);
    let weight = fx.compile("posts", "tags.weight ?= 5", &user()).unwrap();
    assert_eq!(
        fx.run("posts", &rule.clone().and(weight), &none).unwrap(),
        ["p1", "p2"]
    );
    let views = Filter::compile("views > 5", &fx.coll("posts"), &fx.catalog, None).unwrap();
    assert_eq!(fx.run("posts", &rule.and(views), &none).unwrap(), ["p1"]);
}
