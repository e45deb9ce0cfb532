"""The release record, ``release.toml``: what a model change claims, who owns it, and how it is
evaluated, under the names of the model-change contract (``workflow_id``, ``previous_model``,
``candidate_model``, ``alias_resolution``, ``expected_deltas``, ...).

Every field is required, because a release record that leaves one out is the "we only changed
the model" the contract exists to stop; an unknown key is an error too. ``load_record`` reads
the file and returns the record with its evaluation resolved: a modelup configuration file
(relative to ``release.toml``) or an inline table with the sections of ``modelup.toml``.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from modelup.config.loading import normalise_config
from modelup.config.rules import scope_name
from modelup.errors import ConfigError

FORMAT_VERSION = 1
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
GateClass = Literal["block", "conditional", "signal", "rollback_trigger"]
GATE_CLASSES: tuple[GateClass, ...] = ("block", "conditional", "signal", "rollback_trigger")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedAlias(_Strict):
    """The identity a requested model id is expected to resolve to. Each value is an exact
    string or a shell-style pattern (``*``, ``?``, ``[...]``)."""

    model: Name
    system_fingerprint: Name | None = None
    """When set, every fingerprint the endpoint reports must match it."""


class ExpectedDelta(_Strict):
    """A claimed change of one figure, in MLflow's ``MetricThreshold`` words. Changes are
    candidate - baseline, read in the direction ``greater_is_better`` gives (a positive change
    is always an improvement); relative changes are fractions of the baseline."""

    figure: Name
    greater_is_better: bool
    subset: Name | None = None
    """Judge the figure over this gate subset's cases only."""
    family: Name | None = None
    """Judge the figure over this task family's cases only."""
    threshold: float | None = Field(None, allow_inf_nan=False)
    """A bound on the candidate's own value: at least this (at most, when lower is better)."""
    min_absolute_change: float | None = Field(None, allow_inf_nan=False)
    """The improvement must be at least this (negative: a bounded worsening is acceptable)."""
    min_relative_change: float | None = Field(None, allow_inf_nan=False)
    max_absolute_change: float | None = Field(None, ge=0, allow_inf_nan=False)
    """The figure may not move by more than this, either way."""
    max_relative_change: float | None = Field(None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_bound(self) -> ExpectedDelta:
        if self.subset is not None and self.family is not None:
            raise ValueError("an expected delta is scoped to a subset or a family, not both")
        bounds = (
            self.threshold,
            self.min_absolute_change,
            self.min_relative_change,
            self.max_absolute_change,
            self.max_relative_change,
        )
        if all(bound is None for bound in bounds):
            raise ValueError(
                "give at least one of threshold, min_absolute_change, min_relative_change, "
                "max_absolute_change, max_relative_change"
            )
        return self

    @property
    def scope(self) -> str:
        return scope_name(self.subset, self.family)


class GateClasses(_Strict):
    """Which gate subsets or figures carry which authority in this release: ``block`` fails to
    Rollback, ``conditional`` to Hold, ``signal`` is only reported, and a ``rollback_trigger``
    blocks at the gate and is what a running canary is rolled back on."""

    block: list[Name] = []
    conditional: list[Name] = []
    signal: list[Name] = []
    rollback_trigger: list[Name] = []

    @model_validator(mode="after")
    def _each_once(self) -> GateClasses:
        seen: dict[str, str] = {}
        for name in GATE_CLASSES:
            for entry in getattr(self, name):
                if entry in seen:
                    raise ValueError(f"{entry!r} is in both {seen[entry]} and {name}")
                seen[entry] = name
        if not seen:
            raise ValueError("declare at least one gate subset or figure")
        return self

    def entries(self) -> list[tuple[str, GateClass]]:
        """Every (name, class), in declaration order by class."""
        return [(entry, name) for name in GATE_CLASSES for entry in getattr(self, name)]


LiveFigure = Literal[
    "contract_validity", "override_rate", "error_rate", "drift_rate", "p95_latency_ms"
]
LIVE_FIGURES: tuple[LiveFigure, ...] = (
    "contract_validity",
    "override_rate",
    "error_rate",
    "drift_rate",
    "p95_latency_ms",
)


class AnalysisMetric(_Strict):
    """One live figure of a canary analysis, compared between the canary arm and the stable
    arm. ``worse`` is how much worse the canary is (canary minus stable, signed so that positive
    is worse; a fraction of the stable value when ``relative``). Like Argo Rollouts'
    ``successCondition`` and ``failureCondition``: the figure succeeds when ``worse`` is at
    most ``success_worse_at_most``, fails when it is above ``failure_worse_above``, and is
    inconclusive in between."""

    figure: LiveFigure
    success_worse_at_most: float = Field(ge=0, allow_inf_nan=False)
    failure_worse_above: float = Field(ge=0, allow_inf_nan=False)
    relative: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> AnalysisMetric:
        if self.failure_worse_above < self.success_worse_at_most:
            raise ValueError("failure_worse_above must be at least success_worse_at_most")
        return self


DEFAULT_METRICS: tuple[AnalysisMetric, ...] = (
    AnalysisMetric(
        figure="contract_validity", success_worse_at_most=0.02, failure_worse_above=0.05
    ),
    AnalysisMetric(figure="error_rate", success_worse_at_most=0.02, failure_worse_above=0.05),
    AnalysisMetric(figure="override_rate", success_worse_at_most=0.05, failure_worse_above=0.10),
    AnalysisMetric(figure="drift_rate", success_worse_at_most=0.0, failure_worse_above=0.0),
    AnalysisMetric(
        figure="p95_latency_ms", success_worse_at_most=0.25, failure_worse_above=0.5, relative=True
    ),
)
"""The analysis of a canary whose record declares no ``metrics``."""


class AnalysisInterval(_Strict):
    """How often a canary is analysed: after this many requests on the canary arm, or after
    this many seconds; exactly one."""

    requests: int | None = Field(None, ge=1)
    seconds: float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one(self) -> AnalysisInterval:
        if (self.requests is None) == (self.seconds is None):
            raise ValueError("give exactly one of requests or seconds")
        return self


class RolloutScope(_Strict):
    """How a promoted release reaches traffic: ``full`` at once, ``shadow`` (scored beside the
    serving model, which stays authoritative), or ``canary`` through ``steps`` (percent of
    traffic, increasing, ending at 100), analysed live by ``modelup serve``."""

    kind: Literal["shadow", "canary", "full"]
    steps: list[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] = []
    interval: AnalysisInterval = AnalysisInterval(requests=100)
    """A canary's analysis interval (default: every 100 canary requests)."""
    must_have_data: int = Field(20, ge=1)
    """Kayenta's ``mustHaveData``: fewer requests than this on either arm make an analysis
    inconclusive (the canary pauses)."""
    failure_limit: int = Field(0, ge=0)
    """Argo's ``failureLimit``: failed analyses tolerated; one more rolls the canary back."""
    metrics: list[AnalysisMetric] = []
    """The figures each analysis compares; empty: ``DEFAULT_METRICS``."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _steps(self) -> RolloutScope:
        if self.kind != "canary":
            canary_only = ("steps", "interval", "must_have_data", "failure_limit", "metrics")
            fields = type(self).model_fields
            given = [name for name in canary_only if getattr(self, name) != fields[name].default]
            if given:
                raise ValueError(f"{', '.join(given)} are for a canary rollout, not {self.kind}")
            return self
        if not self.steps:
            raise ValueError("a canary rollout needs steps, in percent, e.g. [5, 25, 100]")
        if any(b <= a for a, b in zip(self.steps, self.steps[1:], strict=False)):
            raise ValueError("canary steps must increase")
        if self.steps[-1] != 100:
            raise ValueError("canary steps must end at 100")
        figures = [metric.figure for metric in self.metrics]
        if len(set(figures)) != len(figures):
            raise ValueError("metrics: each figure once")
        return self

    @property
    def analysis_metrics(self) -> tuple[AnalysisMetric, ...]:
        return tuple(self.metrics) or DEFAULT_METRICS


IdentityDriftRule = Literal["flag", "fallback", "reject"]


class ReleaseRecord(_Strict):
    """``release.toml``: one model change of one workflow, as a release."""

    format_version: Literal[1]
    workflow_id: Name
    """The behaviour this change attaches to (a route or workflow of your product); the
    workflow's pin is keyed by it."""
    previous_model: Name
    """The model id serving now: the evaluation's baseline."""
    candidate_model: Name
    """The model id proposed: one of the evaluation's candidates."""
    alias_resolution: dict[str, Name | ExpectedAlias]
    """Requested model id → the identity it is expected to resolve to (exact or a pattern).
    A model not listed must resolve to exactly its requested id."""
    expected_deltas: list[ExpectedDelta] = Field(min_length=1)
    required_eval_subsets: list[Name] = Field(min_length=1)
    """Gate subsets the evaluation must have cases in."""
    gate_classes: GateClasses
    rollout_scope: RolloutScope
    rollback_rule: Text
    """When and how this release is rolled back, in words the on-call engineer acts on."""
    trace_fields: list[Name] = Field(min_length=1)
    """What every traced call of this workflow must record."""
    release_owner: Name
    """The one person who may approve or reject this release (``--as``)."""
    declared_goal: Text
    on_identity_drift: IdentityDriftRule = "flag"
    """What ``modelup serve`` does when the endpoint answers as another identity than the pin:
    ``flag`` (serve the answer, record the drift), ``fallback`` (answer from the last-known-good
    identity instead) or ``reject`` (a 502, no answer)."""
    evaluation: Name | dict[str, Any]
    """A modelup configuration file, relative to ``release.toml``, or an inline table with the
    sections of ``modelup.toml``. After ``load_record``: an absolute path, or the inline
    sections normalised (relative paths made absolute)."""

    def expected_alias(self, requested: str) -> ExpectedAlias:
        declared = self.alias_resolution.get(requested)
        if declared is None:
            return ExpectedAlias(model=requested)
        return declared if isinstance(declared, ExpectedAlias) else ExpectedAlias(model=declared)

    @property
    def evaluation_file(self) -> Path | None:
        return Path(self.evaluation) if isinstance(self.evaluation, str) else None


def load_record(path: Path) -> tuple[ReleaseRecord, str]:
    """Read and validate ``release.toml``; returns the record, its evaluation resolved against
    the file's directory, and the file's sha256. Every problem is a ``ConfigError`` naming the
    file and the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the release record: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    data.setdefault("format_version", FORMAT_VERSION)
    record = parse_record(data, str(path))
    return resolve_evaluation(record, path.resolve().parent, str(path)), hashlib.sha256(
        raw
    ).hexdigest()


def parse_record(data: dict[str, Any], source: str) -> ReleaseRecord:
    """Validate a release record's fields (as stored, or as read from a file)."""
    try:
        return ReleaseRecord.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if not _is_union_tag(part))
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key {where}")
        elif error["type"] == "missing":
            problems.append(f"missing key {where}")
        else:
            problems.append(f"{where}: {error['msg']}")
    return "; ".join(dict.fromkeys(problems))


_UNION_TAGS = frozenset({"str", "constrained-str", "ExpectedAlias", "dict[str,any]"})


def _is_union_tag(part: object) -> bool:
    # pydantic names the branch of a union it tried (``str``, ``ExpectedAlias``...) in ``loc``.
    return part in _UNION_TAGS


def resolve_evaluation(record: ReleaseRecord, directory: Path, source: str) -> ReleaseRecord:
    """The record with its evaluation made independent of the working directory: a file path
    made absolute (it must exist), or the inline sections normalised against ``directory``.
    Inline sections may not hold an API key, because the record is stored: name an environment
    variable with ``api_key_env`` instead."""
    evaluation = record.evaluation
    if isinstance(evaluation, str):
        file = Path(evaluation)
        file = file if file.is_absolute() else (directory / file).resolve()
        if not file.is_file():
            raise ConfigError(f"{source}: evaluation: configuration file not found: {file}")
        return record.model_copy(update={"evaluation": str(file)})
    where = f"{source}: evaluation"
    if "store" in evaluation:
        raise ConfigError(
            f"{where}.store: a release's evaluation is recorded in the release's own store "
            "(--store, [store] url); remove this section"
        )
    normalised = normalise_config(evaluation, directory, where)
    tables = [("llm", normalised.get("llm"))]
    models = normalised.get("models")
    if isinstance(models, dict):
        tables += [(f"models.{name}", table) for name, table in models.items()]
    for key, table in tables:
        if isinstance(table, dict) and table.get("api_key") is not None:
            raise ConfigError(
                f"{where}.{key}.api_key: an API key cannot be written in a release record (it "
                "is stored and shown); name an environment variable with api_key_env"
            )
    return record.model_copy(update={"evaluation": normalised})
