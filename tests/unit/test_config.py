"""Configuration: the contract's example loads; every mistake is refused with the file, key path and reason."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from anygate.config import ConfigError, Settings, load_settings, settings_from_data
from anygate.defaults import default_config_data
from anygate.logs import JsonFormatter, protect
from anygate.providers.openai.settings import OpenAISettings
from tests.gateway_process import anygate

CONTRACT_EXAMPLE = """
database: sqlite:///./anygate.db
redis: redis://127.0.0.1:6379/0
admin_key: ${ANYGATE_ADMIN_KEY}
providers:
  openai:    {type: openai,    base_url: https://api.openai.com/v1, api_key: ${OPENAI_API_KEY}, responses_api: true}
  anthropic: {type: anthropic, base_url: https://api.anthropic.com, api_key: ${ANTHROPIC_API_KEY}}
  gemini:    {type: gemini,    base_url: https://generativelanguage.googleapis.com, api_key: ${GEMINI_API_KEY}}
  local:     {type: openai,    base_url: http://127.0.0.1:8000/v1, api_key: none}
models:
  gpt-4o-mini:
    - {provider: openai, model: gpt-4o-mini}
  claude-sonnet:
    - {provider: anthropic, model: claude-sonnet-4-5, weight: 3}
    - {provider: local, model: qwen3, weight: 1}
    - {provider: openai, model: gpt-4o, priority: 1}
tasks:
  poll_interval_seconds: 5
  deadline_seconds: 86400
  webhook_allow_private: false
"""
ENV = {"ANYGATE_ADMIN_KEY": "adm", "OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a", "GEMINI_API_KEY": "g"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "anygate.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(_write(tmp_path, text)))
    return caught.value.problems


def test_contract_example_loads_with_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(str(_write(tmp_path, CONTRACT_EXAMPLE)))
    assert settings.admin_key == "adm"
    openai = settings.providers["openai"]
    assert isinstance(openai, OpenAISettings) and openai.api_key == "sk-o" and openai.responses_api
    assert [t.provider for t in settings.models["claude-sonnet"]] == ["anthropic", "local", "openai"]
    assert settings.models["claude-sonnet"][2].priority == 1
    assert settings.source == str(tmp_path / "anygate.yaml")


def test_unset_variable_is_named_with_its_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    problems = _problems(tmp_path, "providers:\n  o: {type: openai, api_key: ${NOPE_KEY}}\n")
    assert problems == [f"{tmp_path / 'anygate.yaml'}: providers.o.api_key: environment variable NOPE_KEY is not set"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("providers:\n  o: {type: openai, colour: red}\n", "providers.o.colour: unknown key"),
        (
            "providers:\n  a: {type: azure, api_key: k}\n",
            "providers.a: an azure provider needs base_url: its resource's endpoint",
        ),
        ("providers:\n  o: {type: openai, api_version: '2024-10-21'}\n", "providers.o.api_version: unknown key"),
        ("providers:\n  m: {type: mock, responses_api: true}\n", "providers.m.responses_api: unknown key"),
        (
            "providers:\n  k: {type: kling, access_key: 5}\n",
            "providers.k.access_key: Input should be a valid string (got a value of type int)",
        ),
        (
            "providers:\n  o: {type: watsonx}\n",
            "providers.o.type: 'watsonx' is not a provider type of this build; the types are anthropic, azure, bedrock",
        ),
        ("providers: {}\nmodels:\n  m: [{provider: ghost, model: x}]\n", "models.m[0].provider: unknown provider 'ghost'"),
        (
            "providers:\n  o: {type: mock}\nmodels:\n  m: [{provider: o, model: x, weight: -1}]\n",
            "models.m[0].weight: Input should be greater than 0",
        ),
        ("providers:\n  o: {type: mock}\nmodels:\n  m: [{provider: o}]\n", "models.m[0].model: Field required"),
        ("tasks: {poll_interval_seconds: soon}\n", "tasks.poll_interval_seconds: Input should be a valid number"),
        ("colour: red\n", "colour: unknown key"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("providers: [\n", "not valid YAML at line"),
        ("providers:\n  o: {type: mock}\nmodels:\n  m: []\n", "models.m: needs at least one target"),
    ],
)
def test_mistakes_name_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(expected in p and p.startswith(str(tmp_path)) for p in problems), problems


def test_search_order_env_then_local_file_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANYGATE_CONFIG", raising=False)
    assert load_settings().source == "<built-in default>"
    (tmp_path / "anygate.yaml").write_text("database: sqlite:///./local.db\n")
    assert load_settings().database == "sqlite:///./local.db"
    other = tmp_path / "other.yaml"
    other.write_text("database: sqlite:///./env.db\n")
    monkeypatch.setenv("ANYGATE_CONFIG", str(other))
    assert load_settings().database == "sqlite:///./env.db"
    assert load_settings(str(tmp_path / "anygate.yaml")).database == "sqlite:///./local.db"


def test_default_has_mock_and_every_keyed_provider() -> None:
    bare = default_config_data({})
    assert bare["database"] == "sqlite:///./anygate.db"
    assert set(bare["providers"]) == {"mock"} and bare["models"]
    keyed = default_config_data({"OPENAI_API_KEY": "sk-1", "ANTHROPIC_API_KEY": "sk-2"})
    assert set(keyed["providers"]) == {"mock", "openai", "anthropic"}
    assert keyed["providers"]["openai"]["api_key"] == "sk-1"
    assert keyed["models"]["gpt-4o-mini"] == [
        {"provider": "openai", "model": "gpt-4o-mini", "input_price": 0.15, "output_price": 0.6, "cache_read_price": 0.075}
    ]
    media = default_config_data({"DASHSCOPE_API_KEY": "d", "KLING_API_KEY": "k", "SUNO_API_KEY": "s", "ANYGATE_ADMIN_KEY": "adm"})
    assert {"wan2.6-t2v", "kling-v3", "V5"} <= set(media["models"]) and media["admin_key"] == "adm"
    assert "admin_key" not in bare
    Settings.model_validate(media)  # a valid configuration as it stands


def test_config_check_command(tmp_path: Path) -> None:
    good = anygate("config", "check", "--config", str(_write(tmp_path, "providers:\n  m: {type: mock}\n")))
    assert "ok" in good.stdout
    bad = anygate("config", "check", "--config", str(_write(tmp_path, "providers:\n  m: {type: mock, x: 1}\n")), check=False)
    assert bad.returncode == 2 and "providers.m.x: unknown key" in bad.stderr


def test_serve_refuses_a_bad_config_at_start(tmp_path: Path) -> None:
    result = anygate("serve", "--config", str(_write(tmp_path, "models:\n  m: [{provider: ghost, model: x}]\n")), check=False)
    assert result.returncode == 2 and "models.m[0].provider: unknown provider 'ghost'" in result.stderr


def test_a_mistyped_secret_is_not_printed() -> None:
    with pytest.raises(ConfigError) as problems:
        settings_from_data(
            {"admin_key": ["Hunter2-admin"], "providers": {"x": {"type": "openai", "api_key": 12345678}}}, "t.yaml"
        )
    text = "\n".join(problems.value.problems)
    assert "Hunter2-admin" not in text and "12345678" not in text
    assert "admin_key: Input should be a valid string (got a value of type list)" in text


def test_configured_secrets_are_masked_in_every_log_line() -> None:
    settings = settings_from_data(
        {
            "admin_key": "Admin!Key#42",
            "database": "postgresql://u:pa55word@db/x",
            "providers": {"x": {"type": "openai", "api_key": "upstream:key"}},
        },
        "t.yaml",
    )
    protect(settings.secrets())
    record = logging.LogRecord(
        "t", logging.ERROR, "f", 1, "bad header Authorization: Bearer Admin!Key#42 key=upstream:key pw pa55word", None, None
    )
    line = JsonFormatter().format(record)
    assert "Admin!Key#42" not in line and "upstream:key" not in line and "pa55word" not in line and line.count("***") == 3


def test_the_example_config_is_valid_and_shows_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """anygate.example.yaml loads, and names every field of every section, provider and target."""
    from anygate.config import TargetConfig, provider_settings, provider_types

    for var in (
        "ANYGATE_ADMIN_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "KLING_ACCESS_KEY",
        "KLING_SECRET_KEY",
        "DASHSCOPE_API_KEY",
        "SUNO_API_KEY",
        "AZURE_OPENAI_API_KEY",
    ):
        monkeypatch.setenv(var, "x")
    path = Path(__file__).resolve().parents[2] / "anygate.example.yaml"
    settings = load_settings(str(path))
    text = path.read_text()
    named = set(re.findall(r"^\s*(?:- )?([a-z_]+):", text, re.M)) | set(re.findall(r"[{,] ?([a-z_]+):", text))
    fields = set(Settings.model_fields) - {"source"}
    for section in ("routing", "tasks", "retention", "limits", "server", "metering"):
        fields |= set(Settings.model_fields[section].annotation.model_fields)  # type: ignore[union-attr]
    fields |= {f for t in provider_types() for f in provider_settings(t).model_fields} | set(TargetConfig.model_fields)
    assert fields - named == set()
    assert settings.models["gpt-4o-mini"][0].display_name == "GPT-4o mini" and len(settings.providers) == 12


def test_each_type_is_checked_with_its_own_model() -> None:
    from anygate.providers.kling.settings import KlingSettings

    settings = settings_from_data(
        {"providers": {"k": {"type": "kling", "access_key": "ak-123456", "secret_key": "sk-abcdef"}, "m": {"type": "mock"}}},
        "t.yaml",
    )
    assert isinstance(settings.providers["k"], KlingSettings) and type(settings.providers["m"]).__name__ == "ProviderConfig"
    assert {"ak-123456", "sk-abcdef"} <= set(settings.secrets()), "a type's own secrets are kept out of logs too"
    with pytest.raises(ConfigError) as problems:
        settings_from_data(
            {"providers": {"k": {"type": "kling", "colour": "red"}}, "models": {"m": [{"provider": "k"}]}}, "t.yaml"
        )
    assert problems.value.problems == [
        "t.yaml: providers.k.colour: unknown key",
        "t.yaml: models.m[0].model: Field required (got {'provider': 'k'})",
    ], "the provider's problem and the rest of the file's, at once"


def test_a_vertex_provider_names_its_project_and_signs_in_with_google_credentials() -> None:
    def problems(**given: object) -> str:
        data = {"database": "sqlite:///:memory:", "providers": {"v": {"type": "vertex", **given}}, "models": {}}
        with pytest.raises(ConfigError) as failed:
            settings_from_data(data, "test")
        return str(failed.value)

    assert "providers.v.project" in problems()
    assert "not api_key" in problems(project="p", api_key="AIza-x")
    assert "providers.v.publisher" in problems(project="p", publisher="meta")
    data = {"database": "sqlite:///:memory:", "providers": {"v": {"type": "vertex", "project": "p"}}, "models": {}}
    made = settings_from_data(data, "test").providers["v"]
    assert (made.location, made.publisher, made.credentials_file) == ("us-central1", None, None)  # type: ignore[attr-defined]
