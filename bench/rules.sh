#!/usr/bin/env bash
# What an API rule costs: list throughput as superuser vs as a user under an owner
# rule (`owner = @request.auth.id`) vs as a user allowed by role (Basalt: a casbin
# policy of role `reader`; PocketBase, which has no roles: the rule
# `@request.auth.reader = true` on a user flag). Both servers, same run, same data:
# 20k notes (half owned by the measured user), an index on `owner`.
#
# The four list phases run interleaved, in BENCH_ROUNDS rounds of BENCH_LISTS/ROUNDS
# requests each, so that load drift on a shared machine hits every phase alike. Per
# phase: req/s over all rounds (requests / summed elapsed time), the worst round's p99,
# errors, and the server's CPU time per request (from /proc, barely moved by other
# processes' load).
#
# Environment: POCKETBASE_BIN, BASALT_BIN (default target/release/basalt),
# LOADGEN_BIN, BENCH_NOTES (20000), BENCH_LISTS (10000), BENCH_ROUNDS (5),
# BENCH_LIST_CONCURRENCY (32), BENCH_PHASE_SECONDS (60), BENCH_SERVERS ("pocketbase basalt").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NOTES="${BENCH_NOTES:-20000}"
LISTS="${BENCH_LISTS:-10000}"
ROUNDS="${BENCH_ROUNDS:-5}"
C_LIST="${BENCH_LIST_CONCURRENCY:-32}"
PHASE_SECONDS="${BENCH_PHASE_SECONDS:-60}"
SERVERS="${BENCH_SERVERS:-pocketbase basalt}"
EMAIL="bench@example.com"
PASSWORD="Bench-Pass-123456"

log() { printf '[rules] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

POCKETBASE_BIN="${POCKETBASE_BIN:-$(command -v pocketbase || true)}"
BASALT_BIN="${BASALT_BIN:-$ROOT/target/release/basalt}"
LOADGEN_BIN="${LOADGEN_BIN:-$("$ROOT/bench/build-loadgen.sh")}"
declare -A BIN=([pocketbase]="$POCKETBASE_BIN" [basalt]="$BASALT_BIN")

WORK="$(mktemp -d "${TMPDIR:-/tmp}/basalt-rules-XXXX")"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  sleep 0.5
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

declare -A RPS
run_server() {
  local name="$1" bin="$2" dir="$WORK/$1"
  mkdir -p "$dir/data"
  "$bin" superuser upsert "$EMAIL" "$PASSWORD" --dir "$dir/data" >/dev/null 2>&1 || die "$name: upsert"
  local port url
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  "$bin" serve --http "127.0.0.1:$port" --dir "$dir/data" > "$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 1 "$url/api/health" 2>/dev/null && break
    sleep 0.1
  done
  # Setup: users (the measured owner, a reader, others), notes, rules or policies.
  python3 - "$name" "$url" "$EMAIL" "$PASSWORD" "$NOTES" > "$dir/tokens" <<'PY' || die "$name: setup failed"
import json, sys, urllib.error, urllib.request
name, url, email, password, notes = sys.argv[1:]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": token} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            t = r.read()
            return json.loads(t) if t else None
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()}")
su = call("POST", "/api/collections/_superusers/auth-with-password", {"identity": email, "password": password})["token"]
call("POST", "/api/collections", {"name": "members", "type": "auth", "createRule": "",
     "fields": [{"name": "reader", "type": "bool"}]}, su)
owner_rule = "owner = @request.auth.id"
call("POST", "/api/collections", {"name": "notes", "fields": [
    {"name": "owner", "type": "text"}, {"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
    "indexes": ["CREATE INDEX idx_notes_owner ON notes (owner)"], "listRule": owner_rule}, su)
role_rule = None if name == "basalt" else "@request.auth.reader = true"
call("POST", "/api/collections", {"name": "docs", "fields": [
    {"name": "title", "type": "text"}, {"name": "n", "type": "number"}], "listRule": role_rule}, su)
ids, tokens = [], []
for who in ("owner", "reader", "other"):
    u = call("POST", "/api/collections/members/records", {"email": f"{who}@example.com", "password": "password123",
             "passwordConfirm": "password123", "reader": who == "reader"}, su)
    ids.append(u["id"])
    tokens.append(call("POST", "/api/collections/members/auth-with-password",
                       {"identity": f"{who}@example.com", "password": "password123"})["token"])
if name == "basalt":
    call("POST", "/api/policies", {"role": "reader", "collection": "docs", "action": "list", "condition": ""}, su)
    call("POST", "/api/roles/links", {"role": "reader", "collection": "members", "record": ids[1]}, su)
print(su); print(tokens[0]); print(tokens[1]); print(ids[0]); print(ids[2])
PY
  local su owner reader owner_id other_id
  { read -r su; read -r owner; read -r reader; read -r owner_id; read -r other_id; } < "$dir/tokens"
  local base="$url/api/collections"
  local half=$((NOTES / 2))
  for who in "$owner_id" "$other_id"; do
    "$LOADGEN_BIN" --url "$base/notes/records" -m POST -H "Authorization: $su" -c 16 -n "$half" -d "$PHASE_SECONDS" \
      --body "{\"owner\":\"$who\",\"title\":\"note {n}\",\"n\":{r}}" > /dev/null || die "$name: insert notes"
  done
  "$LOADGEN_BIN" --url "$base/docs/records" -m POST -H "Authorization: $su" -c 16 -n "$NOTES" -d "$PHASE_SECONDS" \
    --body '{"title":"doc {n}","n":{r}}' > /dev/null || die "$name: insert docs"
  cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
  phase() { # phase LABEL TOKEN PATH ROUND
    local before after
    before="$(cpu_ticks)"
    "$LOADGEN_BIN" --url "$base/$3" -H "Authorization: $2" -c "$C_LIST" -n "$((LISTS / ROUNDS))" \
      -d "$PHASE_SECONDS" > "$dir/$1.$4.json" || die "$name: $1"
    after="$(cpu_ticks)"
    echo "$((after - before))" > "$dir/$1.$4.ticks"
  }
  local labels=(superuser owner_rule superuser_docs role_policy)
  for round in $(seq 1 "$ROUNDS"); do
    phase superuser "$su" "notes/records?perPage=20" "$round"
    phase owner_rule "$owner" "notes/records?perPage=20" "$round"
    phase superuser_docs "$su" "docs/records?perPage=20" "$round"
    phase role_policy "$reader" "docs/records?perPage=20" "$round"
  done
  local hz
  hz="$(getconf CLK_TCK)"
  for label in "${labels[@]}"; do
    RPS[$name.$label]="$(python3 - "$dir" "$label" "$ROUNDS" "$hz" <<'PY'
import json, sys
d, label, rounds, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rs = [json.load(open(f"{d}/{label}.{i}.json")) for i in range(1, rounds + 1)]
ticks = sum(int(open(f"{d}/{label}.{i}.ticks").read()) for i in range(1, rounds + 1))
n = sum(r["requests"] for r in rs)
secs = sum(r["elapsed_s"] for r in rs)
print("%.0f %.2f %d %.0f" % (n / secs, max(r["p99_ms"] for r in rs),
      sum(r["errors"] for r in rs), ticks * 1e6 / hz / max(n, 1)))
PY
)"
    log "$name $label: ${RPS[$name.$label]} (req/s, p99 ms, errors, server CPU us/req)"
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

for name in $SERVERS; do
  [[ -x "${BIN[$name]}" ]] || { log "$name: no binary, skipped"; continue; }
  run_server "$name" "${BIN[$name]}"
done
printf '\n%-12s %-16s %10s %10s %8s %12s %10s\n' server phase "req/s" "p99 ms" errors "cpu us/req" "rule cost"
for key in $(printf '%s\n' "${!RPS[@]}" | sort); do
  read -r rps p99 errs cpu <<< "${RPS[$key]}"
  server="${key%%.*}" label="${key#*.}" cost=""
  base=""
  case "$label" in
    owner_rule) base="${RPS[$server.superuser]}" ;;
    role_policy) base="${RPS[$server.superuser_docs]}" ;;
  esac
  if [[ -n "$base" ]]; then
    cost="$(python3 -c 'import sys; b, r = float(sys.argv[1]), float(sys.argv[2]); print("%.1f%%" % (100 * (1 - r / b)))' "${base%% *}" "$rps")"
  fi
  printf '%-12s %-16s %10s %10s %8s %12s %10s\n' "$server" "$label" "$rps" "$p99" "$errs" "$cpu" "$cost"
done
