//! Process configuration: what needs a restart to change.
//!
//! Layers, later ones winning: built-in defaults, an optional `basalt.toml`
//! (`--config`/`BASALT_CONFIG`, else `./basalt.toml` when it exists), `BASALT_*`
//! environment variables (each also readable from a file named by `BASALT_*_FILE`), then
//! command-line flags. The result is one validated [`Config`]. Unknown keys in the file
//! are errors; secrets are never printed (see [`Secret`]).
//!
//! [`KEYS`] is the one table of keys: the environment layer, `basalt config check`
//! and the reference in `docs/operations.md` (checked by a test) are all built from it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

/// A value that must never reach a log or an echo of the configuration.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Certificate and private key (PEM files) for HTTPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How `tracing` output on stderr is formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Process configuration: what needs a restart to change.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (`./basalt_data` by default).
    pub dir: PathBuf,
    /// The address `basalt serve` listens on.
    pub http: SocketAddr,
    /// Origins allowed by CORS; `*` allows any.
    pub origins: Vec<String>,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest multipart body with files, in bytes (each file field's `maxSize` and
    /// `maxSelect` bound it further per collection).
    pub max_upload_bytes: u64,
    /// Indexing memory of each collection's search index writer, in bytes.
    pub search_writer_bytes: usize,
    /// How long the search indexer gathers changes before a commit.
    pub search_commit_interval: Duration,
    /// HTTPS instead of HTTP when set.
    pub tls: Option<TlsFiles>,
    /// How long a shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    pub log_format: LogFormat,
    /// A `tracing` filter (`info`, `basalt=debug,warn`, …).
    pub log_level: String,
    /// Signs auth tokens; when unset, a random secret kept in `<dir>/secret`.
    pub token_secret: Option<Secret>,
    /// A bearer token that may read `/api/metrics` (superusers always may).
    pub metrics_token: Option<Secret>,
    /// Realtime (SSE) queues, timeouts and counts (built-in defaults; tests tune them).
    pub realtime: basalt_api::realtime::RealtimeLimits,
    /// First-party plugins to enable, by name, in order (see `docs/plugins.md`).
    pub plugins: Vec<String>,
    /// Each plugin's settings (`[plugin.<name>]` in `basalt.toml`), as JSON.
    pub plugin_settings: BTreeMap<String, serde_json::Value>,
    /// Plugins given as values (tests, programs embedding Basalt); run after the
    /// named ones.
    pub plugin_instances: crate::plugins::PluginSet,
    /// How often plugins' cron schedules are checked (a minute at most; tests shorten it).
    pub plugin_cron_tick: Duration,
    /// A directory of `*.js` hook scripts: enables the `js` plugin (see `docs/hooks.md`).
    pub hooks_dir: Option<PathBuf>,
    /// How long one call into the scripts may run.
    pub hooks_timeout: Duration,
    /// The scripts' runtime memory limit, in bytes.
    pub hooks_memory_bytes: usize,
    /// How often the hooks directory is checked for changes.
    pub hooks_poll: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            dir: PathBuf::from("basalt_data"),
            http: SocketAddr::from(([127, 0, 0, 1], 8090)),
            origins: vec!["*".into()],
            cache_bytes: 64 << 20,
            max_body_bytes: 32 << 20,
            max_upload_bytes: 1 << 30,
            search_writer_bytes: 50 << 20,
            search_commit_interval: Duration::from_millis(basalt_search::DEFAULT_COMMIT_MS),
            tls: None,
            shutdown_timeout: Duration::from_secs(10),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            token_secret: None,
            metrics_token: None,
            realtime: basalt_api::realtime::RealtimeLimits::default(),
            plugins: Vec::new(),
            plugin_settings: BTreeMap::new(),
            plugin_instances: crate::plugins::PluginSet::default(),
            plugin_cron_tick: Duration::from_secs(15),
            hooks_dir: None,
            hooks_timeout: Duration::from_millis(1000),
            hooks_memory_bytes: 64 << 20,
            hooks_poll: Duration::from_secs(1),
        }
    }
}

/// The type of a key's value, for the environment layer and the docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    List,
    /// Tables of the file only (no environment variable).
    Table,
}

/// One configuration key.
pub struct Key {
    /// The name in `basalt.toml`; the variable is `BASALT_` + upper case.
    pub name: &'static str,
    /// The command-line flag, if there is one.
    pub flag: Option<&'static str>,
    pub kind: Kind,
    /// The default, as the docs show it.
    pub default: &'static str,
    pub secret: bool,
    pub doc: &'static str,
}

impl Key {
    pub fn env(&self) -> String {
        format!("BASALT_{}", self.name.to_ascii_uppercase())
    }
}

const fn key(
    name: &'static str,
    flag: Option<&'static str>,
    kind: Kind,
    default: &'static str,
    doc: &'static str,
) -> Key {
    Key {
        name,
        flag,
        kind,
        default,
        secret: false,
        doc,
    }
}

/// Every configuration key, in the order the docs list them.
pub const KEYS: &[Key] = &[
    key("dir", Some("--dir"), Kind::Text, "basalt_data", "The data directory: store, search indexes, files, backups, logs."),
    key("http", Some("--http"), Kind::Text, "127.0.0.1:8090", "The address to listen on (`0.0.0.0:8090` for every interface)."),
    key("origins", Some("--origins"), Kind::List, "*", "Origins allowed by CORS, comma-separated in the environment and on the command line; `*` allows any."),
    key("max_body_mb", Some("--max-body-mb"), Kind::Integer, "32", "The largest request body accepted, in MiB (1–4096); larger requests get 413."),
    key("max_upload_mb", Some("--max-upload-mb"), Kind::Integer, "1024", "The largest multipart upload accepted, in MiB (1–65536); each file field's `maxSize` × `maxSelect` bounds uploads further."),
    key("cache_mb", Some("--cache-mb"), Kind::Integer, "64", "The store's page cache, in MiB: its main memory knob. Records read by id are also kept in a cache of their own in front of it, up to half as much again."),
    key("search_writer_mb", Some("--search-writer-mb"), Kind::Integer, "50", "Indexing memory of each collection's full-text index writer, in MiB (at least 15)."),
    key("search_commit_ms", Some("--search-commit-ms"), Kind::Integer, "500", "How long the search indexer gathers changes before committing them, in ms."),
    key("tls_cert", Some("--tls-cert"), Kind::Text, "", "A PEM certificate chain: serve HTTPS instead of HTTP (needs `tls_key`)."),
    key("tls_key", Some("--tls-key"), Kind::Text, "", "The PEM private key of `tls_cert`."),
    key("shutdown_timeout_secs", Some("--shutdown-timeout-secs"), Kind::Integer, "10", "How long SIGINT/SIGTERM waits for in-flight requests before closing the store."),
    key("log_format", Some("--log-format"), Kind::Text, "text", "stderr log format: `text` or `json`."),
    key("log_level", Some("--log-level"), Kind::Text, "info", "A tracing filter, e.g. `info` or `basalt=debug,warn`."),
    Key {
        secret: true,
        ..key("token_secret", None, Kind::Text, "", "Signs auth tokens (at least 32 characters). Unset: a random secret kept in `<dir>/secret`. Give it in the environment or a file (`BASALT_TOKEN_SECRET_FILE`), not in `basalt.toml` under version control.")
    },
    Key {
        secret: true,
        ..key("metrics_token", None, Kind::Text, "", "A bearer token a Prometheus scraper presents to read `/api/metrics` (at least 16 characters). Unset: only superusers may read it.")
    },
    key("plugins", None, Kind::List, "", "First-party plugins to enable, in order: `webhooks`, `audit-log` (see `docs/plugins.md`)."),
    key("hooks_dir", Some("--hooks-dir"), Kind::Text, "", "A directory of `*.js` hook scripts (also `--hooksDir`): enables JavaScript hooks, reloaded when a file changes (see `docs/hooks.md`)."),
    key("hooks_timeout_ms", Some("--hooks-timeout-ms"), Kind::Integer, "1000", "How long one call into the hook scripts may run before it is stopped, in ms (10–60000)."),
    key("hooks_memory_mb", Some("--hooks-memory-mb"), Kind::Integer, "64", "The hook scripts' memory limit, in MiB (4–4096)."),
    key("plugin", None, Kind::Table, "", "Each enabled plugin's settings, as a `[plugin.<name>]` table (in `basalt.toml` only); never echoed by `config check`."),
];

/// The file layer (and the shape every other layer is converted into).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub dir: Option<PathBuf>,
    pub http: Option<String>,
    pub origins: Option<Vec<String>>,
    pub max_body_mb: Option<u64>,
    pub max_upload_mb: Option<u64>,
    pub cache_mb: Option<u64>,
    pub search_writer_mb: Option<u64>,
    pub search_commit_ms: Option<u64>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub shutdown_timeout_secs: Option<u64>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub token_secret: Option<String>,
    pub metrics_token: Option<String>,
    pub plugins: Option<Vec<String>>,
    pub hooks_dir: Option<PathBuf>,
    pub hooks_timeout_ms: Option<u64>,
    pub hooks_memory_mb: Option<u64>,
    /// `[plugin.<name>]` tables: each plugin's settings (file only).
    pub plugin: Option<BTreeMap<String, toml::Value>>,
}

macro_rules! overlay {
    ($dst:ident, $src:ident: $($f:ident),*) => {
        $( if $src.$f.is_some() { $dst.$f = $src.$f; } )*
    };
}

impl Layer {
    /// `other`'s values win.
    pub fn overlay(mut self, other: Layer) -> Layer {
        overlay!(self, other: dir, http, origins, max_body_mb, max_upload_mb, cache_mb, search_writer_mb,
            search_commit_ms, tls_cert, tls_key, shutdown_timeout_secs, log_format, log_level,
            token_secret, metrics_token, plugins, hooks_dir, hooks_timeout_ms, hooks_memory_mb, plugin);
        self
    }

    /// Parses `basalt.toml` text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> anyhow::Result<Layer> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", origin.display()))
    }

    /// `BASALT_*` variables (and `BASALT_*_FILE` files) from `vars`.
    pub fn from_env(vars: &BTreeMap<String, String>) -> anyhow::Result<Layer> {
        let mut table = toml::Table::new();
        for k in KEYS {
            let env = k.env();
            let file_env = format!("{env}_FILE");
            let raw = match (vars.get(&env), vars.get(&file_env)) {
                (Some(_), Some(_)) => bail!("set {env} or {file_env}, not both"),
                (Some(v), None) => v.clone(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .with_context(|| format!("{file_env}: reading {path}"))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                (None, None) => continue,
            };
            let value =
                match k.kind {
                    Kind::Text => toml::Value::String(raw),
                    Kind::Integer => toml::Value::Integer(raw.trim().parse().map_err(|_| {
                        anyhow::anyhow!("{env}: expected a whole number, got {raw:?}")
                    })?),
                    Kind::Table => bail!("{env}: `{}` can only be set in basalt.toml", k.name),
                    Kind::List => toml::Value::Array(
                        raw.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| toml::Value::String(s.to_owned()))
                            .collect(),
                    ),
                };
            table.insert(k.name.to_owned(), value);
        }
        Layer::deserialize(toml::Value::Table(table))
            .map_err(|e| anyhow::anyhow!("environment: {}", e.message()))
    }

    /// Builds and validates the configuration; every problem is reported at once.
    pub fn resolve(self) -> anyhow::Result<Config> {
        let d = Config::default();
        let mut problems = Vec::new();
        let http = match self.http.as_deref() {
            None => d.http,
            Some(s) => s.parse().unwrap_or_else(|_| {
                problems.push(format!("http: {s:?} is not an address like 127.0.0.1:8090"));
                d.http
            }),
        };
        let mut mb = |name: &str, v: Option<u64>, default: u64, range: (u64, u64)| -> u64 {
            let v = v.unwrap_or(default);
            if v < range.0 || v > range.1 {
                problems.push(format!("{name}: {v} is outside {}–{}", range.0, range.1));
                return default;
            }
            v
        };
        let max_body_mb = mb("max_body_mb", self.max_body_mb, 32, (1, 4096));
        let max_upload_mb = mb("max_upload_mb", self.max_upload_mb, 1024, (1, 65_536));
        let cache_mb = mb("cache_mb", self.cache_mb, 64, (1, 1 << 20));
        let search_writer_mb = mb("search_writer_mb", self.search_writer_mb, 50, (15, 1 << 14));
        let search_commit_ms = mb(
            "search_commit_ms",
            self.search_commit_ms,
            basalt_search::DEFAULT_COMMIT_MS,
            (1, 86_400_000),
        );
        let shutdown = mb(
            "shutdown_timeout_secs",
            self.shutdown_timeout_secs,
            10,
            (0, 3600),
        );
        let hooks_timeout_ms = mb(
            "hooks_timeout_ms",
            self.hooks_timeout_ms,
            1000,
            (10, 60_000),
        );
        let hooks_memory_mb = mb("hooks_memory_mb", self.hooks_memory_mb, 64, (4, 4096));
        let origins = self.origins.unwrap_or(d.origins);
        for o in &origins {
            let ok = o == "*"
                || ((o.starts_with("http://") || o.starts_with("https://"))
                    && !o.ends_with('/')
                    && !o.contains(char::is_whitespace));
            if !ok {
                problems.push(format!(
                    "origins: {o:?} must be `*` or a scheme and host like https://app.example.com"
                ));
            }
        }
        if origins.is_empty() {
            problems.push("origins: give at least one origin (or `*`)".into());
        }
        let tls = match (self.tls_cert, self.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                for (name, p) in [("tls_cert", &cert), ("tls_key", &key)] {
                    if !p.is_file() {
                        problems.push(format!("{name}: {} is not a readable file", p.display()));
                    }
                }
                Some(TlsFiles { cert, key })
            }
            _ => {
                problems.push("tls_cert and tls_key go together".into());
                None
            }
        };
        let log_format = match self.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push(format!("log_format: {other:?} is not `text` or `json`"));
                LogFormat::Text
            }
        };
        let log_level = self.log_level.unwrap_or(d.log_level);
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            problems.push(format!("log_level: {log_level:?} is not a tracing filter"));
        }
        let token_secret = self.token_secret.map(Secret::new);
        if token_secret
            .as_ref()
            .is_some_and(|s| s.expose().trim().len() < 32)
        {
            problems.push("token_secret: must be at least 32 characters".into());
        }
        let metrics_token = self.metrics_token.map(Secret::new);
        if metrics_token
            .as_ref()
            .is_some_and(|s| s.expose().trim().len() < 16)
        {
            problems.push("metrics_token: must be at least 16 characters".into());
        }
        let plugins = self.plugins.unwrap_or_default();
        let mut plugin_settings = BTreeMap::new();
        for (name, table) in self.plugin.unwrap_or_default() {
            if !plugins.contains(&name) {
                problems.push(format!(
                    "plugin.{name}: settings of a plugin that `plugins` does not enable"
                ));
            }
            match serde_json::to_value(table) {
                Ok(v) => {
                    plugin_settings.insert(name, v);
                }
                Err(e) => problems.push(format!("plugin.{name}: {e}")),
            }
        }
        for (i, name) in plugins.iter().enumerate() {
            if plugins[..i].contains(name) {
                problems.push(format!("plugins: {name:?} is listed twice"));
                continue;
            }
            let settings = plugin_settings.get(name).cloned().unwrap_or_default();
            if let Err(e) = crate::plugins::builtin(name, &settings) {
                problems.push(format!("plugins: {e}"));
            }
        }
        if let Some(dir) = &self.hooks_dir {
            if !dir.is_dir() {
                problems.push(format!("hooks_dir: {} is not a directory", dir.display()));
            }
        }
        if !problems.is_empty() {
            bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        Ok(Config {
            dir: self.dir.unwrap_or(d.dir),
            http,
            origins,
            cache_bytes: cache_mb << 20,
            max_body_bytes: (max_body_mb as usize) << 20,
            max_upload_bytes: max_upload_mb << 20,
            search_writer_bytes: (search_writer_mb as usize) << 20,
            search_commit_interval: Duration::from_millis(search_commit_ms),
            tls,
            shutdown_timeout: Duration::from_secs(shutdown),
            log_format,
            log_level,
            token_secret,
            metrics_token,
            realtime: d.realtime,
            plugins,
            plugin_settings,
            plugin_instances: d.plugin_instances,
            plugin_cron_tick: d.plugin_cron_tick,
            hooks_dir: self.hooks_dir,
            hooks_timeout: Duration::from_millis(hooks_timeout_ms),
            hooks_memory_bytes: (hooks_memory_mb as usize) << 20,
            hooks_poll: d.hooks_poll,
        })
    }
}

/// Where the configuration file is: the given path (which must exist), or
/// `./basalt.toml` when it exists.
pub fn file_path(given: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    match given {
        Some(p) if p.is_file() => Ok(Some(p.to_owned())),
        Some(p) => bail!("configuration file {} does not exist", p.display()),
        None => {
            let p = PathBuf::from("basalt.toml");
            Ok(p.is_file().then_some(p))
        }
    }
}

/// Loads every layer: defaults, the file, the environment, then `flags`.
pub fn load(
    file: Option<&Path>,
    vars: &BTreeMap<String, String>,
    flags: Layer,
) -> anyhow::Result<Config> {
    let from_file = match file {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Layer::from_toml(&text, p)?
        }
        None => Layer::default(),
    };
    from_file
        .overlay(Layer::from_env(vars)?)
        .overlay(flags)
        .resolve()
}

/// `BASALT_*` variables that name no key: likely typos, reported by `config check`.
pub fn unknown_env(vars: &BTreeMap<String, String>) -> Vec<String> {
    // Variables the tools around the binary use, not configuration keys.
    const OTHERS: &[&str] = &["BASALT_CONFIG", "BASALT_LOG", "BASALT_BIN", "BASALT_PREFIX"];
    vars.keys()
        .filter(|v| v.starts_with("BASALT_") && !OTHERS.contains(&v.as_str()))
        .filter(|v| {
            !KEYS
                .iter()
                .any(|k| **v == k.env() || **v == format!("{}_FILE", k.env()))
        })
        .cloned()
        .collect()
}

impl Config {
    /// The resolved configuration as `basalt.toml` text, secrets shown only as set.
    pub fn describe(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
        line("dir", q(&self.dir.display().to_string()));
        line("http", q(&self.http.to_string()));
        let origins: Vec<String> = self.origins.iter().map(|o| q(o)).collect();
        line("origins", format!("[{}]", origins.join(", ")));
        line("max_body_mb", (self.max_body_bytes >> 20).to_string());
        line("max_upload_mb", (self.max_upload_bytes >> 20).to_string());
        line("cache_mb", (self.cache_bytes >> 20).to_string());
        line(
            "search_writer_mb",
            (self.search_writer_bytes >> 20).to_string(),
        );
        line(
            "search_commit_ms",
            self.search_commit_interval.as_millis().to_string(),
        );
        if let Some(tls) = &self.tls {
            line("tls_cert", q(&tls.cert.display().to_string()));
            line("tls_key", q(&tls.key.display().to_string()));
        }
        line(
            "shutdown_timeout_secs",
            self.shutdown_timeout.as_secs().to_string(),
        );
        let format = match self.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        line("log_format", q(format));
        line("log_level", q(&self.log_level));
        if self.token_secret.is_some() {
            line("# token_secret", q("(set, not shown)"));
        }
        if self.metrics_token.is_some() {
            line("# metrics_token", q("(set, not shown)"));
        }
        if let Some(dir) = &self.hooks_dir {
            line("hooks_dir", q(&dir.display().to_string()));
        }
        line(
            "hooks_timeout_ms",
            self.hooks_timeout.as_millis().to_string(),
        );
        line(
            "hooks_memory_mb",
            (self.hooks_memory_bytes >> 20).to_string(),
        );
        let plugins: Vec<String> = self.plugins.iter().map(|p| q(p)).collect();
        line("plugins", format!("[{}]", plugins.join(", ")));
        for name in self.plugin_settings.keys() {
            line(
                &format!("# [plugin.{name}]"),
                q("(set, not shown: it may hold secrets)"),
            );
        }
        out
    }
}

/// The configuration reference in Markdown, as `docs/operations.md` carries it.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "| key (`basalt.toml`) | environment | flag | default | |\n|---|---|---|---|---|\n",
    );
    for k in KEYS {
        let default = if k.default.is_empty() {
            "—".to_owned()
        } else {
            format!("`{}`", k.default)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            k.name,
            if k.kind == Kind::Table {
                "—".to_owned()
            } else {
                format!("`{}`", k.env())
            },
            k.flag
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| "—".into()),
            default,
            k.doc
        ));
    }
    out
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
