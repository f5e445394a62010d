#!/usr/bin/env bash
# CPU instructions per non-streamed request, counted by valgrind's callgrind: the bare proxy and
# anygate, each after a warm-up, over the same COUNT requests (default 1000, 8 at a time); with
# STREAM=1, per streamed request translated from an OpenAI upstream to an Anthropic client, against
# the bare proxy relaying the same stream (STREAM=same: the stream relayed to an OpenAI client;
# STREAM=0 TRANSLATE=1: a non-streamed call of an Anthropic client to the OpenAI upstream;
# OBFUSCATED=1: each chunk of the stream ends, as OpenAI's do by default, with an "obfuscation"
# member, a random string of random length that pads it). Unlike
# throughput this does not move with the other tenants of a shared machine, so two builds can be
# compared across runs (ANYGATE_SRC=<checkout> measures another checkout with this venv). anygate's
# time-driven background work (key and spend refreshes) is measured over 10 idle seconds and taken
# off in proportion to the load's length. Needs valgrind and nginx. Takes about 3 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
W=/tmp/anygate-bench
PY=$ROOT/.venv/bin/python
source "$B/config.sh"
SRC=${ANYGATE_SRC:-$ROOT}
COUNT=${COUNT:-1000}
mkdir -p "$W"
command -v valgrind >/dev/null || { echo "needs valgrind (Debian package)"; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
wait_up() { for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "not up: $1"; return 1; }
[[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null && sleep 0.5
if [[ ${OBFUSCATED:-0} == 1 ]]; then
  "$PY" - "$B/stream.txt" "$W/stream.txt" <<'PAD'
import random, string, sys
rng = random.Random(7)
pad = lambda: "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(1, 12)))
lines = open(sys.argv[1]).read().split("\n")
lines = [l[:-1] + f',"obfuscation":"{pad()}"}}' if l.startswith("data: {") else l for l in lines]
open(sys.argv[2], "w").write("\n".join(lines))
PAD
else
  cp "$B/stream.txt" "$W/stream.txt"
fi
nginx -c "$B/nginx.conf" -p "$W"

bench_config "$W/instructions.yaml" "$W/instructions.db"
stream_bodies "$B" "$W"
if [[ ${STREAM:-0} == same ]]; then
  WHAT="streamed request (OpenAI client, OpenAI upstream)"
  BARE_PATH=/stream/v1/chat/completions BARE_BODY=$B/body_openai_stream.json
  ANY_PATH=/openai/v1/chat/completions ANY_BODY=$W/body_stream.json
elif [[ ${STREAM:-0} == 1 ]]; then
  WHAT="streamed request (Anthropic client, OpenAI upstream)"
  BARE_PATH=/stream/v1/chat/completions BARE_BODY=$B/body_openai_stream.json
  ANY_PATH=/anthropic/v1/messages ANY_BODY=$W/body_anthropic_stream.json
elif [[ ${TRANSLATE:-0} == 1 ]]; then
  WHAT="non-streamed request (Anthropic client, OpenAI upstream)"
  BARE_PATH=/v1/chat/completions BARE_BODY=$B/body_openai.json
  ANY_PATH=/anthropic/v1/messages ANY_BODY=$B/body_anthropic.json
else
  WHAT="non-streamed request"
  BARE_PATH=/v1/chat/completions BARE_BODY=$B/body_openai.json
  ANY_PATH=/openai/v1/chat/completions ANY_BODY=$B/body_openai.json
fi
KEY=$(PYTHONPATH=$SRC "$ROOT/.venv/bin/anygate" keys create --config "$W/instructions.yaml" --name bench --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["key"])')

collected() { sed -n 's/^summary: //p' "$1"; }
measure() { # name port url-path body health-url command...: prints instructions per request
  local name=$1 port=$2 path=$3 body=$4 health=$5; shift 5
  PYTHONHASHSEED=0 PYTHONPATH=$SRC valgrind --tool=callgrind --callgrind-out-file="$W/cg.$name.%p" "$@" >"$W/cg.$name.log" 2>&1 &
  local vp=$!; pids+=("$vp")
  wait_up "$health"
  "$PY" "$B/drive.py" "http://127.0.0.1:$port$path" "$body" "$KEY" 300 8
  sleep 1
  callgrind_control -z "$vp" >/dev/null 2>&1
  local t0; t0=$(date +%s.%N)
  "$PY" "$B/drive.py" "http://127.0.0.1:$port$path" "$body" "$KEY" "$COUNT" 8
  sleep 1.2 # the batched usage and access lines of the load are written
  local t1; t1=$(date +%s.%N)
  callgrind_control -d "$vp" >/dev/null 2>&1
  sleep 10
  callgrind_control -d "$vp" >/dev/null 2>&1
  kill "$vp"; wait "$vp" 2>/dev/null || true
  "$PY" -c "
load, idle, secs = $(collected "$W/cg.$name.$vp.1"), $(collected "$W/cg.$name.$vp.2"), $t1 - $t0
print(f'{(load - idle / 10 * secs) / $COUNT / 1000:.0f}')"
}
echo "counting the bare proxy" >&2
BARE=$(measure bare 19081 "$BARE_PATH" "$BARE_BODY" http://127.0.0.1:19081/ "$PY" "$B/bare_proxy.py" http://127.0.0.1:19080 19081)
echo "counting anygate ($SRC)" >&2
ANY=$(measure anygate 19083 "$ANY_PATH" "$ANY_BODY" http://127.0.0.1:19083/health "$ROOT/.venv/bin/python" "$ROOT/.venv/bin/anygate" serve --config "$W/instructions.yaml" --port 19083)
echo "instructions per $WHAT: bare proxy ${BARE}K, anygate ${ANY}K, ratio $("$PY" -c "print(f'{$BARE/$ANY:.2f}')")"
