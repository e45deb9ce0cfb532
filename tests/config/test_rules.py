from __future__ import annotations

from modelup.config.rules import GateRule, scope_name


def test_a_scope_is_named_by_its_subset_or_family_else_overall() -> None:
    assert scope_name(None, None) == "overall"
    assert scope_name("policy-sensitive", None) == "subset policy-sensitive"
    assert scope_name(None, "billing") == "family billing"


def test_a_gate_rule_names_its_scope() -> None:
    rule = GateRule(
        figure="pass_rate",
        comparison="max_regression",
        threshold=0.05,
        authority="block",
        family="billing",
    )
    assert rule.scope == "family billing"
