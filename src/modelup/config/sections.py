"""The sections of modelup's configuration, one pydantic model each; ``Settings`` holds them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from modelup.config.rules import GateRule
from modelup.config.store_url import checked_store_url

WORKFLOW_FILE_SUFFIXES = (".toml", ".yaml", ".yml")
"""A workflow reference ending in one of these is a file; anything else a registered name."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ExperimentSettings(_Section):
    """What to run and where to put the evidence."""

    use_mock_client: bool = False
    """True: simulated models, no network. False: the live OpenAI-compatible endpoint."""
    mode: Literal["compare", "shadow"] = "compare"
    """``shadow`` keeps the baseline authoritative while the candidate is scored offline."""
    dataset_path: Path | None = None
    report_directory: Path = Path("reports")
    workflow: str = "support-ops"
    """A registered workflow name, or a workflow file (.toml, .yaml)."""
    concurrency: int = Field(4, ge=1, le=1024)
    """Calls in flight per endpoint, shared by the models on it."""
    epochs: int = Field(1, ge=1, le=100)
    """How many times each case is replayed per model (repeated trials)."""
    runs_directory: Path = Path(".modelup/runs")
    """Where live runs keep their checkpoint (plan and journal) so they can be resumed."""
    formats: list[Literal["json", "html", "md", "junit"]] = ["json"]
    """Report formats to write; JSON always is, the others next to it with the same stem.
    A comma-separated string (``"json,html"``) is accepted too."""

    @field_validator("formats", mode="before")
    @classmethod
    def _split_formats(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class LlmSettings(_Section):
    """The OpenAI-compatible endpoint and the two models compared on it."""

    base_url: str = "http://localhost:11434/v1"
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    """Name of an environment variable holding the API key; wins over ``api_key``."""
    baseline_model_id: str = Field("gpt-oss:20b", min_length=1)
    candidate_model_id: str | list[str] = "qwen3:8b"
    """One candidate, or a list of challengers each gated against the baseline."""
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(120.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=20)
    extra: dict[str, Any] = {}
    """Extra request parameters sent with every call (e.g. ``top_p``), below per-model ones."""

    @field_validator("candidate_model_id")
    @classmethod
    def _candidates_named(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names or any(not name.strip() for name in names):
            raise ValueError("every candidate model id must be a non-empty string")
        if len(set(names)) != len(names):
            raise ValueError("candidate model ids must be distinct")
        return value

    @property
    def candidate_model_ids(self) -> list[str]:
        value = self.candidate_model_id
        return [value] if isinstance(value, str) else list(value)


class ModelSettings(_Section):
    """One model's own endpoint and generation settings (``[models."id"]``); every key left
    out falls back to the ``[llm]`` section, so ``[llm]`` alone stays the shorthand."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    connect_timeout_s: float | None = Field(None, gt=0)
    read_timeout_s: float | None = Field(None, gt=0)
    max_attempts: int | None = Field(None, ge=1, le=20)
    extra: dict[str, Any] = {}
    """Extra request parameters, merged over ``llm.extra``."""
    expect_resolved: str | None = Field(None, min_length=1)
    """The model this id is expected to resolve to when the endpoint answers as another (an
    alias): an exact name (``m-x-2026-05-18``) or a glob pattern (``m-x-2026-*``). Unset: an
    answer from any model but the requested id is identity drift, which holds the run."""


class PriceSettings(_Section):
    """What a model costs, in USD per million tokens (``[prices."id"]``)."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class HistorySettings(_Section):
    """Whether every run is recorded in the project store (``modelup history``)."""

    enabled: bool = True
    path: Path = Path(".modelup/history.sqlite")
    """The older spelling of a SQLite ``[store] url``, used when that is not set. Relative to
    the working directory by default, to the file when set in one."""


class StoreSettings(_Section):
    """The project store: run history (and, next, releases and traces)."""

    url: Annotated[str | None, AfterValidator(checked_store_url)] = Field(None, repr=False)
    """A path, ``sqlite:///path`` or ``postgresql://user:password@host:port/database``; unset:
    ``history.path``. Relative to the working directory, or to the file when set in one. Its
    password is never printed or saved (``redacted``; hidden from ``repr``)."""


class TracesSettings(_Section):
    """One trace record per model call, kept in the project store (``modelup traces``)."""

    enabled: bool = False
    """Record a trace of every call of ``modelup run`` (``--trace``); ``modelup serve`` always
    does."""
    keep_answers: bool = False
    """Keep each answer's text and parsed output in its trace. Off: the record says what was
    decided about the answer, not what it said."""
    keep_inputs: bool = True
    """Keep the request's input fields, which a replay (``--dataset traces:``) and ``modelup
    golden add`` need. Off: neither can use these traces."""
    retention_days: float = Field(30, ge=0)
    """Traces older than this are deleted when traces are next recorded; 0: kept."""


class OtelSettings(_Section):
    """Export traces as OpenTelemetry GenAI spans over OTLP/HTTP (the ``otel`` extra). Without
    an endpoint here, ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is used."""

    endpoint: str | None = None
    """The collector's base URL (``http://localhost:4318``); spans go to ``/v1/traces``."""
    headers: dict[str, SecretStr] = Field({}, repr=False)
    """Headers sent with every export (an API key of a hosted backend); never printed."""
    service_name: str = "modelup"
    timeout_s: float = Field(5.0, gt=0, le=60)
    """How long one export may take; a collector that does not answer costs one warning."""


class CacheSettings(_Section):
    """The on-disk response cache of live calls (mock runs never use it)."""

    enabled: bool = True
    path: Path = Path(".modelup/cache.sqlite")
    refresh: bool = False
    """Ignore cached answers and call again, storing the new answers (``--refresh-cache``)."""


class PromotionSettings(_Section):
    """The seed's promotion thresholds; rates are fractions (0.05 = five points)."""

    max_pass_rate_regression: float = Field(0.0, ge=0, le=1)
    max_structured_output_regression: float = Field(0.0, ge=0, le=1)
    max_safety_regression: float = Field(0.0, ge=0, le=1)
    max_p95_latency_regression_percent: float = Field(35.0, ge=0)
    min_quality_score_improvement: float = Field(0.01, ge=-1, le=1)
    max_cost_regression_percent: float | None = Field(None, ge=0)
    """Hold when the candidate's estimated cost exceeds the baseline's by more than this;
    unset: no cost rule. Skipped (and said so) when a model has no price."""


class GateSettings(_Section):
    """The gate policy as data, and how its statistics are computed."""

    rules: list[GateRule] = []
    """Checked in order; when given they replace the workflow's and the seed's default gate."""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    """Confidence of every interval; 1 - confidence is the significance level."""
    bootstrap_resamples: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = 0


class MockSettings(_Section):
    """Simulated models: which behaviour profile each role uses, and custom profiles."""

    baseline_profile: str = "steady"
    candidate_profile: str = "drifting"
    models: dict[str, str] = {}
    """Profile per model id, overriding the role's profile (e.g. for several challengers)."""
    seed: int = 0
    profiles: dict[str, dict[str, Any]] = {}
    """Extra or overriding profiles, keyed by name; keys are the workflow simulator's."""


class GraderSettings(_Section):
    """A grader model beside the deterministic gate (``[grader]``): pairwise and rubric
    judgements reported as figures, gated as signals unless raised on purpose."""

    model: str | None = Field(None, min_length=1)
    """The grader's model id: any OpenAI-compatible endpoint, with its ``[models."id"]``
    settings and ``[prices."id"]``; a simulated grader stands in for it in mock runs. Unset:
    no grader."""
    mode: Literal["pairwise", "rubric", "both"] | None = None
    """What the grader does; unset: ``both`` when the workflow declares a rubric, else
    ``pairwise``."""
    fields: list[str] = []
    """The contract fields the grader reads; empty: the workflow's ``[grader] fields``, else
    every field of the contract."""
    authority: Literal["signal", "conditional"] = "signal"
    """The authority of the default grader rules; a grader never blocks."""


def is_workflow_file(reference: str | Path) -> bool:
    """A reference ending in ``.toml``, ``.yaml`` or ``.yml`` is a file, anything else a name."""
    return Path(reference).suffix.lower() in WORKFLOW_FILE_SUFFIXES
