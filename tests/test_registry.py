"""The workflow registry: names are unique and unknown names are explained."""

from __future__ import annotations

import dataclasses

import pytest

from modelup.errors import WorkflowError
from modelup.workflow.registry import get_workflow, register_workflow, workflow_names


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
