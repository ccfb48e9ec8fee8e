//! The email, URL and domain checks PocketBase applies (those of the Go `govalidator`
//! and `ozzo-validation` packages), rebuilt on the `regex` crate.

use std::sync::OnceLock;

use regex::Regex;

/// Letters outside ASCII that email addresses may use.
const UCS: &str = r"\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}";

fn email_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&RE, || {
        let atom_char = format!(r"(?:[a-zA-Z0-9!#$%&'*+\-/=?^_`{{|}}~]|[{UCS}])");
        let dot_atom = format!(r"{atom_char}+(?:\.{atom_char}+)*");
        let quoted_char = format!(
            r"(?:[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e]|[{UCS}]|\\[\x01-\x09\x0b\x0c\x0d-\x7f]|\\[{UCS}])"
        );
        let fws = r"(?:(?:[\x20\x09]*\x0d\x0a)?[\x20\x09]+)";
        let quoted = format!("\"(?:{fws}?{quoted_char})*{fws}?\"");
        let label_char = format!(r"[a-zA-Z0-9{UCS}]");
        let label = format!(r"(?:{label_char}|{label_char}[a-zA-Z0-9\-._~{UCS}]*{label_char})");
        let tld_char = format!(r"[a-zA-Z{UCS}]");
        let tld = format!(r"(?:{tld_char}|{tld_char}[a-zA-Z0-9\-_~{UCS}]*{tld_char})");
        let pattern = format!(r"^(?:{dot_atom}|{quoted})@(?:{label}\.)+{tld}\.?$");
        pattern
    })
}

/// Whether `s` is an email address in govalidator's sense (`IsEmail`).
pub fn is_email(s: &str) -> bool {
    email_regex().is_some_and(|re| re.is_match(s))
}

fn url_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&RE, || {
        let scheme = r"(?:(?:ftp|tcp|udp|wss?|https?)://)";
        let user = r"(?:[^\t\n\f\r ]+(?::[^\t\n\f\r ]*)?@)";
        let ipv4 = r"(?:[1-9][0-9]?|1[0-9][0-9]|2[01][0-9]|22[0-3]|24[0-9]|25[0-5])(?:\.(?:[0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])){2}(?:\.(?:[0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))";
        let h = "[0-9a-fA-F]{1,4}";
        let v4 =
            r"(?:(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])\.){3}(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])";
        let ipv6 = format!(
            "(?:(?:{h}:){{7}}{h}|(?:{h}:){{1,7}}:|(?:{h}:){{1,6}}:{h}|(?:{h}:){{1,5}}(?::{h}){{1,2}}|(?:{h}:){{1,4}}(?::{h}){{1,3}}|(?:{h}:){{1,3}}(?::{h}){{1,4}}|(?:{h}:){{1,2}}(?::{h}){{1,5}}|{h}:(?:(?::{h}){{1,6}})|:(?:(?::{h}){{1,7}}|:)|fe80:(?::[0-9a-fA-F]{{0,4}}){{0,4}}%[0-9a-zA-Z]+|::(?:ffff(?::0{{1,4}})?:)?{v4}|(?:{h}:){{1,4}}:{v4})"
        );
        let host = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-_]+)?[a-zA-Z0-9](?:[\-.][a-zA-Z0-9]+)*)";
        let subdomain =
            r"(?:(?:www\.)|(?:[a-zA-Z0-9]+(?:[\-_.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))";
        let wide = r"[a-zA-Z\x{00a1}-\x{ffff}0-9]";
        let name = format!(
            r"(?:{host}|{subdomain}?)?(?:(?:{wide}+-?-?)*{wide}+)(?:\.[a-zA-Z\x{{00a1}}-\x{{ffff}}]+)?"
        );
        let pattern = format!(
            r"^{scheme}?{user}?(?:{ipv4}|\[{ipv6}\]|{name})\.?(?::[0-9]{{1,5}})?(?:[/?#][^\t\n\f\r ]*)?$"
        );
        pattern
    })
}

/// Whether `s` is a URL in govalidator's sense (`IsURL`): schemeless hosts such as
/// `example.com` count, like in PocketBase.
pub fn is_url(s: &str) -> bool {
    if s.is_empty() || s.chars().count() >= 2083 || s.len() <= 3 || s.starts_with('.') {
        return false;
    }
    let parsed = if s.contains(':') && !s.contains("://") {
        parse_url(&format!("http://{s}"))
    } else {
        parse_url(s)
    };
    let Some(parsed) = parsed else {
        return false;
    };
    if parsed.host.starts_with('.') {
        return false;
    }
    if parsed.host.is_empty() && !parsed.path.is_empty() && !parsed.path.contains('.') {
        return false;
    }
    url_regex().is_some_and(|re| re.is_match(s))
}

/// The host (with port) of `s` as Go's `url.Parse` reports it; `""` when it has none.
pub fn url_host(s: &str) -> String {
    parse_url(s).map(|p| p.host).unwrap_or_default()
}

struct ParsedUrl {
    host: String,
    path: String,
}

/// The parts of Go's `url.Parse` that decide validity, host and path.
fn parse_url(raw: &str) -> Option<ParsedUrl> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    valid_escapes(fragment)?;
    let (scheme, rest) = split_scheme(rest)?;
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            return Some(ParsedUrl {
                host: String::new(),
                path: String::new(),
            });
        }
        let first_segment = rest.split('/').next().unwrap_or_default();
        if first_segment.contains(':') {
            return None;
        }
    }
    let (host, path) = match rest.strip_prefix("//") {
        Some(after) if !scheme.is_empty() || !rest.starts_with("///") => {
            let end = after.find('/').unwrap_or(after.len());
            let (authority, path) = after.split_at(end);
            (parse_authority(authority)?, path)
        }
        _ => (String::new(), rest),
    };
    valid_escapes(path)?;
    Some(ParsedUrl {
        host,
        path: path.to_owned(),
    })
}

fn split_scheme(s: &str) -> Option<(&str, &str)> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return None,
            ':' => return Some((&s[..i], &s[i + 1..])),
            _ => return Some(("", s)),
        }
    }
    Some(("", s))
}

fn parse_authority(authority: &str) -> Option<String> {
    let host = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let ok = userinfo.chars().all(|c| {
                c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c) || !c.is_ascii()
            });
            if !ok {
                return None;
            }
            &authority[at + 1..]
        }
        None => authority,
    };
    if let Some(inner) = host.strip_prefix('[') {
        let close = inner.find(']')?;
        valid_port(&inner[close + 1..])?;
    } else if let Some(colon) = host.rfind(':') {
        valid_port(&host[colon..])?;
    }
    let host_ok = host.chars().all(|c| {
        !c.is_ascii() || c.is_ascii_alphanumeric() || "-_.~!$&'()*+,;=:[]<>\"%".contains(c)
    });
    (host_ok && valid_escapes(host).is_some()).then(|| host.to_owned())
}

fn valid_port(port: &str) -> Option<()> {
    if port.is_empty() {
        return Some(());
    }
    let digits = port.strip_prefix(':')?;
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(())
}

fn valid_escapes(s: &str) -> Option<()> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return None;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Some(())
}

fn domain_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&RE, || {
        r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:[a-zA-Z]{1,63}| xn--[a-z0-9]{1,59})$"
            .to_owned()
    })
}

/// Whether `s` is a domain name (`example.com`), as ozzo-validation's `is.Domain`.
pub fn is_domain(s: &str) -> bool {
    s.len() <= 255 && domain_regex().is_some_and(|re| re.is_match(s))
}

/// Compiles a built-in pattern once; `None` (nothing matches) if it did not compile,
/// which a test rules out.
fn compiled(
    cell: &'static OnceLock<Option<Regex>>,
    pattern: impl FnOnce() -> String,
) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(&pattern()).ok()).as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_compile() {
        assert!(email_regex().is_some());
        assert!(url_regex().is_some());
        assert!(domain_regex().is_some());
    }

    #[test]
    fn emails_like_pocketbase() {
        for ok in [
            "a@b.co",
            "A@B.COM",
            "first.last+tag@sub.example.org",
            "\"quoted name\"@example.com",
            "josé@exämple.com",
            "a@b.c.",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "a@b", "a.b@c", "x", "@b.co", "a@.co", "a@b..co", "a b@c.co", "a@b.c1", "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn urls_like_pocketbase() {
        for ok in [
            "http://example.com/x?y",
            "example.com",
            "ftp://example.com",
            "http://localhost",
            "https://example.com:8080/a/b#c",
            "http://user:pw@example.com",
            "http://127.0.0.1",
            "example.com:8080/x",
        ] {
            assert!(is_url(ok), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "http://",
            ".example.com",
            "http://exa mple.com",
            "http://a.com:xx",
            "foo",
            "://x.com",
            "http://%zz.com",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn url_hosts_keep_the_port() {
        assert_eq!(url_host("http://example.com:80/x"), "example.com:80");
        assert_eq!(url_host("https://EXAMPLE.com"), "EXAMPLE.com");
        assert_eq!(url_host("example.com"), "");
    }

    #[test]
    fn domains() {
        assert!(is_domain("example.com"));
        assert!(is_domain("a-b.example.co"));
        assert!(!is_domain("example"));
        assert!(!is_domain("-a.com"));
        assert!(!is_domain("a_b.com"));
    }
}
