#!/usr/bin/env bash
# Load benchmark of `carelevel serve` with the decision log on (issue 10), on loopback,
# with wrk (Debian package `wrk`) as the load generator on the same machine.
#
#   bash crates/carelevel-server/bench/load.sh [SECONDS]    (default 10 s per run)
#
# Runs, each at 1, 16 and 64 connections, one wrk thread:
#   baseline  GET /healthz (no work, no log: the HTTP stack alone, same run)
#   decide    POST /v1/rulesets/default/decide    (auth off, JSON Lines log)
#   assess    POST /v1/rulesets/default/assess    (auth off, JSON Lines log)
#   cds       POST /cds-services/default-patient-view, a prefetched QR and an ES384
#             JWT per request (auth on), at 32 connections paced to about 500 req/s,
#             and unpaced at 16 connections
# plus decide and assess without a log (what the log costs, same run).
# and checks after each server's SIGTERM that the log holds at least one record per
# 200 (it may hold up to one more per connection cut off by wrk's deadline: a record
# is durable before its response is sent, so a response cut off in flight leaves a
# record without a received response).
# Prints the machine, its load before and after, and one line per run.
set -euo pipefail
cd "$(dirname "$0")/../../.."
secs="${1:-10}"
command -v wrk >/dev/null || { echo "load.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -q -p carelevel-cli
cargo build --release --locked -q -p carelevel-server --example sign_tokens
bin=target/release/carelevel
signer=target/release/examples/sign_tokens
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD)"

"$bin" fhir response examples/answers/iop.yaml > "$work/qr.json"
cp examples/answers/iop.json "$work/answers.json"
python3 - "$work" <<'PY'
import json, sys
d = sys.argv[1]
qr = json.load(open(f"{d}/qr.json"))
req = {"hook": "patient-view", "hookInstance": "d1bd2b5c-7c1c-4d3e-9a57-5a1d5e0f3c11",
       "context": {"userId": "Practitioner/1", "patientId": "p1"},
       "prefetch": {"screening": qr}}
json.dump(req, open(f"{d}/cds.json", "w"))
PY

# start OUTFILE ARGS...: start a server, wait for its address.
start() {
  local out=$1; shift
  : > "$out"
  "$bin" serve --listen 127.0.0.1:0 "$@" > "$out" 2> "$out.err" &
  server=$!
  for _ in $(seq 1 100); do
    addr=$(sed -n 's|^carelevel serve: listening on http://||p' "$out" || true)
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "load.sh: the server did not start: $(cat "$out.err")" >&2
  exit 1
}
stop() {
  kill -TERM "$server"; wait "$server" || true
}
# run NAME CONNECTIONS PATH [env...]: one wrk run; prints one line; sets ok200.
run() {
  local name=$1 conns=$2 path=$3; shift 3
  local out
  out=$(env "$@" wrk -t1 -c"$conns" -d"${secs}s" --latency -s crates/carelevel-server/bench/post.lua "http://$addr$path")
  local result statuses
  result=$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //' || true)
  statuses=$(grep '^STATUSES' <<<"$out" | sed 's/^STATUSES //' || true)
  ok200=$(grep -o '200=[0-9]*' <<<"$statuses" | cut -d= -f2 || true); ok200=${ok200:-0}
  printf '%-9s c=%-3s %s statuses: %s\n' "$name" "$conns" "$result" "$statuses"
  total200=$((total200 + ok200))
}
count_log() {
  "$bin" log query "$1" | grep -c '"kind":"decision"' || true
}

# Baseline: GET /healthz (wrk's GET: no body script).
start "$work/base.out"
for c in 1 16 64; do
  line=$(wrk -t1 -c$c -d"${secs}s" --latency "http://$addr/healthz")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$line")
  p50=$(awk '$1=="50%" {print $2}' <<<"$line"); p99=$(awk '$1=="99%" {print $2}' <<<"$line")
  printf '%-9s c=%-3s rps=%s p50=%s p99=%s\n' baseline "$c" "$rps" "$p50" "$p99"
done
stop

# The same routes without a decision log: what the log costs, in the same run.
total200=0
start "$work/nolog.out"
for route in decide assess; do
  for c in 1 16 64; do
    run "$route-nolog" "$c" "/v1/rulesets/default/$route" BODY_FILE="$work/answers.json"
  done
done
stop

for route in decide assess; do
  total200=0
  start "$work/$route.out" --log "$work/$route.jsonl"
  for c in 1 16 64; do
    run "$route" "$c" "/v1/rulesets/default/$route" BODY_FILE="$work/answers.json"
  done
  stop
  n=$(count_log "$work/$route.jsonl")
  echo "$route: 200 responses $total200, log records $n (difference $((n - total200)), at most $((1 + 16 + 64)) allowed)"
  [ "$n" -ge "$total200" ] && [ $((n - total200)) -le 81 ] || { echo "load.sh: LOG COUNT MISMATCH" >&2; exit 1; }
done

total200=0
jwks=crates/carelevel-server/tests/keys/test-jwks.json
start "$work/cds.out" --issuer https://ehr.load.test --jwks "$jwks" --log "$work/cds.jsonl"
path=/cds-services/default-patient-view
"$signer" https://ehr.load.test "http://$addr$path" $((600 * secs + 1000)) > "$work/paced.tokens"
# 32 connections, each waiting 50 ms before its next request: about 500 req/s when
# a call takes ~15 ms (the rate reached is printed).
run cds-paced 32 "$path" BODY_FILE="$work/cds.json" TOKENS_FILE="$work/paced.tokens" DELAY_MS=50
"$signer" https://ehr.load.test "http://$addr$path" $((6000 * secs)) > "$work/free.tokens"
run cds 16 "$path" BODY_FILE="$work/cds.json" TOKENS_FILE="$work/free.tokens"
stop
n=$(count_log "$work/cds.jsonl")
echo "cds: 200 responses $total200, log records $n (difference $((n - total200)), at most 48 allowed)"
[ "$n" -ge "$total200" ] && [ $((n - total200)) -le 48 ] || { echo "load.sh: LOG COUNT MISMATCH" >&2; exit 1; }
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
