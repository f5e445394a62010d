#!/usr/bin/env bash
# The candidate HTTP layers of issue 20, each as a bare pass-through proxy (bench/candidates.py) in
# front of nginx's fixed answers, driven by wrk like bench/run.sh: throughput and latency, non-streamed
# and streamed, as the median of ROUNDS runs with the candidates taking turns, each with its ratio to
# aiohttp's server and client on uvloop (bench/bare_proxy.py's stack). Env: DUR (default 5), ROUNDS
# (default 3), CONC (default 32). Servers on CPU 0, nginx and wrk on CPU 1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench
W=/tmp/anygate-bench
PY=$ROOT/.venv/bin/python
DUR=${DUR:-5}; ROUNDS=${ROUNDS:-3}; CONC=${CONC:-32}
mkdir -p "$W"
"$PY" -c "import granian, httptools" 2>/dev/null || "$ROOT/.venv/bin/pip" install -q -e "$ROOT[bench]"
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq nginx-light wrk) >/dev/null 2>&1 || { echo "needs nginx and wrk"; exit 1; }
fi
T0="taskset -c 0"; T1="taskset -c 1"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null -X POST "$1" && return 0; sleep 0.2; done; echo "not up: $1"; return 1; }
[[ -f $W/nginx.pid ]] && kill "$(cat "$W/nginx.pid")" 2>/dev/null && sleep 0.5
cp "$B/stream.txt" "$W/stream.txt"
$T1 nginx -c "$B/nginx.conf" -p "$W"
UP=http://127.0.0.1:19080

declare -A PORT=([aiohttp-aiohttp-uvloop]=19091 [aiohttp-aiohttp-asyncio]=19092 [protocol-aiohttp-uvloop]=19093 \
  [aiohttp-protocol-uvloop]=19094 [protocol-protocol-uvloop]=19095 [granian-aiohttp-uvloop]=19096 [granian-protocol-uvloop]=19097)
for name in "${!PORT[@]}"; do
  IFS=- read -r server client loop <<<"$name"
  if [[ $server == granian ]]; then
    (cd "$ROOT" && CANDIDATE_UPSTREAM=$UP CANDIDATE_CLIENT=$client $T0 "$ROOT/.venv/bin/granian" --interface rsgi --loop "$loop" \
      --workers 1 --runtime-threads 1 --no-ws --no-log --host 127.0.0.1 --port "${PORT[$name]}" bench.candidates:rsgi_app) >"$W/$name.log" 2>&1 &
  else
    $T0 "$PY" "$B/candidates.py" "$server" "$client" "$UP" "${PORT[$name]}" --loop "$loop" >"$W/$name.log" 2>&1 &
  fi
  pids+=($!)
done
for name in "${!PORT[@]}"; do wait_up "http://127.0.0.1:${PORT[$name]}/v1/chat/completions"; done

declare -A R
run() { # label url body
  local line
  line=$(BODY_FILE=$3 $T1 wrk -t1 -c"$CONC" -d"${DUR}s" -s "$B/post.lua" "$2" 2>&1 | grep RESULT)
  R[$1]+="${line#RESULT }"$'\n'
  echo "  $1: ${line#RESULT }" >&2
}
field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"${R[$1]}" | "$PY" -c "
import statistics, sys
values = [float(v) for v in sys.stdin.read().split()]
print(int(sum(values)) if '$2' in ('non2xx', 'errors') else round(statistics.median(values), 3))"; }
NAMES=(aiohttp-aiohttp-uvloop aiohttp-aiohttp-asyncio protocol-aiohttp-uvloop aiohttp-protocol-uvloop protocol-protocol-uvloop granian-aiohttp-uvloop granian-protocol-uvloop)
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  for name in "${NAMES[@]}"; do
    run "$name" "http://127.0.0.1:${PORT[$name]}/v1/chat/completions" "$B/body_openai.json"
    run "$name-stream" "http://127.0.0.1:${PORT[$name]}/stream/v1/chat/completions" "$B/body_openai_stream.json"
  done
done
ratio() { "$PY" -c "print(f'{$1/$2:.2f}')"; }
printf '\n%-40s %9s %8s %8s %6s | %9s %8s %8s %6s\n' "server-client-loop ($CONC conns, median of $ROUNDS)" "rps" "p50 ms" "p99 ms" "ratio" "stream" "p50 ms" "p99 ms" "ratio"
for name in "${NAMES[@]}"; do
  printf '%-40s %9s %8s %8s %6s | %9s %8s %8s %6s  non2xx=%s errors=%s\n' "$name" \
    "$(field "$name" rps)" "$(field "$name" p50_ms)" "$(field "$name" p99_ms)" "$(ratio "$(field "$name" rps)" "$(field aiohttp-aiohttp-uvloop rps)")" \
    "$(field "$name-stream" rps)" "$(field "$name-stream" p50_ms)" "$(field "$name-stream" p99_ms)" \
    "$(ratio "$(field "$name-stream" rps)" "$(field aiohttp-aiohttp-uvloop-stream rps)")" \
    "$(( $(field "$name" non2xx) + $(field "$name-stream" non2xx) ))" "$(( $(field "$name" errors) + $(field "$name-stream" errors) ))"
done
