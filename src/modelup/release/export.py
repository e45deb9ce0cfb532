"""A release as a reviewer reads it in a pull request or an audit: the record's fields, the
evidence, the verdict with its reasons, and who signed what and when (``export --format md``);
or everything as JSON (``--format json``). Every piece of text is escaped in Markdown: resolved
model names and fingerprints come from endpoints, reasons quote them, and even the record's own
fields must not add markup, links, mentions or table cells."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from modelup import jsonbytes
from modelup.decide.figures import format_figure
from modelup.release.evidence import Evidence
from modelup.release.ledger import Release
from modelup.release.record import ExpectedDelta, ReleaseRecord
from modelup.report.render.markdown import md

ExportFormat = Literal["md", "json"]
_VERDICT_MARK = {"Promote": "🟢", "Hold": "🟡", "Rollback": "🔴"}
_REASON_LIMIT = 600


def export(release: Release, fmt: ExportFormat) -> str:
    if fmt == "json":
        return jsonbytes.dumps(release.to_json(), indent=True).decode("utf-8") + "\n"
    return render_markdown(release)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


def _at(moment: datetime) -> str:
    return md(moment.isoformat().replace("+00:00", "Z"))


def render_markdown(release: Release) -> str:
    row, record = release.row, release.record
    verdict = release.verdict
    lines = [
        f"# Release {md(row.release_id)}: {md(record.workflow_id)}",
        "",
        f"{md(record.candidate_model)} replacing {md(record.previous_model)}. "
        f"**State:** {md(row.state)} · **Verdict:** "
        + (f"{_VERDICT_MARK.get(verdict, '')} {md(verdict)}" if verdict else "not gated yet")
        + f" · **Owner:** {md(record.release_owner)}",
        "",
    ]
    if release.override is not None:
        lines += [f"> ⚠️ **Approved over a Hold.** Override: {md(release.override, None)}", ""]
    lines += ["## Record", "", *_record(release, record)]
    lines += ["## Evidence", ""]
    lines += _evidence(release.evidence) if release.evidence else ["Not gated yet.", ""]
    lines += ["## Sign-off and serving", "", *_sign_off(release)]
    lines += ["## Event log", ""]
    lines += _table(
        ["#", "at (UTC)", "actor", "action", "from → to", "reason"],
        [
            [
                str(event.number),
                _at(event.at),
                md(event.actor),
                md(event.action),
                f"{md(event.from_state or '')} → {md(event.to_state)}",
                md(event.reason or "", _REASON_LIMIT),
            ]
            for event in release.events
        ],
    )
    return "\n".join(lines).rstrip("\n") + "\n"


def _record(release: Release, record: ReleaseRecord) -> list[str]:
    rollout = record.rollout_scope
    steps = " → ".join(f"{step:g}%" for step in rollout.steps)
    aliases = "; ".join(
        f"{requested} → {alias.model}"
        + (f" (fingerprint {alias.system_fingerprint})" if alias.system_fingerprint else "")
        for requested in record.alias_resolution
        for alias in [record.expected_alias(requested)]
    )
    classes = "; ".join(
        f"{name}: {', '.join(getattr(record.gate_classes, name))}"
        for name in ("block", "conditional", "signal", "rollback_trigger")
        if getattr(record.gate_classes, name)
    )
    evaluation = record.evaluation if isinstance(record.evaluation, str) else "inline"
    fields = [
        ("workflow_id", record.workflow_id),
        ("previous_model", record.previous_model),
        ("candidate_model", record.candidate_model),
        ("declared_goal", record.declared_goal),
        ("release_owner", record.release_owner),
        ("alias_resolution", aliases or "none: each model must resolve to its own id"),
        ("required_eval_subsets", ", ".join(record.required_eval_subsets)),
        ("gate_classes", classes),
        ("rollout_scope", f"{rollout.kind} {steps}".strip()),
        ("rollback_rule", record.rollback_rule),
        ("trace_fields", ", ".join(record.trace_fields)),
        ("evaluation", evaluation),
        ("record file", f"{release.row.source} (sha256 {release.row.source_sha256[:12]})"),
        (
            "proposed",
            f"{release.row.created_at.isoformat().replace('+00:00', 'Z')} by "
            + release.row.created_by,
        ),
    ]
    lines = _table(["field", "value"], [[md(k), md(v, _REASON_LIMIT)] for k, v in fields])
    lines += ["Expected deltas:", ""]
    lines += _table(
        ["figure", "scope", "better", "claim"],
        [
            [md(d.figure), md(d.scope), "higher" if d.greater_is_better else "lower", md(_claim(d))]
            for d in record.expected_deltas
        ],
    )
    return lines


def _claim(delta: ExpectedDelta) -> str:
    parts = []
    for name in (
        "threshold",
        "min_absolute_change",
        "min_relative_change",
        "max_absolute_change",
        "max_relative_change",
    ):
        value = getattr(delta, name)
        if value is not None:
            parts.append(f"{name} {value:g}")
    return ", ".join(parts)


def _evidence(evidence: Evidence) -> list[str]:
    lines = [
        f"Gated {_at(evidence.gated_at)} by "
        f"{md(evidence.gated_by)} from "
        + ("its evaluation run" if evidence.source == "run" else "an attached report")
        + f" {md(evidence.run_id)}: report `{evidence.report_sha256}` (sha256), workflow "
        f"{md(evidence.workflow)} v{md(evidence.workflow_version)}, dataset "
        f"`{evidence.dataset_sha256[:12]}` ({evidence.case_count} cases), prompt "
        f"{md(evidence.prompt_id)} `{evidence.prompt_sha256[:12]}`, {md(evidence.client)} "
        f"{md(evidence.mode)}.",
        "",
        f"### Verdict: {_VERDICT_MARK[evidence.verdict]} {evidence.verdict}",
        "",
        f"The evaluation's own verdict was {evidence.evaluation_verdict}.",
        "",
        *(f"- {md(reason, _REASON_LIMIT)}" for reason in evidence.reasons),
        "",
        "### Rules",
        "",
    ]
    lines += _table(
        ["rule", "scope", "authority", "status", "baseline", "candidate", "reason"],
        [
            [
                md(rule.name),
                md(rule.scope),
                md(rule.authority + (f" (class {rule.gate_class})" if rule.gate_class else "")),
                md(rule.status),
                md(format_figure(rule.figure, rule.baseline)),
                md(format_figure(rule.figure, rule.candidate)),
                md(rule.reason, _REASON_LIMIT) if rule.status != "passed" else "",
            ]
            for rule in evidence.rules
        ],
    )
    lines += ["### Expected deltas and required subsets", ""]
    lines += _table(
        ["claim", "met", "evidence"],
        [
            *(
                [
                    md(f"{d.figure} ({d.scope})"),
                    "✅" if d.met else "❌",
                    md(d.reason, _REASON_LIMIT),
                ]
                for d in evidence.expected_deltas
            ),
            *(
                [
                    md(f"subset {s.subset}"),
                    "✅" if s.met else "❌",
                    md(f"{s.baseline_cases} previous / {s.candidate_cases} candidate cases"),
                ]
                for s in evidence.required_subsets
            ),
        ],
    )
    lines += ["### Identities", ""]
    lines += _table(
        ["role", "requested", "answered as", "system fingerprints", "expected", "declared"],
        [
            [
                md(identity.role),
                md(identity.requested_model),
                md(", ".join(identity.resolved_models) or "not reported"),
                md(", ".join(identity.system_fingerprints) or "none"),
                md(
                    identity.expected_model
                    + (
                        f" / {identity.expected_fingerprint}"
                        if identity.expected_fingerprint
                        else ""
                    )
                ),
                "✅" if identity.declared else "❌ " + md("; ".join(identity.reasons)),
            ]
            for identity in evidence.identities
        ],
    )
    return lines


def _sign_off(release: Release) -> list[str]:
    lines = []
    approval = release.approval
    if approval is not None:
        lines.append(
            f"- Approved by **{md(approval.by)}** at "
            f"{_at(approval.at)}, verdict {approval.verdict}, "
            f"on report `{approval.report_sha256}`"
            + (f"; note: {md(approval.note, _REASON_LIMIT)}" if approval.note else "")
        )
        if approval.override:
            lines.append(f"- ⚠️ Override of a Hold: {md(approval.override, _REASON_LIMIT)}")
    for event in release.events:
        if event.action in ("reject", "promote", "rollback", "supersede", "restore"):
            lines.append(
                f"- {md(event.action.capitalize())} by **{md(event.actor)}** at "
                f"{_at(event.at)}"
                + (f": {md(event.reason, _REASON_LIMIT)}" if event.reason else "")
            )
    if release.pin is not None:
        lines.append(
            f"- Pinned identity: {md(release.pin.describe())} (requested "
            f"{md(release.pin.requested_model)})"
        )
    return [*(lines or ["Not signed yet."]), ""]
