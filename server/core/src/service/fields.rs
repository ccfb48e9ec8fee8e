//! The `fields` parameter: pick keys out of a response (`*,expand.author.name`) and
//! apply the `:excerpt(maxLength, withEllipsis)` modifier.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::{Code, Error, Result};

#[derive(Clone, Debug, Default)]
pub struct FieldsPicker {
    root: Option<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    children: BTreeMap<String, Node>,
    star: bool,
    excerpt: Option<(usize, bool)>,
}

fn bad(m: impl Into<String>) -> Error {
    Error::new(Code::InvalidFields, m)
}

/// Splits on commas outside parentheses.
fn split_top(input: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_excerpt(m: &str) -> Result<(usize, bool)> {
    let args = m
        .strip_prefix("excerpt(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(format!("Unknown fields modifier \":{m}\".")))?;
    let mut it = args.split(',').map(str::trim);
    let max = it
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| bad("excerpt needs a maximum length."))?;
    let ellipsis = match it.next() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => return Err(bad(format!("Invalid excerpt argument \"{other}\"."))),
    };
    if it.next().is_some() {
        return Err(bad("excerpt takes at most two arguments."));
    }
    Ok((max, ellipsis))
}

impl FieldsPicker {
    pub fn parse(input: &str, max_len: usize) -> Result<FieldsPicker> {
        if input.len() > max_len {
            return Err(bad(format!(
                "The fields parameter may be at most {max_len} bytes."
            )));
        }
        if input.trim().is_empty() {
            return Ok(FieldsPicker::default());
        }
        let mut root = Node::default();
        for raw in split_top(input)
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (path, modifier) = match raw.split_once(':') {
                Some((p, m)) => (p, Some(parse_excerpt(m.trim())?)),
                None => (raw, None),
            };
            let mut node = &mut root;
            let segments: Vec<&str> = path.split('.').map(str::trim).collect();
            for (i, seg) in segments.iter().enumerate() {
                if seg.is_empty() {
                    return Err(bad(format!("Invalid fields path \"{raw}\".")));
                }
                if *seg == "*" {
                    if i + 1 != segments.len() {
                        return Err(bad(format!("\"*\" must end a fields path (\"{raw}\").")));
                    }
                    node.star = true;
                    break;
                }
                node = node.children.entry((*seg).to_owned()).or_default();
                if i + 1 == segments.len() {
                    node.excerpt = modifier;
                }
            }
        }
        Ok(FieldsPicker { root: Some(root) })
    }

    /// Picks the requested keys out of `value` (objects, and each item of arrays).
    /// Whether every field is kept as it is (no `fields` parameter).
    pub fn is_all(&self) -> bool {
        self.root.is_none()
    }

    pub fn apply(&self, value: Json) -> Json {
        match &self.root {
            None => value,
            Some(root) => pick(value, root),
        }
    }
}

fn pick(value: Json, node: &Node) -> Json {
    if node.children.is_empty() && !node.star {
        return match node.excerpt {
            Some((max, ellipsis)) => Json::String(excerpt(&value, max, ellipsis)),
            None => value,
        };
    }
    match value {
        Json::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if let Some(child) = node.children.get(&k) {
                    out.insert(k, pick(v, child));
                } else if node.star {
                    out.insert(k, v);
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(items.into_iter().map(|v| pick(v, node)).collect()),
        other => other,
    }
}

/// Plain text of `value` without HTML tags and with collapsed white space, cut to `max`
/// characters.
fn excerpt(value: &Json, max: usize, ellipsis: bool) -> String {
    let raw = match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let mut text = String::with_capacity(raw.len());
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let collapsed = words.join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(max).collect();
    cut = cut.trim_end().to_owned();
    if ellipsis {
        cut.push_str("...");
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(fields: &str, v: Json) -> Json {
        FieldsPicker::parse(fields, 4096).unwrap().apply(v)
    }

    #[test]
    fn picks_nested_and_star() {
        let v = json!({"id": "a", "title": "t", "expand": {"author": {"id": "b", "name": "n"}}});
        assert_eq!(
            apply("id,expand.author.name", v.clone()),
            json!({"id": "a", "expand": {"author": {"name": "n"}}})
        );
        assert_eq!(apply("*", v.clone()), v);
        assert_eq!(
            apply("*,expand.author.id", v),
            json!({"id": "a", "title": "t", "expand": {"author": {"id": "b"}}})
        );
    }

    #[test]
    fn excerpts_strip_html() {
        let v = json!({"body": "<p>Hello   <b>big</b> world</p>"});
        assert_eq!(
            apply("body:excerpt(9,true)", v.clone()),
            json!({"body": "Hello big..."})
        );
        assert_eq!(
            apply("body:excerpt(100)", v),
            json!({"body": "Hello big world"})
        );
    }

    #[test]
    fn rejects_bad_modifiers() {
        assert!(FieldsPicker::parse("a:upper", 4096).is_err());
        assert!(FieldsPicker::parse("a:excerpt(x)", 4096).is_err());
        assert!(FieldsPicker::parse("a..b", 4096).is_err());
    }
}
