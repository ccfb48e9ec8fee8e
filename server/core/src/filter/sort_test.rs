use super::*;
use crate::filter::tests::Fx;

fn keys(fx: &Fx, input: &str) -> Result<Vec<SortKey>> {
    SortKey::parse_list(input, &fx.coll("posts"), &fx.catalog)
}

fn value(fx: &Fx, key: &SortKey, id: &str) -> Value {
    let posts = fx.coll("posts");
    let r = fx.mem.get(&posts, id).unwrap().unwrap();
    key.value(&r, &fx.mem).unwrap()
}

#[test]
fn direct_fields_and_directions() {
    let fx = Fx::new();
    let posts = fx.coll("posts");
    let pos = |n: &str| posts.field_pos(n).unwrap();
    assert!(keys(&fx, "").unwrap().is_empty());
    assert!(keys(&fx, "  ").unwrap().is_empty());
    let got = keys(&fx, "-created, title,+views,id").unwrap();
    let got: Vec<(usize, bool)> = got
        .iter()
        .map(|k| match k {
            SortKey::Field { pos, desc } => (*pos, *desc),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (pos("created"), true),
            (pos("title"), false),
            (pos("views"), false),
            (0, false)
        ]
    );
    let random = keys(&fx, "@random,-@random").unwrap();
    assert!(random
        .iter()
        .all(|k| matches!(k, SortKey::Random) && !k.desc()));
    let k = &keys(&fx, "-views").unwrap()[0];
    assert!(k.desc());
    assert_eq!(value(&fx, k, "p3"), Value::Number(25.5));
}

#[test]
fn paths_and_modifiers() {
    let fx = Fx::new();
    let one = |input: &str| keys(&fx, input).unwrap().remove(0);
    let author = one("-author.name");
    assert!(matches!(author, SortKey::Path { desc: true, .. }));
    assert!(author.desc());
    assert_eq!(value(&fx, &author, "p1"), Value::text("Ann"));
    assert_eq!(value(&fx, &author, "p3"), Value::Null);
    assert_eq!(
        value(&fx, &one("author.team.name"), "p1"),
        Value::text("red")
    );
    assert_eq!(value(&fx, &one("tags.name"), "p1"), Value::text("rust"));
    assert_eq!(
        value(&fx, &one("labels"), "p1"),
        Value::text("[\"a\",\"b\"]")
    );
    assert_eq!(value(&fx, &one("meta.a.b"), "p1"), Value::Number(5.0));
    assert_eq!(
        value(&fx, &one("title:lower"), "p1"),
        Value::text("hello world")
    );
    assert_eq!(value(&fx, &one("tags:length"), "p4"), Value::Number(2.0));
    assert_eq!(
        value(&fx, &one("collectionName"), "p4"),
        Value::text("posts")
    );
    assert_eq!(
        value(&fx, &one("comments_via_post.score"), "p2"),
        Value::Number(4.0)
    );
}

#[test]
fn bad_keys_are_400s() {
    let fx = Fx::new();
    let long = "a".repeat(MAX_SORT_KEY_LEN + 1);
    let many = ["title"; MAX_SORT_KEYS + 1].join(",");
    for bad in [
        "nope",
        "title,,views",
        "title,",
        "@rowid",
        "@request.auth.id",
        "@collection.tags.name",
        "title.x",
        "title:each",
        "title:isset",
        "-",
        "a b",
        long.as_str(),
        many.as_str(),
    ] {
        let e = keys(&fx, bad).unwrap_err();
        assert_eq!(e.code, Code::InvalidSort, "{bad}");
    }
    assert_eq!(
        keys(&fx, &["title"; MAX_SORT_KEYS].join(","))
            .unwrap()
            .len(),
        MAX_SORT_KEYS
    );
    let user = CompileOptions {
        allow_hidden: false,
        join_rules: None,
    };
    let posts = fx.coll("posts");
    for hidden in ["secret", "author.secret", "private_ref.value"] {
        assert!(
            SortKey::parse_list_with(hidden, &posts, &fx.catalog, &user).is_err(),
            "{hidden}"
        );
        assert!(keys(&fx, hidden).is_ok(), "{hidden}");
    }
}
