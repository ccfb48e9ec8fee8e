//! Secondary index definitions, accepted in PocketBase's SQL form:
//! `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON coll (a [ASC|DESC], b) [WHERE a != '']`.

use super::Collection;

/// A parsed index over one or more fields of a collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub unique: bool,
    /// Field names, in key order. Direction does not matter for a B-tree walk.
    pub columns: Vec<String>,
    /// A partial index on `WHERE field != ''` skips records whose field is empty.
    pub skip_empty: Option<String>,
}

impl IndexDef {
    /// Parses `sql` and checks its columns against `collection`'s fields. The error is
    /// a message fit for `data.indexes.<i>`.
    pub fn parse(sql: &str, collection: &Collection) -> Result<IndexDef, String> {
        let mut t = Tokens::new(sql);
        t.keyword("create")?;
        let unique = t.optional_keyword("unique");
        t.keyword("index")?;
        if t.optional_keyword("if") {
            t.keyword("not")?;
            t.keyword("exists")?;
        }
        let name = t.ident()?;
        t.keyword("on")?;
        let _table = t.ident()?;
        t.punct('(')?;
        let mut columns = Vec::new();
        loop {
            let col = t.ident()?;
            if collection.field(&col).is_none() {
                return Err(format!("unknown field \"{col}\" in index"));
            }
            if columns.contains(&col) {
                return Err(format!("field \"{col}\" appears twice in index"));
            }
            if t.optional_keyword("collate") {
                t.ident()?;
            }
            let _ = t.optional_keyword("asc") || t.optional_keyword("desc");
            columns.push(col);
            if t.optional_punct(',') {
                continue;
            }
            t.punct(')')?;
            break;
        }
        let skip_empty = if t.optional_keyword("where") {
            let col = t.ident()?;
            if !columns.contains(&col) {
                return Err("the WHERE clause may only name an indexed field".into());
            }
            t.punct('!')?;
            t.punct('=')?;
            t.empty_string()?;
            Some(col)
        } else {
            None
        };
        let _ = t.optional_punct(';');
        if !t.at_end() {
            return Err("unexpected text after the index definition".into());
        }
        if name.is_empty() || name.len() > 100 {
            return Err("invalid index name".into());
        }
        Ok(IndexDef {
            name,
            unique,
            columns,
            skip_empty,
        })
    }
}

struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        Tokens { rest: s }
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.rest.is_empty()
    }

    fn word(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (w, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(w)
    }

    fn optional_keyword(&mut self, kw: &str) -> bool {
        let saved = self.rest;
        match self.word() {
            Some(w) if w.eq_ignore_ascii_case(kw) => true,
            _ => {
                self.rest = saved;
                false
            }
        }
    }

    fn keyword(&mut self, kw: &str) -> Result<(), String> {
        if self.optional_keyword(kw) {
            Ok(())
        } else {
            Err(format!(
                "expected {} in index definition",
                kw.to_uppercase()
            ))
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        self.skip_ws();
        for (open, close) in [('`', '`'), ('"', '"'), ('[', ']')] {
            if let Some(inner) = self.rest.strip_prefix(open) {
                let end = inner
                    .find(close)
                    .ok_or("unterminated quoted name in index definition")?;
                self.rest = &inner[end + 1..];
                return Ok(inner[..end].to_owned());
            }
        }
        self.word()
            .map(str::to_owned)
            .ok_or_else(|| "expected a name in index definition".into())
    }

    fn optional_punct(&mut self, c: char) -> bool {
        self.skip_ws();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn punct(&mut self, c: char) -> Result<(), String> {
        if self.optional_punct(c) {
            Ok(())
        } else {
            Err(format!("expected '{c}' in index definition"))
        }
    }

    fn empty_string(&mut self) -> Result<(), String> {
        self.skip_ws();
        for q in ["''", "\"\""] {
            if let Some(rest) = self.rest.strip_prefix(q) {
                self.rest = rest;
                return Ok(());
            }
        }
        Err("only WHERE field != '' partial indexes are supported".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldKind};

    fn coll() -> Collection {
        let mut c: Collection =
            serde_json::from_value(serde_json::json!({"id": "c1", "name": "posts"})).unwrap();
        c.fields
            .push(Field::new("title", FieldKind::Text(Default::default())));
        c.fields
            .push(Field::new("views", FieldKind::Number(Default::default())));
        c
    }

    #[test]
    fn parses_pocketbase_forms() {
        let c = coll();
        let d = IndexDef::parse("CREATE UNIQUE INDEX `idx_t` ON `posts` (`title`)", &c).unwrap();
        assert!(d.unique);
        assert_eq!(d.columns, ["title"]);
        let d = IndexDef::parse(
            "create index if not exists idx2 on posts (views DESC, title) WHERE title != ''",
            &c,
        )
        .unwrap();
        assert!(!d.unique);
        assert_eq!(d.columns, ["views", "title"]);
        assert_eq!(d.skip_empty.as_deref(), Some("title"));
    }

    #[test]
    fn rejects_bad_definitions() {
        let c = coll();
        assert!(IndexDef::parse("CREATE INDEX x ON posts (nope)", &c).is_err());
        assert!(IndexDef::parse("CREATE INDEX x ON posts title", &c).is_err());
        assert!(IndexDef::parse("DROP TABLE posts", &c).is_err());
        assert!(IndexDef::parse("CREATE INDEX x ON posts (title) WHERE views > 1", &c).is_err());
    }
}
