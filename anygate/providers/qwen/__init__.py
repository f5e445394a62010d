"""The `qwen` provider type: Qwen through Alibaba Model Studio's OpenAI-compatible mode. Thinking is
switched on with `enable_thinking` and comes back as `reasoning_content`; a whole (non-streamed) call
must have it off (the open Qwen3 models think by default and refuse it there), so it is sent off."""
