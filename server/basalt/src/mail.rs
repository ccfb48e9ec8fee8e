//! The SMTP mailer (lettre), configured from the app settings at each send so that
//! changed SMTP settings apply without a restart.

use std::time::Duration;

use basalt_core::mail::{Mail, Mailer};
use basalt_core::settings::Settings;
use basalt_core::{Code, Error, Result};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmtpMailer;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::bad_request(format!("Failed to send the email ({what}): {e}."))
}

impl Mailer for SmtpMailer {
    fn send(&self, settings: &Settings, mail: &Mail) -> Result<()> {
        let smtp = &settings.smtp;
        if !smtp.enabled {
            return Err(Error::new(
                Code::Unavailable,
                "Mail is not configured: enable smtp in the settings.",
            ));
        }
        let sender = settings
            .meta
            .sender_address
            .parse()
            .map_err(|e| failed("sender address", e))?;
        let from = Mailbox::new(Some(settings.meta.sender_name.clone()), sender);
        let to: Mailbox = mail.to.parse().map_err(|e| failed("recipient", e))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_HTML)
            .body(mail.html.clone())
            .map_err(|e| failed("message", e))?;
        let tls = TlsParameters::new(smtp.host.clone()).map_err(|e| failed("tls", e))?;
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.as_str())
            .port(smtp.port)
            .timeout(Some(SMTP_TIMEOUT))
            .tls(if smtp.tls {
                Tls::Wrapper(tls)
            } else {
                Tls::Opportunistic(tls)
            });
        if !smtp.username.is_empty() {
            let mechanism = if smtp.auth_method == "LOGIN" {
                Mechanism::Login
            } else {
                Mechanism::Plain
            };
            builder = builder
                .credentials(Credentials::new(
                    smtp.username.clone(),
                    smtp.password.clone(),
                ))
                .authentication(vec![mechanism]);
        }
        if !smtp.local_name.is_empty() {
            builder = builder.hello_name(ClientId::Domain(smtp.local_name.clone()));
        }
        builder
            .build()
            .send(&message)
            .map(|_| ())
            .map_err(|e| failed("smtp", e))
    }
}
