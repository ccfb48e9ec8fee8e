//! Realtime: what one subscriber may see of one change. The api crate owns the
//! connections and the follower of the change log; every decision about a record
//! (rule and policies, the subscription's filter, hidden fields, email visibility,
//! expand and fields) is made here with the same code the records API uses.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Action, Principal, Services, SUPERUSERS};
use crate::filter::{superuser_only_prefix, Filter, RequestInfo};
use crate::record::Record;
use crate::schema::Collection;
use crate::store;
use crate::value::Value;
use crate::Result;

/// One subscription: `collection/*` (list decision), `collection/recordId` (view
/// decision) or the older bare `collection` (like `/*`), each optionally followed by
/// `?options={"query":{…},"headers":{…}}`. Any string parses; one that names no
/// collection simply never matches.
#[derive(Clone, Debug)]
pub struct Topic {
    /// The subscription string verbatim: the name of its events.
    pub raw: String,
    /// The collection's name or id, as written.
    collection: String,
    /// `None` for every record of the collection.
    record: Option<String>,
    /// `options.query`: `filter`, `expand`, `fields` and what `@request.query.*` reads.
    pub query: Map<String, Json>,
    /// `options.headers`, names lowercased with `-` as `_` (`@request.headers.*`).
    pub headers: Map<String, Json>,
}

impl Topic {
    pub fn parse(raw: &str) -> Topic {
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let (collection, record) = match path.split_once('/') {
            Some((c, "*")) => (c, None),
            Some((c, id)) => (c, Some(id.to_owned())),
            None => (path, None),
        };
        let mut topic = Topic {
            raw: raw.to_owned(),
            collection: collection.to_owned(),
            record,
            query: Map::new(),
            headers: Map::new(),
        };
        let options = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == "options")
            .map(|(_, v)| decode_component(v))
            .next_back();
        let Some(Ok(Json::Object(options))) = options.map(|o| serde_json::from_str::<Json>(&o))
        else {
            return topic;
        };
        if let Some(Json::Object(q)) = options.get("query") {
            for (k, v) in q {
                topic.query.insert(k.clone(), Json::String(as_text(v)));
            }
        }
        if let Some(Json::Object(h)) = options.get("headers") {
            for (k, v) in h {
                let name = k.to_ascii_lowercase().replace('-', "_");
                topic.headers.insert(name, Json::String(as_text(v)));
            }
        }
        topic
    }

    /// Whether a change of `record_id` in `collection` concerns this topic.
    pub fn matches(&self, collection: &Collection, record_id: &str) -> bool {
        (self.collection == collection.name || self.collection == collection.id)
            && self.record.as_deref().is_none_or(|id| id == record_id)
    }

    /// The decision this topic is checked with: view for one record, else list.
    pub fn action(&self) -> Action {
        if self.record.is_some() {
            Action::View
        } else {
            Action::List
        }
    }

    fn param(&self, name: &str) -> &str {
        self.query
            .get(name)
            .and_then(Json::as_str)
            .unwrap_or_default()
    }
}

fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    urlencoding::decode(&s).map(|c| c.into_owned()).unwrap_or(s)
}

/// A query or header value as text, as PocketBase reads options (`1` → `"1"`).
fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

impl Services {
    /// The data of the event `action` on `record` for a subscriber `who` of `topic`:
    /// `{"action", "record"}` with the record rendered as the records API renders it
    /// for `who`, or `None` when `who` may not see it (rule and policies of the
    /// topic's decision, then the subscription's `filter`).
    pub fn realtime_event(
        &self,
        who: &Principal,
        topic: &Topic,
        collection: &Arc<Collection>,
        record: &Record,
        action: store::Action,
    ) -> Result<Option<Json>> {
        let request = RequestInfo {
            method: "GET".into(),
            query: topic.query.clone(),
            headers: topic.headers.clone(),
            context: "realtime".into(),
            ..RequestInfo::default()
        };
        let Ok(permit) = self.authorize(who, collection, topic.action(), request) else {
            return Ok(None);
        };
        if !permit.allows(record, self.store())? {
            return Ok(None);
        }
        let filter = topic.param("filter");
        if !filter.trim().is_empty() {
            if !who.is_superuser() && superuser_only_prefix(filter).is_some() {
                return Ok(None);
            }
            let opts = self.client_compile_options(who);
            let catalog = self.catalog();
            let Ok(f) = Filter::compile_with(filter, collection, &catalog, None, &opts) else {
                return Ok(None);
            };
            if !f.matches(record, self.store(), permit.request())? {
                return Ok(None);
            }
        }
        let shape = match self.parse_shape(collection, topic.param("expand"), topic.param("fields"))
        {
            Ok(shape) => shape,
            Err(_) => self.parse_shape(collection, "", "")?,
        };
        let rendered = self.render(who, collection, record, &shape)?;
        let action = match action {
            store::Action::Create => "create",
            store::Action::Update => "update",
            store::Action::Delete => "delete",
        };
        let mut data = Map::new();
        data.insert("action".into(), Json::String(action.into()));
        data.insert("record".into(), rendered);
        Ok(Some(Json::Object(data)))
    }

    /// `who` as it stands now: the auth record re-read under the current catalog, or
    /// a guest when the record or its collection is gone or its `tokenKey` changed
    /// (a password change or reset signs every session out). Long-lived connections
    /// call this when the catalog or the auth record changes.
    pub fn refresh_principal(&self, who: &Principal) -> Principal {
        let Some((old_collection, old)) = who.auth() else {
            return Principal::Guest;
        };
        let catalog = self.catalog();
        let Some(collection) = catalog.by_id(&old_collection.id).cloned() else {
            return Principal::Guest;
        };
        let Ok(Some(record)) = self.store().get(&collection, old.id()) else {
            return Principal::Guest;
        };
        let key = |c: &Collection, r: &Record| {
            r.get(c, "tokenKey")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        if key(old_collection, old) != key(&collection, &record) {
            return Principal::Guest;
        }
        if collection.name == SUPERUSERS {
            Principal::Superuser {
                collection,
                record: Arc::new(record),
            }
        } else {
            Principal::Auth {
                collection,
                record: Arc::new(record),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_like_pocketbase() {
        let t = Topic::parse("posts/*");
        assert_eq!(
            (t.collection.as_str(), t.record.as_deref()),
            ("posts", None)
        );
        assert_eq!(t.action(), Action::List);
        let t = Topic::parse("posts/abc");
        assert_eq!(t.record.as_deref(), Some("abc"));
        assert_eq!(t.action(), Action::View);
        let t = Topic::parse("posts");
        assert_eq!(
            (t.collection.as_str(), t.record.as_deref()),
            ("posts", None)
        );
        let options = r#"{"query":{"filter":"a = 1","perPage":5},"headers":{"X-Token":"t"}}"#;
        let raw = format!("posts/*?options={}", urlencoding::encode(options));
        let t = Topic::parse(&raw);
        assert_eq!(t.raw, raw);
        assert_eq!(t.param("filter"), "a = 1");
        assert_eq!(t.param("perPage"), "5");
        assert_eq!(t.headers.get("x_token"), Some(&Json::String("t".into())));
        let t = Topic::parse("posts/*?options=%7Bnot-json");
        assert!(t.query.is_empty() && t.record.is_none());
        let t = Topic::parse("");
        assert_eq!(t.collection, "");
    }
}
