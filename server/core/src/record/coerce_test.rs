//! Expected values were taken from a real PocketBase 0.40.6 (see the report of the
//! change that added this module).

use super::*;
use serde_json::json;

#[test]
fn numbers_follow_go_parse_float() {
    let cases = [
        (json!("12"), 12.0),
        (json!(""), 0.0),
        (json!("12abc"), 0.0),
        (json!(" 12"), 0.0),
        (json!("12 "), 0.0),
        (json!("1e3"), 1000.0),
        (json!("1_000"), 1000.0),
        (json!("_1"), 0.0),
        (json!("1__0"), 0.0),
        (json!("+5"), 5.0),
        (json!(".5"), 0.5),
        (json!("5."), 5.0),
        (json!("00012"), 12.0),
        (json!("0x10"), 0.0),
        (json!("1e400"), 0.0),
        (json!("1e-400"), 0.0),
        (json!("+nan"), 0.0),
        (json!(true), 1.0),
        (json!(false), 0.0),
        (json!(null), 0.0),
        (json!([1]), 0.0),
        (json!({"a": 1}), 0.0),
        (json!(1.5), 1.5),
    ];
    for (raw, want) in cases {
        assert_eq!(to_float(&raw), want, "{raw}");
    }
    assert!(to_float(&json!("NaN")).is_nan());
    assert_eq!(to_float(&json!("Infinity")), f64::INFINITY);
    assert_eq!(to_float(&json!("-inf")), f64::NEG_INFINITY);
}

#[test]
fn booleans_follow_go_parse_bool() {
    for t in [
        json!(true),
        json!(2),
        json!(1.5),
        json!("1"),
        json!("t"),
        json!("T"),
        json!("TRUE"),
        json!("True"),
    ] {
        assert!(to_bool(&t), "{t}");
    }
    for f in [
        json!(false),
        json!(0),
        json!("0"),
        json!("f"),
        json!("yes"),
        json!(" true"),
        json!("2"),
        json!(null),
        json!([true]),
        json!({"a": 1}),
    ] {
        assert!(!to_bool(&f), "{f}");
    }
}

#[test]
fn text_formats_numbers_without_exponent() {
    assert_eq!(to_text(&json!(1e21)), "1000000000000000000000");
    assert_eq!(to_text(&json!(123456789.123)), "123456789.123");
    assert_eq!(to_text(&json!(0.1)), "0.1");
    assert_eq!(to_text(&json!(-0.0)), "-0");
    assert_eq!(to_text(&json!(1.0)), "1");
    assert_eq!(to_text(&json!(5e-7)), "0.0000005");
    assert_eq!(to_text(&json!(12)), "12");
    assert_eq!(to_text(&json!(true)), "true");
    assert_eq!(to_text(&json!(null)), "");
    assert_eq!(to_text(&json!([1])), "");
    assert_eq!(to_text(&json!({"a": 1})), "");
}

#[test]
fn string_lists_accept_singles_and_json_arrays() {
    let s = |v: Json| to_unique_strings(&v);
    assert_eq!(s(json!(["a"])), ["a"]);
    assert_eq!(s(json!("a,b")), ["a,b"]);
    assert_eq!(s(json!("[\"a\",\"b\"]")), ["a", "b"]);
    assert_eq!(s(json!("[a]")), ["[a]"]);
    assert_eq!(s(json!(["", "a", "", "a"])), ["a"]);
    assert_eq!(s(json!([null, "a"])), ["a"]);
    assert!(s(json!([["a"]])).is_empty());
    assert_eq!(s(json!([1, "a", 1])), ["1", "a"]);
    assert_eq!(s(json!(1)), ["1"]);
    assert!(s(json!("")).is_empty());
    assert!(s(json!(null)).is_empty());
    assert!(s(json!({"a": "b"})).is_empty());
}

#[test]
fn file_names_unwrap_single_item_lists() {
    assert_eq!(to_file_names(&json!([["a"], "b", ["c", "d"]])), ["a", "b"]);
    assert_eq!(to_file_names(&json!(["[\"x\"]", "x"])), ["x"]);
    assert_eq!(to_file_names(&json!("a.txt")), ["a.txt"]);
}

#[test]
fn json_values_parse_json_looking_strings() {
    let j = |v: Json| to_json_value(&v);
    assert_eq!(j(json!("1")), json!(1));
    assert_eq!(j(json!("-1")), json!(-1));
    assert_eq!(j(json!("\"x\"")), json!("x"));
    assert_eq!(j(json!("true")), json!(true));
    assert_eq!(j(json!("null")), json!(null));
    assert_eq!(j(json!("tru")), json!("tru"));
    assert_eq!(j(json!("{bad")), json!("{bad"));
    assert_eq!(j(json!("[1,")), json!("[1,"));
    assert_eq!(j(json!("  1")), json!("  1"));
    assert_eq!(j(json!("abc")), json!("abc"));
    assert_eq!(j(json!("")), json!(""));
    assert_eq!(j(json!("[1, 2]")), json!([1, 2]));
    assert_eq!(j(json!({"b": 2})), json!({"b": 2}));
    assert_eq!(j(json!(false)), json!(false));
}

#[test]
fn dates_accept_pocketbase_layouts() {
    let d = |s: &str| to_date(&json!(s));
    assert_eq!(d("2024-01-02T03:04:05Z"), "2024-01-02 03:04:05.000Z");
    assert_eq!(d("2024-01-02 03:04:05"), "2024-01-02 03:04:05.000Z");
    assert_eq!(d("2024-01-02T03:04:05.1+01:00"), "2024-01-02 02:04:05.100Z");
    assert_eq!(d("2024-01-02T03:04:05-0130"), "2024-01-02 04:34:05.000Z");
    assert_eq!(d("2024-01-02"), "2024-01-02 00:00:00.000Z");
    assert_eq!(d("02 Jan 2024"), "2024-01-02 00:00:00.000Z");
    assert_eq!(d("2024-01-02 03:04:05 +0200"), "2024-01-02 01:04:05.000Z");
    assert_eq!(d("2024-01-02 03:04:05 +02:00"), "2024-01-02 01:04:05.000Z");
    assert_eq!(d("2024-01-02 03:04:05Z"), "2024-01-02 03:04:05.000Z");
    assert_eq!(
        d("2024-01-02 03:04:05.5 -0700 MST"),
        "2024-01-02 10:04:05.500Z"
    );
    assert_eq!(
        d("2024-01-02 03:04:05.123456789Z"),
        "2024-01-02 03:04:05.123Z"
    );
    assert_eq!(
        d("Tue, 02 Jan 2024 15:04:05 -0700"),
        "2024-01-02 22:04:05.000Z"
    );
    assert_eq!(
        d("Tue, 02 Jan 2024 15:04:05 GMT"),
        "2024-01-02 15:04:05.000Z"
    );
    assert_eq!(d("Tue Jan  2 15:04:05 2024"), "2024-01-02 15:04:05.000Z");
    for bad in [
        "2024-1-2",
        "2024-01-02T03:04",
        " 2024-01-02",
        "2024-01-02 ",
        "2024-01-02T03:04:05z",
        "2024-01-02T03:04:05 +0200",
        "2024-13-02",
        "2024-02-30",
        "2024-01-02 24:00:00",
        "2024-01-02 03:04:05.",
        "bad",
        "",
        "2024-01-02 03:04:05 -0700 mst",
    ] {
        assert_eq!(d(bad), "", "{bad}");
    }
    assert_eq!(to_date(&json!(1_700_000_000)), "");
    assert_eq!(to_date(&json!(null)), "");
    assert_eq!(to_date(&json!(["2024-01-02"])), "");
}

#[test]
fn odd_unicode_input_never_panics() {
    for s in [
        "２０２４-01-02",
        "2024-01-02T03:04:05.١",
        "é",
        "2024-01-02 03:04:05 +ab:cd",
    ] {
        let _ = parse_date(s);
        let _ = parse_float(s);
    }
}
