"""The README and docs/ stay true to the code.

- Every relative link in README.md and docs/*.md points to an existing file, and every anchor to
  an existing heading. Pages written on other branches may be linked before they land; they are
  listed in ``NOT_YET_WRITTEN``, by name, and checked like any other page once they exist.
- Every command of the typer app is in the README's commands table and has a ``## modelup NAME``
  section in docs/cli.md naming each of its options and arguments, so ``modelup --help`` and the
  docs cannot drift apart. The commands are read from the app: a new command fails this test until
  it is documented.
- The README keeps the two set-up commands, and the configuration examples (```toml blocks of
  the pages in ``CONFIG_PAGES``) are valid configurations.
- The workflow in docs/github-actions.md parses, grants the permissions its actions need, and its
  ``run:`` steps, executed in a temporary copy of the repository as far as a machine without
  GitHub can, produce the files its ``uses:`` steps read and the exit code the page says. Two
  substitutions are made, and each must match exactly once:
  ``git+https://github.com/OWNER/modelup@main`` becomes the local copy (installed into a fresh
  environment whose dependencies are those of the running interpreter), and ``--live`` becomes
  ``--mock`` (no model endpoint here). ``uses:`` steps need GitHub: they are not run, but the
  files they name are checked at the point they would run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main
import yaml

from modelup import load_settings
from modelup._cli.main import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
ACTIONS_DOC = DOCS / "github-actions.md"

# Linked pages that other branches are writing; checked normally as soon as they exist.
NOT_YET_WRITTEN: set[str] = set()
# Pages whose ```toml blocks are modelup configurations (workflow files are not).
CONFIG_PAGES = ("README.md", "docs/configuration.md", "docs/gate.md", "docs/reports.md")

# The environment as the developer's shell had it, before conftest's hermetic fixture: the
# workflow's pip step may need its proxy or index settings.
_SHELL_ENVIRONMENT = dict(os.environ)

_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def doc_pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans, where links are not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    body = prose(text)
    return [*_INLINE_LINK.findall(body), *_REFERENCE_LINK.findall(body)]


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces to
    hyphens, ``-1``, ``-2``... for repeats."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, title in _HEADING.findall(_FENCE.sub("", text)):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", plain.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


@pytest.mark.parametrize("page", doc_pages(), ids=page_id)
def test_relative_links_resolve(page: Path) -> None:
    problems = []
    text = page.read_text(encoding="utf-8")
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto: ...: not checked here (no network in tests)
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
            continue
        if not resolved.exists():
            if resolved.relative_to(ROOT).as_posix() not in NOT_YET_WRITTEN:
                problems.append(f"{target}: no such file")
            continue
        if anchor and anchor not in anchors(resolved.read_text(encoding="utf-8")):
            problems.append(f"{target}: no heading with anchor #{anchor} in {resolved.name}")
    assert not problems, f"{page_id(page)}: " + "; ".join(problems)


def test_pages_not_yet_written_are_linked() -> None:
    # The allowance above is for pages the docs point at, not a place to hide broken links.
    linked = {
        (page.parent / target.partition("#")[0]).resolve().relative_to(ROOT).as_posix()
        for page in doc_pages()
        for target in links(page.read_text(encoding="utf-8"))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) and target[0] != "#"
    }
    assert linked >= NOT_YET_WRITTEN


def test_anchor_rules() -> None:
    page = "# A\n## Comparing two runs: `modelup diff`\n## A\n```\n# not a heading\n```\n"
    assert anchors(page) == {"a", "comparing-two-runs-modelup-diff", "a-1"}


SET_UP_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/modelup run",
    "./scripts/test.sh",
)


def test_readme_keeps_the_set_up_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    for command in SET_UP_COMMANDS:
        assert command in lines, f"README.md must keep, as a line of its own: {command}"


# -- The CLI ------------------------------------------------------------------------------------


def cli_commands() -> dict[str, Any]:
    """The commands registered on the typer app, by name (typer's own click types: typer 0.29
    vendors click, so ``click`` itself may not be installed)."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return dict(group.commands)


def readme_commands() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`modelup ([a-z][a-z0-9-]*)\b", section, re.MULTILINE))


def cli_sections() -> dict[str, str]:
    text = CLI_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## modelup ([a-z][a-z0-9-]*)[ \t]*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def named(token: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text) is not None


def test_the_cli_has_commands() -> None:
    assert {"run", "diff", "report", "history", "version"} <= set(cli_commands())


def test_every_command_is_in_the_readme_table() -> None:
    commands, documented = set(cli_commands()), readme_commands()
    assert commands - documented == set(), "add these commands to README.md's commands table"
    assert documented - commands == set(), "README.md's commands table names unknown commands"


def test_every_command_has_a_section_in_cli_doc() -> None:
    commands, sections = set(cli_commands()), set(cli_sections())
    assert commands - sections == set(), "add a '## modelup NAME' section to docs/cli.md"
    assert sections - commands == set(), "docs/cli.md documents commands the CLI does not have"


def undocumented(name: str, command: Any, section: str) -> list[str]:
    """The options and arguments of ``command`` that ``section`` does not name."""
    missing = []
    for param in command.params:
        if isinstance(param, typer.core.TyperOption):
            missing += [opt for opt in (*param.opts, *param.secondary_opts) if opt != "--help"]
        elif isinstance(param, typer.core.TyperArgument) and param.name is not None:
            missing.append((param.metavar or param.name).upper())
        else:
            raise AssertionError(f"modelup {name}: unknown parameter kind {param!r}")
    return [token for token in missing if not named(token, section)]


@pytest.mark.parametrize("name", sorted(cli_commands()))
def test_every_option_is_in_its_cli_doc_section(name: str) -> None:
    missing = undocumented(name, cli_commands()[name], cli_sections().get(name, ""))
    assert not missing, f"docs/cli.md, section 'modelup {name}', does not name {missing}"
    assert named("--help", CLI_DOC.read_text(encoding="utf-8"))


# Command groups (``modelup release ...``): each subcommand has a row in the README's table and a
# ``### modelup GROUP NAME`` section in docs/cli.md naming each of its options and arguments.


def cli_subcommands() -> dict[str, Any]:
    return {
        f"{name} {sub}": subcommand
        for name, command in cli_commands().items()
        if isinstance(command, typer.core.TyperGroup)
        for sub, subcommand in command.commands.items()
    }


def cli_subsections() -> dict[str, str]:
    text = CLI_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### modelup ([a-z][a-z0-9-]* [a-z][a-z0-9-]*)[ \t]*$", text, flags=re.M)
    return {
        name: section.split("\n## ", 1)[0]
        for name, section in zip(parts[1::2], parts[2::2], strict=True)
    }


def test_every_subcommand_is_in_the_readme_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in cli_subcommands() if f"`modelup {name}" not in section]
    assert not missing, f"add these commands to README.md's commands table: {missing}"


def test_every_subcommand_has_a_section_in_cli_doc() -> None:
    commands, sections = set(cli_subcommands()), set(cli_subsections())
    assert commands - sections == set(), "add a '### modelup GROUP NAME' section to docs/cli.md"
    assert sections - commands == set(), "docs/cli.md documents commands the CLI does not have"


@pytest.mark.parametrize("name", sorted(cli_subcommands()))
def test_every_subcommand_option_is_in_its_cli_doc_section(name: str) -> None:
    # Options every command of the group takes may be named once, before its first subsection.
    shared = cli_sections().get(name.split()[0], "").split("\n### ", 1)[0]
    section = shared + cli_subsections().get(name, "")
    missing = undocumented(name, cli_subcommands()[name], section)
    assert not missing, f"docs/cli.md, section 'modelup {name}', does not name {missing}"


# -- Configuration examples ---------------------------------------------------------------------


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}[ \t]*\n(.*?)^```[ \t]*$", text, re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", CONFIG_PAGES)
def test_configuration_examples_are_valid(page: str, tmp_path: Path) -> None:
    blocks = fenced((ROOT / page).read_text(encoding="utf-8"), "toml")
    assert blocks, f"{page} has no toml block"
    for number, block in enumerate(blocks, 1):
        path = tmp_path / f"example-{number}.toml"
        path.write_text(block, encoding="utf-8")
        load_settings(path)  # raises ConfigError naming the key on any mistake


# -- docs/github-actions.md ---------------------------------------------------------------------

GIT_INSTALL = "git+https://github.com/OWNER/modelup@main"
# What each action used by the workflow needs from the token, and the input naming the files it
# reads (checked when the step would run). An action not listed here fails the test: add it.
ACTIONS: dict[str, tuple[dict[str, str], str | None]] = {
    "actions/checkout": ({"contents": "read"}, None),
    "actions/setup-python": ({}, None),
    "actions/cache": ({}, None),
    "actions/upload-artifact": ({}, "path"),
    "marocchino/sticky-pull-request-comment": ({"pull-requests": "write"}, "path"),
    "mikepenz/action-junit-report": ({"checks": "write"}, "report_paths"),
}
JUNIT_ACTION = "mikepenz/action-junit-report"
SUFFIXES = ("json", "html", "md", "xml")  # the reports --report-file reports/gate.json writes
_LEVEL = {"none": 0, "read": 1, "write": 2}


def actions_doc() -> str:
    return ACTIONS_DOC.read_text(encoding="utf-8")


def workflow_text() -> str:
    blocks = fenced(actions_doc(), "yaml")
    assert len(blocks) == 1, "docs/github-actions.md must hold the workflow in one yaml block"
    return blocks[0]


def the_job(workflow: dict[Any, Any]) -> dict[str, Any]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict) and len(jobs) == 1
    job: dict[str, Any] = next(iter(jobs.values()))
    return job


def action_name(step: dict[str, Any]) -> str:
    return str(step["uses"]).split("@", 1)[0]


def test_github_actions_workflow_parses() -> None:
    workflow = yaml.safe_load(workflow_text())
    assert isinstance(workflow, dict)
    # YAML 1.1 reads the key `on` as True.
    assert "on" in workflow or True in workflow
    job = the_job(workflow)
    assert job["runs-on"] and job["steps"]
    for step in job["steps"]:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert "@" in step["uses"], f"pin a version: {step['uses']}"


def test_github_actions_permissions_cover_its_actions() -> None:
    workflow = yaml.safe_load(workflow_text())
    job = the_job(workflow)
    granted = job.get("permissions", workflow.get("permissions"))
    assert isinstance(granted, dict), "set permissions: explicitly (least privilege)"
    used = [action_name(step) for step in job["steps"] if "uses" in step]
    assert JUNIT_ACTION in used, "the JUnit results are published by a test-reporter action"
    for action in used:
        assert action in ACTIONS, f"{action}: unknown to this test; add what it needs to ACTIONS"
        for scope, level in ACTIONS[action][0].items():
            have = _LEVEL[granted.get(scope, "none")]
            assert have >= _LEVEL[level], f"{action} needs permissions: {scope}: {level}"


def test_github_actions_install_is_from_the_repository() -> None:
    text = workflow_text()
    assert re.search(r"pip install (\S+ )*[\"']?modelup[\"']?\s*$", text, re.MULTILINE) is None
    assert text.count(GIT_INSTALL) == 1
    assert "pip install -e ." in actions_doc()  # the variant for modelup's own repository


@dataclass
class StepRun:
    step: dict[str, Any]
    returncode: int
    output: str


@dataclass
class Job:
    """One job on a machine without GitHub: ``run:`` steps run in bash as the runner would run
    them, ``${{ }}`` expressions and ``if:`` conditions are evaluated for the few forms the
    workflow uses (any other form fails the test), and ``uses:`` steps are checked, not run."""

    workspace: Path
    env: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False
    ran: list[StepRun] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    def expression(self, expr: str) -> str:
        expr = expr.strip()
        if match := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
            return self.outputs.get(match[1], {}).get(match[2], "")
        if re.fullmatch(r"secrets\.\w+|github\.token", expr):
            return ""
        known = {"github.run_id": "1", "github.event.pull_request.number": "1"}
        assert expr in known, f"the test cannot evaluate ${{{{ {expr} }}}}: teach it"
        return known[expr]

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: self.expression(m[1]), text)

    def condition(self, condition: str | None) -> bool:
        text = (condition or "success()").strip()
        text = text.removeprefix("${{").removesuffix("}}").strip()
        result = True
        for term in (part.strip() for part in text.split("&&")):
            if term == "always()":
                continue
            if term == "success()":
                result = result and not self.failed
            elif term == "failure()":
                result = result and self.failed
            elif match := re.fullmatch(r"hashFiles\('([^']+)'\)\s*!=\s*''", term):
                result = result and any(self.workspace.glob(match[1]))
            else:
                raise AssertionError(f"the test cannot evaluate `if: {condition}`: teach it")
        return result

    def run(self, workflow: dict[str, Any]) -> None:
        spec = the_job(workflow)
        for scope in (workflow.get("env") or {}, spec.get("env") or {}):
            self.env.update({key: self.expand(str(value)) for key, value in scope.items()})
        for step in spec["steps"]:
            if not self.condition(step.get("if")):
                self.not_run.append(str(step.get("name") or step.get("uses") or step["run"]))
            elif "uses" in step:
                self.check_inputs(step)
                self.checked.append(action_name(step))
            else:
                result = self.run_step(step)
                self.ran.append(result)
                self.failed = self.failed or result.returncode != 0

    def run_step(self, step: dict[str, Any]) -> StepRun:
        env = {**self.env, **{k: self.expand(str(v)) for k, v in (step.get("env") or {}).items()}}
        script = self.expand(str(step["run"]))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = Path(env["GITHUB_OUTPUT"])
        if "id" in step:
            self.outputs[str(step["id"])] = read_outputs(outputs)
        outputs.unlink(missing_ok=True)
        return StepRun(step, done.returncode, done.stdout + done.stderr)

    def check_inputs(self, step: dict[str, Any]) -> None:
        """The files an action reads exist at the point it would run."""
        action = action_name(step)
        assert action in ACTIONS, f"{action}: unknown to this test; add it to ACTIONS"
        reads = ACTIONS[action][1]
        if reads is None:
            return
        pattern = str((step.get("with") or {}).get(reads, "")).rstrip("/")
        assert pattern, f"{action}: no `{reads}` input"
        matches = list(self.workspace.glob(pattern))
        assert matches, f"{action} would find nothing at {pattern}"
        if action == JUNIT_ACTION:
            for path in matches:
                root = ElementTree.parse(path).getroot()
                assert root.tag in {"testsuites", "testsuite"}, path
                assert any(root.iter("testcase")), f"{path}: no test cases"

    def log(self) -> str:
        return "\n".join(
            f"--- {run.step.get('name', run.step['run'])} (exit {run.returncode})\n{run.output}"
            for run in self.ran
        )


def read_outputs(path: Path) -> dict[str, str]:
    outputs = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else ():
        assert "<<" not in line, "multi-line step outputs: teach the test"
        key, _, value = line.partition("=")
        outputs[key] = value
    return outputs


def copy_repository(target: Path) -> Path:
    ignored = shutil.ignore_patterns(
        ".git", ".venv*", "reports", ".modelup", "__pycache__", "*_cache", "*.egg-info", "dist",
        "build", ".run", "models.env",
    )  # fmt: skip
    shutil.copytree(ROOT, target, ignore=ignored)
    return target


def environment_with_dependencies(target: Path) -> Path:
    """A fresh environment in which ``pip install "modelup @ ..."`` works offline and fast: a
    venv without modelup that sees the running interpreter's packages (pip and modelup's
    dependencies) through a .pth file naming a directory of links, modelup's own left out.
    Returns its bin directory, with a ``pip`` as setup-python provides one."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    shared = target / "shared-site-packages"
    shared.mkdir()
    for key in ("purelib", "platlib"):
        for entry in Path(sysconfig.get_paths()[key]).iterdir():
            name = entry.name.lower()
            if "modelup" in name or name.endswith(".pth") or (shared / entry.name).exists():
                continue
            (shared / entry.name).symlink_to(entry)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "shared-dependencies.pth").write_text(f"{shared}\n", encoding="utf-8")
    pip = target / "bin" / "pip"
    pip.write_text('#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n', encoding="utf-8")
    pip.chmod(0o755)
    return target / "bin"


def step_environment(workspace: Path, bin_dir: Path, runner: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in _SHELL_ENVIRONMENT.items()
        if not name.upper().startswith("MODELUP_")
        and name not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}",
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_OUTPUT=str(runner / "output"),
        GITHUB_STEP_SUMMARY=str(runner / "summary.md"),
        RUNNER_TEMP=str(runner),
    )
    return env


def localise(text: str, checkout: Path) -> str:
    """The two documented substitutions, each of which must match exactly once."""
    substitutions: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (re.escape(GIT_INSTALL), lambda _: checkout.as_uri()),
        (r"--live(?![\w-])", lambda _: "--mock"),
    ]
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"expected one {pattern!r} in the workflow, found {count}"
    return text


def test_github_actions_workflow_runs_locally(tmp_path: Path) -> None:
    workspace = copy_repository(tmp_path / "checkout")
    bin_dir = environment_with_dependencies(tmp_path / "env")
    runner = tmp_path / "runner"
    runner.mkdir()
    job = Job(workspace, step_environment(workspace, bin_dir, runner))
    workflow = yaml.safe_load(localise(workflow_text(), workspace))
    job.run(workflow)

    log = job.log()
    steps = the_job(workflow)["steps"]
    assert not job.not_run, f"steps whose condition was false: {job.not_run}\n{log}"
    assert job.checked == [action_name(step) for step in steps if "uses" in step]
    install = next(run for run in job.ran if "pip install" in run.step["run"])
    assert install.returncode == 0, log
    assert (bin_dir / "modelup").is_file(), f"the install step did not install modelup\n{log}"
    gate = next(run for run in job.ran if run.step.get("id") == "gate")
    assert gate.returncode == 0, f"the gate step records the exit code, never fails\n{log}"
    code = job.outputs["gate"]["exit_code"]
    assert code == "4", f"the bundled example is a Rollback\n{log}"
    assert f"`exit_code={code}`" in actions_doc(), "the page says which exit code to expect"
    last = job.ran[-1]
    assert last.returncode == 1 and "The gate says Rollback" in last.output, log
    assert job.failed
    reports = workspace / "reports"
    assert {path.name for path in reports.iterdir()} >= {f"gate.{s}" for s in SUFFIXES}
    summary = (runner / "summary.md").read_text(encoding="utf-8")
    assert summary == (reports / "gate.md").read_text(encoding="utf-8")
    # The cache step saves the history store at the end of the job: the run must have written it.
    cached = [s["with"]["path"] for s in steps if "uses" in s and action_name(s) == "actions/cache"]
    assert cached and all((workspace / path).is_file() for path in cached), cached
