use serde_json::json;

use super::*;

/// Expected value computed independently (Python's hashlib + urlsafe base64).
#[test]
fn s256_is_unpadded_base64url_of_sha256() {
    assert_eq!(
        s256_challenge("dBjftJeZ4CVP-mJ92K9A7uAVJ6DqU5jbzF-VCpy6KRA"),
        "2EDgJyn3DHGSEAe-8AJIwkGVaasZSxGw0QrFZ7jYNXg"
    );
}

#[test]
fn client_secrets_are_hidden() {
    let mut c = json!({"oauth2": {"providers": [
        {"name": "google", "clientId": "id", "clientSecret": "s3cret"},
        {"name": "github", "clientId": "id2"},
    ]}});
    hide_client_secrets(&mut c);
    assert!(!c.to_string().contains("s3cret"));
    assert_eq!(c["oauth2"]["providers"][0]["clientId"], "id");
}

#[test]
fn login_bodies_read_the_deprecated_redirect_key() {
    let body = json!({"provider": "oidc", "code": "c", "redirectUrl": "http://x"});
    let login = OAuth2Login::from_body(body.as_object().unwrap()).unwrap();
    assert_eq!(login.redirect_url, "http://x");
    let bad = json!({"createData": 5});
    assert!(OAuth2Login::from_body(bad.as_object().unwrap()).is_err());
}
