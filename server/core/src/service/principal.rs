//! Who is calling: token resolution, password auth and superuser management.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Services, SUPERUSERS};
use crate::auth::{self, Claims};
use crate::filter::{Filter, RequestInfo};
use crate::ids;
use crate::record::Record;
use crate::schema::Collection;
use crate::store::{Query, Write};
use crate::value::Value;
use crate::{Code, Error, Result};

/// The longest impersonation token a superuser may ask for: one year.
const MAX_IMPERSONATE_SECS: i64 = 365 * 86_400;

/// The caller of a request.
#[derive(Clone, Debug)]
pub enum Principal {
    Guest,
    Superuser {
        collection: Arc<Collection>,
        record: Arc<Record>,
    },
    Auth {
        collection: Arc<Collection>,
        record: Arc<Record>,
    },
}

impl Principal {
    pub fn is_superuser(&self) -> bool {
        matches!(self, Principal::Superuser { .. })
    }

    /// The authenticated record and its collection, if any.
    pub fn auth(&self) -> Option<(&Arc<Collection>, &Arc<Record>)> {
        match self {
            Principal::Guest => None,
            Principal::Superuser { collection, record }
            | Principal::Auth { collection, record } => Some((collection, record)),
        }
    }
}

fn text<'a>(c: &Collection, r: &'a Record, field: &str) -> &'a str {
    r.get(c, field).and_then(Value::as_str).unwrap_or_default()
}

fn set(c: &Collection, r: &mut Record, field: &str, v: Value) {
    if let Some(i) = c.field_pos(field) {
        r.values[i] = v;
    }
}

impl Services {
    /// Resolves an `Authorization` token. A missing, malformed, expired or revoked token
    /// is a guest: endpoints that need auth reject guests themselves.
    pub fn principal_from_token(&self, token: &str) -> Principal {
        self.principal_of_kind(token, "auth")
    }

    /// The caller a file token (`POST /api/files/token`) stands for; guest when it is
    /// missing, invalid, expired, or not a file token.
    pub fn principal_from_file_token(&self, token: &str) -> Principal {
        self.principal_of_kind(token, "file")
    }

    fn principal_of_kind(&self, token: &str, kind: &'static str) -> Principal {
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        if token.is_empty() {
            return Principal::Guest;
        }
        let catalog = self.catalog();
        let now = chrono::Utc::now().timestamp();
        if let Some(principal) = self.tokens.get(token, kind, now, &catalog) {
            return principal;
        }
        // Read before the record: see `tokens`.
        let version = self.tokens.version();
        let Some(claims) = auth::peek(token) else {
            return Principal::Guest;
        };
        if claims.kind != kind {
            return Principal::Guest;
        }
        let Some(collection) = catalog.by_id(&claims.collection_id).cloned() else {
            return Principal::Guest;
        };
        let Ok(Some(record)) = self.store.get(&collection, &claims.id) else {
            return Principal::Guest;
        };
        let Ok(verified) =
            auth::verify(token, &self.secret, text(&collection, &record, "tokenKey"))
        else {
            return Principal::Guest;
        };
        let principal = if collection.name == SUPERUSERS {
            Principal::Superuser {
                collection,
                record: Arc::new(record),
            }
        } else {
            Principal::Auth {
                collection,
                record: Arc::new(record),
            }
        };
        self.tokens
            .put(token, kind, version, verified.exp, &principal);
        principal
    }

    /// A fresh token for `record`, valid for the collection's `authToken.duration`.
    pub fn issue_token(&self, collection: &Collection, record: &Record) -> Result<String> {
        let fallback = if collection.name == SUPERUSERS {
            self.limits.superuser_token_secs
        } else {
            self.limits.auth_token_secs
        };
        let ttl = collection
            .auth_options
            .auth_token
            .as_ref()
            .and_then(|t| t.duration)
            .filter(|d| *d > 0)
            .unwrap_or(fallback);
        let claims = Claims::auth(record.id(), &collection.id, ttl);
        auth::sign(&claims, &self.secret, text(collection, record, "tokenKey"))
    }

    /// `POST /api/collections/{c}/impersonate/{id}`: a superuser gets a non-refreshable
    /// token of another auth record, valid for `duration` seconds (0 = the collection's
    /// token duration).
    pub fn impersonate(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        id: &str,
        duration: i64,
    ) -> Result<Json> {
        if !who.is_superuser() {
            return Err(Error::from_code(Code::SuperuserOnly));
        }
        if !collection.is_auth() {
            return Err(Error::bad_request(
                "The collection is not an auth collection.",
            ));
        }
        if !(0..=MAX_IMPERSONATE_SECS).contains(&duration) {
            return Err(Error::invalid_field(
                "An error occurred while validating the submitted data.",
                "duration",
                "validation_max_less_equal_than_required",
                &format!("Must be between 0 and {MAX_IMPERSONATE_SECS}."),
            ));
        }
        let record = self
            .store
            .get(collection, id)?
            .ok_or_else(|| Error::from_code(Code::RecordNotFound))?;
        let mut token = self.issue_token(collection, &record)?;
        if duration > 0 {
            let mut claims = Claims::auth(record.id(), &collection.id, duration);
            claims.refreshable = false;
            token = auth::sign(&claims, &self.secret, text(collection, &record, "tokenKey"))?;
        } else if let Some(mut claims) = auth::peek(&token) {
            claims.refreshable = false;
            token = auth::sign(&claims, &self.secret, text(collection, &record, "tokenKey"))?;
        }
        let rendered = self.render_plain(who, collection, &record);
        Ok(serde_json::json!({ "token": token, "record": rendered }))
    }

    /// The first record of `collection` matching `expr` with `params`.
    pub(super) fn find_first(
        &self,
        collection: &Arc<Collection>,
        expr: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<Record>> {
        Ok(self
            .find_all(collection, expr, params, 1)?
            .into_iter()
            .next())
    }

    /// Up to `limit` records of `collection` matching the filter `expr`, whose
    /// `{:name}` placeholders take `params`.
    pub(super) fn find_all(
        &self,
        collection: &Arc<Collection>,
        expr: &str,
        params: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<Record>> {
        let mut map = Map::new();
        for (k, v) in params {
            map.insert((*k).to_owned(), Json::String((*v).to_owned()));
        }
        let filter = Filter::compile(expr, collection, &self.catalog(), Some(&map))?;
        let query = Query {
            filter: Some(filter),
            limit,
            ..Query::default()
        };
        Ok(self.store.query(collection, &query)?.records)
    }

    /// Finds the auth record of `collection` whose `email` is `identity`.
    pub fn find_by_email(
        &self,
        collection: &Arc<Collection>,
        identity: &str,
    ) -> Result<Option<Record>> {
        self.find_first(collection, "email = {:identity}", &[("identity", identity)])
    }

    /// Password auth: the same 400 for an unknown identity and a wrong password, after
    /// the same amount of hashing work.
    pub fn auth_with_password(
        &self,
        collection: &Arc<Collection>,
        identity: &str,
        password: &str,
    ) -> Result<Record> {
        if !collection.is_auth() {
            return Err(Error::bad_request(
                "The collection is not an auth collection.",
            ));
        }
        let mut blank = crate::error::FieldErrors::default();
        if identity.is_empty() {
            blank.add("identity", "validation_required", "Cannot be blank.");
        }
        if password.is_empty() {
            blank.add("password", "validation_required", "Cannot be blank.");
        }
        blank.into_result("An error occurred while validating the submitted data.")?;
        let fail = || Error::new(Code::InvalidCredentials, "Failed to authenticate.");
        let options = collection
            .auth_options
            .password_auth
            .clone()
            .unwrap_or_default();
        if options.enabled == Some(false) {
            return Err(Error::new(
                Code::Forbidden,
                "The collection is not configured to allow password authentication.",
            ));
        }
        let fields = options
            .identity_fields
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| vec!["email".to_owned()]);
        let Some(record) = self.find_by_identity(collection, &fields, identity)? else {
            auth::dummy_verify(password);
            return Err(fail());
        };
        if !auth::verify_password(password, text(collection, &record, "password")) {
            return Err(fail());
        }
        self.check_auth_rule(collection, &record)?;
        Ok(record)
    }

    /// The first record whose value of one of `fields` (in order) is `identity`.
    fn find_by_identity(
        &self,
        collection: &Arc<Collection>,
        fields: &[String],
        identity: &str,
    ) -> Result<Option<Record>> {
        for field in fields {
            if collection.field_pos(field).is_none() {
                continue;
            }
            let expr = format!("{field} = {{:identity}}");
            if let Some(r) = self.find_first(collection, &expr, &[("identity", identity)])? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The collection's `authRule` after valid credentials: `null` forbids signing in,
    /// `""` allows it, an expression must match the record (e.g. `verified = true`).
    pub fn check_auth_rule(&self, collection: &Arc<Collection>, record: &Record) -> Result<()> {
        let denied = || {
            Error::new(
                Code::Forbidden,
                "The authentication is not allowed for this record.",
            )
        };
        let Some(Some(rule)) = collection.auth_rule.as_ref() else {
            return Err(denied());
        };
        if rule.trim().is_empty() {
            return Ok(());
        }
        let who = Principal::Auth {
            collection: collection.clone(),
            record: Arc::new(record.clone()),
        };
        let request = RequestInfo {
            auth: who.auth().map(|(c, r)| (c.clone(), r.clone())),
            ..RequestInfo::default()
        };
        let filter = Filter::compile(rule, collection, &self.catalog(), None)?;
        if filter.matches(record, self.store(), &request)? {
            Ok(())
        } else {
            Err(denied())
        }
    }

    /// Creates the superuser `email` or sets its password.
    pub fn upsert_superuser(&self, email: &str, password: &str) -> Result<()> {
        if password.len() < 8 {
            return Err(Error::bad_request(
                "The password must be at least 8 characters.",
            ));
        }
        if !email.contains('@') {
            return Err(Error::bad_request("Invalid email address."));
        }
        let collection = self.collection(SUPERUSERS)?;
        let hash = auth::hash_password(password)?;
        let now = crate::time::now();
        let write = match self.find_by_email(&collection, email)? {
            Some(old) => {
                let mut new = old.clone();
                set(&collection, &mut new, "password", Value::Text(hash));
                set(
                    &collection,
                    &mut new,
                    "tokenKey",
                    Value::Text(ids::random_string(50)),
                );
                set(&collection, &mut new, "updated", Value::Text(now));
                Write::Update {
                    collection: collection.clone(),
                    old,
                    new,
                }
            }
            None => {
                let mut record = Record::zero(&collection);
                record.values[0] = Value::Text(ids::new_id());
                set(
                    &collection,
                    &mut record,
                    "email",
                    Value::Text(email.to_owned()),
                );
                set(&collection, &mut record, "password", Value::Text(hash));
                set(
                    &collection,
                    &mut record,
                    "tokenKey",
                    Value::Text(ids::random_string(50)),
                );
                set(&collection, &mut record, "verified", Value::Bool(true));
                set(
                    &collection,
                    &mut record,
                    "created",
                    Value::Text(now.clone()),
                );
                set(&collection, &mut record, "updated", Value::Text(now));
                Write::Create {
                    collection: collection.clone(),
                    record,
                }
            }
        };
        self.write(vec![write])
    }

    /// Deletes the superuser `email`; an unknown email is a 404.
    pub fn delete_superuser(&self, email: &str) -> Result<()> {
        let collection = self.collection(SUPERUSERS)?;
        let old = self
            .find_by_email(&collection, email)?
            .ok_or_else(Error::not_found)?;
        self.write(vec![Write::Delete { collection, old }])
    }
}

impl Services {
    /// `{token, record}` as the auth endpoints return it, the record shown to its owner.
    pub fn auth_response(&self, collection: &Arc<Collection>, record: &Record) -> Result<Json> {
        let token = self.issue_token(collection, record)?;
        let owner = Principal::Auth {
            collection: collection.clone(),
            record: Arc::new(record.clone()),
        };
        let rendered = self.render_plain(&owner, collection, record);
        Ok(serde_json::json!({ "token": token, "record": rendered }))
    }
}
