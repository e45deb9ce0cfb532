"""``modelup --help`` and every command's: readable placeholders, run's examples, and the
options saying what they do."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app

runner = CliRunner()


def _commands() -> list[list[str]]:
    """Every command and subcommand of the app, as the words that name it."""
    import typer.main

    found: list[list[str]] = []
    root = typer.main.get_command(app)
    for name, command in getattr(root, "commands", {}).items():
        found.append([name])
        for sub in getattr(command, "commands", {}):
            found.append([name, sub])
    return found


COMMANDS = _commands()


def help_of(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [[], *COMMANDS], ids=lambda words: " ".join(words) or "modelup")
def test_no_option_shows_a_type_placeholder(command: list[str]) -> None:
    text = help_of(*command)
    placeholders = re.findall(
        r"<(?:bool|str|int|float|path|Path|list\[[^>]*\]|[a-z]+ range)>", text
    )
    assert placeholders == [], placeholders  # no <bool>, <list[str]>, <path>, <int>, <str>


def test_run_options_show_what_they_take() -> None:
    text = help_of("run")
    for option, placeholder in (
        ("--config", "PATH"),
        ("--baseline", "MODEL"),
        ("--candidate", "MODEL"),
        ("--base-url", "URL"),
        ("--concurrency", "N"),
        ("--epochs", "N"),
        ("--format", "FORMATS"),
        ("--resume", "RUN_ID"),
    ):
        assert re.search(rf"{re.escape(option)}\s.*\b{placeholder}\b", text), option


def test_run_help_shows_two_examples_and_every_exit_code() -> None:
    text = help_of("run")
    examples = text[text.index("Examples:") :]
    assert examples.count("modelup run") >= 2
    assert "--live --base-url http://localhost:11434/v1" in examples
    for code in ("0 Promote", "3 Hold", "4 Rollback", "2 bad configuration", "5 no evidence"):
        assert code in text


def test_concurrency_says_what_the_readme_says() -> None:
    line = next(line for line in help_of("run").splitlines() if "--concurrency" in line)
    assert "Calls in flight per endpoint, shared by the models on it." in line
