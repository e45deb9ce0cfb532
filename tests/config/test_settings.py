"""Configuration: each precedence pair, file formats, unknown keys, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelup.config.loading import find_config_file, load_settings, read_config_file
from modelup.config.settings import Settings
from modelup.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "modelup.toml",
        '[llm]\ncandidate_model_id = "from-file"\ntemperature = 0.5\n'
        '[experiment]\ndataset_path = "data/cases.json"\n',
    )


def test_defaults_match_the_seed() -> None:
    settings = load_settings()
    assert settings.experiment.use_mock_client is False
    assert settings.llm.baseline_model_id == "gpt-oss:20b"
    assert settings.llm.candidate_model_id == "qwen3:8b"
    promotion = settings.promotion
    assert (
        promotion.max_pass_rate_regression,
        promotion.max_structured_output_regression,
        promotion.max_safety_regression,
        promotion.max_p95_latency_regression_percent,
        promotion.min_quality_score_improvement,
    ) == (0, 0, 0, 35, 0.01)


def test_file_overrides_defaults(toml_file: Path) -> None:
    settings = load_settings(toml_file)
    assert settings.llm.candidate_model_id == "from-file"
    assert settings.llm.temperature == 0.5


def test_environment_overrides_file(toml_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_LLM__CANDIDATE_MODEL_ID", "from-env")
    settings = load_settings(toml_file)
    assert settings.llm.candidate_model_id == "from-env"
    assert settings.llm.temperature == 0.5  # untouched keys keep the file's value


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_EXPERIMENT__USE_MOCK_CLIENT", "true")
    assert load_settings().experiment.use_mock_client is True


def test_flags_override_environment(toml_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_LLM__CANDIDATE_MODEL_ID", "from-env")
    settings = load_settings(toml_file, {"llm": {"candidate_model_id": "from-flag"}})
    assert settings.llm.candidate_model_id == "from-flag"


def test_flags_override_file(toml_file: Path) -> None:
    settings = load_settings(toml_file, {"llm": {"temperature": 0.9}})
    assert settings.llm.temperature == 0.9
    assert settings.llm.candidate_model_id == "from-file"


def test_flags_not_given_override_nothing(toml_file: Path) -> None:
    settings = load_settings(toml_file, {"llm": {"candidate_model_id": None}})
    assert settings.llm.candidate_model_id == "from-file"


def test_relative_paths_in_a_file_are_relative_to_the_file(toml_file: Path) -> None:
    settings = load_settings(toml_file)
    assert settings.experiment.dataset_path == toml_file.parent / "data" / "cases.json"


def test_appsettings_json_is_read_as_is(tmp_path: Path) -> None:
    appsettings = {
        "Experiment": {
            "UseMockClient": False,
            "Mode": "shadow",
            "DatasetPath": "data/support_operations_upgrade_eval.json",
            "ReportDirectory": "data/reports",
        },
        "Llm": {
            "BaseUrl": "http://localhost:11434/v1",
            "ApiKey": "ollama",
            "BaselineModelId": "gpt-oss:20b",
            "CandidateModelId": "qwen3:8b",
            "Temperature": 0,
        },
        "Promotion": {
            "MaxPassRateRegression": 0,
            "MaxStructuredOutputRegression": 0,
            "MaxSafetyRegression": 0,
            "MaxP95LatencyRegressionPercent": 35,
            "MinQualityScoreImprovement": 0.01,
        },
    }
    path = write(tmp_path / "appsettings.json", json.dumps(appsettings))
    settings = load_settings(path)
    assert settings.experiment.mode == "shadow"
    assert settings.llm.candidate_model_id == "qwen3:8b"
    assert settings.promotion.max_p95_latency_regression_percent == 35
    assert settings.api_key() == "ollama"
    assert settings.experiment.report_directory == tmp_path / "data" / "reports"


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[llm]\ncandidate_modle_id = 'typo'\n")
    with pytest.raises(ConfigError, match=r"modelup.toml: unknown key llm.candidate_modle_id"):
        load_settings(path)


def test_unknown_section_in_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[logging]\nlevel = 'debug'\n")
    with pytest.raises(ConfigError, match="unknown key logging"):
        load_settings(path)


def test_bad_value_in_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[experiment]\nmode = 'canary'\n")
    with pytest.raises(ConfigError, match=r"experiment.mode"):
        load_settings(path)


def test_bad_value_in_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_LLM__TEMPERATURE", "hot")
    with pytest.raises(ConfigError, match=r"llm.temperature"):
        load_settings()


def test_unknown_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_LLM__CANDIDATE", "x")
    with pytest.raises(ConfigError, match="MODELUP_LLM__CANDIDATE does not name a setting"):
        load_settings()


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.toml", "[llm\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML"):
        read_config_file(path)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "appsettings.json", '{\n  "Llm": {,}\n}')
    with pytest.raises(ConfigError, match=r"appsettings.json: line 2: invalid JSON"):
        read_config_file(path)


def test_api_key_from_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAM_LLM_KEY", "sk-secret-123")
    settings = load_settings(None, {"llm": {"api_key_env": "TEAM_LLM_KEY"}})
    assert settings.api_key() == "sk-secret-123"
    assert "sk-secret-123" not in json.dumps(settings.redacted())


def test_missing_api_key_variable_is_an_error() -> None:
    settings = load_settings(None, {"llm": {"api_key_env": "NOT_SET_ANYWHERE_42"}})
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE_42 is not set"):
        settings.api_key()


def test_redacted_hides_an_inline_api_key(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[llm]\napi_key = 'sk-inline-999'\n")
    settings = load_settings(path)
    assert settings.api_key() == "sk-inline-999"
    redacted = json.dumps(settings.redacted())
    assert "sk-inline-999" not in redacted
    assert '"api_key": "***"' in redacted
    assert "sk-inline-999" not in repr(settings)


def test_redacted_strips_credentials_from_every_url() -> None:
    settings = Settings.model_validate(
        {
            "llm": {"base_url": "http://user:secret@host:11434/v1"},
            "models": {
                "a": {"base_url": "https://x.example/v1?key=k1&token=t1&Api-Key=k2&keep=1"},
                "b": {"base_url": "https://only-user@y.example/v1"},
                "c": {},
            },
        }
    )
    redacted = settings.redacted()
    assert redacted["llm"]["base_url"] == "http://user@host:11434/v1"
    assert redacted["models"]["a"]["base_url"] == "https://x.example/v1?keep=1"
    assert redacted["models"]["b"]["base_url"] == "https://only-user@y.example/v1"
    assert redacted["models"]["c"]["base_url"] is None
    for secret in ("secret", "k1", "t1", "k2"):
        assert secret not in json.dumps(redacted)


def test_several_candidates_as_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[llm]\ncandidate_model_id = ['a', 'b']\n")
    assert load_settings(path).llm.candidate_model_ids == ["a", "b"]


def test_duplicate_candidates_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", "[llm]\ncandidate_model_id = ['a', 'a']\n")
    with pytest.raises(ConfigError, match="distinct"):
        load_settings(path)


def test_find_config_file(tmp_path: Path) -> None:
    assert find_config_file(None, tmp_path) is None
    write(tmp_path / "modelup.toml", "")
    assert find_config_file(None, tmp_path) == tmp_path / "modelup.toml"
    with pytest.raises(ConfigError, match="not found"):
        find_config_file(tmp_path / "missing.toml")


def test_the_store_defaults_to_the_history_file() -> None:
    settings = load_settings()
    assert settings.store.url is None
    assert settings.store_url == ".modelup/history.sqlite"


def test_history_path_is_the_store_when_store_url_is_not_set(tmp_path: Path) -> None:
    older = write(tmp_path / "modelup.toml", '[history]\npath = "state/h.sqlite"\n')
    assert load_settings(older).store_url == str(tmp_path / "state" / "h.sqlite")
    both = write(
        tmp_path / "both.toml",
        '[history]\npath = "state/h.sqlite"\n[store]\nurl = "sqlite:///team/h.sqlite"\n',
    )
    assert load_settings(both).store_url == f"sqlite:///{tmp_path}/team/h.sqlite"


def test_store_url_precedence_file_environment_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "modelup.toml", '[store]\nurl = "postgresql://file@h/db"\n')
    assert load_settings(config).store_url == "postgresql://file@h/db"
    monkeypatch.setenv("MODELUP_STORE__URL", "postgresql://env@h/db")
    assert load_settings(config).store_url == "postgresql://env@h/db"
    flags = {"store": {"url": "flag.sqlite"}}
    assert load_settings(config, flags).store_url == "flag.sqlite"


def test_a_relative_store_url_in_a_file_is_relative_to_the_file(tmp_path: Path) -> None:
    for url, expected in [
        ("h.sqlite", str(tmp_path / "h.sqlite")),
        ("sqlite:///s/h.sqlite", f"sqlite:///{tmp_path / 's' / 'h.sqlite'}"),
        ("sqlite:////abs/h.sqlite", "sqlite:////abs/h.sqlite"),
        ("postgres://u@h:5433/db", "postgres://u@h:5433/db"),
    ]:
        config = write(tmp_path / "modelup.toml", f'[store]\nurl = "{url}"\n')
        assert load_settings(config).store_url == expected


def test_an_unsupported_store_url_is_named_without_its_password(tmp_path: Path) -> None:
    config = write(tmp_path / "modelup.toml", '[store]\nurl = "mysql://u:hunter2@h/db"\n')
    with pytest.raises(ConfigError, match=r"store\.url: .*'mysql' is not supported") as error:
        load_settings(config)
    assert "hunter2" not in str(error.value)


def test_redacted_strips_the_store_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELUP_STORE__URL", "postgresql://team:hunter2@db.internal:5432/modelup")
    redacted = load_settings().redacted()
    assert redacted["store"]["url"] == "postgresql://team@db.internal:5432/modelup"
    assert "hunter2" not in json.dumps(redacted)
    assert "hunter2" not in repr(load_settings()) and "hunter2" not in str(load_settings())


def test_grader_section_from_file_environment_and_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path / "modelup.toml",
        '[grader]\nmodel = "judge"\nmode = "pairwise"\nfields = ["summary"]\n',
    )
    settings = load_settings(path)
    assert (settings.grader.model, settings.grader.mode) == ("judge", "pairwise")
    assert settings.grader.authority == "signal"
    monkeypatch.setenv("MODELUP_GRADER__AUTHORITY", "conditional")
    assert load_settings(path).grader.authority == "conditional"
    assert load_settings(path, {"grader": {"model": "other"}}).grader.model == "other"


def test_a_grader_can_never_block(tmp_path: Path) -> None:
    path = write(tmp_path / "modelup.toml", '[grader]\nmodel = "judge"\nauthority = "block"\n')
    with pytest.raises(ConfigError, match=r"grader.authority"):
        load_settings(path)


def test_the_saved_configuration_has_a_grader_only_when_there_is_one(tmp_path: Path) -> None:
    assert "grader" not in load_settings().redacted()
    path = write(tmp_path / "modelup.toml", '[grader]\nmodel = "judge"\n')
    assert load_settings(path).redacted()["grader"]["model"] == "judge"
