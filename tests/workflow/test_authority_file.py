"""A workflow file's ``[authority]``: what the run-time shell decides, checked when the file is
loaded, every problem naming its key."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelup.errors import WorkflowError
from modelup.workflow.bundled import BUNDLED_DIRECTORY
from modelup.workflow.catalog import get_workflow
from modelup.workflow.loader import load_workflow_file

BUNDLED = tomllib.loads((BUNDLED_DIRECTORY / "incident_triage.toml").read_text(encoding="utf-8"))


def load(tmp_path: Path, change: dict[str, Any] | None = None, drop: str | None = None) -> Any:
    document = copy.deepcopy(BUNDLED)
    document["simulator"] = {
        "name": "incident-triage",
        "options": {"escalation_policy": "escalation"},
    }
    authority = document["authority"]
    if drop is not None:
        del authority[drop]
    authority.update(change or {})
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_workflow_file(path)


def test_the_bundled_incident_triage_declares_its_authority() -> None:
    authority = get_workflow("incident-triage").authority
    assert authority is not None
    assert authority.owned_fields == ("escalation_required",)
    assert authority.policy_owned[0].policy.name == "escalation"
    assert authority.policy_owned[0].contained is True
    assert authority.actions is not None and authority.actions.contained == ("read",)
    assert authority.on_fail == "reask" and authority.routing_key == "service"
    assert authority.safe_default is not None and authority.safe_default["escalation_required"]


def test_without_authority_policy_checks_own_their_fields() -> None:
    derived = get_workflow("support-ops").shell_authority
    assert derived.on_fail == "reask" and derived.safe_default is None
    assert derived.actions is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"policy_owned": {"summary": "escalation"}}, "authority.policy_owned.summary: a policy"),
        ({"policy_owned": {"nope": "escalation"}}, "'nope' is not a field of the contract"),
        ({"policy_owned": {"escalation_required": "paging"}}, "no policy 'paging'"),
        (
            {"actions": {"check": "escalation", "allowed": ["read"], "contained": ["read"]}},
            "not a lexicon check",
        ),
        (
            {"actions": {"check": "action_posture", "allowed": ["reed"], "contained": ["read"]}},
            "authority.actions.allowed: not classes of check action_posture: reed",
        ),
        (
            {"routing_key": "cause_keywords"},
            "authority.routing_key: 'cause_keywords' is not an input",
        ),
        ({"on_fail": "retry"}, "authority.on_fail"),
        (
            {"safe_default": {"summary": "s"}},
            "authority.safe_default: does not satisfy the contract",
        ),
        ({"shout": True}, "authority.shout: unknown key"),
    ],
)
def test_a_bad_authority_names_its_key(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(WorkflowError, match=re.escape(message)):
        load(tmp_path, change)


def test_escalate_and_action_rules_need_a_safe_default(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"authority\.safe_default: required"):
        load(tmp_path, drop="safe_default")
    loaded = load(tmp_path, {"on_fail": "fallback", "policy_owned": {}})
    assert loaded.authority.on_fail == "fallback" and loaded.authority.policy_owned == ()
