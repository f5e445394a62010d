"""The `deepseek` provider type: DeepSeek's OpenAI-compatible API. Its thinking comes back as
`reasoning_content`, and an assistant turn that called tools must bring it back in later requests."""
