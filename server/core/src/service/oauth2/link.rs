//! Finding or creating the auth record of a provider user, and linking the two
//! (steps 1–4 of the module docs of `oauth2`).

use std::sync::Arc;

use serde_json::Value as Json;

use super::providers::{AuthUser, Provider};
use super::{set, text, OAuth2Login, EXTERNAL_AUTHS, RANDOM_PASSWORD_LEN};
use crate::auth;
use crate::filter::RequestInfo;
use crate::record::Record;
use crate::schema::Collection;
use crate::service::{Action, Principal, Services, SUPERUSERS};
use crate::store::Write;
use crate::value::Value;
use crate::{ids, Code, Error, Result};

impl Services {
    /// Steps 1–4 of the module docs, committed with the link in one write. Returns the
    /// record and whether it is new.
    pub(super) fn link_account(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        provider: &Provider,
        user: &AuthUser,
        login: &OAuth2Login,
        request: &RequestInfo,
    ) -> Result<(Record, bool)> {
        let links = self.collection(EXTERNAL_AUTHS)?;
        let mut writes = Vec::new();
        let link = self.find_first(
            &links,
            "collectionRef = {:c} && provider = {:p} && providerId = {:id}",
            &[
                ("c", &collection.id),
                ("p", &provider.name),
                ("id", &user.id),
            ],
        )?;
        let mut found = None;
        let mut linked = false;
        if let Some(link) = link {
            let record_id = text(&links, &link, "recordRef").to_owned();
            match self.store.get(collection, &record_id)? {
                Some(r) => {
                    found = Some(r);
                    linked = true;
                }
                // The record was deleted: drop the stale link and start over.
                None => writes.push(Write::Delete {
                    collection: links.clone(),
                    old: link,
                }),
            }
        }
        let signed_in = match who.auth() {
            Some((c, r)) if c.id == collection.id => Some(Record::clone(r)),
            _ => None,
        };
        if found.is_none() {
            found = signed_in.clone();
        }
        if found.is_none() && !user.email.is_empty() {
            found = self.find_by_email(collection, &user.email)?;
        }
        let (record, is_new) = match found {
            Some(old) => {
                let is_signed_in = signed_in.as_ref().is_some_and(|r| r.id() == old.id());
                let new = self.refresh_linked(collection, &old, user, is_signed_in)?;
                if new != old {
                    writes.push(Write::Update {
                        collection: collection.clone(),
                        old,
                        new: new.clone(),
                    });
                }
                (new, false)
            }
            None => {
                if collection.name == SUPERUSERS {
                    return Err(Error::new(
                        Code::InvalidCredentials,
                        "Failed to authenticate.",
                    ));
                }
                let record = self.oauth2_new_record(who, collection, user, login, request)?;
                writes.push(Write::Create {
                    collection: collection.clone(),
                    record: record.clone(),
                });
                (record, true)
            }
        };
        if !linked {
            let mut link = Record::zero(&links);
            link.values[0] = Value::Text(ids::new_id());
            let now = crate::time::now();
            for (field, value) in [
                ("collectionRef", collection.id.as_str()),
                ("recordRef", record.id()),
                ("provider", provider.name.as_str()),
                ("providerId", user.id.as_str()),
                ("created", now.as_str()),
                ("updated", now.as_str()),
            ] {
                set(&links, &mut link, field, Value::Text(value.to_owned()));
            }
            writes.push(Write::Create {
                collection: links,
                record: link,
            });
        }
        if !writes.is_empty() {
            self.write(writes).map_err(|e| match e.kind() {
                crate::Kind::Internal | crate::Kind::Unavailable => e,
                _ => {
                    tracing::debug!(error = %e, "oauth2 link not saved");
                    Error::new(Code::InvalidCredentials, "Failed to authenticate.")
                }
            })?;
        }
        Ok((record, is_new))
    }

    /// An existing record found for a provider user: a never-verified record that is
    /// not the caller's own gets a random password (and new token key), an empty email
    /// takes the provider's verified one, and the record becomes verified when its
    /// email is (or matches) the provider's.
    fn refresh_linked(
        &self,
        collection: &Collection,
        old: &Record,
        user: &AuthUser,
        is_signed_in: bool,
    ) -> Result<Record> {
        let mut new = old.clone();
        let verified = old
            .get(collection, "verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let email = text(collection, old, "email").to_owned();
        if !is_signed_in && !email.is_empty() && !verified {
            let hash = auth::hash_password(&ids::random_string(RANDOM_PASSWORD_LEN))?;
            set(collection, &mut new, "password", Value::Text(hash));
            set(
                collection,
                &mut new,
                "tokenKey",
                Value::Text(ids::random_string(50)),
            );
        }
        if email.is_empty() && !user.email.is_empty() {
            set(
                collection,
                &mut new,
                "email",
                Value::Text(user.email.clone()),
            );
        }
        if !verified && (email.is_empty() || email == user.email) {
            set(collection, &mut new, "verified", Value::Bool(true));
        }
        if new != *old {
            set(
                collection,
                &mut new,
                "updated",
                Value::Text(crate::time::now()),
            );
        }
        Ok(new)
    }

    /// A new record from `createData`, the provider's verified email (which replaces
    /// any submitted one), a random password and the mapped fields, through the
    /// `createRule` with `@request.context = "oauth2"`.
    fn oauth2_new_record(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        user: &AuthUser,
        login: &OAuth2Login,
        request: &RequestInfo,
    ) -> Result<Record> {
        let mut payload = login.create_data.clone();
        payload.insert("email".into(), Json::String(user.email.clone()));
        let has_password = payload
            .get("password")
            .and_then(Json::as_str)
            .is_some_and(|p| !p.is_empty());
        if !has_password {
            let password = Json::String(ids::random_string(RANDOM_PASSWORD_LEN));
            payload.insert("password".into(), password.clone());
            payload.insert("passwordConfirm".into(), password);
        }
        let mapped = collection
            .auth_options
            .oauth2
            .as_ref()
            .and_then(|o| o.mapped_fields.clone())
            .unwrap_or_default();
        let mut map = |field: Option<String>, value: &str| {
            if let Some(field) = field.filter(|f| !f.is_empty() && !value.is_empty()) {
                payload
                    .entry(field)
                    .or_insert_with(|| Json::String(value.to_owned()));
            }
        };
        map(mapped.id, &user.id);
        map(mapped.name, &user.name);
        let avatar_field = mapped.avatar_url.filter(|f| {
            // File fields would need a download; only text-like fields take the URL.
            collection
                .field(f)
                .is_some_and(|fd| !matches!(fd.kind, crate::schema::field::FieldKind::File(_)))
        });
        map(avatar_field, &user.avatar_url);
        if let Some(field) = mapped.username.filter(|f| !f.is_empty()) {
            let taken = !user.username.is_empty()
                && collection.field(&field).is_some()
                && self
                    .find_first(
                        collection,
                        &format!("{field} = {{:v}}"),
                        &[("v", &user.username)],
                    )?
                    .is_some();
            if !taken {
                map(Some(field), &user.username);
            }
        }
        let mut request = request.clone();
        request.context = "oauth2".into();
        request.body = payload.clone();
        let permit = self.authorize(who, collection, Action::Create, request)?;
        let create = crate::store::Action::Create;
        self.run_before_hooks(
            self.store(),
            &permit,
            collection,
            create,
            None,
            &mut payload,
        )?;
        let mut record = self.prepare_create(self.store(), &permit, collection, &payload, &[])?;
        if text(collection, &record, "email") == user.email {
            set(collection, &mut record, "verified", Value::Bool(true));
        }
        Ok(record)
    }
}
