//! The script thread: owns the QuickJS runtime of the current script set, loads new
//! sets, and runs calls one at a time under the time limit.
//!
//! QuickJS runtimes are not `Send`, so everything JavaScript lives on this one thread;
//! other threads send [`Job`]s over a channel and wait for the answer.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use basalt_plugin_api::{Host, Level, ListQuery, Record, Value};
use rquickjs::context::EvalOptions;
use rquickjs::{CaughtError, Context, Ctx, Function, Runtime};
use serde_json::json;

use crate::summary::Summary;

const PRELUDE: &str = include_str!("prelude.js");

thread_local! {
    /// Whether this thread is the script thread (writes made by scripts through
    /// `$app` run their before-hooks here and must not wait for this thread).
    static ON_SCRIPT_THREAD: Cell<bool> = const { Cell::new(false) };
}

pub fn on_script_thread() -> bool {
    ON_SCRIPT_THREAD.with(Cell::get)
}

/// Per-call and per-runtime limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub time: Duration,
    pub memory_bytes: usize,
}

/// What the script thread is asked to do.
pub enum Job {
    /// Runs `point` with the event (JSON text); answers the dispatcher's JSON text.
    Call {
        point: &'static str,
        event: String,
        reply: SyncSender<Result<String, String>>,
    },
    /// Replaces the script set with these files (name, source) if they all load.
    Load {
        files: Vec<(String, String)>,
        reply: Option<SyncSender<Result<(), String>>>,
    },
}

/// A loaded script set.
struct Loaded {
    summary: Arc<Summary>,
    // Dropped after the context (field order).
    ctx: Context,
    _runtime: Runtime,
}

/// State shared by the script thread and its interrupt handler.
#[derive(Default)]
struct Clock {
    /// Milliseconds since `start` at which the running call must stop; 0 = none.
    deadline: AtomicU64,
    interrupted: AtomicBool,
}

/// Runs the script thread until every sender of `jobs` is gone.
pub fn run(
    jobs: Receiver<Job>,
    host: Arc<dyn Host>,
    limits: Limits,
    summary: Arc<RwLock<Arc<Summary>>>,
) {
    ON_SCRIPT_THREAD.with(|c| c.set(true));
    let start = Instant::now();
    let clock = Arc::new(Clock::default());
    let mut current: Option<Loaded> = None;
    for job in jobs {
        match job {
            Job::Load { files, reply } => {
                let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
                let result = load(&files, &host, limits, &clock, start).and_then(|loaded| {
                    let s = loaded
                        .ctx
                        .with(|ctx| call_text(&ctx, "__basalt_summary", ()))
                        .map_err(|e| format!("reading what the scripts registered: {e}"))?;
                    let s = Arc::new(Summary::parse(&s)?);
                    Ok(Loaded {
                        summary: s,
                        ..loaded
                    })
                });
                let result = match result {
                    Ok(loaded) => {
                        *summary.write().unwrap_or_else(|e| e.into_inner()) =
                            loaded.summary.clone();
                        current = Some(loaded);
                        host.log(
                            Level::Info,
                            &format!("scripts loaded: {}", names.join(", ")),
                        );
                        Ok(())
                    }
                    Err(e) => {
                        host.log(
                            Level::Error,
                            &format!("scripts not loaded, the previous set stays active: {e}"),
                        );
                        Err(e)
                    }
                };
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Job::Call {
                point,
                event,
                reply,
            } => {
                let result = match &current {
                    None => Err("no scripts are loaded".to_owned()),
                    Some(loaded) => 'call: {
                        let event = match point {
                            "route" => match loaded.summary.resolve_route(&event) {
                                Ok(event) => event,
                                Err(answer) => break 'call Ok(answer),
                            },
                            _ => event,
                        };
                        arm(&clock, start, limits.time);
                        let r = loaded.ctx.with(|ctx| {
                            call_text(&ctx, "__basalt_dispatch", (point, event.as_str()))
                        });
                        let stopped = disarm(&clock);
                        match r {
                            Err(_) if stopped => Err(format!(
                                "the script ran longer than its time limit ({} ms) and was stopped",
                                limits.time.as_millis()
                            )),
                            other => other,
                        }
                    }
                };
                let _ = reply.send(result);
            }
        }
    }
}

fn arm(clock: &Clock, start: Instant, limit: Duration) {
    let at = start.elapsed() + limit;
    clock.interrupted.store(false, Ordering::SeqCst);
    clock
        .deadline
        .store((at.as_millis() as u64).max(1), Ordering::SeqCst);
}

/// Clears the deadline; whether the call was interrupted.
fn disarm(clock: &Clock) -> bool {
    clock.deadline.store(0, Ordering::SeqCst);
    clock.interrupted.swap(false, Ordering::SeqCst)
}

/// Calls the global function `name`, expecting text back; a thrown error as text.
fn call_text<'js, A: rquickjs::function::IntoArgs<'js>>(
    ctx: &Ctx<'js>,
    name: &str,
    args: A,
) -> Result<String, String> {
    let f: Function = ctx.globals().get(name).map_err(|e| e.to_string())?;
    f.call::<A, String>(args)
        .map_err(|e| CaughtError::from_error(ctx, e).to_string())
}

/// A fresh runtime with the prelude and `files` evaluated in order.
fn load(
    files: &[(String, String)],
    host: &Arc<dyn Host>,
    limits: Limits,
    clock: &Arc<Clock>,
    start: Instant,
) -> Result<Loaded, String> {
    let runtime = Runtime::new().map_err(|e| format!("creating a runtime: {e}"))?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(512 << 10);
    let handler_clock = clock.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let deadline = handler_clock.deadline.load(Ordering::SeqCst);
        let over = deadline != 0 && start.elapsed().as_millis() as u64 >= deadline;
        if over {
            handler_clock.interrupted.store(true, Ordering::SeqCst);
        }
        over
    })));
    let ctx = Context::full(&runtime).map_err(|e| format!("creating a context: {e}"))?;
    ctx.with(|ctx| -> Result<(), String> {
        let host = host.clone();
        let native = Function::new(ctx.clone(), move |op: String, args: String| {
            host_call(&*host, &op, &args).to_string()
        })
        .map_err(|e| e.to_string())?;
        ctx.globals()
            .set("__basalt_host", native)
            .map_err(|e| e.to_string())?;
        eval(&ctx, "prelude.js", PRELUDE)?;
        for (name, source) in files {
            ctx.globals()
                .set("__basalt_file", name.as_str())
                .map_err(|e| e.to_string())?;
            arm(clock, start, limits.time);
            let r = eval(&ctx, name, source);
            if disarm(clock) {
                return Err(format!(
                    "{name}: stopped after its time limit ({} ms) while loading",
                    limits.time.as_millis()
                ));
            }
            r?;
        }
        Ok(())
    })?;
    Ok(Loaded {
        summary: Arc::default(),
        ctx,
        _runtime: runtime,
    })
}

fn eval(ctx: &Ctx<'_>, name: &str, source: &str) -> Result<(), String> {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    ctx.eval_with_options::<(), _>(source, options)
        .map_err(|e| format!("{name}: {}", CaughtError::from_error(ctx, e)))
}

/// One `$app` call: `args` is a JSON array; answers `{ok}` or `{error}`.
fn host_call(host: &dyn Host, op: &str, args: &str) -> Value {
    let args: Vec<Value> = match serde_json::from_str(args) {
        Ok(a) => a,
        Err(e) => return error(400, &format!("$app.{op}: arguments: {e}")),
    };
    let text = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or_default();
    let body = |i: usize| match args.get(i) {
        Some(Value::Object(m)) => m.clone(),
        _ => Record::new(),
    };
    let result = match op {
        "get" => host.get(text(0), text(1)).map(|r| json!(r)),
        "list" => {
            let q = args.get(1).cloned().unwrap_or(Value::Null);
            let n = |k: &str| q.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
            let s = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let query = ListQuery {
                filter: s("filter"),
                sort: s("sort"),
                limit: n("limit"),
                offset: n("offset"),
            };
            host.list(text(0), &query).map(|r| json!(r))
        }
        "create" => host.create(text(0), body(1)).map(Value::Object),
        "update" => host.update(text(0), text(1), body(2)).map(Value::Object),
        "delete" => host.delete(text(0), text(1)).map(|()| Value::Null),
        "log" => {
            let level = if text(0) == "error" {
                Level::Error
            } else {
                Level::Info
            };
            host.log(level, text(1));
            Ok(Value::Null)
        }
        other => return error(400, &format!("unknown $app operation {other:?}")),
    };
    match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => {
            let fields: serde_json::Map<String, Value> = e
                .fields
                .iter()
                .map(|(f, m)| (f.clone(), json!(m)))
                .collect();
            json!({ "error": { "status": e.status, "message": e.message, "fields": fields } })
        }
    }
}

fn error(status: u16, message: &str) -> Value {
    json!({ "error": { "status": status, "message": message, "fields": {} } })
}
