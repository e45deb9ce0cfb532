"""``modelup --help`` and every command's: readable placeholders, run's examples, and the
options saying what they do."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from modelup._cli.main import app
from modelup.session.plan import tool_version

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
    result = runner.invoke(
        app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}, terminal_width=200
    )
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


def _ended(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run in a process that ends through ``leave``, as the console script does."""
    return subprocess.run(
        [sys.executable, "-c", f"from modelup._cli.main import leave\n{code}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_leave_does_what_exiting_must_before_it_ends_the_process() -> None:
    done = _ended(
        "import atexit, sys, threading, time\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "def slow():\n"
        "    time.sleep(0.2)\n"
        "    print('thread finished')\n"
        "threading.Thread(target=slow).start()\n"
        "sys.stdout.write('buffered, no newline')\n"
        "leave(3)\n"
        "print('never')"
    )
    assert done.returncode == 3
    assert done.stdout == "buffered, no newlinethread finished\natexit ran\n"


def test_leave_reads_a_system_exit_code_as_the_interpreter_does() -> None:
    assert _ended("leave(None)").returncode == 0
    text = _ended("leave('no such file: x.toml')")
    assert text.returncode == 1 and text.stderr == "no such file: x.toml\n"


def test_the_command_exits_with_its_code_and_its_whole_output() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "modelup", "version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0 and version.stdout.strip() == tool_version()
    unknown = subprocess.run(
        [sys.executable, "-m", "modelup", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


def test_help_is_plain_text_made_without_rich_markdown() -> None:
    # typer's rich help imports rich's Markdown and markdown-it: 0.2 s of a 0.4 s --help.
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in ('typer.rich_utils', 'markdown_it')"
        " if m in sys.modules), file=sys.stderr))\n"
        "sys.argv = ['modelup', '--help']\n"
        "from modelup._cli.main import main\n"
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("Usage: modelup [OPTIONS] COMMAND")
    assert done.stderr.strip() == "[]"
