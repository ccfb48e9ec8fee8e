//! The email flows of auth collections: verification, password reset, email change,
//! and one-time passwords. Request endpoints never reveal whether an account exists:
//! they succeed alike and return the mail to send (if any) for the caller to send in
//! the background.

use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::{Pending, Principal, Services, SUPERUSERS};
use crate::auth::{self, Claims};
use crate::error::FieldErrors;
use crate::mail::{self, Mail};
use crate::record::input::{apply_input_as, Access, Input};
use crate::record::Record;
use crate::schema::auth_options::EmailTemplate;
use crate::schema::Collection;
use crate::store::Write;
use crate::value::Value;
use crate::{ids, Code, Error, Result};

/// The system collection of pending one-time passwords.
pub const OTPS: &str = "_otps";

const VERIFICATION: &str = "verification";
const PASSWORD_RESET: &str = "passwordReset";
const EMAIL_CHANGE: &str = "emailChange";
/// Wrong codes allowed per OTP before it is discarded.
const MAX_OTP_ATTEMPTS: i64 = 5;

fn text<'a>(c: &Collection, r: &'a Record, field: &str) -> &'a str {
    r.get(c, field).and_then(Value::as_str).unwrap_or_default()
}

fn invalid_token() -> Error {
    Error::invalid_field(
        "An error occurred while validating the submitted data.",
        "token",
        "validation_invalid_token",
        "Invalid or expired token.",
    )
}

fn require_email(field: &str, email: &str) -> Result<()> {
    let mut e = FieldErrors::default();
    if email.trim().is_empty() {
        e.add(field, "validation_required", "Cannot be blank.");
    } else if !crate::record::validators::is_email(email) {
        e.add(
            field,
            "validation_is_email",
            "Must be a valid email address.",
        );
    }
    e.into_result("An error occurred while validating the submitted data.")
}

fn require_auth(c: &Collection) -> Result<()> {
    if c.is_auth() {
        Ok(())
    } else {
        Err(Error::bad_request(
            "The collection is not an auth collection.",
        ))
    }
}

impl Services {
    /// Sends `mail` with the current settings through the attached mailer.
    pub fn send_mail(&self, mail: &Mail) -> Result<()> {
        let Some(mailer) = &self.mailer else {
            return Err(Error::new(Code::Unavailable, "No mailer is configured."));
        };
        mailer.send(&self.settings(), mail)
    }

    pub fn attach_mailer(&mut self, mailer: Arc<dyn mail::Mailer>) {
        self.mailer = Some(mailer);
    }

    pub(super) fn ensure_otp_collection(&self) -> Result<()> {
        if self.catalog().get(OTPS).is_some() {
            return Ok(());
        }
        let text = |name: &str| json!({"name": name, "type": "text"});
        let definition = json!({
            "name": OTPS,
            "type": "base",
            "system": true,
            "fields": [
                text("collectionRef"),
                text("recordRef"),
                {"name": "password", "type": "text", "hidden": true},
                text("sentTo"),
                {"name": "attempts", "type": "number"},
                {"name": "expires", "type": "number"},
            ],
        });
        let collection: Collection = serde_json::from_value(definition).map_err(Error::internal)?;
        self.create_collection_unchecked(collection)?;
        Ok(())
    }

    fn purpose_token(
        &self,
        c: &Collection,
        r: &Record,
        kind: &str,
        ttl: Option<i64>,
    ) -> Result<String> {
        let claims = Claims::purpose(
            kind,
            r.id(),
            &c.id,
            text(c, r, "email"),
            ttl.unwrap_or(1800),
        );
        auth::sign(&claims, &self.secret, text(c, r, "tokenKey"))
    }

    /// The record a purpose token of `kind` was issued for, if it is still valid: right
    /// signature (the record's current `tokenKey`), not expired, same email.
    fn token_record(
        &self,
        c: &Arc<Collection>,
        token: &str,
        kind: &str,
    ) -> Result<(Record, Claims)> {
        let claims = auth::peek(token).filter(|cl| cl.kind == kind && cl.collection_id == c.id);
        let Some(claims) = claims else {
            return Err(invalid_token());
        };
        let record = self.store.get(c, &claims.id)?.ok_or_else(invalid_token)?;
        let verified = auth::verify(token, &self.secret, text(c, &record, "tokenKey"))
            .map_err(|_| invalid_token())?;
        if verified.email.as_deref() != Some(text(c, &record, "email")) {
            return Err(invalid_token());
        }
        Ok((record, verified))
    }

    fn mail_from(&self, template: Option<&EmailTemplate>, to: &str, vars: &[(&str, &str)]) -> Mail {
        let settings = self.settings();
        let (subject, body) = template
            .map(|t| {
                (
                    t.subject.clone().unwrap_or_default(),
                    t.body.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        Mail {
            to: to.to_owned(),
            subject: mail::render(&subject, &settings, vars).replace("&amp;", "&"),
            html: mail::render(&body, &settings, vars),
        }
    }

    /// Applies `body` to `old` with full access (the token or OTP proved the right to
    /// it): hashing, `tokenKey` rotation and autodates as for any write.
    fn system_update(
        &self,
        c: &Arc<Collection>,
        old: Record,
        body: Json,
    ) -> Result<(Record, Pending)> {
        let Json::Object(body) = body else {
            return Err(Error::internal("system update body is not an object"));
        };
        let input = Input {
            access: Access::Superuser,
            new_files: &[],
        };
        let new = apply_input_as(c, Some(&old), &body, self.store(), &self.catalog(), &input)?;
        let pending = self.commit(vec![Write::Update {
            collection: c.clone(),
            old,
            new: new.clone(),
        }])?;
        Ok((new, pending))
    }

    pub fn request_verification(&self, c: &Arc<Collection>, email: &str) -> Result<Option<Mail>> {
        require_auth(c)?;
        require_email("email", email)?;
        let Some(record) = self.find_by_email(c, email)? else {
            return Ok(None);
        };
        if record.get(c, "verified").and_then(Value::as_bool) == Some(true) {
            return Ok(None);
        }
        let o = &c.auth_options;
        let ttl = o.verification_token.as_ref().and_then(|t| t.duration);
        let token = self.purpose_token(c, &record, VERIFICATION, ttl)?;
        Ok(Some(self.mail_from(
            o.verification_template.as_ref(),
            email,
            &[("TOKEN", &token)],
        )))
    }

    pub fn confirm_verification(
        &self,
        c: &Arc<Collection>,
        token: &str,
    ) -> Result<Option<Pending>> {
        require_auth(c)?;
        let (record, _) = self.token_record(c, token, VERIFICATION)?;
        if record.get(c, "verified").and_then(Value::as_bool) == Some(true) {
            return Ok(None);
        }
        Ok(Some(
            self.system_update(c, record, json!({"verified": true}))?.1,
        ))
    }

    pub fn request_password_reset(&self, c: &Arc<Collection>, email: &str) -> Result<Option<Mail>> {
        require_auth(c)?;
        require_email("email", email)?;
        let Some(record) = self.find_by_email(c, email)? else {
            return Ok(None);
        };
        let o = &c.auth_options;
        let ttl = o.password_reset_token.as_ref().and_then(|t| t.duration);
        let token = self.purpose_token(c, &record, PASSWORD_RESET, ttl)?;
        Ok(Some(self.mail_from(
            o.reset_password_template.as_ref(),
            email,
            &[("TOKEN", &token)],
        )))
    }

    /// Sets the new password; the record's `tokenKey` changes, so the reset token and
    /// every earlier auth token stop working.
    pub fn confirm_password_reset(
        &self,
        c: &Arc<Collection>,
        token: &str,
        password: &str,
        confirm: &str,
    ) -> Result<Pending> {
        require_auth(c)?;
        let (record, _) = self.token_record(c, token, PASSWORD_RESET)?;
        let mut body = json!({"password": password, "passwordConfirm": confirm});
        if c.name != SUPERUSERS {
            // Following the link proves the address as well (PocketBase does the same).
            body["verified"] = json!(true);
        }
        Ok(self.system_update(c, record, body)?.1)
    }

    /// The signed-in owner asks to move to `new_email`; the link goes to the new address.
    pub fn request_email_change(
        &self,
        who: &Principal,
        c: &Arc<Collection>,
        new_email: &str,
    ) -> Result<Mail> {
        require_auth(c)?;
        let Some((ac, record)) = who.auth().filter(|(ac, _)| ac.id == c.id) else {
            return Err(Error::from_code(Code::Unauthenticated));
        };
        require_email("newEmail", new_email)?;
        let taken = self.find_by_email(ac, new_email)?.is_some();
        if taken || text(c, record, "email").eq_ignore_ascii_case(new_email) {
            return Err(Error::invalid_field(
                "An error occurred while validating the submitted data.",
                "newEmail",
                "validation_invalid_new_email",
                "Invalid new email address.",
            ));
        }
        let o = &c.auth_options;
        let ttl = o.email_change_token.as_ref().and_then(|t| t.duration);
        let mut claims = Claims::purpose(
            EMAIL_CHANGE,
            record.id(),
            &c.id,
            text(c, record, "email"),
            ttl.unwrap_or(1800),
        );
        claims.new_email = Some(new_email.to_owned());
        let token = auth::sign(&claims, &self.secret, text(c, record, "tokenKey"))?;
        Ok(self.mail_from(
            o.confirm_email_change_template.as_ref(),
            new_email,
            &[("TOKEN", &token)],
        ))
    }

    /// Completes an email change; needs the account's password as well as the token.
    pub fn confirm_email_change(
        &self,
        c: &Arc<Collection>,
        token: &str,
        password: &str,
    ) -> Result<Pending> {
        require_auth(c)?;
        let (record, claims) = self.token_record(c, token, EMAIL_CHANGE)?;
        if !auth::verify_password(password, text(c, &record, "password")) {
            return Err(Error::invalid_field(
                "An error occurred while validating the submitted data.",
                "password",
                "validation_invalid_password",
                "Missing or invalid auth record password.",
            ));
        }
        let new_email = claims.new_email.unwrap_or_default();
        require_email("newEmail", &new_email).map_err(|_| invalid_token())?;
        Ok(self
            .system_update(c, record, json!({"email": new_email, "verified": true}))?
            .1)
    }

    /// Starts an OTP sign-in: always returns an OTP id (a decoy when the email is
    /// unknown, so the response reveals nothing), and the mail with the code to send.
    pub fn request_otp(
        &self,
        c: &Arc<Collection>,
        email: &str,
    ) -> Result<(String, Option<Mail>, Option<Pending>)> {
        require_auth(c)?;
        let otp = c.auth_options.otp.clone().unwrap_or_default();
        if otp.enabled != Some(true) {
            return Err(Error::new(
                Code::Forbidden,
                "The collection is not configured to allow OTP authentication.",
            ));
        }
        require_email("email", email)?;
        let id = ids::new_id();
        let Some(record) = self.find_by_email(c, email)? else {
            return Ok((id, None, None));
        };
        let length = otp.length.unwrap_or(8).clamp(4, 32) as usize;
        let code: String = ids::random_digits(length);
        let oc = self.collection(OTPS)?;
        let mut row = Record::zero(&oc);
        row.values[0] = Value::Text(id.clone());
        let expires = chrono::Utc::now().timestamp() + otp.duration.unwrap_or(180).max(1);
        for (field, v) in [
            ("collectionRef", Value::Text(c.id.clone())),
            ("recordRef", Value::Text(record.id().to_owned())),
            ("password", Value::Text(auth::hash_password(&code)?)),
            ("sentTo", Value::Text(email.to_owned())),
            ("attempts", Value::Number(0.0)),
            ("expires", Value::Number(expires as f64)),
        ] {
            if let Some(i) = oc.field_pos(field) {
                row.values[i] = v;
            }
        }
        let pending = self.commit(vec![Write::Create {
            collection: oc,
            record: row,
        }])?;
        let template = otp.email_template.as_ref();
        Ok((
            id,
            Some(self.mail_from(template, email, &[("OTP", &code)])),
            Some(pending),
        ))
    }

    /// Completes an OTP sign-in. The OTP is single use, expires, and is discarded after
    /// a few wrong codes. Verifies the email as PocketBase does (the code came by mail).
    pub fn auth_with_otp(
        &self,
        c: &Arc<Collection>,
        otp_id: &str,
        code: &str,
    ) -> Result<(Record, Pending)> {
        require_auth(c)?;
        let fail = || Error::new(Code::InvalidCredentials, "Invalid or expired OTP.");
        let oc = self.collection(OTPS)?;
        let mut blank = FieldErrors::default();
        if otp_id.is_empty() {
            blank.add("otpId", "validation_required", "Cannot be blank.");
        }
        if code.is_empty() {
            blank.add("password", "validation_required", "Cannot be blank.");
        }
        blank.into_result("An error occurred while validating the submitted data.")?;
        let Some(row) = self.store.get(&oc, otp_id)? else {
            auth::dummy_verify(code);
            return Err(fail());
        };
        let num = |f: &str| row.get(&oc, f).and_then(Value::as_f64).unwrap_or(0.0) as i64;
        let expired =
            num("expires") < chrono::Utc::now().timestamp() || num("attempts") >= MAX_OTP_ATTEMPTS;
        if text(&oc, &row, "collectionRef") != c.id || expired {
            let _ = self.commit(vec![Write::Delete {
                collection: oc.clone(),
                old: row,
            }]);
            return Err(fail());
        }
        if !auth::verify_password(code, text(&oc, &row, "password")) {
            let mut next = row.clone();
            if let Some(i) = oc.field_pos("attempts") {
                next.values[i] = Value::Number((num("attempts") + 1) as f64);
            }
            let _ = self.commit(vec![Write::Update {
                collection: oc,
                old: row,
                new: next,
            }]);
            return Err(fail());
        }
        let record = self
            .store
            .get(c, text(&oc, &row, "recordRef"))?
            .ok_or_else(fail)?;
        self.check_auth_rule(c, &record)?;
        let mut writes = vec![Write::Delete {
            collection: oc.clone(),
            old: row.clone(),
        }];
        let sent_to = text(&oc, &row, "sentTo");
        let unverified = record.get(c, "verified").and_then(Value::as_bool) != Some(true);
        let mut out = record.clone();
        if unverified && text(c, &record, "email") == sent_to {
            let input = Input {
                access: Access::Superuser,
                new_files: &[],
            };
            let body: Map<String, Json> =
                [("verified".to_owned(), json!(true))].into_iter().collect();
            out = apply_input_as(
                c,
                Some(&record),
                &body,
                self.store(),
                &self.catalog(),
                &input,
            )?;
            writes.push(Write::Update {
                collection: c.clone(),
                old: record,
                new: out.clone(),
            });
        }
        let pending = self.commit(writes)?;
        Ok((out, pending))
    }

    /// Deletes expired OTPs; called now and then by the server.
    pub fn purge_expired_otps(&self) -> Result<usize> {
        let oc = self.collection(OTPS)?;
        let now = chrono::Utc::now().timestamp();
        let mut expired = Vec::new();
        self.store.scan(&oc, &mut |r| {
            if r.get(&oc, "expires").and_then(Value::as_f64).unwrap_or(0.0) < now as f64 {
                expired.push(r);
            }
            expired.len() < 10_000
        })?;
        let n = expired.len();
        if n > 0 {
            let writes = expired
                .into_iter()
                .map(|old| Write::Delete {
                    collection: oc.clone(),
                    old,
                })
                .collect();
            self.write(writes)?;
        }
        Ok(n)
    }
}
