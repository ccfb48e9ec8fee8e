//! Password hashing (argon2id) and auth tokens (HS256 JWTs shaped like PocketBase's).
//!
//! A token is signed with the app secret joined with the record's `tokenKey`, so that
//! changing a record's `tokenKey` (password change, "log out everywhere") invalidates
//! every token issued for it.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{Code, Error, Result};

/// A PHC-format argon2id hash of `password`.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

/// Whether `password` matches `hash`. An empty or malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A fixed, valid hash to compare against when the identity is unknown, so that the
/// time taken does not reveal which accounts exist.
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("basalt-dummy-password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// The claims of an auth token (PocketBase's shape).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub id: String,
    pub collection_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub refreshable: bool,
    pub exp: i64,
    /// Verification, password-reset and email-change tokens: the email they were
    /// issued for, so a token stops working once the email changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
}

impl Claims {
    pub fn auth(id: &str, collection_id: &str, ttl_secs: i64) -> Claims {
        Claims {
            id: id.to_owned(),
            collection_id: collection_id.to_owned(),
            kind: "auth".to_owned(),
            refreshable: true,
            exp: chrono::Utc::now().timestamp() + ttl_secs,
            email: None,
            new_email: None,
        }
    }

    /// A single-purpose token (`verification`, `passwordReset`, `emailChange`): never
    /// accepted as an auth token.
    pub fn purpose(
        kind: &str,
        id: &str,
        collection_id: &str,
        email: &str,
        ttl_secs: i64,
    ) -> Claims {
        Claims {
            kind: kind.to_owned(),
            refreshable: false,
            email: Some(email.to_owned()),
            ..Claims::auth(id, collection_id, ttl_secs)
        }
    }
}

fn key(app_secret: &str, token_key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(app_secret.len() + token_key.len() + 1);
    k.extend_from_slice(app_secret.as_bytes());
    k.push(b':');
    k.extend_from_slice(token_key.as_bytes());
    k
}

pub fn sign(claims: &Claims, app_secret: &str, token_key: &str) -> Result<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&key(app_secret, token_key)),
    )
    .map_err(Error::internal)
}

/// Reads the claims without checking the signature: used only to find which record's
/// `tokenKey` to verify with. Never trust the result before [`verify`].
pub fn peek(token: &str) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.insecure_disable_signature_validation();
    v.validate_exp = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &v)
        .ok()
        .map(|d| d.claims)
}

/// Verifies signature and expiry.
pub fn verify(token: &str, app_secret: &str, token_key: &str) -> Result<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.required_spec_claims = ["exp".to_owned()].into_iter().collect();
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&key(app_secret, token_key)),
        &v,
    )
    .map(|d| d.claims)
    .map_err(|_| Error::from_code(Code::Unauthenticated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", ""));
    }

    #[test]
    fn tokens_are_bound_to_the_token_key() {
        let c = Claims::auth("abc", "coll", 60);
        let t = sign(&c, "secret", "tk1").unwrap();
        assert_eq!(peek(&t).unwrap(), c);
        assert_eq!(verify(&t, "secret", "tk1").unwrap(), c);
        assert!(verify(&t, "secret", "tk2").is_err());
        assert!(verify(&t, "other", "tk1").is_err());
        let expired = sign(&Claims::auth("abc", "coll", -10), "secret", "tk1").unwrap();
        assert!(verify(&expired, "secret", "tk1").is_err());
    }
}
