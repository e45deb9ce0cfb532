"""The terminal view: model text is shown as text, never as rich markup."""

from __future__ import annotations

from rich.console import Console

from modelup.report.render.terminal import print_results
from support.reports import case, make_report

MARKUP = "[bold red]PWNED[/bold red] [link=https://evil.example]click[/link] [/]"


def render(**kwargs: object) -> str:
    console = Console(record=True, width=200, color_system=None)
    print_results(console, make_report(**kwargs))  # type: ignore[arg-type]
    return console.export_text()


def test_model_text_in_notes_is_printed_literally() -> None:
    failed = case("UP-9", False, notes=(f"Category mismatch: expected incident, got {MARKUP}",))
    text = render(candidate_cases=[failed])
    assert MARKUP in text
    assert "UP-9: Category mismatch" in text


def test_model_ids_that_look_like_markup_survive() -> None:
    text = render(candidate="[red]x[/red]", candidate_cases=[case("UP-1", False)])
    assert "[red]x[/red]" in text


def test_decision_and_reasons_are_printed() -> None:
    text = render(candidate_cases=[case("UP-1", False)])
    assert "Decision: Rollback" in text
