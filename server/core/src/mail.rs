//! Outgoing mail: the port the SMTP transport implements (in the binary), and the
//! templating of PocketBase's email templates.

use crate::settings::Settings;
use crate::Result;

/// One email, addressed from the app's sender (`settings.meta`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub html: String,
}

/// Sends mail with the SMTP settings current at the time of the call. Blocking.
pub trait Mailer: Send + Sync + 'static {
    fn send(&self, settings: &Settings, mail: &Mail) -> Result<()>;
}

/// Fills `{APP_NAME}`, `{APP_URL}` and the given placeholders (`{TOKEN}`, `{OTP}`,
/// …) in a template. Values are HTML-escaped; they come from settings and tokens.
pub fn render(template: &str, settings: &Settings, vars: &[(&str, &str)]) -> String {
    let mut out = template
        .replace("{APP_NAME}", &escape(&settings.meta.app_name))
        .replace(
            "{APP_URL}",
            &escape(settings.meta.app_url.trim_end_matches('/')),
        );
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), &escape(v));
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_escape() {
        let mut s = Settings::default();
        s.meta.app_name = "A&B".into();
        let out = render(
            "<p>{APP_NAME} {APP_URL}/x/{TOKEN}</p>",
            &s,
            &[("TOKEN", "t<1>")],
        );
        assert_eq!(out, "<p>A&amp;B http://localhost:8090/x/t&lt;1&gt;</p>");
    }
}
