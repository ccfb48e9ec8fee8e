// The API scripts see, evaluated in every fresh runtime before the scripts.
// The Rust side talks to it through two globals: __basalt_summary() and
// __basalt_dispatch(point, eventJson); both return JSON text.
(function () {
  "use strict";
  const native = globalThis.__basalt_host;
  delete globalThis.__basalt_host;

  const hooks = {};
  const routes = [];
  const crons = [];
  const file = () => globalThis.__basalt_file || "?";

  class ValidationError extends Error {
    constructor(field, code, message) {
      super(message === undefined ? String(code) : String(message));
      this.name = "ValidationError";
      this.field = field === undefined || field === null ? null : String(field);
      this.code = code === undefined ? "validation_rejected" : String(code);
    }
  }
  globalThis.ValidationError = ValidationError;

  function recordHook(point) {
    return function (collection, fn) {
      if (typeof collection === "function") {
        fn = collection;
        collection = "*";
      }
      if (typeof collection !== "string" || typeof fn !== "function") {
        throw new TypeError(point + ": expected (collection, function)");
      }
      (hooks[point] = hooks[point] || []).push({ collection, fn, file: file() });
    };
  }
  for (const [name, point] of [
    ["onRecordBeforeCreate", "beforeCreate"],
    ["onRecordBeforeUpdate", "beforeUpdate"],
    ["onRecordBeforeDelete", "beforeDelete"],
    ["onRecordAfterCreate", "afterCreate"],
    ["onRecordAfterUpdate", "afterUpdate"],
    ["onRecordAfterDelete", "afterDelete"],
  ]) {
    globalThis[name] = recordHook(point);
  }
  function plainHook(point) {
    return function (fn) {
      if (typeof fn !== "function") {
        throw new TypeError(point + ": expected a function");
      }
      (hooks[point] = hooks[point] || []).push({ collection: "*", fn, file: file() });
    };
  }
  globalThis.onAuthLogin = plainHook("login");
  globalThis.onBeforeSignup = plainHook("signup");

  globalThis.routerAdd = function (method, path, handler, access) {
    if (typeof method !== "string" || typeof path !== "string" || typeof handler !== "function") {
      throw new TypeError("routerAdd: expected (method, path, handler, access)");
    }
    if (access === undefined) {
      throw new TypeError("routerAdd " + path + ': give the access: "public", "auth" or "superuser"');
    }
    routes.push({ method: method.toUpperCase(), path, access: String(access), fn: handler, file: file() });
  };

  globalThis.cronAdd = function (name, schedule, fn) {
    if (typeof name !== "string" || typeof schedule !== "string" || typeof fn !== "function") {
      throw new TypeError("cronAdd: expected (name, schedule, function)");
    }
    if (crons.some((c) => c.name === name)) {
      throw new TypeError("cronAdd: a job named " + name + " exists already");
    }
    crons.push({ name, schedule, fn, file: file() });
  };

  function host(op, ...args) {
    const answer = JSON.parse(native(op, JSON.stringify(args)));
    if (answer.error) {
      const e = new Error(answer.error.message);
      e.status = answer.error.status;
      e.fields = answer.error.fields;
      throw e;
    }
    return answer.ok;
  }
  globalThis.$app = Object.freeze({
    findRecordById: (collection, id) => host("get", collection, id),
    findRecords: (collection, query) => host("list", collection, query || {}),
    createRecord: (collection, body) => host("create", collection, body || {}),
    updateRecord: (collection, id, body) => host("update", collection, id, body || {}),
    deleteRecord: (collection, id) => host("delete", collection, id),
    log: (...parts) => host("log", "info", parts.map(String).join(" ")),
    logError: (...parts) => host("log", "error", parts.map(String).join(" ")),
  });

  globalThis.__basalt_summary = function () {
    const points = {};
    for (const point of Object.keys(hooks)) {
      points[point] = hooks[point].map((h) => h.collection);
    }
    return JSON.stringify({
      hooks: points,
      routes: routes.map((r) => ({ method: r.method, path: r.path, access: r.access })),
      crons: crons.map((c) => ({ name: c.name, schedule: c.schedule })),
    });
  };

  function failed(entry, err) {
    const text = err instanceof Error ? err.name + ": " + err.message : String(err);
    return JSON.stringify({ error: entry.file + ": " + text });
  }

  function reply(status, body) {
    return { __basaltResponse: true, status, body };
  }

  globalThis.__basalt_dispatch = function (point, eventJson) {
    const e = JSON.parse(eventJson);
    if (point === "route") {
      const route = routes[e.index];
      const request = Object.assign({}, e.request, { json: reply });
      try {
        const out = route.fn(request);
        if (out && out.__basaltResponse === true) {
          return JSON.stringify({ ok: { status: out.status | 0, body: out.body === undefined ? null : out.body } });
        }
        return JSON.stringify({ ok: { status: 200, body: out === undefined ? null : out } });
      } catch (err) {
        if (err instanceof ValidationError) {
          return JSON.stringify({ ok: { status: 400, body: { message: err.message } } });
        }
        return failed(route, err);
      }
    }
    if (point === "cron") {
      const job = crons.find((c) => c.name === e.name);
      try {
        job.fn();
        return JSON.stringify({ ok: null });
      } catch (err) {
        return failed(job, err);
      }
    }
    for (const h of hooks[point] || []) {
      if (h.collection !== "*" && h.collection !== e.collection) {
        continue;
      }
      try {
        h.fn(e);
      } catch (err) {
        if (err instanceof ValidationError) {
          return JSON.stringify({ reject: { field: err.field, code: err.code, message: err.message } });
        }
        return failed(h, err);
      }
    }
    return JSON.stringify({ ok: e.body === undefined ? null : e.body });
  };
})();
