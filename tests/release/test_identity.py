"""Who answered: resolved models and fingerprints against ``alias_resolution``, and the single
identity a promotion pins."""

from __future__ import annotations

from modelup.release.identity import check_identity, single_identity
from modelup.release.record import ExpectedAlias
from modelup.report.schema import ModelRecord


def answered(resolved: list[str], fingerprints: list[str] | None = None) -> ModelRecord:
    return ModelRecord(
        role="candidate",
        requested_model="gpt-4o",
        endpoint="http://127.0.0.1:1/v1",
        resolved_models=resolved,
        alias_resolved=resolved != ["gpt-4o"],
        system_fingerprints=fingerprints or [],
        summary={},
        families={},
        subsets={},
        cases=[],
    )


def test_an_unlisted_model_must_resolve_to_itself() -> None:
    assert check_identity("candidate", answered(["gpt-4o"]), ExpectedAlias(model="gpt-4o")).declared
    drift = check_identity(
        "candidate", answered(["gpt-4o-2024-11-20"]), ExpectedAlias(model="gpt-4o")
    )
    assert not drift.declared
    assert drift.reasons == [
        "Identity drift: gpt-4o answered as gpt-4o-2024-11-20, which alias_resolution does not "
        "declare (expected gpt-4o)."
    ]


def test_a_pattern_declares_a_family_of_identities() -> None:
    alias = ExpectedAlias(model="gpt-4o-2024-*")
    assert check_identity("candidate", answered(["gpt-4o-2024-08-06"]), alias).declared
    assert not check_identity("candidate", answered(["gpt-4o-2025-01-01"]), alias).declared


def test_fingerprints() -> None:
    alias = ExpectedAlias(model="gpt-4o*", system_fingerprint="fp_a*")
    assert check_identity("candidate", answered(["gpt-4o"], ["fp_a1", "fp_a2"]), alias).declared
    off = check_identity("candidate", answered(["gpt-4o"], ["fp_a1", "fp_b"]), alias)
    assert not off.declared and "system_fingerprint fp_b" in off.reasons[0]
    none = check_identity("candidate", answered(["gpt-4o"]), alias)
    assert not none.declared and "reported no system_fingerprint" in none.reasons[0]
    # without a declared fingerprint, changing fingerprint mid-run is drift
    plain = ExpectedAlias(model="gpt-4o")
    assert check_identity("candidate", answered(["gpt-4o"], ["fp_1"]), plain).declared
    changed = check_identity("candidate", answered(["gpt-4o"], ["fp_1", "fp_2"]), plain)
    assert (
        not changed.declared and "changed system_fingerprint during the run" in changed.reasons[0]
    )


def test_the_single_identity_to_pin() -> None:
    pinned, why = single_identity(answered(["gpt-4o-2024-08-06"], ["fp_1"]))
    assert why is None and pinned is not None
    assert (pinned.requested_model, pinned.model, pinned.system_fingerprints) == (
        "gpt-4o",
        "gpt-4o-2024-08-06",
        ["fp_1"],
    )
    assert pinned.describe() == "gpt-4o-2024-08-06 (fp_1)"
    pinned, why = single_identity(answered(["a", "b"]))
    assert pinned is None and why is not None and "answered as 2 models" in why
    pinned, why = single_identity(answered([]))
    assert pinned is None and why is not None and "reported no resolved model" in why
