use super::*;
use proptest::prelude::*;

fn cmp(l: Operand, op: Op, any: bool, r: Operand) -> Ast {
    Ast::Cmp {
        left: l,
        op,
        any,
        right: r,
    }
}

fn id(s: &str) -> Operand {
    Operand::Ident(s.into())
}

fn text(s: &str) -> Operand {
    Operand::Text(s.into())
}

fn err(input: &str) -> String {
    match parse(input) {
        Ok(ast) => panic!("{input:?} parsed as {ast:?}"),
        Err(e) => {
            assert_eq!(e.code, Code::InvalidFilter);
            e.message
        }
    }
}

#[test]
fn and_binds_tighter_than_or() {
    let ast = parse("a = 1 || b ?~ 'x' && (c != \"q\")").unwrap();
    let want = Ast::Or(vec![
        cmp(id("a"), Op::Eq, false, Operand::Number("1".into())),
        Ast::And(vec![
            cmp(id("b"), Op::Like, true, text("x")),
            cmp(id("c"), Op::Ne, false, text("q")),
        ]),
    ]);
    assert_eq!(ast, want);
}

#[test]
fn every_operator() {
    let ops = [
        ("=", Op::Eq, false),
        ("!=", Op::Ne, false),
        (">", Op::Gt, false),
        (">=", Op::Ge, false),
        ("<", Op::Lt, false),
        ("<=", Op::Le, false),
        ("~", Op::Like, false),
        ("!~", Op::NotLike, false),
        ("?=", Op::Eq, true),
        ("?!=", Op::Ne, true),
        ("?>", Op::Gt, true),
        ("?>=", Op::Ge, true),
        ("?<", Op::Lt, true),
        ("?<=", Op::Le, true),
        ("?~", Op::Like, true),
        ("?!~", Op::NotLike, true),
    ];
    for (sign, op, any) in ops {
        let ast = parse(&format!("a{sign}'b'")).unwrap();
        assert_eq!(ast, cmp(id("a"), op, any, text("b")), "{sign}");
    }
    for bad in [
        "a == 1", "a =! 1", "a <> 1", "a ?? 1", "a ! 1", "a => 1", "a & b", "a ||| b",
    ] {
        err(bad);
    }
}

#[test]
fn texts_keep_backslashes_except_before_their_quote() {
    let cases = [
        (r#"a = 'it\'s'"#, "it's"),
        (r#"a = "say \"hi\"""#, "say \"hi\""),
        (r#"a = 'a\%b'"#, r"a\%b"),
        (r#"a = "it\'s""#, r"it\'s"),
        (r#"a = 'x\\'y'"#, r"x\'y"),
        ("a = ''", ""),
        ("a = 'ünï'", "ünï"),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse(input).unwrap(),
            cmp(id("a"), Op::Eq, false, text(want)),
            "{input}"
        );
    }
    assert!(err("a = 'open").contains("unterminated"));
    err(r"a = 'ends\'");
}

#[test]
fn numbers() {
    for (lit, ok) in [
        ("1", true),
        ("-2", true),
        ("3.25", true),
        ("-0.5", true),
        ("007", true),
        ("1.", false),
        ("-", false),
        ("1.2.3", false),
        ("1e5", false),
    ] {
        let r = parse(&format!("a = {lit}"));
        assert_eq!(r.is_ok(), ok, "{lit}");
        if ok {
            assert_eq!(
                r.unwrap(),
                cmp(id("a"), Op::Eq, false, Operand::Number(lit.into()))
            );
        }
    }
    err("a = .5");
}

#[test]
fn identifiers_placeholders_and_functions() {
    let ast = parse("@request.auth.id != '' && tags:each ?= {:tag}").unwrap();
    assert_eq!(
        ast,
        Ast::And(vec![
            cmp(id("@request.auth.id"), Op::Ne, false, text("")),
            cmp(id("tags:each"), Op::Eq, true, Operand::Param("tag".into())),
        ])
    );
    let ast = parse("geoDistance(a.lon, a.lat, 23.5, -42) < strftime('%Y', created)").unwrap();
    let Ast::Cmp { left, right, .. } = ast else {
        panic!("expected a comparison")
    };
    assert_eq!(
        left,
        Operand::Func {
            name: "geoDistance".into(),
            args: vec![
                id("a.lon"),
                id("a.lat"),
                Operand::Number("23.5".into()),
                Operand::Number("-42".into())
            ],
        }
    );
    assert!(
        matches!(right, Operand::Func { ref name, ref args } if name == "strftime" && args.len() == 2)
    );
    assert!(parse("f() = 1").is_ok());
    for bad in [
        "a. = 1",
        "a: = 1",
        "@ = 1",
        "_ = 1",
        "{:} = 1",
        "{:a = 1",
        "f(a,) = 1",
        "f(,a) = 1",
        "f(a b) = 1",
        "f((a)) = 1",
        "f(a = 1",
        "$a = 1",
    ] {
        err(bad);
    }
}

#[test]
fn comments_and_whitespace() {
    let ast = parse("// leading\n a = 1 // trailing\n\t&& b = 2 // end").unwrap();
    assert!(matches!(ast, Ast::And(ref v) if v.len() == 2));
    assert!(parse("a = 1\r\n&& b = 2").is_ok());
    err("a = 1 / 2");
    assert!(err("// only a comment").contains("empty"));
    assert!(err("   ").contains("empty"));
    assert!(err("").contains("empty"));
}

#[test]
fn structural_errors() {
    for bad in [
        "a",
        "a =",
        "= 1",
        "a = 1 b = 2",
        "a = 1 &&",
        "&& a = 1",
        "(a = 1",
        "a = 1)",
        "()",
        "( ) && a = 1",
        "a = (1)",
        "a = 1 || || b = 2",
    ] {
        err(bad);
    }
}

#[test]
fn limits_are_errors_not_crashes() {
    let long = format!("a = '{}'", "x".repeat(MAX_FILTER_LEN));
    assert!(err(&long).contains("at most"));
    let deep = format!("{}a = 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&deep).is_ok());
    let deeper = format!(
        "{}a = 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(err(&deeper).contains("nest"));
    assert!(err(&"(".repeat(5000)).contains("nest"));
    let many = ["a = 1"; MAX_EXPRESSIONS].join(" && ");
    assert!(parse(&many).is_ok());
    let too_many = ["a = 1"; MAX_EXPRESSIONS + 1].join(" || ");
    assert!(err(&too_many).contains("expressions"));
    let nested = "f(f(f(1)))";
    assert!(parse(&format!("{nested} = 1")).is_ok());
    assert!(err("f(f(f(f(1)))) = 1").contains("nested"));
    let args = ["1"; MAX_FUNC_ARGS + 1].join(",");
    assert!(err(&format!("f({args}) = 1")).contains("arguments"));
}

#[test]
fn display_round_trips() {
    for input in [
        "a = 1",
        "a = 1 && b ?!= 'x' || c ~ \"y\"",
        "(a = 1 || b = 2) && c = 3",
        "((a = 1))",
        "(a = 1 && b = 2) && c = 3",
        "(a = 1 || b = 2) || c = 3",
        r#"a = "q\"uote" && b = 'it\'s' && c = 'back\slash'"#,
        "f(a, 'b', 1, g(2)) >= {:p}",
        "x ?<= -3.5",
    ] {
        let ast = parse(input).unwrap();
        let printed = ast.to_string();
        assert_eq!(parse(&printed).unwrap(), ast, "{input} -> {printed}");
    }
    assert_eq!(
        parse("(a = 1 || b = 2) && c = 3").unwrap().to_string(),
        "(a = 1 || b = 2) && c = 3"
    );
}

const TOKENS: &[&str] = &[
    "a",
    "b.c",
    "@request.auth.id",
    "tags:each",
    "(",
    ")",
    "&&",
    "||",
    "=",
    "?=",
    "!~",
    ">=",
    "?<",
    "'s'",
    "\"d\"",
    "'",
    "\"",
    "1",
    "-2.5",
    "-",
    ".",
    "null",
    "true",
    "{:p}",
    "{:",
    "@now",
    "f(",
    ",",
    "//",
    "\n",
    "\\",
    "~",
    "?",
    "!",
    "ü",
    " ",
];

fn operand_strategy() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        "[a-z][a-z0-9_]{0,6}(\\.[a-z][a-z0-9_]{0,4}){0,2}(:(each|lower|length))?"
            .prop_map(Operand::Ident),
        "[a-zA-Z0-9 '%_ü\"]{0,8}[a-zA-Z0-9 %_ü]?".prop_map(|s| Operand::Text(s.replace('\\', ""))),
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?".prop_map(Operand::Number),
        "[a-z_][a-z0-9_]{0,5}".prop_map(Operand::Param),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        ("[a-z][a-zA-Z]{0,6}", prop::collection::vec(inner, 0..3))
            .prop_map(|(name, args)| Operand::Func { name, args })
    })
}

fn ast_strategy() -> impl Strategy<Value = Ast> {
    let ops = prop::sample::select(vec![
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::Like,
        Op::NotLike,
    ]);
    let leaf = (operand_strategy(), ops, any::<bool>(), operand_strategy()).prop_map(
        |(left, op, any, right)| Ast::Cmp {
            left,
            op,
            any,
            right,
        },
    );
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Ast::And),
            prop::collection::vec(inner, 2..4).prop_map(Ast::Or),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC{0,300}") {
        let _ = parse(&s);
    }

    #[test]
    fn never_panics_on_token_soup(parts in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
        let _ = parse(&parts.join(" "));
        let _ = parse(&parts.concat());
    }

    #[test]
    fn parsed_filters_print_and_reparse_equal(parts in prop::collection::vec(prop::sample::select(TOKENS), 0..40)) {
        if let Ok(ast) = parse(&parts.join(" ")) {
            prop_assert_eq!(parse(&ast.to_string()).unwrap(), ast);
        }
    }

    #[test]
    fn generated_asts_print_and_reparse_equal(ast in ast_strategy()) {
        let printed = ast.to_string();
        prop_assert_eq!(parse(&printed).unwrap(), ast, "{}", printed);
    }
}
