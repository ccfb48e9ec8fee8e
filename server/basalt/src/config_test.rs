use std::collections::BTreeMap;
use std::path::Path;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn layers_apply_in_order_file_env_flags() {
    let file = Layer::from_toml(
        "http = \"127.0.0.1:1111\"\ncache_mb = 10\nmax_body_mb = 5\n",
        Path::new("basalt.toml"),
    )
    .unwrap();
    let vars = env(&[("BASALT_CACHE_MB", "20"), ("BASALT_MAX_BODY_MB", "6")]);
    let flags = Layer {
        max_body_mb: Some(7),
        ..Layer::default()
    };
    let c = file
        .overlay(Layer::from_env(&vars).unwrap())
        .overlay(flags)
        .resolve()
        .unwrap();
    assert_eq!(c.http.to_string(), "127.0.0.1:1111", "from the file");
    assert_eq!(c.cache_bytes, 20 << 20, "env beats the file");
    assert_eq!(c.max_body_bytes, 7 << 20, "flags beat env");
    assert_eq!(c.origins, vec!["*"]);
}

#[test]
fn unknown_file_keys_are_rejected_by_name() {
    let err = Layer::from_toml("htp = \"x\"\n", Path::new("basalt.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("basalt.toml"), "{msg}");
    assert!(msg.contains("unknown field `htp`"), "{msg}");
    assert!(msg.contains("`http`"), "lists the known keys: {msg}");
}

#[test]
fn bad_values_are_all_reported() {
    let layer = Layer {
        http: Some("nowhere".into()),
        max_body_mb: Some(0),
        origins: Some(vec!["app.example.com".into()]),
        log_format: Some("xml".into()),
        tls_cert: Some("/nonexistent/cert.pem".into()),
        ..Layer::default()
    };
    let msg = layer.resolve().unwrap_err().to_string();
    for needle in [
        "http:",
        "max_body_mb:",
        "origins:",
        "log_format:",
        "tls_cert and tls_key",
    ] {
        assert!(msg.contains(needle), "{needle} missing from {msg}");
    }
    let err = Layer::from_env(&env(&[("BASALT_CACHE_MB", "lots")])).unwrap_err();
    assert!(err.to_string().contains("BASALT_CACHE_MB"), "{err}");
}

#[test]
fn secrets_come_from_files_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123";
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    let vars = env(&[("BASALT_TOKEN_SECRET_FILE", path.to_str().unwrap())]);
    let c = Layer::from_env(&vars).unwrap().resolve().unwrap();
    assert_eq!(c.token_secret.as_ref().unwrap().expose(), secret);
    assert!(!format!("{c:?}").contains(secret));
    assert!(!c.describe().contains(secret));
    let both = env(&[
        ("BASALT_TOKEN_SECRET", secret),
        ("BASALT_TOKEN_SECRET_FILE", path.to_str().unwrap()),
    ]);
    assert!(Layer::from_env(&both).is_err());
    let short = env(&[("BASALT_TOKEN_SECRET", "short")]);
    assert!(Layer::from_env(&short).unwrap().resolve().is_err());
}

#[test]
fn lists_split_on_commas_in_the_environment() {
    let vars = env(&[("BASALT_ORIGINS", "https://a.example, https://b.example")]);
    let c = Layer::from_env(&vars).unwrap().resolve().unwrap();
    assert_eq!(c.origins, vec!["https://a.example", "https://b.example"]);
    assert_eq!(
        unknown_env(&env(&[("BASALT_HTPP", "x"), ("BASALT_HTTP", "y")])),
        vec!["BASALT_HTPP"]
    );
}

/// The key table and the file struct must name the same keys: the struct's field list
/// is read from serde's "expected one of" message.
#[test]
fn key_table_matches_the_file_struct() {
    let msg = Layer::from_toml("zzz = 1", Path::new("x"))
        .unwrap_err()
        .to_string();
    let fields: Vec<&str> = msg.split('`').skip(3).step_by(2).collect();
    let keys: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    assert_eq!(fields, keys, "{msg}");
}

/// A config file using every key parses and validates (the docs' example).
#[test]
fn describe_round_trips_through_the_file_layer() {
    let c = Config::default();
    let again = Layer::from_toml(&c.describe(), Path::new("x"))
        .unwrap()
        .resolve()
        .unwrap();
    assert_eq!(again.describe(), c.describe());
}

/// `docs/operations.md` carries the reference generated from [`KEYS`]; regenerate it
/// with `BASALT_BLESS=1 cargo test -p basalt config_reference`.
#[test]
fn config_reference_in_the_docs_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (
        "<!-- config-reference:begin -->\n",
        "<!-- config-reference:end -->",
    );
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/operations.md lacks the config-reference markers");
    };
    let current = &doc[a + begin.len()..b];
    let fresh = reference_markdown();
    if current != fresh {
        if std::env::var_os("BASALT_BLESS").is_some() {
            let updated = format!("{}{fresh}{}", &doc[..a + begin.len()], &doc[b..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!("docs/operations.md's configuration reference is stale: run BASALT_BLESS=1 cargo test -p basalt config_reference");
    }
}

#[test]
fn plugins_and_their_settings_come_from_the_file() {
    let text = "plugins = [\"audit-log\"]\n[plugin.audit-log]\nexclude = [\"drafts\"]\n";
    let c = Layer::from_toml(text, Path::new("x"))
        .unwrap()
        .resolve()
        .unwrap();
    assert_eq!(c.plugins, vec!["audit-log"]);
    assert_eq!(
        c.plugin_settings["audit-log"],
        serde_json::json!({"exclude": ["drafts"]})
    );
    assert!(c.describe().contains("# [plugin.audit-log]"));
    for (bad, says) in [
        ("plugins = [\"nope\"]", "unknown plugin"),
        ("[plugin.audit-log]\nexclude = []", "does not enable"),
        (
            "plugins = [\"audit-log\"]\n[plugin.audit-log]\nkeep = 1",
            "unknown setting",
        ),
        ("plugins = [\"audit-log\", \"audit-log\"]", "listed twice"),
    ] {
        let err = Layer::from_toml(bad, Path::new("x"))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(format!("{err:#}").contains(says), "{bad}: {err:#}");
    }
    let vars = env(&[("BASALT_PLUGIN", "x")]);
    assert!(Layer::from_env(&vars).is_err());
    let vars = env(&[("BASALT_PLUGINS", "audit-log")]);
    let c = Layer::from_env(&vars).unwrap().resolve().unwrap();
    assert_eq!(c.plugins, vec!["audit-log"]);
}
