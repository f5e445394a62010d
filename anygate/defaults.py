"""The built-in configuration used when no config file exists: SQLite, `mock`, and keyed real providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MOCK_MODELS: dict[str, dict[str, float]] = {
    "mock-fast": {"input_price": 0.1, "output_price": 0.2},
    "mock-smart": {"input_price": 1.0, "output_price": 4.0},
}

# provider name -> (env var, type, base_url, {public model: prices per million tokens, cached prompt
# tokens included where the provider publishes them})
_REAL_PROVIDERS: dict[str, tuple[str, str, str, dict[str, dict[str, Any]]]] = {
    "openai": (
        "OPENAI_API_KEY",
        "openai",
        "https://api.openai.com/v1",
        {
            "gpt-4o": {"input_price": 2.5, "output_price": 10.0, "cache_read_price": 1.25},
            "gpt-4o-mini": {"input_price": 0.15, "output_price": 0.6, "cache_read_price": 0.075},
            "gpt-4.1": {"input_price": 2.0, "output_price": 8.0, "cache_read_price": 0.5},
            "gpt-4.1-mini": {"input_price": 0.4, "output_price": 1.6, "cache_read_price": 0.1},
        },
    ),
    "anthropic": (
        "ANTHROPIC_API_KEY",
        "anthropic",
        "https://api.anthropic.com",
        {
            "claude-sonnet-4-5": {"input_price": 3.0, "output_price": 15.0, "cache_read_price": 0.3, "cache_write_price": 3.75},
            "claude-haiku-4-5": {"input_price": 1.0, "output_price": 5.0, "cache_read_price": 0.1, "cache_write_price": 1.25},
        },
    ),
    "gemini": (
        "GEMINI_API_KEY",
        "gemini",
        "https://generativelanguage.googleapis.com",
        {
            "gemini-2.5-flash": {"input_price": 0.3, "output_price": 2.5},
            "gemini-2.5-pro": {"input_price": 1.25, "output_price": 10.0},
        },
    ),
    "dashscope": (
        "DASHSCOPE_API_KEY",
        "dashscope",
        "https://dashscope-intl.aliyuncs.com/api/v1",
        {"wan2.6-t2v": {"tasks": ["video-synthesis"]}, "qwen-image-plus": {"tasks": ["image-generation"]}},
    ),
    "kling": (
        "KLING_API_KEY",
        "kling",
        "https://api-singapore.klingai.com",
        {
            "kling-v3": {"tasks": ["text2video", "image2video", "generations"]},
            "kling-v3-omni": {"tasks": ["omni-video", "omni-image"]},
        },
    ),
    "suno": ("SUNO_API_KEY", "suno", "https://api.sunoapi.org", {"V5": {}, "V4_5": {}}),
}


def default_config_data(environ: Mapping[str, str]) -> dict[str, Any]:
    """The built-in config as plain data, with every real provider whose key is in `environ` (and the
    admin key of ANYGATE_ADMIN_KEY)."""
    providers: dict[str, Any] = {"mock": {"type": "mock"}}
    models: dict[str, Any] = {name: [{"provider": "mock", "model": name, **prices}] for name, prices in MOCK_MODELS.items()}
    for name, (env_var, ptype, base_url, public_models) in _REAL_PROVIDERS.items():
        key = environ.get(env_var)
        if not key:
            continue
        providers[name] = {"type": ptype, "base_url": base_url, "api_key": key}
        if ptype == "openai":
            providers[name]["responses_api"] = True
        for model, prices in public_models.items():
            models[model] = [{"provider": name, "model": model, **prices}]
    data: dict[str, Any] = {"database": "sqlite:///./anygate.db", "providers": providers, "models": models}
    if environ.get("ANYGATE_ADMIN_KEY"):
        data["admin_key"] = environ["ANYGATE_ADMIN_KEY"]  # enables the admin API, /metrics and the dashboard
    return data
