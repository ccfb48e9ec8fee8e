//! The surface Basalt plugins compile against — and nothing else: this crate depends
//! only on `serde_json`, never on Basalt's core, so a plugin builds against it alone
//! and keeps building while Basalt's internals change.
//!
//! A plugin is a value implementing [`Plugin`]. At start the server calls
//! [`Plugin::register`] once with a [`Registry`], on which the plugin registers:
//!
//! - record hooks: [`Registry::before`] (runs in the request, before validation and
//!   commit; may change the body or [`Reject`] the write) and [`Registry::after`]
//!   (runs once the write is durable, in commit order, off the request path);
//! - auth hooks: [`Registry::after_login`] and [`Registry::before_signup`];
//! - HTTP routes under `/api/x/<plugin>/…` with a declared [`Access`] the server
//!   checks before the handler runs ([`Registry::route`]);
//! - cron jobs ([`Registry::cron`]);
//! - a setup step that runs once the store is open ([`Registry::setup`]), typically
//!   to create the plugin's own system collections through the [`Host`].
//!
//! Every hook receives the [`Host`]: the plugin's handle to read and write records
//! as the system (superuser rights, rules bypassed) and to log. The server contains
//! plugin failures: a hook that panics or errors is logged with the plugin's name; a
//! failing before-hook fails only its own request, and nothing of that write is stored.
//!
//! The hook points are data ([`HookPoint`]), and handlers are plain boxed closures, so
//! an embedded script engine can register the very same points later.
//!
//! This crate must never grow a dependency on Basalt's internals.

pub mod cron;

use std::fmt;
use std::sync::Arc;

pub use serde_json::{json, Map, Value};

/// A record as the API renders it to superusers: `id`, `collectionId`,
/// `collectionName` and every field (hidden ones included).
pub type Record = Map<String, Value>;

/// What a plugin is.
pub trait Plugin: Send + Sync + 'static {
    /// The plugin's name: `[a-z0-9-]`, unique in a server. Its routes live under
    /// `/api/x/<name>/`, and its logs and errors carry it.
    fn name(&self) -> &str;

    /// Registers the plugin's hooks, routes and jobs. Called once, before serving.
    fn register(&self, registry: &mut Registry) -> Result<(), PluginError>;
}

/// A failure a plugin reports; logged by the server with the plugin's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginError(pub String);

impl PluginError {
    pub fn new(message: impl Into<String>) -> PluginError {
        PluginError(message.into())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PluginError {}

impl From<HostError> for PluginError {
    fn from(e: HostError) -> PluginError {
        PluginError(e.to_string())
    }
}

/// The three record writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordAction {
    Create,
    Update,
    Delete,
}

impl RecordAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordAction::Create => "create",
            RecordAction::Update => "update",
            RecordAction::Delete => "delete",
        }
    }
}

/// Every point a hook can attach to. Registration methods map onto these; an
/// embedded script engine registers against the same list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HookPoint {
    BeforeRecord(RecordAction),
    AfterRecord(RecordAction),
    AfterLogin,
    BeforeSignup,
}

/// Which collections a record hook applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every collection, system ones (`_superusers`, …) included.
    All,
    /// One collection, by name.
    Collection(String),
}

impl Scope {
    pub fn collection(name: impl Into<String>) -> Scope {
        Scope::Collection(name.into())
    }

    pub fn matches(&self, collection: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Collection(c) => c == collection,
        }
    }
}

/// Who caused a write or a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A request without valid auth.
    Guest,
    /// A superuser (a record of `_superusers`).
    Superuser { id: String },
    /// A record of an auth collection.
    Auth { collection: String, id: String },
    /// The server itself or a plugin through its [`Host`]; also writes whose cause is
    /// no longer known (after-events replayed without their request).
    System,
}

/// A before-hook's view of a write that has passed the access rules but is not
/// validated or stored yet.
pub struct BeforeRecord<'a> {
    pub action: RecordAction,
    /// The collection's name.
    pub collection: &'a str,
    /// The record's id for updates and deletes.
    pub id: Option<&'a str>,
    pub actor: &'a Actor,
    /// The stored record (updates and deletes).
    pub old: Option<&'a Record>,
    /// The submitted body (creates and updates): changes made here are what gets
    /// validated and stored. Empty for deletes.
    pub body: &'a mut Record,
    pub host: &'a dyn Host,
}

/// A durable record write, as after-hooks see it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordEvent {
    /// The change-log position of the write; events arrive in increasing order.
    pub seq: u64,
    pub action: RecordAction,
    pub collection: String,
    pub id: String,
    /// The record as written (creates and updates), or as it was (deletes).
    pub record: Record,
    /// The record before an update, when the server still knows it.
    pub old: Option<Record>,
    pub actor: Actor,
}

/// A successful login, by any method.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginEvent {
    /// The auth collection's name.
    pub collection: String,
    pub record: Record,
    /// `password`, `oauth2`, `otp`, …
    pub method: String,
}

/// A signup about to happen: a create in an auth collection by anyone but a
/// superuser (the records API, a batch, or a first OAuth2 login).
pub struct Signup<'a> {
    pub collection: &'a str,
    /// The submitted body; changes are what gets validated and stored.
    pub body: &'a mut Record,
    pub host: &'a dyn Host,
}

/// How a before-hook refuses a write. With a field, the client gets a 400 whose
/// `data.<field>` is `{code, message}`, like any validation error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

impl Reject {
    /// The code of [`Reject::failed`].
    pub const FAILED: &'static str = "plugin_failed";

    /// Not a refusal of the input but a failure of the plugin itself (a script that
    /// threw or ran out of time): the request fails with 500 `plugin_failed`, and
    /// `message` goes to the server log only, never to the client.
    pub fn failed(message: impl Into<String>) -> Reject {
        Reject {
            field: None,
            code: Reject::FAILED.into(),
            message: message.into(),
        }
    }

    /// A refusal of the whole write (400, no field).
    pub fn new(message: impl Into<String>) -> Reject {
        Reject {
            field: None,
            code: "validation_rejected".into(),
            message: message.into(),
        }
    }

    /// A refusal naming one field: `data.<field> = {code, message}`.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Reject {
        Reject {
            field: Some(field.into()),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Who may call a plugin route; checked by the server before the handler runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Any authenticated record or superuser; guests get 401.
    Authenticated,
    /// Superusers only; guests get 401, others 403.
    Superuser,
    /// Whoever the collection's rule or a casbin policy grants `action` on
    /// `collection` unconditionally (superusers always). Guests denied get 401,
    /// others 403. A grant that holds only for some records (a condition) is not
    /// enough: a route has no record to check it against.
    Policy { collection: String, action: String },
}

/// The HTTP methods a route can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request to a plugin route, after the access check.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRequest {
    pub method: Method,
    /// The path after `/api/x/<plugin>`, starting with `/`.
    pub path: String,
    /// The values of the route pattern's `:name` segments.
    pub params: Vec<(String, String)>,
    /// Query parameters (the last value wins).
    pub query: Map<String, Value>,
    /// The JSON body (`null` when empty).
    pub body: Value,
    pub actor: Actor,
}

/// A route's answer. A status of 400 or more is sent in the error envelope
/// `{status, message, data}` with `message` taken from `body.message` if present.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteResponse {
    pub status: u16,
    pub body: Value,
}

impl RouteRequest {
    /// The value of the pattern segment `:name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl RouteResponse {
    pub fn ok(body: Value) -> RouteResponse {
        RouteResponse { status: 200, body }
    }

    /// An error answer (`status` ≥ 400) with a client-safe message.
    pub fn error(status: u16, message: impl Into<String>) -> RouteResponse {
        RouteResponse {
            status,
            body: json!({ "message": message.into() }),
        }
    }
}

/// Query of [`Host::list`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// A filter in the records API's language (`status = "draft" && n > 2`).
    pub filter: String,
    /// `-created,title`, as the records API takes it.
    pub sort: String,
    /// At most this many (0 = the server's default page size; capped at its maximum).
    pub limit: usize,
    pub offset: usize,
}

/// Why a [`Host`] call failed: the HTTP status the same failure would have through
/// the API, its message, and per-field problems (`field → message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    pub status: u16,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status)?;
        for (field, message) in &self.fields {
            write!(f, "; {field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HostError {}

/// Log levels of [`Host::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// The server, as a plugin sees it. Calls block (run them from hooks, routes and
/// jobs, never while holding a lock the write path needs). Writes go through the
/// same validation and before-hooks as API writes (with [`Actor::System`]) and
/// return once durable; access rules are bypassed.
pub trait Host: Send + Sync {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Record>, HostError>;
    fn list(&self, collection: &str, query: &ListQuery) -> Result<Vec<Record>, HostError>;
    fn create(&self, collection: &str, body: Record) -> Result<Record, HostError>;
    fn update(&self, collection: &str, id: &str, body: Record) -> Result<Record, HostError>;
    fn delete(&self, collection: &str, id: &str) -> Result<(), HostError>;
    /// Creates a collection from its definition (PocketBase's JSON shape, as
    /// `POST /api/collections` takes it) unless one of that name exists. Returns
    /// whether it was created. Name it with a leading `_` to mark it a system
    /// collection of the plugin.
    fn ensure_collection(&self, definition: Value) -> Result<bool, HostError>;
    /// Writes to the server's log with the plugin's name attached.
    fn log(&self, level: Level, message: &str);
}

pub type BeforeHook =
    Arc<dyn Fn(&mut BeforeRecord<'_>) -> Result<(), Reject> + Send + Sync + 'static>;
pub type AfterHook =
    Arc<dyn Fn(&dyn Host, &RecordEvent) -> Result<(), PluginError> + Send + Sync + 'static>;
pub type LoginHook =
    Arc<dyn Fn(&dyn Host, &LoginEvent) -> Result<(), PluginError> + Send + Sync + 'static>;
pub type SignupHook = Arc<dyn Fn(&mut Signup<'_>) -> Result<(), Reject> + Send + Sync + 'static>;
pub type RouteHandler = Arc<dyn Fn(&dyn Host, &RouteRequest) -> RouteResponse + Send + Sync>;
pub type CronJob = Arc<dyn Fn(&dyn Host) -> Result<(), PluginError> + Send + Sync + 'static>;
pub type SetupStep = Arc<dyn Fn(Arc<dyn Host>) -> Result<(), PluginError> + Send + Sync + 'static>;

/// A registered record hook.
#[derive(Clone)]
pub struct Hook<F> {
    pub action: RecordAction,
    pub scope: Scope,
    pub run: F,
}

/// A registered route.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    /// The path after `/api/x/<plugin>`: `/` and segments; a segment `:name` matches
    /// any one segment.
    pub path: String,
    pub access: Access,
    pub handler: RouteHandler,
}

/// A registered cron job.
#[derive(Clone)]
pub struct Cron {
    pub name: String,
    /// `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`, or five fields
    /// (`*/5 * * * *`), in UTC, at minute resolution.
    pub schedule: String,
    pub job: CronJob,
}

/// What a plugin registered. Hooks of one point run in registration order; plugins
/// run in the order the server enables them.
#[derive(Clone, Default)]
pub struct Registry {
    pub before: Vec<Hook<BeforeHook>>,
    pub after: Vec<Hook<AfterHook>>,
    pub after_login: Vec<LoginHook>,
    pub before_signup: Vec<SignupHook>,
    pub routes: Vec<Route>,
    pub crons: Vec<Cron>,
    pub setup: Vec<SetupStep>,
}

impl Registry {
    /// A before-hook on `action` in `scope`.
    pub fn before(
        &mut self,
        action: RecordAction,
        scope: Scope,
        hook: impl Fn(&mut BeforeRecord<'_>) -> Result<(), Reject> + Send + Sync + 'static,
    ) {
        self.before.push(Hook {
            action,
            scope,
            run: Arc::new(hook),
        });
    }

    /// An after-hook on `action` in `scope`.
    pub fn after(
        &mut self,
        action: RecordAction,
        scope: Scope,
        hook: impl Fn(&dyn Host, &RecordEvent) -> Result<(), PluginError> + Send + Sync + 'static,
    ) {
        self.after.push(Hook {
            action,
            scope,
            run: Arc::new(hook),
        });
    }

    /// The same after-hook on creates, updates and deletes in `scope`.
    pub fn after_any(
        &mut self,
        scope: Scope,
        hook: impl Fn(&dyn Host, &RecordEvent) -> Result<(), PluginError> + Send + Sync + 'static,
    ) {
        let hook: AfterHook = Arc::new(hook);
        for action in [
            RecordAction::Create,
            RecordAction::Update,
            RecordAction::Delete,
        ] {
            self.after.push(Hook {
                action,
                scope: scope.clone(),
                run: hook.clone(),
            });
        }
    }

    pub fn after_login(
        &mut self,
        hook: impl Fn(&dyn Host, &LoginEvent) -> Result<(), PluginError> + Send + Sync + 'static,
    ) {
        self.after_login.push(Arc::new(hook));
    }

    pub fn before_signup(
        &mut self,
        hook: impl Fn(&mut Signup<'_>) -> Result<(), Reject> + Send + Sync + 'static,
    ) {
        self.before_signup.push(Arc::new(hook));
    }

    /// A route at `/api/x/<plugin><path>`.
    pub fn route(
        &mut self,
        method: Method,
        path: &str,
        access: Access,
        handler: impl Fn(&dyn Host, &RouteRequest) -> RouteResponse + Send + Sync + 'static,
    ) {
        self.routes.push(Route {
            method,
            path: path.to_owned(),
            access,
            handler: Arc::new(handler),
        });
    }

    /// A job run whenever `schedule` matches (checked at least once a minute).
    pub fn cron(
        &mut self,
        name: &str,
        schedule: &str,
        job: impl Fn(&dyn Host) -> Result<(), PluginError> + Send + Sync + 'static,
    ) {
        self.crons.push(Cron {
            name: name.to_owned(),
            schedule: schedule.to_owned(),
            job: Arc::new(job),
        });
    }

    /// A step run once when the server starts, before it serves requests. It gets
    /// the host to keep: a plugin with background work (a delivery queue) keeps it
    /// for its own threads.
    pub fn setup(
        &mut self,
        step: impl Fn(Arc<dyn Host>) -> Result<(), PluginError> + Send + Sync + 'static,
    ) {
        self.setup.push(Arc::new(step));
    }

    /// Whether anything is registered at `point`.
    pub fn has(&self, point: HookPoint) -> bool {
        match point {
            HookPoint::BeforeRecord(a) => self.before.iter().any(|h| h.action == a),
            HookPoint::AfterRecord(a) => self.after.iter().any(|h| h.action == a),
            HookPoint::AfterLogin => !self.after_login.is_empty(),
            HookPoint::BeforeSignup => !self.before_signup.is_empty(),
        }
    }
}

/// Matches a route pattern (`/deliveries/:id`) against a path; returns whether it
/// matched and the `:name` segments.
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if pat.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        match p.strip_prefix(':') {
            Some(name) => params.push((name.to_owned(), (*g).to_owned())),
            None if p == g => {}
            None => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_segments_and_params() {
        assert_eq!(match_path("/", "/"), Some(vec![]));
        assert_eq!(
            match_path("/a/:id", "/a/x1"),
            Some(vec![("id".into(), "x1".into())])
        );
        assert_eq!(match_path("/a/:id", "/a"), None);
        assert_eq!(match_path("/a/b", "/a/c"), None);
    }

    #[test]
    fn after_any_registers_three_points() {
        let mut r = Registry::default();
        r.after_any(Scope::All, |_, _| Ok(()));
        assert!(r.has(HookPoint::AfterRecord(RecordAction::Delete)));
        assert!(!r.has(HookPoint::BeforeRecord(RecordAction::Create)));
    }
}
