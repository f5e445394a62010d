"""The `vllm` provider type: a vLLM server's OpenAI-compatible API (its reasoning parsers answer with
`reasoning_content` or `reasoning`); embeddings, transcriptions and the Responses API as OpenAI has them."""
