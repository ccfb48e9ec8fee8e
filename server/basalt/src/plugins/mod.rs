//! Plugins: the binary maps what plugins register through `basalt-plugin-api` onto
//! core's hook ports (`basalt_core::hooks::Hooks`), runs their after-hooks from the
//! change log ([`follower`]) and their cron jobs ([`cron`]).
//!
//! Containment: every call into a plugin runs under `catch_unwind`. A before-hook or
//! route that panics fails its own request (`plugin_failed`, naming the plugin) and
//! nothing of that write is stored; an after-hook, login hook or cron job that panics
//! or errors is logged and skipped. No plugin failure stops the server.

mod builtin;
mod cron;
mod follower;
mod host;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use basalt_core::hooks::{Actor as CoreActor, BeforeWrite, Hooks, RouteAccess, RouteCall};
use basalt_core::service::{Action, Services};
use basalt_core::store::Action as WriteAction;
use basalt_core::{Code, Error, FieldError};
use basalt_plugin_api::{
    match_path, Access, Actor, BeforeRecord, LoginEvent, Method, Plugin, RecordAction, Registry,
    Reject, RouteRequest, Signup,
};
use parking_lot::Mutex;
use serde_json::{Map, Value as Json};

pub use builtin::{builtin, BUILTIN};
pub use host::PluginHost;

/// Plugins given as values (tests, embedders), besides the named ones of the config.
#[derive(Clone, Default)]
pub struct PluginSet(pub Vec<Arc<dyn Plugin>>);

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name().to_owned()))
            .finish()
    }
}

/// One enabled plugin.
struct Loaded {
    name: String,
    registry: Registry,
    host: Arc<PluginHost>,
}

/// A route found for a request: its plugin, itself, and its `:name` segments.
type FoundRoute<'a> = (
    &'a Loaded,
    &'a basalt_plugin_api::Route,
    Vec<(String, String)>,
);

/// A login waiting for the after-login hooks.
struct Login {
    collection: String,
    record: Map<String, Json>,
    method: String,
}

/// The enabled plugins, as core's hook port.
pub struct Runtime {
    plugins: Vec<Loaded>,
    logins: Mutex<std::sync::mpsc::Sender<Login>>,
    login_queue: Mutex<Option<std::sync::mpsc::Receiver<Login>>>,
    wants_after: bool,
    wants_signup: bool,
    wants_login: bool,
}

/// The running parts of the plugins; stopped on drop.
pub struct Running {
    follower: Option<follower::Follower>,
    cron: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn stop(mut self) {
        if let Some(cron) = self.cron.take() {
            cron.abort();
        }
        if let Some(follower) = self.follower.take() {
            follower.stop();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(cron) = self.cron.take() {
            cron.abort();
        }
    }
}

/// Every plugin the configuration enables: the named first-party ones, then the
/// given values.
fn enabled(config: &crate::Config) -> anyhow::Result<Vec<Arc<dyn Plugin>>> {
    let mut plugins = Vec::new();
    for name in &config.plugins {
        let settings = config
            .plugin_settings
            .get(name)
            .cloned()
            .unwrap_or(Json::Null);
        plugins.push(builtin(name, &settings).map_err(|e| anyhow::anyhow!("plugin {name}: {e}"))?);
    }
    if let Some(dir) = &config.hooks_dir {
        plugins.push(builtin::js_hooks(dir, config));
    }
    plugins.extend(config.plugin_instances.0.iter().cloned());
    Ok(plugins)
}

/// Registers the enabled plugins, wires their hooks into `services`, runs their setup
/// steps and starts their after-hook follower and cron jobs. `None` when no plugin is
/// enabled: then the write path carries no hook work at all.
pub fn start(services: &Arc<Services>, config: &crate::Config) -> anyhow::Result<Option<Running>> {
    let plugins = enabled(config)?;
    if plugins.is_empty() {
        return Ok(None);
    }
    let mut loaded = Vec::new();
    for plugin in plugins {
        let name = plugin.name().to_owned();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid || loaded.iter().any(|l: &Loaded| l.name == name) {
            anyhow::bail!("plugin name {name:?} must be unique and [a-z0-9-]");
        }
        let mut registry = Registry::default();
        contained(&name, "register", || plugin.register(&mut registry))
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|e| anyhow::anyhow!("plugin {name} failed to register: {e}"))?;
        check_registry(&name, &registry)?;
        let host = Arc::new(PluginHost::new(&name, services));
        loaded.push(Loaded {
            name,
            registry,
            host,
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let runtime = Arc::new(Runtime {
        wants_after: loaded.iter().any(|l| !l.registry.after.is_empty()),
        wants_signup: loaded.iter().any(|l| !l.registry.before_signup.is_empty()),
        wants_login: loaded.iter().any(|l| !l.registry.after_login.is_empty()),
        plugins: loaded,
        logins: Mutex::new(tx),
        login_queue: Mutex::new(Some(rx)),
    });
    services.attach_hooks(runtime.clone());
    for plugin in &runtime.plugins {
        for step in &plugin.registry.setup {
            contained(&plugin.name, "setup", || step(plugin.host.clone()))
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map_err(|e| anyhow::anyhow!("plugin {} failed to set up: {e}", plugin.name))?;
        }
    }
    let follower = follower::Follower::start(services.clone(), runtime.clone())
        .map_err(|e| anyhow::anyhow!("starting the plugins' follower: {e}"))?;
    let cron = cron::start(runtime.clone(), config.plugin_cron_tick)?;
    tracing::info!(
        plugins = ?runtime.plugins.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        "plugins enabled"
    );
    Ok(Some(Running {
        follower: Some(follower),
        cron,
    }))
}

/// Refuses registrations the server cannot honour, before it serves anything.
fn check_registry(name: &str, registry: &Registry) -> anyhow::Result<()> {
    for route in &registry.routes {
        if !route.path.starts_with('/') {
            anyhow::bail!("plugin {name}: route {:?} must start with /", route.path);
        }
        if let Access::Policy { action, .. } = &route.access {
            if parse_action(action).is_none() {
                anyhow::bail!("plugin {name}: route {} has unknown action {action:?} (list, view, create, update, delete)", route.path);
            }
        }
    }
    for job in &registry.crons {
        basalt_core::cron::Schedule::parse(&job.schedule)
            .map_err(|e| anyhow::anyhow!("plugin {name}: cron job {}: {e}", job.name))?;
    }
    Ok(())
}

fn parse_action(action: &str) -> Option<Action> {
    Some(match action {
        "list" => Action::List,
        "view" => Action::View,
        "create" => Action::Create,
        "update" => Action::Update,
        "delete" => Action::Delete,
        _ => return None,
    })
}

/// Runs `f`, turning a panic into its message.
fn contained<T>(plugin: &str, what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(plugin, hook = what, panic = %message, "plugin panicked; contained");
        format!("panicked: {message}")
    })
}

/// The error of a request whose plugin failed (a bug in the plugin, not the request).
fn plugin_failed(plugin: &str) -> Error {
    Error::new(
        Code::PluginFailed,
        format!("The plugin {plugin:?} failed while processing this request."),
    )
}

fn rejected(plugin: &str, reject: Reject) -> Error {
    if reject.code == Reject::FAILED {
        tracing::error!(plugin, error = %reject.message, "plugin failed a request");
        return plugin_failed(plugin);
    }
    match reject.field {
        Some(field) => Error::validation(reject.message.clone(), Default::default())
            .with_field(&field, FieldError::new(reject.code, reject.message)),
        None => Error::new(Code::ValidationFailed, reject.message),
    }
}

pub(crate) fn actor(a: &CoreActor) -> Actor {
    match a {
        CoreActor::Guest => Actor::Guest,
        CoreActor::Superuser { id } => Actor::Superuser { id: id.clone() },
        CoreActor::Auth { collection, id } => Actor::Auth {
            collection: collection.clone(),
            id: id.clone(),
        },
        CoreActor::System => Actor::System,
    }
}

pub(crate) fn record_action(a: WriteAction) -> RecordAction {
    match a {
        WriteAction::Create => RecordAction::Create,
        WriteAction::Update => RecordAction::Update,
        WriteAction::Delete => RecordAction::Delete,
    }
}

fn parse_method(method: &str) -> Option<Method> {
    Some(match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => return None,
    })
}

/// An error answer of a route as a core error (the api sends it in the envelope).
fn route_error(status: u16, body: &Json) -> Error {
    let code = match status {
        401 => Code::Unauthenticated,
        403 => Code::Forbidden,
        404 => Code::NotFound,
        409 => Code::Conflict,
        413 => Code::PayloadTooLarge,
        429 => Code::TooManyRequests,
        503 => Code::Unavailable,
        400..=499 => Code::BadRequest,
        _ => Code::Internal,
    };
    match body.get("message").and_then(Json::as_str) {
        Some(m) if code != Code::Internal => Error::new(code, m),
        _ => Error::from_code(code),
    }
}

impl Runtime {
    fn find_route(&self, plugin: &str, method: &str, path: &str) -> Option<FoundRoute<'_>> {
        let method = parse_method(method)?;
        let loaded = self.plugins.iter().find(|p| p.name == plugin)?;
        loaded.registry.routes.iter().find_map(|r| {
            if r.method != method {
                return None;
            }
            match_path(&r.path, path).map(|params| (loaded, r, params))
        })
    }

    /// Runs the after-login hooks of one queued login.
    fn dispatch_login(&self, login: &Login) {
        let event = LoginEvent {
            collection: login.collection.clone(),
            record: login.record.clone(),
            method: login.method.clone(),
        };
        for plugin in &self.plugins {
            for hook in &plugin.registry.after_login {
                let result = contained(&plugin.name, "after_login", || hook(&*plugin.host, &event));
                if let Ok(Err(e)) = result {
                    tracing::error!(plugin = %plugin.name, error = %e, "after-login hook failed");
                }
            }
        }
    }
}

impl Hooks for Runtime {
    fn wants_before(&self, collection: &str, action: WriteAction) -> bool {
        let action = record_action(action);
        self.plugins.iter().any(|p| {
            p.registry
                .before
                .iter()
                .any(|h| h.action == action && h.scope.matches(collection))
        })
    }

    fn before_write(&self, write: BeforeWrite<'_>) -> basalt_core::Result<()> {
        let action = record_action(write.action);
        let actor = actor(write.actor);
        let name = write.collection.name.as_str();
        for plugin in &self.plugins {
            for hook in &plugin.registry.before {
                if hook.action != action || !hook.scope.matches(name) {
                    continue;
                }
                let mut event = BeforeRecord {
                    action,
                    collection: name,
                    id: write.id,
                    actor: &actor,
                    old: write.old,
                    body: write.body,
                    host: &*plugin.host,
                };
                match contained(&plugin.name, "before", || (hook.run)(&mut event)) {
                    Ok(Ok(())) => {}
                    Ok(Err(reject)) => return Err(rejected(&plugin.name, reject)),
                    Err(_) => return Err(plugin_failed(&plugin.name)),
                }
            }
        }
        Ok(())
    }

    fn wants_signup(&self) -> bool {
        self.wants_signup
    }

    fn before_signup(
        &self,
        collection: &str,
        body: &mut Map<String, Json>,
    ) -> basalt_core::Result<()> {
        for plugin in &self.plugins {
            for hook in &plugin.registry.before_signup {
                let mut signup = Signup {
                    collection,
                    body,
                    host: &*plugin.host,
                };
                match contained(&plugin.name, "before_signup", || hook(&mut signup)) {
                    Ok(Ok(())) => {}
                    Ok(Err(reject)) => return Err(rejected(&plugin.name, reject)),
                    Err(_) => return Err(plugin_failed(&plugin.name)),
                }
            }
        }
        Ok(())
    }

    fn after_login(&self, collection: &str, record: Map<String, Json>, method: &str) {
        if !self.wants_login {
            return;
        }
        let login = Login {
            collection: collection.to_owned(),
            record,
            method: method.to_owned(),
        };
        let _ = self.logins.lock().send(login);
    }

    fn wants_after(&self) -> bool {
        self.wants_after
    }

    fn route(&self, plugin: &str, method: &str, path: &str) -> Option<RouteAccess> {
        let (_, route, _) = self.find_route(plugin, method, path)?;
        Some(match &route.access {
            Access::Public => RouteAccess::Public,
            Access::Authenticated => RouteAccess::Authenticated,
            Access::Superuser => RouteAccess::Superuser,
            Access::Policy { collection, action } => RouteAccess::Policy {
                collection: collection.clone(),
                // Checked at registration.
                action: parse_action(action).unwrap_or(Action::Update),
            },
        })
    }

    fn call_route(&self, call: RouteCall) -> basalt_core::Result<(u16, Json)> {
        let Some((plugin, route, params)) = self.find_route(&call.plugin, &call.method, &call.path)
        else {
            return Err(Error::not_found());
        };
        let request = RouteRequest {
            method: route.method,
            path: call.path,
            params,
            query: call.query,
            body: call.body,
            actor: actor(&call.actor),
        };
        let response = contained(&plugin.name, "route", || {
            (route.handler)(&*plugin.host, &request)
        })
        .map_err(|_| plugin_failed(&plugin.name))?;
        if response.status >= 400 || response.status < 200 {
            return Err(route_error(response.status, &response.body));
        }
        Ok((response.status, response.body))
    }
}
