#!/usr/bin/env bash
# anygate's memory under load: one worker (pinned to CPU 0, nginx and wrk on CPU 1) driven through
# every path of bench/run.sh (non-streamed, streamed, translated both ways, Bedrock, Vertex) for ROUNDS
# rounds (default 6) of DUR seconds a path (default 4) at 32 connections, its RSS printed at the start
# and after each round: it should grow once, as each path's code and caches come in, then stay flat.
# Needs nginx and wrk. Run from the project root once .venv exists.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
W=/tmp/anygate-bench  # nginx.conf's directory
PY=$ROOT/.venv/bin/python
source "$B/config.sh"
DUR=${DUR:-4}; ROUNDS=${ROUNDS:-6}
if [[ $(nproc) -ge 2 ]]; then T0="taskset -c 0"; T1="taskset -c 1"; else T0=""; T1=""; fi
mkdir -p "$W"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
cp "$B/stream.txt" "$W/stream.txt"
[[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null && sleep 0.5
$T1 nginx -c "$B/nginx.conf" -p "$W"
bench_config "$W/anygate.yaml" "$W/anygate.db"
stream_bodies "$B" "$W"
KEY=$("$ROOT/.venv/bin/anygate" keys create --config "$W/anygate.yaml" --name rss --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
$T0 "$ROOT/.venv/bin/anygate" serve --config "$W/anygate.yaml" --port 19085 >"$W/anygate.log" 2>&1 & pids+=($!)
AG_PID=${pids[-1]}
for _ in $(seq 1 150); do curl -s -o /dev/null http://127.0.0.1:19085/health && break; sleep 0.2; done
rss() { echo "$(($(ps -o rss= -p "$AG_PID") / 1024)) MB"; }
echo "at start: $(rss)"
for round in $(seq 1 "$ROUNDS"); do
  for path_body in "openai/v1/chat/completions $B/body_openai.json" "openai/v1/chat/completions $W/body_stream.json" \
    "anthropic/v1/messages $B/body_anthropic.json" "anthropic/v1/messages $W/body_anthropic_stream.json" \
    "openai/v1/chat/completions $W/body_bedrock.json" "openai/v1/chat/completions $W/body_vertex.json"; do
    read -r path body <<<"$path_body"
    BODY_FILE=$body AUTH=$KEY $T1 wrk -t1 -c32 -d"${DUR}s" -s "$B/post.lua" "http://127.0.0.1:19085/$path" | grep -q "non2xx=0 errors=0" \
      || echo "round $round, $path ($(basename "$body")): some calls failed"
  done
  echo "after round $round: $(rss)"
done
