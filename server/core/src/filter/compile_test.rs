use serde_json::json;

use super::{ids, Fx};
use crate::filter::{CompileOptions, Constraint, ConstraintOp, Filter, RequestInfo};
use crate::Value;

fn opts() -> CompileOptions {
    CompileOptions::default()
}

#[test]
fn unknown_and_mistyped_identifiers_are_400s() {
    let fx = Fx::new();
    let cases = [
        ("nope = 1", "unknown field \"nope\""),
        (
            "author.nope = 1",
            "unknown field \"nope\" in collection \"users\"",
        ),
        ("title.x = 1", "not a relation"),
        ("views.x = 1", "not a relation"),
        ("@collection.nope.x = 1", "unknown collection \"nope\""),
        (
            "@collection.users = 1",
            "expected @collection.<name>.<field>",
        ),
        ("@collection.users.nope = 1", "unknown field"),
        ("nope_via_post.x = 1", "unknown collection"),
        ("comments_via_nope.x = 1", "missing back-relation field"),
        ("comments_via_message.x = 1", "is not a relation"),
        ("members_via_team.role = 1", "does not point to \"posts\""),
        (
            "title:each = 'a'",
            "only applies to select, relation and file",
        ),
        (
            "views:length = 1",
            "only applies to select, relation and file",
        ),
        (
            "title:isset = true",
            ":isset modifier only applies to @request",
        ),
        (
            "title:changed = true",
            ":changed modifier only applies to @request.body",
        ),
        ("title:bogus = 1", "unknown modifier \":bogus\""),
        ("tags:each.name = 1", "a modifier may only end a field path"),
        ("meta.a:each = 1", "invalid modifier on the json path"),
        ("collectionName:length = 1", "invalid modifier"),
        ("unknown(1) = 1", "unknown function \"unknown\""),
        ("geoDistance(1, 2, 3) = 1", "expects 4 arguments"),
        (
            "geoDistance('a', 1, 2, 3) = 1",
            "must be an identifier or a number",
        ),
        ("strftime(1) = 1", "format string"),
        (
            "strftime('%Y', created, 5) = 1",
            "modifier 2 must be a string",
        ),
        ("@unknown = 1", "unknown identifier"),
        ("#a = 1", "invalid identifier"),
        ("a@b = 1", "expected an operator"),
        (
            "title = {:missing}",
            "missing value for the placeholder {:missing}",
        ),
        (
            "@request.body.title:each = 'x'",
            "doesn't support multivalue operations",
        ),
        (
            "@request.body.title:length = 1",
            "doesn't support multivalue operations",
        ),
        (
            "@request.query.a:each = 'x'",
            "only :isset and :lower apply here",
        ),
        (
            "@request.headers.a:changed = 'x'",
            "only :isset and :lower apply here",
        ),
        ("@request.context:isset = true", "unknown request field"),
        ("@request.foo = 1", "unknown request field"),
        ("@request.auth = 1", "unknown request field"),
        ("@request.body.author:lower.name = 1", "invalid modifier"),
    ];
    for (filter, want) in cases {
        let msg = fx.err("posts", filter, &opts());
        assert!(msg.contains(want), "{filter}: {msg}");
    }
}

#[test]
fn relation_depth_is_limited() {
    let fx = Fx::new();
    let six = "author.friends.friends.friends.friends.friends.name = 'x'";
    assert!(fx.compile("posts", six, &opts()).is_ok());
    let seven = "author.friends.friends.friends.friends.friends.friends.name = 'x'";
    assert!(fx
        .err("posts", seven, &opts())
        .contains("max nested relations"));
    let field_after_six = "author.friends.friends.friends.friends.friends.friends = 'x'";
    assert!(fx.compile("posts", field_after_six, &opts()).is_ok());
}

#[test]
fn placeholders() {
    let fx = Fx::new();
    let params = json!({
        "t": "Hello World", "n": 5, "b": true, "z": null, "o": {"a": 1}, "quote": "it's \"q\"",
    });
    let params = params.as_object().unwrap();
    let run = |filter: &str| {
        let f = Filter::compile(filter, &fx.coll("posts"), &fx.catalog, Some(params)).unwrap();
        fx.run("posts", &f, &RequestInfo::default()).unwrap()
    };
    assert_eq!(
        run("title = {:t} && views > {:n} && published = {:b}"),
        ["p1"]
    );
    assert_eq!(run("title = {:z}"), ["p3"]);
    assert_eq!(run("meta.a = {:o}"), Vec::<String>::new());
    assert_eq!(run("{:o} = '{\"a\":1}'"), ["p1", "p2", "p3", "p4"]);
    assert_eq!(run("{:quote} = 'it\\'s \"q\"'"), ["p1", "p2", "p3", "p4"]);
    assert_eq!(run("title = '{:t}'"), Vec::<String>::new());
}

#[test]
fn literal_words_and_case() {
    let fx = Fx::new();
    ids!(fx, "posts", "published = TRUE && published != False" => ["p1", "p3"]);
    ids!(fx, "posts", "title = NULL" => ["p3"]);
    ids!(fx, "posts", "collectionName = 'posts' && collectionId = 'posts_id'" => ["p1", "p2", "p3", "p4"]);
    ids!(fx, "posts", "author.collectionName = 'users'" => ["p1", "p2", "p4"]);
    ids!(fx, "posts", "collectionName:lower = 'POSTS'" => []);
}

fn constraints(fx: &Fx, filter: &str) -> Vec<Constraint> {
    fx.compile("posts", filter, &opts()).unwrap().constraints()
}

fn c(field_pos: usize, op: ConstraintOp, value: Value) -> Constraint {
    Constraint {
        field_pos,
        op,
        value,
    }
}

#[test]
fn filters_that_are_nothing_but_their_constraints() {
    let fx = Fx::new();
    let exact = |f: &str| {
        fx.compile("posts", f, &opts())
            .unwrap()
            .is_its_constraints()
    };
    assert!(exact("views > 5 && published = true"));
    assert!(exact("(views > 5 && views <= 10) && title = 'x'"));
    assert!(!exact("views > 5 || published = true"));
    assert!(!exact("views > 5 && title ~ 'x'"));
    assert!(!exact("views > 5 && author.name = 'x'"));
    assert!(!exact("views > 5 && title:lower = 'x'"));
    // No constraint stands for these comparisons.
    assert!(!exact("views = 0"));
    assert!(!exact("views = 'abc'"));
}

#[test]
fn filters_that_read_the_clock() {
    let fx = Fx::new();
    let clock = |f: &str| fx.compile("posts", f, &opts()).unwrap().reads_clock();
    assert!(clock("created >= @now"));
    assert!(clock(
        "views > 5 && (published = true || created < @todayStart)"
    ));
    assert!(clock("strftime('%Y', created) = strftime('%Y')"));
    assert!(clock("author.created > @yesterday"));
    assert!(!clock("views > 5 && created > '2026-01-01 00:00:00.000Z'"));
    assert!(!clock("author.name = 'x' || title ~ '@now'"));
}

#[test]
fn index_constraints() {
    let fx = Fx::new();
    let posts = fx.coll("posts");
    let pos = |n: &str| posts.field_pos(n).unwrap();
    let (title, views, published) = (pos("title"), pos("views"), pos("published"));
    let got = constraints(
        &fx,
        "title = 'x' && views > 5 && (id = 'a' || id = 'b') && published = true \
         && author.name = 'x' && labels = 'a' && title ~ 'x' && title:lower = 'x' \
         && views != 3 && meta.a = 1 && 10 >= views && status ?= 'live'",
    );
    assert_eq!(
        got,
        vec![
            c(title, ConstraintOp::Eq, Value::text("x")),
            c(views, ConstraintOp::Gt, Value::Number(5.0)),
            c(published, ConstraintOp::Eq, Value::Bool(true)),
            c(views, ConstraintOp::Le, Value::Number(10.0)),
            c(pos("status"), ConstraintOp::Eq, Value::text("live")),
        ]
    );
    // Literals converted as the comparison converts them.
    let one = |f: &str| constraints(&fx, f);
    assert_eq!(
        one("title = 5"),
        [c(title, ConstraintOp::Eq, Value::text("5.0"))]
    );
    assert_eq!(
        one("title = true"),
        [c(title, ConstraintOp::Eq, Value::text("1"))]
    );
    assert_eq!(
        one("title = null"),
        [c(title, ConstraintOp::Eq, Value::text(""))]
    );
    assert!(one("title > null").is_empty());
    assert_eq!(
        one("views = '7'"),
        [c(views, ConstraintOp::Eq, Value::Number(7.0))]
    );
    assert!(one("views = 'abc'").is_empty());
    assert!(one("views = null").is_empty());
    assert_eq!(
        one("published = 0"),
        [c(published, ConstraintOp::Eq, Value::Bool(false))]
    );
    assert!(one("published = 2").is_empty());
    assert!(one("published > 0").is_empty());
    assert_eq!(
        one("created >= '2024-01-01'"),
        [c(
            pos("created"),
            ConstraintOp::Ge,
            Value::text("2024-01-01")
        )]
    );
    assert!(one("created >= @now").is_empty());
    // Zero: the index orders -0 before 0.
    assert!(one("views = 0").is_empty());
    assert_eq!(
        one("views >= 0"),
        [c(views, ConstraintOp::Ge, Value::Number(-0.0))]
    );
    assert_eq!(
        one("views < 0"),
        [c(views, ConstraintOp::Lt, Value::Number(-0.0))]
    );
    assert_eq!(
        one("views > 0"),
        [c(views, ConstraintOp::Gt, Value::Number(0.0))]
    );
    assert!(one("title = 'a' || views = 1").is_empty());
    // Combined filters contribute both sides' conjuncts.
    let a = fx.compile("posts", "title = 'x'", &opts()).unwrap();
    let b = fx.compile("posts", "views < 3", &opts()).unwrap();
    assert_eq!(a.clone().and(b.clone()).constraints().len(), 2);
    assert!(a.or(b).constraints().is_empty());
}

#[test]
fn compiled_filters_are_shareable_across_threads() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Filter>();
    shareable::<crate::filter::SortKey>();
}
