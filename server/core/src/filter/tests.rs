//! A small catalog with data, shared by the filter tests.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;
use crate::schema::Collection;

#[path = "compile_test.rs"]
mod compile_test;
#[path = "eval_test.rs"]
mod eval_test;
#[path = "request_test.rs"]
mod request_test;

fn collection(
    id: &str,
    name: &str,
    auth: bool,
    list_rule: Option<&str>,
    fields: Json,
) -> Arc<Collection> {
    let mut all = vec![json!({"name": "id", "type": "text", "primaryKey": true, "system": true})];
    if auth {
        all.extend([
            json!({"name": "password", "type": "password", "hidden": true}),
            json!({"name": "tokenKey", "type": "text", "hidden": true}),
            json!({"name": "email", "type": "email"}),
            json!({"name": "emailVisibility", "type": "bool"}),
            json!({"name": "verified", "type": "bool"}),
        ]);
    }
    all.extend(fields.as_array().cloned().unwrap_or_default());
    all.push(json!({"name": "created", "type": "autodate", "onCreate": true}));
    let c = json!({
        "id": id,
        "name": name,
        "type": if auth { "auth" } else { "base" },
        "fields": all,
        "listRule": list_rule,
    });
    Arc::new(serde_json::from_value(c).unwrap())
}

fn rel(name: &str, target: &str, max: u32) -> Json {
    json!({"name": name, "type": "relation", "collectionId": target, "maxSelect": max})
}

pub struct Mem {
    records: HashMap<String, Vec<Record>>,
}

impl Lookup for Mem {
    fn get(&self, c: &Collection, id: &str) -> Result<Option<Record>> {
        Ok(self
            .records
            .get(&c.id)
            .and_then(|rs| rs.iter().find(|r| r.id() == id).cloned()))
    }

    fn referencing(&self, c: &Collection, pos: usize, id: &str) -> Result<Vec<Record>> {
        Ok(self
            .records
            .get(&c.id)
            .map(|rs| {
                rs.iter()
                    .filter(|r| r.values[pos].strings().contains(&id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn scan(&self, c: &Collection, visit: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        for r in self.records.get(&c.id).into_iter().flatten() {
            if !visit(r.clone()) {
                break;
            }
        }
        Ok(())
    }
}

pub struct Fx {
    pub catalog: Catalog,
    pub mem: Mem,
}

fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(to_value).collect()),
        Json::Object(_) => Value::Json(j.clone()),
    }
}

impl Fx {
    pub fn new() -> Fx {
        let users = collection(
            "_pb_users_",
            "users",
            true,
            Some(""),
            json!([
                {"name": "name", "type": "text"},
                {"name": "age", "type": "number"},
                rel("team", "teams_id", 1),
                rel("friends", "_pb_users_", 10),
                {"name": "secret", "type": "text", "hidden": true},
            ]),
        );
        let teams = collection(
            "teams_id",
            "teams",
            false,
            Some(""),
            json!([
                {"name": "name", "type": "text"},
                {"name": "size", "type": "number"},
            ]),
        );
        let tags = collection(
            "tags_id",
            "tags",
            false,
            Some(""),
            json!([
                {"name": "name", "type": "text"},
                {"name": "weight", "type": "number"},
            ]),
        );
        let private = collection(
            "private_id",
            "private",
            false,
            None,
            json!([
                {"name": "value", "type": "text"},
            ]),
        );
        let ruled = collection(
            "ruled_id",
            "ruled",
            false,
            Some("visible = true"),
            json!([
                {"name": "visible", "type": "bool"},
                {"name": "label", "type": "text"},
            ]),
        );
        let posts = collection(
            "posts_id",
            "posts",
            false,
            Some(""),
            json!([
                {"name": "title", "type": "text"},
                {"name": "views", "type": "number"},
                {"name": "published", "type": "bool"},
                rel("tags", "tags_id", 5),
                rel("author", "_pb_users_", 1),
                {"name": "status", "type": "select", "maxSelect": 1, "values": ["draft", "live"]},
                {"name": "labels", "type": "select", "maxSelect": 3, "values": ["a", "b", "c"]},
                {"name": "meta", "type": "json"},
                {"name": "files", "type": "file", "maxSelect": 3},
                {"name": "secret", "type": "text", "hidden": true},
                {"name": "published_at", "type": "date"},
                rel("private_ref", "private_id", 1),
                rel("ruled_ref", "ruled_id", 1),
            ]),
        );
        let comments = collection(
            "comments_id",
            "comments",
            false,
            Some(""),
            json!([
                rel("post", "posts_id", 1),
                {"name": "message", "type": "text"},
                {"name": "score", "type": "number"},
                rel("author", "_pb_users_", 1),
            ]),
        );
        let members = collection(
            "members_id",
            "members",
            false,
            Some(""),
            json!([
                rel("user", "_pb_users_", 1),
                rel("team", "teams_id", 1),
                {"name": "role", "type": "text"},
            ]),
        );
        let mut records: HashMap<String, Vec<Record>> = HashMap::new();
        let mut add = |c: &Arc<Collection>, rows: Json| {
            for row in rows.as_array().cloned().unwrap_or_default() {
                let mut r = Record::zero(c);
                for (k, v) in row.as_object().cloned().unwrap_or_default() {
                    let pos = c.field_pos(&k).unwrap();
                    r.values[pos] = match (&c.fields[pos].kind, &v) {
                        (crate::schema::FieldKind::Json(_), j) => Value::Json(j.clone()),
                        _ => to_value(&v),
                    };
                }
                records.entry(c.id.clone()).or_default().push(r);
            }
        };
        add(
            &tags,
            json!([
                {"id": "t1", "name": "rust", "weight": 5},
                {"id": "t2", "name": "go", "weight": 3},
                {"id": "t3", "name": "Zig", "weight": 8},
            ]),
        );
        add(
            &teams,
            json!([
                {"id": "tm1", "name": "red", "size": 3},
                {"id": "tm2", "name": "blue", "size": 10},
            ]),
        );
        add(
            &users,
            json!([
                {"id": "u1", "email": "a@x.io", "emailVisibility": true, "name": "Ann", "age": 30,
                 "team": "tm1", "friends": ["u2"], "secret": "s1"},
                {"id": "u2", "email": "b@x.io", "name": "Bob", "age": 20, "team": "tm2", "friends": []},
                {"id": "u3", "email": "c@x.io", "name": "cid", "age": 0, "friends": ["u1", "u2"]},
            ]),
        );
        add(&private, json!([{"id": "pv1", "value": "x"}]));
        add(
            &ruled,
            json!([
                {"id": "r1", "visible": true, "label": "shown"},
                {"id": "r2", "visible": false, "label": "hidden"},
            ]),
        );
        add(
            &posts,
            json!([
                {"id": "p1", "title": "Hello World", "views": 10, "published": true, "tags": ["t1", "t2"],
                 "author": "u1", "status": "live", "labels": ["a", "b"],
                 "meta": {"a": {"b": 5}, "list": [1, 2], "s": "x", "lon": 24.75, "lat": 42.15},
                 "files": ["f1.png", "f2.png"], "published_at": "2024-01-02 10:00:00.000Z",
                 "private_ref": "pv1", "ruled_ref": "r1", "secret": "hush"},
                {"id": "p2", "title": "Second post", "views": 0, "published": false, "tags": ["t1"],
                 "author": "u2", "status": "draft", "labels": [], "ruled_ref": "r2"},
                {"id": "p3", "title": "", "views": 25.5, "published": true, "tags": [],
                 "labels": ["c"], "meta": {"a": {"b": "5"}}, "files": ["x.txt"],
                 "published_at": "2030-01-01 00:00:00.000Z"},
                {"id": "p4", "title": "zig things", "views": -3, "tags": ["t3", "missing"],
                 "author": "u3", "status": "live", "labels": ["a"], "meta": {"s": "X"}},
            ]),
        );
        add(
            &comments,
            json!([
                {"id": "c1", "post": "p1", "message": "great", "score": 5, "author": "u2"},
                {"id": "c2", "post": "p1", "message": "meh", "score": 2, "author": "u3"},
                {"id": "c3", "post": "p2", "message": "great too", "score": 4, "author": "u1"},
            ]),
        );
        add(
            &members,
            json!([
                {"id": "m1", "user": "u1", "team": "tm1", "role": "admin"},
                {"id": "m2", "user": "u2", "team": "tm1", "role": "member"},
                {"id": "m3", "user": "u2", "team": "tm2", "role": "admin"},
            ]),
        );
        Fx {
            catalog: Catalog::new(vec![
                users, teams, tags, private, ruled, posts, comments, members,
            ]),
            mem: Mem { records },
        }
    }

    pub fn coll(&self, name: &str) -> Arc<Collection> {
        self.catalog.get(name).cloned().unwrap()
    }

    pub fn auth(&self, id: &str) -> RequestInfo {
        let users = self.coll("users");
        let r = self.mem.get(&users, id).unwrap().unwrap();
        RequestInfo {
            auth: Some((users, Arc::new(r))),
            ..RequestInfo::default()
        }
    }

    pub fn compile(&self, coll: &str, filter: &str, opts: &CompileOptions) -> Result<Filter> {
        Filter::compile_with(filter, &self.coll(coll), &self.catalog, None, opts)
    }

    /// The ids of the records of `coll` matching `f`.
    pub fn run(&self, coll: &str, f: &Filter, req: &RequestInfo) -> Result<Vec<String>> {
        let c = self.coll(coll);
        let mut out = Vec::new();
        for r in self.mem.records.get(&c.id).into_iter().flatten() {
            if f.matches(r, &self.mem, req)? {
                out.push(r.id().to_owned());
            }
        }
        Ok(out)
    }

    pub fn ids_req(&self, coll: &str, filter: &str, req: &RequestInfo) -> Vec<String> {
        let f = self
            .compile(coll, filter, &CompileOptions::default())
            .unwrap_or_else(|e| panic!("{filter}: {e}"));
        self.run(coll, &f, req)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
    }

    pub fn ids(&self, coll: &str, filter: &str) -> Vec<String> {
        self.ids_req(coll, filter, &RequestInfo::default())
    }

    pub fn err(&self, coll: &str, filter: &str, opts: &CompileOptions) -> String {
        match self.compile(coll, filter, opts) {
            Ok(_) => panic!("{filter} compiled"),
            Err(e) => {
                assert_eq!(e.code, crate::Code::InvalidFilter, "{filter}");
                e.message
            }
        }
    }
}

/// `ids!(fx, "posts", "filter" => ["p1", "p2"])`
macro_rules! ids {
    ($fx:expr, $coll:expr, $filter:expr => [$($id:expr),*]) => {
        assert_eq!($fx.ids($coll, $filter), Vec::<&str>::from([$($id),*]), "{}", $filter)
    };
    ($fx:expr, $coll:expr, $filter:expr, $req:expr => [$($id:expr),*]) => {
        assert_eq!($fx.ids_req($coll, $filter, $req), Vec::<&str>::from([$($id),*]), "{}", $filter)
    };
}
pub(crate) use ids;
