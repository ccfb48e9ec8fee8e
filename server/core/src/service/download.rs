//! Tokens in query strings for downloads a browser starts itself (backup archives):
//! PocketBase's short-lived file tokens, or an auth token, of a superuser.

use super::{Services, SUPERUSERS};
use crate::auth;
use crate::value::Value;

impl Services {
    /// Whether `token` (a `file` or `auth` token) belongs to a superuser and verifies.
    pub fn is_superuser_download_token(&self, token: &str) -> bool {
        let Some(claims) = auth::peek(token) else {
            return false;
        };
        if claims.kind != "file" && claims.kind != "auth" {
            return false;
        }
        let catalog = self.catalog();
        let Some(collection) = catalog.by_id(&claims.collection_id).cloned() else {
            return false;
        };
        if collection.name != SUPERUSERS {
            return false;
        }
        let Ok(Some(record)) = self.store.get(&collection, &claims.id) else {
            return false;
        };
        let key = record
            .get(&collection, "tokenKey")
            .and_then(Value::as_str)
            .unwrap_or_default();
        auth::verify(token, &self.secret, key).is_ok()
    }
}
