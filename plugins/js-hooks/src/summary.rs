//! What a loaded script set registered, as the Rust side needs it: which hook
//! points and collections have handlers (checked before any call is sent to the
//! script thread), the routes with their access, and the cron jobs.

use std::collections::HashMap;

use basalt_plugin_api::{match_path, Value};
use serde_json::json;

use basalt_plugin_api::cron::Schedule;

/// Who may call a script route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RouteAccess {
    Public,
    Auth,
    Superuser,
}

#[derive(Debug)]
struct RouteDef {
    method: String,
    path: String,
    access: RouteAccess,
}

#[derive(Debug)]
pub struct CronDef {
    pub name: String,
    pub schedule: Schedule,
}

#[derive(Debug, Default)]
pub struct Summary {
    /// Hook point → the collections (or `*`) of its handlers.
    hooks: HashMap<String, Vec<String>>,
    routes: Vec<RouteDef>,
    pub crons: Vec<CronDef>,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Summary {
    /// Reads the prelude's `__basalt_summary()` and checks routes and schedules.
    pub fn parse(text: &str) -> Result<Summary, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut summary = Summary::default();
        if let Some(hooks) = v["hooks"].as_object() {
            for (point, collections) in hooks {
                let list = collections.as_array().into_iter().flatten();
                let names = list.filter_map(Value::as_str).map(str::to_owned).collect();
                summary.hooks.insert(point.clone(), names);
            }
        }
        for r in v["routes"].as_array().into_iter().flatten() {
            let (method, path) = (str_of(&r["method"]), str_of(&r["path"]));
            if !METHODS.contains(&method.as_str()) {
                return Err(format!(
                    "routerAdd {path}: method {method:?} is not one of {}",
                    METHODS.join(", ")
                ));
            }
            if !path.starts_with('/') {
                return Err(format!("routerAdd {path:?}: the path must start with /"));
            }
            let access = match str_of(&r["access"]).as_str() {
                "public" => RouteAccess::Public,
                "auth" => RouteAccess::Auth,
                "superuser" => RouteAccess::Superuser,
                other => {
                    return Err(format!(
                        "routerAdd {path}: access {other:?} is not \"public\", \"auth\" or \"superuser\""
                    ))
                }
            };
            summary.routes.push(RouteDef {
                method,
                path,
                access,
            });
        }
        for c in v["crons"].as_array().into_iter().flatten() {
            let name = str_of(&c["name"]);
            let schedule = Schedule::parse(&str_of(&c["schedule"]))
                .map_err(|e| format!("cronAdd {name}: {e}"))?;
            summary.crons.push(CronDef { name, schedule });
        }
        Ok(summary)
    }

    /// Whether a handler of `point` covers `collection`.
    pub fn wants(&self, point: &str, collection: &str) -> bool {
        self.hooks
            .get(point)
            .is_some_and(|cs| cs.iter().any(|c| c == "*" || c == collection))
    }

    /// Matches a route event (`{method, path, actor, request}`) to a script route and
    /// checks its access: the event with `index` and `request.params` set, or the
    /// dispatcher's answer (401, 403, 404) when the request goes no further.
    pub fn resolve_route(&self, event: &str) -> Result<String, String> {
        let answer = |status: u16, message: &str| {
            json!({ "ok": { "status": status, "body": { "message": message } } }).to_string()
        };
        let mut e: Value = serde_json::from_str(event).map_err(|_| answer(400, "bad request"))?;
        let (method, path) = (str_of(&e["method"]), str_of(&e["path"]));
        let found = self.routes.iter().enumerate().find_map(|(i, r)| {
            if r.method != method {
                return None;
            }
            match_path(&r.path, &path).map(|params| (i, r, params))
        });
        let Some((index, route, params)) = found else {
            return Err(answer(404, "The requested resource wasn't found."));
        };
        let actor = str_of(&e["request"]["auth"]["type"]);
        match (route.access, actor.as_str()) {
            (RouteAccess::Public, _) | (_, "superuser") => {}
            (RouteAccess::Auth, "auth") => {}
            (_, "guest") => return Err(answer(401, "The request requires valid authorization.")),
            _ => return Err(answer(403, "Only superusers can perform this action.")),
        }
        let params: serde_json::Map<String, Value> = params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        e["index"] = json!(index);
        e["request"]["params"] = Value::Object(params);
        Ok(e.to_string())
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}
