//! Identifiers derived from collection, field and select-value names, which may hold
//! any characters; each helper gives a valid identifier in the target language.

/// The words of `s`: runs of ASCII letters and digits, split at `_`, `-`, spaces and
/// lowercase→uppercase steps (`blogPosts` → `blog`, `Posts`).
fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in s.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
        None => String::new(),
    }
}

/// `blog_posts` → `BlogPosts`; a leading digit gets a `C` prefix, nothing at all is `X`.
pub fn pascal(s: &str) -> String {
    let out: String = words(s).iter().map(|w| capitalize(w)).collect();
    match out.chars().next() {
        None => "X".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("C{out}"),
        Some(_) => out,
    }
}

/// `blog_posts` → `blogPosts`.
pub fn camel(s: &str) -> String {
    let p = pascal(s);
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => p,
    }
}

/// `blogPosts` → `blog_posts`; a leading digit gets an `f_` prefix.
pub fn snake(s: &str) -> String {
    let out = words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    match out.chars().next() {
        None => "x".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("f_{out}"),
        Some(_) => out,
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A Rust field or method name for `s`: snake case, keywords get a trailing `_`.
pub fn rust_field(s: &str) -> String {
    let n = snake(s);
    if RUST_KEYWORDS.contains(&n.as_str()) {
        format!("{n}_")
    } else {
        n
    }
}

/// A TypeScript object key: bare when it is an identifier, quoted otherwise.
pub fn ts_key(s: &str) -> String {
    let ident = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        s.to_owned()
    } else {
        ts_string(s)
    }
}

/// A TypeScript (and JSON) string literal.
pub fn ts_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A Rust string literal.
pub fn rust_string(s: &str) -> String {
    format!("{s:?}")
}

/// Makes each name unique by appending `2`, `3`, … to later duplicates.
pub fn dedupe(names: Vec<String>, taken: &[&str]) -> Vec<String> {
    let mut seen: Vec<String> = taken.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let mut candidate = n.clone();
        let mut i = 2;
        while seen.contains(&candidate) {
            candidate = format!("{n}{i}");
            i += 1;
        }
        seen.push(candidate.clone());
        out.push(candidate);
    }
    out
}
