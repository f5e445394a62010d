# Shared by bench/run.sh and bench/instructions.sh (sourced): anygate's config in front of nginx's
# fixed answers, and the streamed request bodies that ask for its streaming model.

# bench_config FILE DATABASE-PATH [EXTRA-YAML]: write anygate's config (a fresh database)
bench_config() {
  cat >"$1" <<YAML
database: sqlite:///$2
providers:
  up: {type: openai, base_url: "http://127.0.0.1:19080/v1", api_key: sk-bench}
  up-stream: {type: openai, base_url: "http://127.0.0.1:19080/stream/v1", api_key: sk-bench}
models:
  bench-model: [{provider: up, model: bench-up, input_price: 1, output_price: 2}]
  bench-stream: [{provider: up-stream, model: bench-up}]
${3:-}
YAML
  rm -f "$2"
}

# stream_bodies BENCH-DIR WORK-DIR: the streamed bodies, as body_stream.json (OpenAI) and
# body_anthropic_stream.json, asking for bench-stream
stream_bodies() {
  sed 's/bench-model/bench-stream/' "$1/body_openai_stream.json" >"$2/body_stream.json"
  sed 's/bench-model/bench-stream/' "$1/body_anthropic_stream.json" >"$2/body_anthropic_stream.json"
}
