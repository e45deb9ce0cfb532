"""``release export``: the Markdown a reviewer reads (every field, the evidence, the verdict with
its reasons, who signed what and when) with untrusted text made inert, and the JSON record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modelup.release import Release, Releases, export
from modelup.store.releases import open_releases
from support.releases import write_evaluation, write_record

# What an endpoint may claim its model is called: markup, a link, a mention, a table cell.
HOSTILE = "<script>alert(1)</script> | [x](https://evil.example) @octocat `code` **b**"
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture
def held(tmp_path: Path) -> Release:
    """A release whose candidate answered as a hostile identity (Hold: undeclared drift),
    approved over the Hold with an override that is hostile too."""
    write_evaluation(
        tmp_path, candidate_profile="hostile", profiles={"hostile": {"resolved_model": HOSTILE}}
    )
    store = open_releases(tmp_path / "store.sqlite")
    assert store is not None
    with store:
        releases = Releases(store)
        release = releases.new(write_record(tmp_path), actor="bob")
        releases.gate(release.release_id, actor="ci")
        return releases.approve(release.release_id, actor="alice", override=f"ok {HOSTILE}")


def test_markdown_has_every_field_the_evidence_and_the_signatures(held: Release) -> None:
    text = export(held, "md")
    for field in (
        "workflow\\_id",
        "previous\\_model",
        "candidate\\_model",
        "declared\\_goal",
        "release\\_owner",
        "alias\\_resolution",
        "required\\_eval\\_subsets",
        "gate\\_classes",
        "rollout\\_scope",
        "rollback\\_rule",
        "trace\\_fields",
        "evaluation",
    ):
        assert f"| {field} |" in text, field
    assert held.evidence is not None
    assert f"report `{held.evidence.report_sha256}` (sha256)" in text
    assert "### Verdict: 🟡 Hold" in text
    assert "Identity drift: qwen3:8b answered as" in text
    assert "⚠️ **Approved over a Hold.**" in text
    assert "- Approved by **alice** at " in text
    assert "| 1 | " in text and " | bob | new |" in text  # the event log, who did what


def test_markdown_makes_untrusted_text_inert(held: Release) -> None:
    text = export(held, "md")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "](https://evil.example)" not in text
    assert "@octocat" not in text  # nobody is notified
    assert "`code`" not in text and "**b**" not in text
    # every table keeps its columns: no cell added by a pipe in the text
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    for table in filter(None, tables):
        widths = {len(_UNESCAPED_PIPE.findall(line)) for line in table}
        assert len(widths) == 1, table


def test_json_is_the_whole_record_and_deterministic(held: Release) -> None:
    first, again = export(held, "json"), export(held, "json")
    assert first == again
    data = json.loads(first)
    assert data["release_id"] == "rel-1" and data["state"] == "approved"
    assert data["verdict"] == "Hold" and data["override"] == f"ok {HOSTILE}"
    assert data["record"]["release_owner"] == "alice"
    assert data["evidence"]["identities"][1]["resolved_models"] == [HOSTILE]
    assert data["approval"]["by"] == "alice"
    assert [event["action"] for event in data["events"]] == ["new", "gate", "approve"]
