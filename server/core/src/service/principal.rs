//! Who is calling: token resolution, password auth and superuser management.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Services, SUPERUSERS};
use crate::auth::{self, Claims};
use crate::filter::Filter;
use crate::ids;
use crate::record::Record;
use crate::schema::Collection;
use crate::store::{Query, Write};
use crate::value::Value;
use crate::{Code, Error, Result};

/// The caller of a request.
#[derive(Clone, Debug)]
pub enum Principal {
    Guest,
    Superuser {
        collection: Arc<Collection>,
        record: Record,
    },
    Auth {
        collection: Arc<Collection>,
        record: Record,
    },
}

impl Principal {
    pub fn is_superuser(&self) -> bool {
        matches!(self, Principal::Superuser { .. })
    }

    /// The authenticated record and its collection, if any.
    pub fn auth(&self) -> Option<(&Arc<Collection>, &Record)> {
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
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        if token.is_empty() {
            return Principal::Guest;
        }
        let Some(claims) = auth::peek(token) else {
            return Principal::Guest;
        };
        if claims.kind != "auth" {
            return Principal::Guest;
        }
        let catalog = self.catalog();
        let Some(collection) = catalog.by_id(&claims.collection_id).cloned() else {
            return Principal::Guest;
        };
        let Ok(Some(record)) = self.store.get(&collection, &claims.id) else {
            return Principal::Guest;
        };
        if auth::verify(token, &self.secret, text(&collection, &record, "tokenKey")).is_err() {
            return Principal::Guest;
        }
        if collection.name == SUPERUSERS {
            Principal::Superuser { collection, record }
        } else {
            Principal::Auth { collection, record }
        }
    }

    /// A fresh token for `record`.
    pub fn issue_token(&self, collection: &Collection, record: &Record) -> Result<String> {
        let ttl = if collection.name == SUPERUSERS {
            self.limits.superuser_token_secs
        } else {
            self.limits.auth_token_secs
        };
        let claims = Claims::auth(record.id(), &collection.id, ttl);
        auth::sign(&claims, &self.secret, text(collection, record, "tokenKey"))
    }

    /// Finds the auth record of `collection` whose `email` is `identity`.
    pub fn find_by_email(
        &self,
        collection: &Arc<Collection>,
        identity: &str,
    ) -> Result<Option<Record>> {
        let mut params = Map::new();
        params.insert("identity".into(), Json::String(identity.to_owned()));
        let filter = Filter::compile(
            "email = {:identity}",
            collection,
            &self.catalog(),
            Some(&params),
        )?;
        let query = Query {
            filter: Some(filter),
            limit: 1,
            ..Query::default()
        };
        Ok(self
            .store
            .query(collection, &query)?
            .records
            .into_iter()
            .next())
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
        let Some(record) = self.find_by_email(collection, identity)? else {
            auth::dummy_verify(password);
            return Err(fail());
        };
        if !auth::verify_password(password, text(collection, &record, "password")) {
            return Err(fail());
        }
        Ok(record)
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
            record: record.clone(),
        };
        let rendered = self.render_plain(&owner, collection, record);
        Ok(serde_json::json!({ "token": token, "record": rendered }))
    }
}
