use super::*;

fn text(s: &str) -> Val<'_> {
    Val {
        sql: Sql::Text(Cow::Borrowed(s)),
        aff: Affinity::None,
        kind: Kind::Param(ParamKind::Text),
    }
}

fn real(r: f64) -> Val<'static> {
    Val {
        sql: Sql::Real(r),
        aff: Affinity::None,
        kind: Kind::Param(ParamKind::Real),
    }
}

fn known(b: bool) -> Val<'static> {
    Val {
        sql: Sql::Int(i64::from(b)),
        aff: Affinity::None,
        kind: Kind::Known,
    }
}

fn text_col(s: Option<&str>) -> Val<'_> {
    let sql = s.map_or(Sql::Null, |s| Sql::Text(Cow::Borrowed(s)));
    Val::ident(sql, Affinity::Text)
}

fn num_col(n: f64) -> Val<'static> {
    Val::ident(Sql::number(n), Affinity::Numeric)
}

fn cmp(l: &Val, op: Op, r: &Val) -> Option<bool> {
    compare(op, l, Fallback::Auto, r, Fallback::Auto)
}

#[test]
fn reals_print_like_sqlite() {
    let cases = [
        (5.0, "5.0"),
        (0.0, "0.0"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (123456.789, "123456.789"),
        (1e20, "1.0e+20"),
        (1.5e-7, "1.5e-07"),
        (0.0001, "0.0001"),
        (100000000000000.0, "100000000000000.0"),
        (1e15, "1.0e+15"),
    ];
    for (r, want) in cases {
        assert_eq!(real_to_text(r), want, "{r}");
    }
}

#[test]
fn numeric_affinity_parses_only_well_formed_numbers() {
    assert_eq!(numeric_of(" 42 "), Some(Sql::Int(42)));
    assert_eq!(numeric_of("-1.5"), Some(Sql::Real(-1.5)));
    assert_eq!(numeric_of("2.0"), Some(Sql::Int(2)));
    assert_eq!(numeric_of("1e3"), Some(Sql::Int(1000)));
    assert_eq!(numeric_of(".5"), Some(Sql::Real(0.5)));
    for bad in ["", "abc", "0x10", "inf", "NaN", "1e", "1 2", "--1", "."] {
        assert_eq!(numeric_of(bad), None, "{bad}");
    }
}

#[test]
fn text_columns_compare_with_numbers_as_text() {
    // `title = 5`: the literal is a REAL, converted to text "5.0".
    assert_eq!(cmp(&text_col(Some("5")), Op::Eq, &real(5.0)), Some(false));
    assert_eq!(cmp(&text_col(Some("5.0")), Op::Eq, &real(5.0)), Some(true));
    // `title = true`: the integer 1 becomes "1".
    assert_eq!(cmp(&text_col(Some("1")), Op::Eq, &known(true)), Some(true));
    assert_eq!(cmp(&text_col(Some("10")), Op::Gt, &real(9.0)), Some(false));
}

#[test]
fn numeric_columns_convert_numeric_text() {
    assert_eq!(cmp(&num_col(5.0), Op::Eq, &text("5")), Some(true));
    assert_eq!(cmp(&num_col(5.0), Op::Eq, &text(" 5.0 ")), Some(true));
    assert_eq!(cmp(&num_col(10.0), Op::Gt, &text("9")), Some(true));
    // Non-numeric text stays text, and numbers sort before texts.
    assert_eq!(cmp(&num_col(5.0), Op::Eq, &text("five")), Some(false));
    assert_eq!(cmp(&num_col(5.0), Op::Lt, &text("five")), Some(true));
    assert_eq!(cmp(&num_col(1.0), Op::Eq, &known(true)), Some(true));
    assert_eq!(cmp(&num_col(0.0), Op::Eq, &known(false)), Some(true));
}

#[test]
fn null_and_empty_equality() {
    let null = Val::null();
    let empty = text("");
    // Column NULL (a missing relation) equals '' and null.
    assert_eq!(cmp(&text_col(None), Op::Eq, &empty), Some(true));
    assert_eq!(cmp(&text_col(None), Op::Eq, &null), Some(true));
    assert_eq!(cmp(&text_col(Some("")), Op::Eq, &null), Some(true));
    assert_eq!(cmp(&text_col(Some("x")), Op::Eq, &null), Some(false));
    assert_eq!(cmp(&text_col(Some("x")), Op::Ne, &null), Some(true));
    assert_eq!(cmp(&text_col(None), Op::Ne, &empty), Some(false));
    // Two empties: `'' = ''`.
    assert_eq!(cmp(&null, Op::Eq, &empty), Some(true));
    assert_eq!(cmp(&null, Op::Ne, &null), Some(false));
    // A known value against NULL: `NULL = 'x'` is NULL, `NULL IS NOT 'x'` is true.
    assert_eq!(cmp(&text_col(None), Op::Eq, &text("x")), None);
    assert_eq!(cmp(&text_col(None), Op::Ne, &text("x")), Some(true));
    // Numbers do not equal '': `0 = null` is false for a number column.
    assert_eq!(cmp(&num_col(0.0), Op::Eq, &null), Some(false));
    // Ordering against NULL is NULL.
    assert_eq!(cmp(&text_col(None), Op::Gt, &text("a")), None);
    assert_eq!(cmp(&null, Op::Lt, &real(1.0)), None);
}

#[test]
fn column_to_column_equality_coalesces_without_affinity() {
    let a = text_col(Some("5"));
    let b = num_col(5.0);
    // COALESCE(a, '') = COALESCE(b, ''): text '5' and integer 5 differ.
    assert_eq!(cmp(&a, Op::Eq, &b), Some(false));
    // Ordering keeps affinities: the text column is read as a number.
    assert_eq!(cmp(&a, Op::Gt, &b), Some(false));
    assert_eq!(cmp(&a, Op::Ge, &b), Some(true));
    assert_eq!(
        cmp(&text_col(None), Op::Eq, &text_col(Some(""))),
        Some(true)
    );
    assert_eq!(
        cmp(&text_col(None), Op::Ne, &text_col(Some("x"))),
        Some(true)
    );
}

#[test]
fn disabled_fallback_uses_is() {
    let json_null = Val::ident(Sql::Null, Affinity::None);
    let f = |l: &Val, op, r: &Val| compare(op, l, Fallback::Disabled, r, Fallback::Auto);
    assert_eq!(f(&json_null, Op::Eq, &Val::null()), Some(true));
    assert_eq!(f(&json_null, Op::Eq, &text("")), Some(false));
    assert_eq!(f(&json_null, Op::Ne, &text("x")), Some(true));
    let json_text = Val::ident(Sql::Text("".into()), Affinity::None);
    assert_eq!(f(&json_text, Op::Eq, &text("")), Some(true));
}

#[test]
fn like_wraps_parameters_and_concatenates_columns() {
    let title = text_col(Some("Hello_World 100%"));
    assert_eq!(cmp(&title, Op::Like, &text("world")), Some(true));
    assert_eq!(cmp(&title, Op::Like, &text("o_w")), Some(true));
    assert_eq!(cmp(&title, Op::Like, &text("lo_")), Some(true));
    assert_eq!(cmp(&title, Op::Like, &text("hello%")), Some(true));
    assert_eq!(cmp(&title, Op::Like, &text("world%")), Some(false));
    assert_eq!(cmp(&title, Op::Like, &text("%100\\%")), Some(true));
    assert_eq!(cmp(&title, Op::NotLike, &text("xyz")), Some(true));
    assert_eq!(cmp(&title, Op::Like, &real(100.0)), Some(true));
    assert_eq!(cmp(&text_col(None), Op::Like, &text("")), None);
    assert_eq!(cmp(&text_col(None), Op::NotLike, &text("x")), None);
    // A column on the right is wrapped as '%' || col || '%', without escaping.
    let other = text_col(Some("o_W"));
    assert_eq!(cmp(&title, Op::Like, &other), Some(true));
    assert_eq!(cmp(&text_col(Some("oxw")), Op::Like, &other), Some(true));
    assert_eq!(cmp(&title, Op::Like, &Val::null()), None);
    // Numbers on the left become text.
    assert_eq!(cmp(&num_col(1234.0), Op::Like, &text("23")), Some(true));
}

#[test]
fn lower_is_ascii_only() {
    assert_eq!(Sql::Text("ÀBc".into()).lower(), Sql::Text("Àbc".into()));
    assert_eq!(Sql::Real(5.0).lower(), Sql::Text("5.0".into()));
    assert_eq!(Sql::Null.lower(), Sql::Null);
}
