"""The workflow registry: names are unique and unknown names are explained."""

from __future__ import annotations

import dataclasses

import pytest

from modelup.errors import WorkflowError
from modelup.workflow.base import Workflow
from modelup.workflow.catalog import get_workflow, workflow_names
from modelup.workflow.registry import register_workflow


def test_bundled_workflows_are_registered() -> None:
    assert {"support-ops", "incident-triage"} <= set(workflow_names())


def test_a_name_cannot_be_registered_twice() -> None:
    with pytest.raises(WorkflowError, match="already registered"):
        register_workflow(get_workflow("support-ops"))


def test_replace_is_explicit() -> None:
    original = get_workflow("support-ops")
    renamed = dataclasses.replace(original, name="support-ops-copy-for-test")
    register_workflow(renamed)
    try:
        assert get_workflow("support-ops-copy-for-test") is renamed
        register_workflow(renamed, replace=True)
    finally:
        from modelup.workflow import registry

        registry._REGISTRY.pop("support-ops-copy-for-test", None)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(WorkflowError, match=r"unknown workflow 'nope' \(registered: .*support-ops"):
        get_workflow("nope")


def test_a_deferred_workflow_is_read_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelup.workflow import registry

    monkeypatch.setattr(registry, "_DEFERRED", dict(registry._DEFERRED))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    support_ops = get_workflow("support-ops")
    reads: list[str] = []

    def load() -> Workflow:
        reads.append("read")
        return dataclasses.replace(support_ops, name="deferred-for-test")

    registry.register_deferred("deferred-for-test", load)
    assert "deferred-for-test" in workflow_names()
    assert reads == []
    assert get_workflow("deferred-for-test").name == "deferred-for-test"
    assert get_workflow("deferred-for-test").name == "deferred-for-test"
    assert reads == ["read"]
    with pytest.raises(WorkflowError, match="already registered"):
        registry.register_deferred("deferred-for-test", load)


def test_a_deferred_file_must_declare_the_name_it_was_registered_under(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelup.workflow import registry

    monkeypatch.setattr(registry, "_DEFERRED", dict(registry._DEFERRED))
    support_ops = get_workflow("support-ops")
    registry.register_deferred("misnamed-for-test", lambda: support_ops)
    with pytest.raises(WorkflowError, match="declares 'support-ops'"):
        get_workflow("misnamed-for-test")


def test_a_workflow_registered_from_python_has_its_contract_checked() -> None:
    broken = dataclasses.replace(
        get_workflow("support-ops"), name="support-ops-broken-contract", contract={"type": 12}
    )
    with pytest.raises(WorkflowError, match="not a valid JSON Schema"):
        register_workflow(broken)
    assert "support-ops-broken-contract" not in workflow_names()
