"""What a workflow is: a prompt, an output contract and the checks that score a case.

A workflow is data. The runner, the figures, the gate and the report only ever see check names,
figure names and numbers, so a new workflow is a new ``Workflow`` value, not edits elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from modelup.config.rules import GateRule
from modelup.workflow.authority import Authority, PolicyOwned
from modelup.workflow.inputs import fields_read, policy_fields, prompt_fields
from modelup.workflow.policy import Policy
from modelup.workflow.prompt import PromptTemplate

Aggregate = Literal["rate", "mean"]

STANDARD_FIGURES = (
    "case_count",
    "pass_rate",
    "structured_output_rate",
    "strict_structured_output_rate",
    "repair_rate",
)
"""The contract figures every workflow's summary starts with."""
TRAILING_FIGURES = (
    "avg_latency_ms",
    "p95_latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "quality_score",
    "error_count",
    "error_rate",
    "pass_at_k",
    "pass_hat_k",
    "flaky_case_count",
    "identity_drift",
    "identity_changes",
)
"""The run figures every workflow's summary ends with, after its own check figures: latency,
tokens, cost and quality; the errored calls; pass@K and pass^K at K = epochs and the flaky
cases; and who answered (``modelup.decide.identity``)."""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One deterministic check of a case, bound to the figure it feeds.

    ``kind`` names a registered check function; ``params`` bind it to output and case fields.
    ``aggregate`` says whether the figure is the rate of passed cases or the mean of the score.
    """

    name: str
    kind: str
    figure: str
    params: Mapping[str, Any] = field(default_factory=dict)
    aggregate: Aggregate = "rate"
    subset: str | None = None


@dataclass(frozen=True, slots=True)
class SimulatedAnswer:
    """What a simulated model says for one case, and how long it pretends the call took."""

    text: str
    latency_ms: float


class Simulator(Protocol):
    """Writes a deterministic answer for a case from its expectations and a behaviour profile."""

    profiles: Mapping[str, Mapping[str, Any]]
    """Named behaviour profiles that ship with the workflow (e.g. ``steady``, ``drifting``)."""

    def validate_profile(self, profile: Mapping[str, Any]) -> None:
        """Raise ``WorkflowError`` naming the bad key when ``profile`` is not usable."""

    def answer(
        self, fields: Mapping[str, Any], profile: Mapping[str, Any], rng: random.Random
    ) -> SimulatedAnswer: ...


RUBRIC_SCALE = (1, 5)
"""Every rubric criterion is scored on this scale, lowest first."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One rubric criterion: a name (an identifier) and what a grader looks for."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class GraderSpec:
    """What a grader model reads of an answer and the rubric it scores it on (a workflow
    file's ``[grader]``); the model that grades is the configuration's choice."""

    fields: tuple[str, ...] = ()
    """Contract fields the grader reads; empty: every field of the contract."""
    rubric: tuple[Criterion, ...] = ()


@dataclass(frozen=True, slots=True)
class Workflow:
    """A registered workflow: everything that is specific to one structured-output task."""

    name: str
    version: str
    description: str
    prompt: PromptTemplate
    case_fields: type[BaseModel]
    contract: Mapping[str, Any]
    checks: tuple[CheckSpec, ...]
    quality_weights: Mapping[str, float]
    family_field: str | None = None
    simulator: Simulator | None = None
    gate_rules: tuple[GateRule, ...] = ()
    """The workflow's default gate; empty means the seed's gate from ``[promotion]``. A
    configured ``[gate]`` policy wins over both."""
    gate_extends_promotion: bool = False
    """The workflow's rules follow the seed's gate from ``[promotion]`` rather than replace it
    (``[gate] extends = "promotion"`` in a workflow file)."""
    source: str | None = None
    """The file the workflow was declared in; ``None`` when it was built in Python."""
    inputs: frozenset[str] | None = None
    """The case fields a request carries, as declared (``input = true``); ``None``: inferred,
    see ``input_fields``."""

    @property
    def input_fields(self) -> frozenset[str]:
        """The case fields a request carries: as declared, else every field the prompt renders
        and every field a policy reads. The rest are expectations (labels)."""
        if self.inputs is not None:
            return self.inputs
        names = set(prompt_fields(self.prompt))
        for check in self.checks:
            policy = check.params.get("policy")
            if isinstance(policy, Policy):
                names |= policy_fields(policy)
        return frozenset(names)

    def is_label_free(self, check: CheckSpec) -> bool:
        """Whether ``check`` reads input fields only, so it can judge a production request
        that has no expectations (a ``python`` check is never label-free: it sees the case)."""
        read = fields_read(check.kind, check.params)
        return read is not None and read <= self.input_fields

    @property
    def label_free_checks(self) -> tuple[CheckSpec, ...]:
        return tuple(check for check in self.checks if self.is_label_free(check))

    grader: GraderSpec | None = None
    """What a grader model reads and its rubric; ``None``: a grader reads every contract
    field and has no rubric."""
    authority: Authority | None = None
    """What the run-time shell decides rather than the model (``[authority]``); ``None``:
    derived from the policy checks, see ``shell_authority``."""

    @property
    def shell_authority(self) -> Authority:
        """The declared authority, else: every ``policy`` check's (top-level) answer field is
        owned by its policy; no action rule and no safe default, so an answer that fails its
        contract after one reask is refused (an error, never the invalid answer)."""
        if self.authority is not None:
            return self.authority
        owned = tuple(
            PolicyOwned(str(check.params["output"]), check.params["policy"])
            for check in self.checks
            if check.kind == "policy"
            and isinstance(check.params.get("policy"), Policy)
            and "." not in str(check.params["output"])
        )
        return Authority(policy_owned=owned, on_fail="reask")

    @property
    def check_figures(self) -> tuple[str, ...]:
        return tuple(check.figure for check in self.checks)

    @property
    def figures(self) -> tuple[str, ...]:
        """Every figure a summary of this workflow carries, in report order."""
        return STANDARD_FIGURES + self.check_figures + TRAILING_FIGURES
