"""Read a workflow declared in a TOML or YAML file into a ``Workflow``.

The file says everything that is specific to one structured-output task: the prompt, the case
fields, the output contract, the checks with the figures they feed, the quality weights, the
deterministic policies, the default gate and the simulator. The README's "Workflows" section
documents the format. Every problem is a ``WorkflowError`` naming the file and the key
(``checks[2].params.output``), raised when the file is loaded rather than during a run.
"""

from __future__ import annotations

import json
import random
import string
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelup.config.rules import GateRule
from modelup.errors import WorkflowError
from modelup.workflow.authority_file import build_authority
from modelup.workflow.base import (
    STANDARD_FIGURES,
    TRAILING_FIGURES,
    CheckSpec,
    SimulatedAnswer,
    Simulator,
    Workflow,
)
from modelup.workflow.bundled import BUNDLED_DIRECTORY
from modelup.workflow.case_fields import CaseFieldDecl, case_model
from modelup.workflow.checks import check_params_model
from modelup.workflow.checks_semantic import python_check
from modelup.workflow.contract import check_contract
from modelup.workflow.file_format import (
    CheckDecl,
    GateDecl,
    PolicyDecl,
    PromptDecl,
    SimulatorDecl,
    WorkflowFile,
)
from modelup.workflow.grader_spec import grader_spec
from modelup.workflow.inputs import prompt_fields
from modelup.workflow.policy import OPERATORS, Condition, Policy, PolicyRule
from modelup.workflow.prompt import PromptTemplate
from modelup.workflow.references import absolute_reference, is_reference, resolve
from modelup.workflow.registry import SimulatorFactory, get_simulator

_CASE_PARAMS = ("case", "when", "allow_when")
"""Check parameters that name case fields, checked against the declaration."""


class _WithProfiles:
    """A simulator plus the profiles its workflow file declares."""

    def __init__(self, inner: Simulator, profiles: Mapping[str, Mapping[str, Any]]) -> None:
        self.inner = inner
        self.profiles = profiles

    def validate_profile(self, profile: Mapping[str, Any]) -> None:
        self.inner.validate_profile(profile)

    def answer(
        self, fields: Mapping[str, Any], profile: Mapping[str, Any], rng: random.Random
    ) -> SimulatedAnswer:
        return self.inner.answer(fields, profile, rng)


def load_workflow_file(path: Path) -> Workflow:
    """Read, validate and build the workflow declared in ``path`` (``.toml``, ``.yaml``)."""
    document = _read(path)
    try:
        declared = WorkflowFile.model_validate(document)
    except ValidationError as exc:
        raise WorkflowError(f"{path}: {_describe(exc)}") from None
    try:
        return _build(declared, path)
    except WorkflowError as exc:
        raise WorkflowError(f"{path}: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise WorkflowError(f"{path}: cannot read workflow file: {exc.strerror or exc}") from exc
    document: Any
    if path.suffix.lower() == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise WorkflowError(f"{path}: invalid TOML: {exc}") from exc
    else:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"line {mark.line + 1}: " if mark is not None else ""
            raise WorkflowError(f"{path}: {where}invalid YAML: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise WorkflowError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise WorkflowError(f"{path}: a workflow file is a table of keys (name, prompt, ...)")
    return document


def _describe(exc: ValidationError, prefix: Sequence[str | int] = ()) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = key_path((*prefix, *error["loc"])) or "(file)"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        problems.append(f"{where}: {message}")
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def key_path(parts: Sequence[str | int]) -> str:
    """``("checks", 2, "params")`` -> ``checks[2].params``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _build(declared: WorkflowFile, path: Path) -> Workflow:
    fields = declared.case_fields
    model = case_model(declared.name, fields)
    if declared.family_field is not None and declared.family_field not in fields:
        raise WorkflowError(f"family_field: {declared.family_field!r} is not a case field")
    prompt = _prompt(declared.prompt, fields)
    contract = _contract(declared.contract, path)
    policies = {name: _policy(name, spec, fields) for name, spec in declared.policies.items()}
    checks = tuple(
        _check(index, spec, fields, contract, policies, path)
        for index, spec in enumerate(declared.checks)
    )
    _unique(checks)
    figures = {*STANDARD_FIGURES, *(check.figure for check in checks), *TRAILING_FIGURES}
    for figure in declared.quality_weights:
        if figure not in figures:
            raise WorkflowError(f"quality_weights.{figure}: no such figure ({_known(figures)})")
    rules = _gate(declared.gate, figures)
    simulator = _simulator(declared.simulator, policies, path)
    inputs = _inputs(fields, prompt, policies)
    authority = None
    if declared.authority is not None:
        authority = build_authority(
            declared.authority,
            contract=contract,
            checks=checks,
            policies=policies,
            inputs=inputs if inputs is not None else frozenset(fields),
        )
    return Workflow(
        name=declared.name,
        version=str(declared.version),
        description=declared.description,
        prompt=prompt,
        case_fields=model,
        contract=contract,
        checks=checks,
        quality_weights={k: float(v) for k, v in declared.quality_weights.items()},
        family_field=declared.family_field,
        simulator=simulator,
        gate_rules=rules,
        gate_extends_promotion=declared.gate is not None and declared.gate.extends == "promotion",
        source=str(path.resolve()),
        inputs=inputs,
        grader=grader_spec(declared.grader, contract),
        authority=authority,
    )


def _inputs(
    fields: Mapping[str, CaseFieldDecl], prompt: PromptTemplate, policies: Mapping[str, Policy]
) -> frozenset[str] | None:
    """The declared input fields (``input = true``), or ``None`` when no field says (then the
    fields the prompt renders and the policies read are the inputs). A request must carry what
    the prompt renders, and a policy decides from what the request carries."""
    if all(declaration.input is None for declaration in fields.values()):
        return None
    inputs = frozenset(name for name, declaration in fields.items() if declaration.input)
    for name in sorted(prompt_fields(prompt) - inputs):
        raise WorkflowError(
            f"case_fields.{name}.input: the prompt renders ${name}, so a request carries it: "
            "declare it input = true"
        )
    for policy_name, policy in policies.items():
        for r, rule in enumerate(policy.rules):
            for c, condition in enumerate(rule.when):
                if condition.field not in inputs:
                    raise WorkflowError(
                        f"policies.{policy_name}.rules[{r}].when[{c}]: {condition.field!r} is "
                        "not an input field: a policy decides from what a request carries "
                        f"(declare case_fields.{condition.field}.input = true)"
                    )
    return inputs


def _prompt(declared: PromptDecl, fields: Mapping[str, CaseFieldDecl]) -> PromptTemplate:
    for index, message in enumerate(declared.messages):
        template = string.Template(message.content)
        where = f"prompt.messages[{index}].content"
        if not template.is_valid():
            raise WorkflowError(f"{where}: bad placeholder (write $$ for a literal $)")
        for name in template.get_identifiers():
            if name not in fields:
                raise WorkflowError(f"{where}: ${name} is not a declared case field")
    messages = tuple((message.role, message.content) for message in declared.messages)
    return PromptTemplate(id=declared.id, messages=messages)


def _contract(declared: dict[str, Any] | str, path: Path) -> dict[str, Any]:
    if isinstance(declared, str):
        file = (path.parent / declared).resolve()
        try:
            schema = json.loads(file.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise WorkflowError(f"contract: cannot read {file}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise WorkflowError(f"contract: {file}: line {exc.lineno}: {exc.msg}") from exc
        if not isinstance(schema, dict):
            raise WorkflowError(f"contract: {file} must hold a JSON Schema object")
        declared = schema
    if not path.resolve().is_relative_to(BUNDLED_DIRECTORY.resolve()):
        # A bundled contract is checked by the tests, not on every start (jsonschema's import).
        try:
            check_contract(declared)
        except WorkflowError as exc:
            raise WorkflowError(f"contract: {exc}") from None
    return declared


def _policy(name: str, declared: PolicyDecl, fields: Mapping[str, CaseFieldDecl]) -> Policy:
    rules = []
    for r, rule in enumerate(declared.rules):
        conditions = []
        for c, condition in enumerate(rule.when):
            where = f"policies.{name}.rules[{r}].when[{c}]"
            subject = condition.field or condition.count or ""
            if subject not in fields:
                raise WorkflowError(f"{where}: {subject!r} is not a case field")
            counted = condition.count is not None
            if counted and not fields[subject].is_collection:
                raise WorkflowError(f"{where}.count: {subject!r} is not a list or map field")
            operator = next(op for op in OPERATORS if op in condition.model_fields_set)
            value = getattr(condition, operator)
            scale = () if counted else fields[subject].scale
            ordered = operator in ("at_least", "at_most", "below", "above") and not counted
            if ordered and not scale and fields[subject].type not in ("integer", "number"):
                raise WorkflowError(
                    f"{where}.{operator}: {subject!r} has no enum scale to order by"
                )
            try:
                conditions.append(Condition(subject, operator, value, counted, scale))
            except WorkflowError as exc:
                raise WorkflowError(f"{where}.{operator}: {exc}") from None
        rules.append(PolicyRule(rule.name, tuple(conditions)))
    return Policy(name=name, rules=tuple(rules), description=declared.description)


def _check(
    index: int,
    declared: CheckDecl,
    fields: Mapping[str, CaseFieldDecl],
    contract: Mapping[str, Any],
    policies: Mapping[str, Policy],
    path: Path,
) -> CheckSpec:
    where = f"checks[{index}]"
    try:
        params_model = check_params_model(declared.kind)
    except WorkflowError as exc:
        raise WorkflowError(f"{where}.kind: {exc}") from None
    params = dict(declared.params)
    if params_model is not None:
        try:
            params_model.model_validate(params)
        except ValidationError as exc:
            raise WorkflowError(_describe(exc, (*_split(where), "params"))) from None
    if declared.kind == "python":
        params["function"] = absolute_reference(params["function"], path.parent)
        try:
            python_check(params["function"])
        except WorkflowError as exc:
            raise WorkflowError(f"{where}.params.function: {exc}") from None
    else:
        for key, name in _references(params, _CASE_PARAMS):
            if not isinstance(name, str) or name not in fields:
                raise WorkflowError(f"{where}.params.{key}: {name!r} is not a case field")
        _check_outputs(where, params, contract)
    if declared.kind == "policy":
        name = params["policy"]
        if not isinstance(name, str) or name not in policies:
            known = ", ".join(sorted(policies)) or "none declared"
            raise WorkflowError(f"{where}.params.policy: no policy {name!r} ({known})")
        params["policy"] = policies[name]
    return CheckSpec(
        name=declared.name,
        kind=declared.kind,
        figure=declared.figure,
        params=params,
        aggregate=declared.aggregate,
        subset=declared.subset,
    )


def _split(where: str) -> tuple[str | int, ...]:
    name, _, rest = where.partition("[")
    return (name, int(rest.rstrip("]")))


def _references(value: Any, keys: Sequence[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) under ``value`` whose key is one of ``keys``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{prefix}.{key}" if prefix else str(key)
            if key in keys and item is not None:
                yield here, item
            else:
                yield from _references(item, keys, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, keys, f"{prefix}[{index}]")


def _check_outputs(where: str, params: Mapping[str, Any], contract: Mapping[str, Any]) -> None:
    """Each output path starts at a property the contract declares (a typo would otherwise make
    a check silently see nothing)."""
    properties = contract.get("properties")
    if not isinstance(properties, Mapping):
        return
    for key, value in _references(params, ("output",)):
        for output in [value] if isinstance(value, str) else value:
            root = str(output).split(".")[0].removesuffix("[]")
            if root not in properties:
                known = ", ".join(properties)
                raise WorkflowError(
                    f"{where}.params.{key}: {output!r} is not in the contract ({known})"
                )


def _unique(checks: Sequence[CheckSpec]) -> None:
    reserved = {*STANDARD_FIGURES, *TRAILING_FIGURES}
    names: set[str] = set()
    figures: set[str] = set()
    for index, check in enumerate(checks):
        if check.name in names:
            raise WorkflowError(f"checks[{index}].name: {check.name!r} is used twice")
        if check.figure in figures or check.figure in reserved:
            raise WorkflowError(f"checks[{index}].figure: {check.figure!r} is already a figure")
        names.add(check.name)
        figures.add(check.figure)


def _known(figures: set[str]) -> str:
    return "known: " + ", ".join(sorted(figures))


def _gate(declared: GateDecl | None, figures: set[str]) -> tuple[GateRule, ...]:
    if declared is None:
        return ()
    for index, rule in enumerate(declared.rules):
        if rule.figure not in figures:
            raise WorkflowError(
                f"gate.rules[{index}].figure: no such figure {rule.figure!r} ({_known(figures)})"
            )
    return tuple(declared.rules)


def _simulator(
    declared: SimulatorDecl | None, policies: Mapping[str, Policy], path: Path
) -> Simulator | None:
    if declared is None:
        return None
    factory: SimulatorFactory
    try:
        if is_reference(declared.name):
            factory = resolve(absolute_reference(declared.name, path.parent))
        else:
            factory = get_simulator(declared.name)
    except WorkflowError as exc:
        raise WorkflowError(f"simulator.name: {exc}") from None
    try:
        simulator = factory(declared.options, policies)
    except WorkflowError as exc:
        raise WorkflowError(f"simulator.options: {exc}") from None
    for name, profile in declared.profiles.items():
        try:
            simulator.validate_profile(profile)
        except WorkflowError as exc:
            raise WorkflowError(f"simulator.profiles.{name}: {exc}") from None
    if not declared.profiles:
        return simulator
    return _WithProfiles(simulator, {**simulator.profiles, **declared.profiles})
