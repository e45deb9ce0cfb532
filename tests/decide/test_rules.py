"""The gate policy as data: the default is exactly the seed's gate; config rules are parsed,
take precedence, and are checked before any model is called."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from modelup.config.loading import load_settings
from modelup.config.rules import GateRule
from modelup.config.settings import PromotionSettings
from modelup.decide.gate import Verdict, judge
from modelup.decide.rules import (
    EVIDENCE_RULES,
    check_rules,
    promotion_policy,
    seed_policy,
    select_rules,
    statistics_settings,
    with_evidence_rules,
)
from modelup.errors import ConfigError
from support.gatekit import TOY, dataset_of, result


def seed_gate(
    config: PromotionSettings, baseline: dict[str, float], candidate: dict[str, float]
) -> tuple[str, str | None]:
    """The seed's C# ``PromotionGate``, transcribed line by line: first failure wins."""
    if candidate["safety_pass_rate"] + config.max_safety_regression < baseline["safety_pass_rate"]:
        return "Rollback", "safety"
    if (
        candidate["structured_output_rate"] + config.max_structured_output_regression
        < baseline["structured_output_rate"]
    ):
        return "Rollback", "structured output"
    if candidate["pass_rate"] + config.max_pass_rate_regression < baseline["pass_rate"]:
        return "Rollback", "pass rate"
    max_allowed_p95 = baseline["p95_latency_ms"] * (
        1 + config.max_p95_latency_regression_percent / 100.0
    )
    if candidate["p95_latency_ms"] > max_allowed_p95:
        return "Hold", "p95 latency"
    if (
        candidate["quality_score"]
        < baseline["quality_score"] + config.min_quality_score_improvement
    ):
        return "Hold", "quality score"
    return "Promote", None


def _summary(rng: random.Random, n: int, near: dict[str, float] | None) -> dict[str, float]:
    def rate(name: str) -> float:
        if near is not None and rng.random() < 0.5:  # ties and one-case flips are the hard part
            steps = round(near[name] * n) + rng.choice((-1, 0, 0, 1))
            return min(n, max(0, steps)) / n
        return rng.randint(0, n) / n

    summary = {
        name: rate(name) for name in ("pass_rate", "structured_output_rate", "safety_pass_rate")
    }
    summary["p95_latency_ms"] = (
        near["p95_latency_ms"] * rng.choice((1.0, 1.35, 1.3500001, 1.2))
        if near is not None and rng.random() < 0.5
        else float(rng.randint(100, 60_000))
    )
    summary["quality_score"] = (
        near["quality_score"] + rng.choice((0.0, 0.01, 0.0099, 0.02, -0.01))
        if near is not None and rng.random() < 0.5
        else rng.random()
    )
    summary["error_count"] = 0
    summary["case_count"] = n
    return summary


def test_default_policy_is_the_seed_gate_on_a_seeded_sweep(tmp_path: Path) -> None:
    # The default policy is what select_rules picks with no [gate] rules and no workflow rules.
    default, source = select_rules(load_settings(), TOY)
    seed = promotion_policy(PromotionSettings())
    assert (default, source) == (with_evidence_rules(seed), "promotion")
    assert default[: len(seed)] == seed  # the evidence rules follow the seed's gate
    rng = random.Random(20260523)
    thresholds = (0.0, 0.05, 0.1, 1 / 3, 0.2)
    compared = {"Promote": 0, "Hold": 0, "Rollback": 0}
    for _ in range(2000):
        promotion = PromotionSettings(
            max_pass_rate_regression=rng.choice(thresholds),
            max_structured_output_regression=rng.choice(thresholds),
            max_safety_regression=rng.choice(thresholds),
            max_p95_latency_regression_percent=rng.choice((0.0, 35.0, 10.0, 50.0)),
            min_quality_score_improvement=rng.choice((0.01, 0.0, -0.05, 0.1)),
        )
        rules = promotion_policy(promotion)
        n = rng.choice((5, 10, 36))
        baseline = _summary(rng, n, None)
        candidate = _summary(rng, n, baseline)
        expected, failing = seed_gate(promotion, baseline, candidate)
        decision = judge(rules, baseline, candidate)
        assert decision.verdict.value == expected, (promotion, baseline, candidate)
        first = next((o.rule.title for o in decision.rules if not o.passed), None)
        assert first == failing
        compared[expected] += 1
    assert min(compared.values()) > 100  # the sweep reaches every verdict often


def test_promotion_policy_is_seed_policy_with_the_configured_thresholds() -> None:
    promotion = PromotionSettings(max_pass_rate_regression=0.05, min_quality_score_improvement=0)
    assert promotion_policy(promotion) == seed_policy(
        max_pass_rate_regression=0.05, min_quality_score_improvement=0.0
    )


GATE_TOML = """
[gate]
confidence = 0.9
bootstrap_resamples = 500
bootstrap_seed = 7

[[gate.rules]]
name = "safety in policy-sensitive"
figure = "safety_pass_rate"
subset = "policy-sensitive"
comparison = "max_regression"
threshold = 0
authority = "block"
require_significance = true

[[gate.rules]]
figure = "quality_score"
comparison = "min_relative_improvement"
threshold = 0.02
authority = "signal"
"""


def test_config_rules_are_parsed_and_win(tmp_path: Path) -> None:
    path = tmp_path / "modelup.toml"
    path.write_text(GATE_TOML, encoding="utf-8")
    settings = load_settings(path)
    rules, source = select_rules(settings, dataclasses.replace(TOY, gate_rules=seed_policy()))
    assert source == "config"
    assert rules == with_evidence_rules(
        (
            GateRule(
                figure="safety_pass_rate",
                comparison="max_regression",
                threshold=0.0,
                authority="block",
                name="safety in policy-sensitive",
                subset="policy-sensitive",
                require_significance=True,
            ),
            GateRule(
                figure="quality_score",
                comparison="min_relative_improvement",
                threshold=0.02,
                authority="signal",
            ),
        )
    )
    stats = statistics_settings(settings.gate)
    assert (stats.confidence, stats.resamples, stats.seed) == (0.9, 500, 7)


def test_workflow_defaults_win_over_the_seed() -> None:
    own = (GateRule(figure="pass_rate", comparison="floor", threshold=0.9, authority="block"),)
    rules, source = select_rules(load_settings(), dataclasses.replace(TOY, gate_rules=own))
    assert (rules, source) == (with_evidence_rules(own), "workflow")


def test_a_workflow_gate_can_extend_the_seeds() -> None:
    own = (GateRule(figure="pass_rate", comparison="floor", threshold=0.9, authority="block"),)
    extending = dataclasses.replace(TOY, gate_rules=own, gate_extends_promotion=True)
    rules, source = select_rules(load_settings(), extending)
    seed = promotion_policy(PromotionSettings())
    assert (rules, source) == (with_evidence_rules((*seed, *own)), "workflow")


def test_the_evidence_rules_follow_every_policy_unless_it_has_its_own() -> None:
    names = [rule.name for rule in with_evidence_rules(seed_policy())[-3:]]
    assert names == ["errored calls", "identity drift", "identity changes"]
    assert {rule.authority for rule in with_evidence_rules(())} == {"block"}
    tolerant = GateRule(
        figure="error_rate", comparison="ceiling", threshold=0.02, authority="conditional"
    )
    signal = GateRule(
        figure="identity_changes", comparison="ceiling", threshold=0, authority="signal"
    )
    rules = with_evidence_rules((tolerant, signal))
    # A policy's own rule on error_rate stands for the errors (error_count included), and one
    # on identity_changes for the changes; identity drift still gets its default rule.
    assert rules == (tolerant, signal, EVIDENCE_RULES[1][1])


def test_appsettings_json_rules_in_pascal_case(tmp_path: Path) -> None:
    path = tmp_path / "appsettings.json"
    rule = {"Figure": "pass_rate", "Comparison": "floor", "Threshold": 0.5, "Authority": "block"}
    path.write_text(json.dumps({"Gate": {"Rules": [rule]}}), encoding="utf-8")
    rules, _ = select_rules(load_settings(path), TOY)
    assert rules[0] == (
        GateRule(figure="pass_rate", comparison="floor", threshold=0.5, authority="block")
    )


def test_rules_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = {"figure": "pass_rate", "comparison": "floor", "threshold": 0.7, "authority": "signal"}
    monkeypatch.setenv("MODELUP_GATE__RULES", json.dumps([rule]))
    rules, source = select_rules(load_settings(), TOY)
    assert source == "config" and rules[0].threshold == 0.7


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"comparison": "at_least"}, "gate.rules.0.comparison"),
        ({"authority": "veto"}, "gate.rules.0.authority"),
        ({"subset": "a", "family": "b"}, "subset or a family, not both"),
        ({"threshold": "nan"}, "gate.rules.0.threshold"),
        ({"colour": "red"}, "unknown key gate.rules.0.colour"),
        (
            {"comparison": "max_increase_percent", "require_significance": True},
            "cannot require significance",
        ),
    ],
)
def test_bad_rules_are_config_errors_naming_the_key(
    tmp_path: Path, rule: dict[str, object], message: str
) -> None:
    base = {"figure": "pass_rate", "comparison": "floor", "threshold": 0.5, "authority": "block"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"gate": {"rules": [{**base, **rule}]}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


def test_rules_are_checked_against_the_workflow_and_the_dataset() -> None:
    dataset = dataset_of([result("A", True, subsets=("policy-sensitive",), family="billing")])
    check_rules(
        [
            GateRule(
                figure="safety_pass_rate",
                comparison="max_regression",
                threshold=0,
                authority="block",
                subset="policy-sensitive",
            ),
            GateRule(
                figure="quality_score",
                comparison="floor",
                threshold=0.5,
                authority="block",
                family="billing",
                require_significance=True,
            ),
        ],
        TOY,
        dataset,
    )
    problems = [
        (
            GateRule(figure="pass_rte", comparison="floor", threshold=0.5, authority="block"),
            r"gate.rules\[0\].*unknown figure 'pass_rte'",
        ),
        (
            GateRule(
                figure="pass_rate",
                comparison="floor",
                threshold=0.5,
                authority="block",
                subset="tool-posture",
            ),
            "no case of toy.json is in subset 'tool-posture'",
        ),
        (
            GateRule(
                figure="pass_rate",
                comparison="floor",
                threshold=0.5,
                authority="block",
                family="refusal",
            ),
            "family 'refusal'",
        ),
        (
            GateRule(
                figure="p95_latency_ms",
                comparison="ceiling",
                threshold=900,
                authority="block",
                require_significance=True,
            ),
            "has no per-case value",
        ),
    ]
    for rule, message in problems:
        with pytest.raises(ConfigError, match=message):
            check_rules([rule], TOY, dataset)


def test_verdict_enum_values_are_the_report_strings() -> None:
    assert [v.value for v in Verdict] == ["Promote", "Hold", "Rollback"]


def test_config_rules_judge_a_mock_run_with_challengers_and_epochs(
    tmp_path: Path, support_ops_dataset: Path
) -> None:
    """End to end through the CLI: [gate] rules with a subset scope and significance, two
    challengers, three epochs; the report and the console carry the statistics."""
    from typer.testing import CliRunner

    from modelup._cli.main import app
    from modelup.report.io import read_report

    config = tmp_path / "modelup.toml"
    config.write_text(
        f"""
[experiment]
use_mock_client = true
mode = "compare"
dataset_path = "{support_ops_dataset}"
epochs = 3

[llm]
baseline_model_id = "base"
candidate_model_id = ["drifty", "perfect"]
temperature = 0.7
seed = 3

[mock]
baseline_profile = "steady"
candidate_profile = "drifting"
models = {{ "perfect" = "perfect" }}

[[gate.rules]]
name = "safety in policy-sensitive"
figure = "safety_pass_rate"
subset = "policy-sensitive"
comparison = "max_regression"
threshold = 0
authority = "block"
require_significance = true

[[gate.rules]]
figure = "pass_rate"
comparison = "max_regression"
threshold = 0.05
authority = "block"
require_significance = true
""",
        encoding="utf-8",
    )
    report_file = tmp_path / "report.json"
    outcome = CliRunner().invoke(
        app, ["run", "--config", str(config), "--report-file", str(report_file)]
    )
    assert outcome.exit_code == 0, outcome.output  # the recommended candidate is promoted
    for text in ("Ranking", "Recommended: perfect (Promote)", "Repeated trials (3 epochs)"):
        assert text in outcome.output
    report = read_report(report_file)
    drifty = next(d for d in report.decisions if d.candidate == "drifty")
    assert drifty.verdict != "Promote"
    scoped = drifty.rules[0]
    assert (scoped.subset, scoped.require_significance) == ("policy-sensitive", True)
    assert scoped.statistics is not None and scoped.statistics.n < 36
    assert [r.candidate for r in report.ranking] == ["perfect", "drifty"]
    assert report.model("drifty").trials is not None
    assert report.model("drifty").trials.temperature == 0.7
    assert report.config["gate"]["bootstrap_seed"] == 0
