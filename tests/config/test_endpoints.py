"""Per-model endpoints, prices and the cache in configuration: fallbacks and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelup.config.endpoints import model_settings
from modelup.config.loading import load_settings
from modelup.errors import ConfigError
from modelup.session.plan import plan_clients, plan_run
from support.live_support import SUPPORT_OPS_DATASET

CONFIG = f"""
[experiment]
use_mock_client = false
dataset_path = "{SUPPORT_OPS_DATASET}"

[llm]
base_url = "http://localhost:11434/v1"
api_key = "ollama"
baseline_model_id = "llama3.1:8b"
candidate_model_id = "Qwen3:8B"
temperature = 0.2
max_tokens = 500
extra = {{ top_p = 0.9, keep = "llm" }}

[models."Qwen3:8B"]
base_url = "http://vllm:8000/v1/"
api_key_env = "VLLM_KEY"
temperature = 0
extra = {{ topK = 20, keep = "model" }}

[prices."Qwen3:8B"]
input_per_million = 0.5
output_per_million = 1.5

[cache]
path = "state/cache.sqlite"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "modelup.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_model_section_overrides_llm_and_falls_back_to_it(config: Path) -> None:
    plan = plan_run(load_settings(config))
    baseline, candidate = plan.targets
    assert (baseline.endpoint, baseline.temperature, baseline.max_tokens) == (
        "http://localhost:11434/v1",
        0.2,
        500,
    )
    assert baseline.extra == {"top_p": 0.9, "keep": "llm"}
    assert baseline.price is None
    assert candidate.model == "Qwen3:8B"  # model ids are kept as written
    assert (candidate.endpoint, candidate.temperature, candidate.max_tokens) == (
        "http://vllm:8000/v1",
        0.0,
        500,
    )
    assert candidate.extra == {"top_p": 0.9, "keep": "model", "topK": 20}
    assert candidate.price is not None and candidate.price.output_per_million == 1.5


def test_each_model_gets_its_own_key_and_client(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(config)
    with pytest.raises(ConfigError, match="VLLM_KEY is not set"):
        settings.api_key("Qwen3:8B")
    monkeypatch.setenv("VLLM_KEY", "vllm-secret")
    assert settings.api_key("Qwen3:8B") == "vllm-secret"
    assert settings.api_key("llama3.1:8b") == "ollama"
    clients = plan_clients(plan_run(settings))
    assert clients[0] is not clients[1]
    redacted = settings.redacted()
    assert redacted["llm"]["api_key"] == "***"
    assert "vllm-secret" not in str(redacted)


def test_models_on_one_endpoint_share_a_client(tmp_path: Path) -> None:
    flags = {
        "experiment": {"use_mock_client": False, "dataset_path": SUPPORT_OPS_DATASET},
        "llm": {"baseline_model_id": "a", "candidate_model_id": ["b", "c"]},
    }
    clients = plan_clients(plan_run(load_settings(None, flags)))
    assert clients[0] is clients[1] is clients[2]


def test_environment_and_flags_keep_their_precedence(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Environment names are case-insensitive, so they reach lowercase model ids only.
    monkeypatch.setenv("MODELUP_MODELS__llama3.1:8b__MAX_TOKENS", "64")
    monkeypatch.setenv("MODELUP_LLM__BASE_URL", "http://env-host/v1")
    settings = load_settings(config, {"llm": {"base_url": "http://flag-host/v1"}})
    assert model_settings(settings, "llama3.1:8b").max_tokens == 64
    assert model_settings(settings, "llama3.1:8b").base_url == "http://flag-host/v1"
    assert model_settings(settings, "Qwen3:8B").base_url == "http://vllm:8000/v1/"
    assert model_settings(settings, "Qwen3:8B").max_tokens == 500


def test_cache_paths_are_relative_to_the_file_and_flags_turn_it_off(config: Path) -> None:
    settings = load_settings(config)
    assert settings.cache.path == config.parent / "state" / "cache.sqlite"
    assert settings.cache.enabled
    assert not load_settings(config, {"cache": {"enabled": False}}).cache.enabled


def test_an_unknown_key_in_a_model_section_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[models."m"]\nbase_ulr = "http://x/v1"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"models\.m\.base_ulr"):
        load_settings(path)
