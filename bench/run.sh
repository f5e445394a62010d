#!/usr/bin/env bash
# anygate's overhead benchmark, in one run on this machine: nginx as a fixed-response upstream (for
# OpenAI, and for Bedrock's Converse and Vertex's Gemini with its token endpoint, so that a cloud's
# per-call cost, SigV4 signing or the token's header, shows against the same translation), the
# bare aiohttp pass-through proxy (the floor for a Python gateway) and anygate on one worker, each
# driven by wrk. Prints a table of throughput and latency with anygate's ratio to the bare proxy.
# Each figure is the median of ROUNDS runs, the targets taking turns, since this machine is shared.
# Env: DUR (seconds per run, default 5), ROUNDS (default 3), CONC (connections, default 32), PIN
# (default 1: servers on CPU 0, nginx and wrk on CPU 1), LIMITS=1 (the key gets RPM and TPM limits, so
# that every call is checked and counted), REDIS=URL (limits shared through that Redis), WORKERS=N
# (anygate's worker processes; use PIN=0 with more than one), DURABILITY=sync (usage records written
# before each answer ends: metering.durability). Run from the project root once .venv exists.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
W=/tmp/anygate-bench
PY=$ROOT/.venv/bin/python
source "$B/config.sh"
DUR=${DUR:-5}; ROUNDS=${ROUNDS:-3}; CONC=${CONC:-32}
mkdir -p "$W"
if [[ ${PIN:-1} == 1 && $(nproc) -ge 2 ]]; then T0="taskset -c 0"; T1="taskset -c 1"; else T0=""; T1=""; fi
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq nginx-light wrk) >/dev/null 2>&1 || { echo "needs nginx and wrk (Debian packages)"; exit 1; }
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1"; return 1; }

cp "$B/stream.txt" "$W/stream.txt"
[[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null && sleep 0.5
$T1 nginx -c "$B/nginx.conf" -p "$W"
$T0 "$PY" "$B/bare_proxy.py" http://127.0.0.1:19080 19081 >"$W/bare.log" 2>&1 & pids+=($!)

bench_config "$W/anygate.yaml" "$W/anygate.db" "${REDIS:+redis: $REDIS}
${DURABILITY:+metering: {durability: $DURABILITY\}}"
LIMIT_ARGS=()
[[ -n ${LIMITS:-} || -n ${REDIS:-} ]] && LIMIT_ARGS=(--rpm 100000000 --tpm 100000000000)
KEY=$("$ROOT/.venv/bin/anygate" keys create --config "$W/anygate.yaml" --name bench "${LIMIT_ARGS[@]}" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
$T0 "$ROOT/.venv/bin/anygate" serve --config "$W/anygate.yaml" --port 19083 --workers "${WORKERS:-1}" >"$W/anygate.log" 2>&1 & pids+=($!)
AG_PID=${pids[-1]}
wait_up http://127.0.0.1:19081/ && wait_up http://127.0.0.1:19083/health
stream_bodies "$B" "$W"

declare -A R
run() { # label conns url body auth: appends one run's figures to R[label]
  local line
  line=$(BODY_FILE=$4 AUTH=${5:-} $T1 wrk -t1 -c"$2" -d"${DUR}s" -s "$B/post.lua" "$3" 2>&1 | grep RESULT)
  R[$1]+="${line#RESULT }"$'\n'
  echo "  $1: ${line#RESULT }" >&2
}
field() { # label name: the median of that figure over the rounds (the sum for error counts)
  sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"${R[$1]}" | "$PY" -c "
import statistics, sys
values = [float(v) for v in sys.stdin.read().split()]
print(int(sum(values)) if '$2' in ('non2xx', 'errors') else round(statistics.median(values), 3))"
}

echo "warming up" >&2
BODY_FILE=$B/body_openai.json AUTH=$KEY wrk -t1 -c8 -d2s -s "$B/post.lua" http://127.0.0.1:19083/openai/v1/chat/completions >/dev/null
WARM_RSS=$(ps -o rss= -p "$AG_PID")
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  run nginx "$CONC" http://127.0.0.1:19080/v1/chat/completions "$B/body_openai.json"
  run bare "$CONC" http://127.0.0.1:19081/v1/chat/completions "$B/body_openai.json"
  run anygate "$CONC" http://127.0.0.1:19083/openai/v1/chat/completions "$B/body_openai.json" "$KEY"
  run bare-stream "$CONC" http://127.0.0.1:19081/stream/v1/chat/completions "$B/body_openai_stream.json"
  run anygate-stream "$CONC" http://127.0.0.1:19083/openai/v1/chat/completions "$W/body_stream.json" "$KEY"
  run anthropic-to-openai "$CONC" http://127.0.0.1:19083/anthropic/v1/messages "$B/body_anthropic.json" "$KEY"
  run anthropic-to-openai-stream "$CONC" http://127.0.0.1:19083/anthropic/v1/messages "$W/body_anthropic_stream.json" "$KEY"
  run openai-to-bedrock "$CONC" http://127.0.0.1:19083/openai/v1/chat/completions "$W/body_bedrock.json" "$KEY"
  run openai-to-vertex "$CONC" http://127.0.0.1:19083/openai/v1/chat/completions "$W/body_vertex.json" "$KEY"
  run bare-1conn 1 http://127.0.0.1:19081/v1/chat/completions "$B/body_openai.json"
  run anygate-1conn 1 http://127.0.0.1:19083/openai/v1/chat/completions "$B/body_openai.json" "$KEY"
done
RSS=$(ps -o rss= -p "$AG_PID")
ttfb() { $T1 "$PY" "$B/ttfb.py" "$1" "$2" "$KEY" 300; }
TTFB_BARE=$(ttfb http://127.0.0.1:19081/stream/v1/chat/completions "$B/body_openai_stream.json")
TTFB_SAME=$(ttfb http://127.0.0.1:19083/openai/v1/chat/completions "$W/body_stream.json")
TTFB_TRANS=$(ttfb http://127.0.0.1:19083/anthropic/v1/messages "$W/body_anthropic_stream.json")

ratio() { "$PY" -c "print(f'{$1/$2:.2f}')"; }
printf '\n%-34s %10s %9s %9s %8s %s\n' "path ($CONC conns, ${WORKERS:-1} worker(s), median of $ROUNDS)" "rps" "p50 ms" "p99 ms" "ratio" "errors"
for pair in "nginx:" "bare:" "anygate:bare" "bare-stream:" "anygate-stream:bare-stream" "anthropic-to-openai:bare" \
  "anthropic-to-openai-stream:bare-stream" "openai-to-bedrock:bare" "openai-to-vertex:bare" "bare-1conn:" "anygate-1conn:bare-1conn"; do
  name=${pair%%:*}; base=${pair#*:}
  r=$(field "$name" rps); rt="-"
  [[ -n $base ]] && rt=$(ratio "$r" "$(field "$base" rps)")
  printf '%-34s %10s %9s %9s %8s non2xx=%s errors=%s\n' "$name" "$r" "$(field "$name" p50_ms)" "$(field "$name" p99_ms)" "$rt" "$(field "$name" non2xx)" "$(field "$name" errors)"
done
echo "added p50 latency at 1 connection: $("$PY" -c "print(f'{$(field anygate-1conn p50_ms) - $(field bare-1conn p50_ms):.3f}')") ms"
echo "median time to first byte, streamed, 1 connection: bare $TTFB_BARE ms, anygate same-family $TTFB_SAME ms, anygate Anthropic-to-OpenAI $TTFB_TRANS ms"
echo "anygate RSS after warm-up: $((WARM_RSS / 1024)) MB, after the run: $((RSS / 1024)) MB"
