# Shared by bench/run.sh and bench/instructions.sh (sourced): anygate's config in front of nginx's
# fixed answers, and the streamed request bodies that ask for its streaming model.

# bench_config FILE DATABASE-PATH [EXTRA-YAML]: write anygate's config (a fresh database), with the
# clouds' providers too (Bedrock signed with a fixed key pair, Vertex with a service-account key made
# here) unless CLOUDS=0 (to measure a build from before them)
bench_config() {
  local key_file clouds=""
  key_file=$(dirname "$1")/vertex-key.json
  [[ ${CLOUDS:-1} == 1 ]] && clouds="  bedrock: {type: bedrock, base_url: \"http://127.0.0.1:19080\", region: us-east-1, aws_access_key_id: AKIABENCH, aws_secret_access_key: bench-secret}
  vertex: {type: vertex, base_url: \"http://127.0.0.1:19080\", project: bench, credentials_file: \"$key_file\"}"
  "$(dirname "${BASH_SOURCE[0]}")/../.venv/bin/python" - "$key_file" <<'PY'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
json.dump({"type": "service_account", "project_id": "bench", "private_key_id": "k", "private_key": pem,
           "client_email": "bench@bench.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:19080/token"}, open(sys.argv[1], "w"))
PY
  cat >"$1" <<YAML
database: sqlite:///$2
providers:
  up: {type: openai, base_url: "http://127.0.0.1:19080/v1", api_key: sk-bench}
  up-stream: {type: openai, base_url: "http://127.0.0.1:19080/stream/v1", api_key: sk-bench}
$clouds
models:
  bench-model: [{provider: up, model: bench-up, input_price: 1, output_price: 2}]
  bench-stream: [{provider: up-stream, model: bench-up}]
${clouds:+  bench-bedrock: [{provider: bedrock, model: meta.llama3-bench, input_price: 1, output_price: 2\}]
  bench-vertex: [{provider: vertex, model: gemini-bench, input_price: 1, output_price: 2\}]}
${3:-}
YAML
  rm -f "$2"
}

# stream_bodies BENCH-DIR WORK-DIR: the streamed bodies, as body_stream.json (OpenAI) and
# body_anthropic_stream.json, asking for bench-stream; and OpenAI bodies for the clouds' models
# (body_bedrock.json, body_vertex.json)
stream_bodies() {
  sed 's/bench-model/bench-bedrock/' "$1/body_openai.json" >"$2/body_bedrock.json"
  sed 's/bench-model/bench-vertex/' "$1/body_openai.json" >"$2/body_vertex.json"
  sed 's/bench-model/bench-stream/' "$1/body_openai_stream.json" >"$2/body_stream.json"
  sed 's/bench-model/bench-stream/' "$1/body_anthropic_stream.json" >"$2/body_anthropic_stream.json"
}
