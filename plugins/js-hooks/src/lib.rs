//! JavaScript hooks: a first-party plugin that runs the `*.js` files of a directory
//! in QuickJS (through `rquickjs`) and lets them hook record writes, logins and
//! signups, add routes under `/api/x/js/` and cron jobs, with `$app` as the host.
//!
//! The plugin registers generic handlers for every hook point once, at start, and
//! dispatches to the script set currently loaded; a changed directory loads a new set
//! in a fresh runtime and swaps it in only when every file loaded. All JavaScript
//! runs on one thread (QuickJS runtimes are not `Send`); callers wait for its answer
//! under a per-call time limit, and the runtime has a memory limit.
//!
//! This crate depends only on `basalt-plugin-api`, `rquickjs` and `serde_json`; it
//! must never reach into Basalt's internals, and a script must never be able to hang
//! or crash the server.

mod engine;
mod summary;
mod watch;

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use basalt_plugin_api::{
    json, Actor, Host, Level, Method, Plugin, PluginError, RecordAction, Registry, Reject,
    RouteResponse, Scope, Value,
};

use engine::Job;
pub use engine::Limits;
use summary::Summary;

/// The plugin's name: routes live under `/api/x/js/`.
pub const NAME: &str = "js";

/// Where the scripts are and how they are limited.
#[derive(Clone, Debug)]
pub struct Settings {
    pub dir: PathBuf,
    pub limits: Limits,
    /// How often the directory is checked for changes.
    pub poll: Duration,
}

/// The JavaScript hooks plugin.
pub struct JsHooks {
    settings: Settings,
    shared: Arc<Shared>,
}

/// What the registered handlers share with the script thread.
struct Shared {
    summary: Arc<RwLock<Arc<Summary>>>,
    /// The script thread's queue; set once the setup step started it.
    jobs: Mutex<Option<SyncSender<Job>>>,
    limits: Limits,
}

/// What a call into the scripts answered (script failures are the `Err` of the call).
enum Outcome {
    Done(Value),
    Rejected(Reject),
}

impl JsHooks {
    pub fn new(settings: Settings) -> JsHooks {
        let shared = Arc::new(Shared {
            summary: Arc::default(),
            jobs: Mutex::new(None),
            limits: settings.limits,
        });
        JsHooks { settings, shared }
    }
}

impl Shared {
    fn wants(&self, point: &str, collection: &str) -> bool {
        let summary = self.summary.read().unwrap_or_else(|e| e.into_inner());
        summary.wants(point, collection)
    }

    fn sender(&self) -> Option<SyncSender<Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `point` on the script thread and waits for its answer.
    fn call(&self, point: &'static str, event: Value) -> Result<Outcome, String> {
        let jobs = self.sender().ok_or("the scripts are not started")?;
        let (reply, answer) = sync_channel(1);
        let job = Job::Call {
            point,
            event: event.to_string(),
            reply,
        };
        jobs.send(job).map_err(|_| "the script thread stopped")?;
        // The thread enforces the limit itself; this wait also covers a queue of
        // calls ahead of this one and host calls a script is blocked in.
        let wait = self.limits.time * 3 + Duration::from_secs(5);
        let text = answer
            .recv_timeout(wait)
            .map_err(|_| "no answer from the scripts in time".to_owned())??;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            return Err(e.to_owned());
        }
        if let Some(r) = v.get("reject") {
            let message = r["message"].as_str().unwrap_or("rejected").to_owned();
            let code = r["code"].as_str().unwrap_or("validation_rejected");
            return Ok(Outcome::Rejected(match r["field"].as_str() {
                Some(field) => Reject::field(field, code, message),
                None => Reject {
                    code: code.to_owned(),
                    ..Reject::new(message)
                },
            }));
        }
        Ok(Outcome::Done(v.get("ok").cloned().unwrap_or(Value::Null)))
    }
}

/// A failed script fails the request it runs in: the server answers 500
/// `plugin_failed`; the message (naming the script) goes to the log only.
fn fail_request(host: &dyn Host, point: &str, error: &str) -> Result<(), Reject> {
    host.log(Level::Error, &format!("{point} hook failed: {error}"));
    Err(Reject::failed(format!(
        "script hook {point} failed: {error}"
    )))
}

fn actor_json(actor: &Actor) -> Value {
    match actor {
        Actor::Guest => json!({ "type": "guest" }),
        Actor::Superuser { id } => json!({ "type": "superuser", "id": id }),
        Actor::Auth { collection, id } => {
            json!({ "type": "auth", "collection": collection, "id": id })
        }
        Actor::System => json!({ "type": "system" }),
    }
}

const ACTIONS: [(RecordAction, &str, &str); 3] = [
    (RecordAction::Create, "beforeCreate", "afterCreate"),
    (RecordAction::Update, "beforeUpdate", "afterUpdate"),
    (RecordAction::Delete, "beforeDelete", "afterDelete"),
];

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

/// Route patterns registered for every method: the root and up to this many segments.
const MAX_ROUTE_SEGMENTS: usize = 8;

impl Plugin for JsHooks {
    fn name(&self) -> &str {
        NAME
    }

    fn register(&self, r: &mut Registry) -> Result<(), PluginError> {
        for (action, before, after) in ACTIONS {
            register_before(r, &self.shared, action, before);
            let shared = self.shared.clone();
            r.after(action, Scope::All, move |_, e| {
                if !shared.wants(after, &e.collection) {
                    return Ok(());
                }
                let event = json!({ "action": action.as_str(), "collection": e.collection,
                    "id": e.id, "record": e.record, "old": e.old, "seq": e.seq,
                    "actor": actor_json(&e.actor) });
                shared.call(after, event).map(|_| ()).map_err(PluginError)
            });
        }
        register_auth(r, &self.shared);
        for method in METHODS {
            let mut pattern = String::new();
            for depth in 0..=MAX_ROUTE_SEGMENTS {
                if depth > 0 {
                    pattern.push_str(&format!("/:s{depth}"));
                }
                let path = if depth == 0 { "/" } else { pattern.as_str() };
                let shared = self.shared.clone();
                r.route(
                    method,
                    path,
                    basalt_plugin_api::Access::Public,
                    move |host, req| {
                        let request = json!({ "method": method.as_str(), "path": req.path,
                        "query": req.query, "body": req.body, "auth": actor_json(&req.actor) });
                        let event = json!({ "method": method.as_str(), "path": req.path,
                        "request": request });
                        match shared.call("route", event) {
                            Ok(Outcome::Done(v)) => RouteResponse {
                                status: v["status"].as_u64().unwrap_or(200) as u16,
                                body: v["body"].clone(),
                            },
                            Ok(Outcome::Rejected(r)) => RouteResponse::error(400, r.message),
                            Err(e) => {
                                host.log(
                                    Level::Error,
                                    &format!("route {} {}: {e}", method.as_str(), req.path),
                                );
                                RouteResponse::error(500, e)
                            }
                        }
                    },
                );
            }
        }
        let shared = self.shared.clone();
        r.cron("scripts", "* * * * *", move |_| run_crons(&shared));
        let (shared, settings) = (self.shared.clone(), self.settings.clone());
        r.setup(move |host| start(&shared, &settings, host));
        Ok(())
    }
}

fn register_before(
    r: &mut Registry,
    shared: &Arc<Shared>,
    action: RecordAction,
    point: &'static str,
) {
    let shared = shared.clone();
    r.before(action, Scope::All, move |w| {
        if engine::on_script_thread() || !shared.wants(point, w.collection) {
            return Ok(());
        }
        let event = json!({ "action": action.as_str(), "collection": w.collection, "id": w.id,
            "old": w.old, "body": w.body, "actor": actor_json(w.actor) });
        match shared.call(point, event) {
            Ok(Outcome::Done(Value::Object(body))) => {
                if action != RecordAction::Delete {
                    *w.body = body;
                }
                Ok(())
            }
            Ok(Outcome::Done(_)) => Ok(()),
            Ok(Outcome::Rejected(reject)) => Err(reject),
            Err(e) => fail_request(w.host, point, &e),
        }
    });
}

fn register_auth(r: &mut Registry, shared: &Arc<Shared>) {
    let s = shared.clone();
    r.before_signup(move |w| {
        if engine::on_script_thread() || !s.wants("signup", w.collection) {
            return Ok(());
        }
        let event = json!({ "collection": w.collection, "body": w.body });
        match s.call("signup", event) {
            Ok(Outcome::Done(Value::Object(body))) => {
                *w.body = body;
                Ok(())
            }
            Ok(Outcome::Done(_)) => Ok(()),
            Ok(Outcome::Rejected(reject)) => Err(reject),
            Err(e) => fail_request(w.host, "signup", &e),
        }
    });
    let s = shared.clone();
    r.after_login(move |_, e| {
        if !s.wants("login", &e.collection) {
            return Ok(());
        }
        let event = json!({ "collection": e.collection, "record": e.record, "method": e.method });
        s.call("login", event).map(|_| ()).map_err(PluginError)
    });
}

/// The minute's due jobs, one after another (the server never overlaps this job).
fn run_crons(shared: &Shared) -> Result<(), PluginError> {
    let summary = shared
        .summary
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let mut failures = Vec::new();
    for job in summary.crons.iter().filter(|j| j.schedule.matches(now)) {
        if let Err(e) = shared.call("cron", json!({ "name": job.name })) {
            failures.push(format!("{}: {e}", job.name));
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(PluginError(failures.join("; "))),
    }
}

/// Starts the script thread, loads the directory (a set that fails to load stops the
/// server at start) and starts watching it.
fn start(
    shared: &Arc<Shared>,
    settings: &Settings,
    host: Arc<dyn Host>,
) -> Result<(), PluginError> {
    let files = watch::read_dir(&settings.dir).map_err(PluginError)?;
    let (jobs, queue) = sync_channel::<Job>(256);
    let (summary, limits, thread_host) = (shared.summary.clone(), settings.limits, host.clone());
    std::thread::Builder::new()
        .name("basalt-js".into())
        .spawn(move || engine::run(queue, thread_host, limits, summary))
        .map_err(|e| PluginError(format!("starting the script thread: {e}")))?;
    let (reply, answer) = sync_channel(1);
    let _ = jobs.send(Job::Load {
        files: files.contents,
        reply: Some(reply),
    });
    answer
        .recv()
        .map_err(|_| PluginError::new("the script thread stopped"))?
        .map_err(|e| PluginError(format!("loading {}: {e}", settings.dir.display())))?;
    *shared.jobs.lock().unwrap_or_else(|e| e.into_inner()) = Some(jobs);
    watch::start(
        Arc::downgrade(shared),
        settings.dir.clone(),
        settings.poll,
        files.stamp,
    )
}
