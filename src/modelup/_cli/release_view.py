"""How ``modelup release`` shows releases and pins to a person. Model names, fingerprints and
reasons come from endpoints: they are printed as ``Text``, never as rich markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelup.release import Evidence, Release, allowed_actions
from modelup.store.releases import PinRow

VERDICT_STYLE = {"Promote": "bold green", "Hold": "bold yellow", "Rollback": "bold red"}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def verdict_text(release: Release) -> Text:
    if release.verdict is None:
        return Text("not gated", style="dim")
    text = Text(release.verdict, style=VERDICT_STYLE.get(release.verdict, ""))
    if release.override is not None:
        text.append(" (override)", style="bold magenta")
    return text


def print_releases(out: Console, releases: Sequence[Release], where: str) -> None:
    if not releases:
        out.print(Text(f"No releases match ({where})."))
        return
    table = Table(title=f"Releases in {where} (newest first)", title_justify="left")
    for column in ("Release", "Workflow", "Change", "State", "Verdict", "Owner", "Updated"):
        table.add_column(column, overflow="fold")
    for release in releases:
        row = release.row
        table.add_row(
            Text(row.release_id),
            Text(row.workflow_id),
            Text(f"{row.previous_model} → {row.candidate_model}"),
            Text(row.state),
            verdict_text(release),
            Text(row.release_owner),
            Text(stamp(row.updated_at)),
        )
    out.print(table)


def print_release(out: Console, release: Release) -> None:
    """Everything a person needs to act on a release: the record's key fields, the verdict
    with its reasons, any override, the sign-off, the pin and the event log."""
    row, record = release.row, release.record
    out.print(Text(f"Release {row.release_id}: {row.workflow_id}", style="bold"))
    fields = [
        ("Change", f"{row.previous_model} → {row.candidate_model}"),
        ("State", row.state),
        ("Owner", row.release_owner),
        ("Declared goal", record.declared_goal),
        (
            "Rollout",
            " ".join([record.rollout_scope.kind, *map(_percent, record.rollout_scope.steps)]),
        ),
        ("Rollback rule", record.rollback_rule),
        ("Next", ", ".join(allowed_actions(row.state)) or "nothing: final"),
    ]
    for name, value in fields:
        out.print(Text.assemble((f"  {name}: ", "bold"), value))
    out.print(Text.assemble(("  Verdict: ", "bold"), verdict_text(release)))
    if release.override is not None:
        out.print(Text.assemble(("  Override: ", "bold magenta"), release.override))
    if release.evidence is not None:
        print_evidence(out, release.evidence)
    if release.approval is not None:
        approval = release.approval
        line = Text.assemble(
            ("  Approved: ", "bold"),
            f"by {approval.by} at {stamp(approval.at)} (verdict {approval.verdict})",
        )
        if approval.note:
            line.append(f"; note: {approval.note}")
        out.print(line)
    if release.pin is not None:
        out.print(Text.assemble(("  Pinned identity: ", "bold"), release.pin.describe()))
    table = Table(title="Event log", title_justify="left")
    for column in ("#", "At", "Actor", "Action", "From → to", "Reason"):
        table.add_column(column, overflow="fold")
    for event in release.events:
        table.add_row(
            Text(str(event.number)),
            Text(stamp(event.at)),
            Text(event.actor),
            Text(event.action),
            Text(f"{event.from_state or ''} → {event.to_state}"),
            Text(event.reason or ""),
        )
    out.print(table)


def print_evidence(out: Console, evidence: Evidence) -> None:
    out.print(
        Text.assemble(
            ("  Evidence: ", "bold"),
            f"{'run' if evidence.source == 'run' else 'attached report'} {evidence.run_id}, "
            f"report sha256 {evidence.report_sha256[:12]}, gated {stamp(evidence.gated_at)} "
            f"by {evidence.gated_by}",
        )
    )
    out.print(Text(f"  Report: {evidence.report_path}"))
    for reason in evidence.reasons:
        out.print(Text(f"    - {reason}"))
    for identity in evidence.identities:
        answered = ", ".join(identity.resolved_models) or "not reported"
        prints = ", ".join(identity.system_fingerprints)
        out.print(
            Text(
                f"  {identity.role}: {identity.requested_model} answered as {answered}"
                + (f" ({prints})" if prints else "")
                + ("" if identity.declared else "  UNDECLARED")
            )
        )


def print_pins(out: Console, pins: Sequence[PinRow], where: str) -> None:
    if not pins:
        out.print(Text(f"No workflow is pinned yet ({where})."))
        return
    table = Table(title=f"Pinned identities in {where}", title_justify="left")
    for column in ("Workflow", "Release", "Requested", "Pinned model", "Fingerprints", "Pinned"):
        table.add_column(column, overflow="fold")
    table.add_column("Last-known-good before", overflow="fold")
    for pin in pins:
        previous = pin.previous
        before = "none"
        if previous is not None:
            before = f"{previous.model} ({pin.previous_release_id or 'before any release'})"
        table.add_row(
            Text(pin.workflow_id),
            Text(pin.release_id or "none (last-known-good before any release)"),
            Text(pin.identity.requested_model),
            Text(pin.identity.model),
            Text(", ".join(pin.identity.system_fingerprints) or "none reported"),
            Text(f"{stamp(pin.pinned_at)} by {pin.pinned_by}"),
            Text(before),
        )
    out.print(table)


def _percent(step: float) -> str:
    return f"{step:g}%"
