//! Checks of the auth-only options (`authRule`, `manageRule`, `passwordAuth`,
//! `authToken`, `otp`, `mfa`, the email templates, …), as PocketBase runs them: every
//! option reports its first problem; the cross-option checks (MFA needs two methods,
//! identity fields need unique indexes) only run when the options themselves are fine.

use super::indexes::has_single_unique_index;
use super::settings::{not_greater_than, not_less_than};
use super::{rule_problem, system_rule_change, Problems};
use crate::error::FieldError;
use crate::schema::auth_options::{EmailTemplate, TokenConfig};
use crate::schema::{Catalog, Collection};

/// The longest token lifetime, in seconds (about three years).
const MAX_TOKEN_DURATION: i64 = 94_670_856;

fn required() -> FieldError {
    FieldError::new("validation_required", "Cannot be blank.")
}

/// Problems with paths from the collection root (`authToken.duration`, …).
pub fn check(c: &Collection, old: Option<&Collection>, catalog: &Catalog) -> Problems {
    let mut out = Problems::new();
    let mut put = |key: &str, err: Option<FieldError>| {
        if let Some(err) = err {
            out.push((key.to_owned(), err));
        }
    };
    let system_old = old.filter(|o| o.system);
    let auth_rule = c.auth_rule.clone().flatten();
    let old_auth_rule = system_old.map(|o| o.auth_rule.clone().flatten());
    put(
        "authRule",
        rule_problem(auth_rule.as_deref(), c, catalog)
            .or_else(|| system_rule_change(old_auth_rule, &auth_rule)),
    );
    let manage_rule = c.manage_rule.clone().flatten();
    let old_manage_rule = system_old.map(|o| o.manage_rule.clone().flatten());
    let manage = if manage_rule.as_deref() == Some("") {
        Some(FieldError::new(
            "validation_nil_or_not_empty_required",
            "Cannot be blank.",
        ))
    } else {
        rule_problem(manage_rule.as_deref(), c, catalog)
            .or_else(|| system_rule_change(old_manage_rule, &manage_rule))
    };
    put("manageRule", manage);
    let o = &c.auth_options;
    if let Some(alert) = &o.auth_alert {
        template_fields(
            "authAlert.emailTemplate",
            alert.email_template.as_ref(),
            &mut put,
        );
    }
    if let Some(pa) = &o.password_auth {
        let fields = unique(pa.identity_fields.as_deref().unwrap_or_default());
        let missing = pa.enabled == Some(true) && fields.is_empty();
        put("passwordAuth.identityFields", missing.then(required));
    }
    if let Some(oauth2) = o.oauth2.as_ref().filter(|x| x.enabled == Some(true)) {
        let mut seen: Vec<&str> = Vec::new();
        for (i, p) in oauth2.providers.iter().flatten().enumerate() {
            let name = p.get("name").and_then(|n| n.as_str()).unwrap_or_default();
            if let Err(key) = crate::service::resolve_oauth2_provider(p) {
                put(&format!("oauth2.providers.{i}.{key}"), Some(required()));
                break;
            }
            if seen.contains(&name) {
                put(
                    &format!("oauth2.providers.{i}.name"),
                    Some(
                        FieldError::new(
                            "validation_duplicated_provider",
                            format!("The provider {name} is already registered."),
                        )
                        .param("name", name),
                    ),
                );
                break;
            }
            seen.push(name);
        }
    }
    if let Some(otp) = &o.otp {
        if otp.enabled == Some(true) {
            put("otp.duration", duration(otp.duration, 86_400));
            let length = otp.length.unwrap_or(0);
            let length = if length == 0 {
                Some(required())
            } else {
                (length < 4).then(|| not_less_than(4))
            };
            put("otp.length", length);
        }
        template_fields("otp.emailTemplate", otp.email_template.as_ref(), &mut put);
    }
    if let Some(mfa) = o.mfa.as_ref().filter(|m| m.enabled == Some(true)) {
        put("mfa.duration", duration(mfa.duration, 86_400));
    }
    let tokens: [(&str, &Option<TokenConfig>); 5] = [
        ("authToken", &o.auth_token),
        ("passwordResetToken", &o.password_reset_token),
        ("emailChangeToken", &o.email_change_token),
        ("verificationToken", &o.verification_token),
        ("fileToken", &o.file_token),
    ];
    for (key, token) in tokens {
        let seconds = token.as_ref().and_then(|t| t.duration);
        put(
            &format!("{key}.duration"),
            duration(seconds, MAX_TOKEN_DURATION),
        );
    }
    let templates = [
        ("verificationTemplate", &o.verification_template),
        ("resetPasswordTemplate", &o.reset_password_template),
        (
            "confirmEmailChangeTemplate",
            &o.confirm_email_change_template,
        ),
    ];
    for (key, template) in templates {
        template_fields(key, template.as_ref(), &mut put);
    }
    if out.is_empty() {
        out = cross_checks(c, old, catalog);
    }
    out
}

fn template_fields(
    key: &str,
    t: Option<&EmailTemplate>,
    put: &mut impl FnMut(&str, Option<FieldError>),
) {
    let blank = |s: Option<&String>| s.is_none_or(String::is_empty);
    put(
        &format!("{key}.subject"),
        blank(t.and_then(|t| t.subject.as_ref())).then(required),
    );
    put(
        &format!("{key}.body"),
        blank(t.and_then(|t| t.body.as_ref())).then(required),
    );
}

fn duration(seconds: Option<i64>, max: i64) -> Option<FieldError> {
    match seconds.unwrap_or(0) {
        0 => Some(required()),
        s if s < 10 => Some(not_less_than(10)),
        s if s > max => Some(not_greater_than(max)),
        _ => None,
    }
}

fn unique(items: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !i.is_empty() && !out.contains(&i.as_str()) {
            out.push(i);
        }
    }
    out
}

fn cross_checks(c: &Collection, old: Option<&Collection>, catalog: &Catalog) -> Problems {
    let o = &c.auth_options;
    let on = |b: Option<bool>| b == Some(true);
    if let Some(mfa) = o.mfa.as_ref().filter(|m| on(m.enabled)) {
        let methods = [
            o.password_auth.as_ref().is_some_and(|p| on(p.enabled)),
            o.oauth2.as_ref().is_some_and(|p| on(p.enabled)),
            o.otp.as_ref().is_some_and(|p| on(p.enabled)),
        ];
        if methods.iter().filter(|m| **m).count() < 2 {
            return vec![(
                "mfa.enabled".to_owned(),
                FieldError::new(
                    "validation_mfa_not_enough_auths",
                    "MFA requires at least 2 auth methods to be enabled.",
                ),
            )];
        }
        let rule = mfa.rule.clone().filter(|r| !r.is_empty());
        let old_rule = old.filter(|o| o.system).map(|o| {
            o.auth_options
                .mfa
                .as_ref()
                .and_then(|m| m.rule.clone())
                .filter(|r| !r.is_empty())
        });
        let problem = rule_problem(rule.as_deref(), c, catalog)
            .or_else(|| system_rule_change(old_rule, &rule));
        if let Some(err) = problem {
            return vec![("mfa.rule".to_owned(), err)];
        }
    }
    let Some(pa) = o.password_auth.as_ref().filter(|p| on(p.enabled)) else {
        return Vec::new();
    };
    for name in unique(pa.identity_fields.as_deref().unwrap_or_default()) {
        let err = if c.field(name).is_none() {
            FieldError::new(
                "validation_missing_field",
                format!("Invalid or missing field {name}."),
            )
        } else if !has_single_unique_index(&c.indexes, name) {
            FieldError::new(
                "validation_missing_unique_constraint",
                format!("The field {name} doesn't have a UNIQUE constraint."),
            )
        } else {
            continue;
        };
        return vec![(
            "passwordAuth.identityFields".to_owned(),
            err.param("fieldName", name),
        )];
    }
    Vec::new()
}
