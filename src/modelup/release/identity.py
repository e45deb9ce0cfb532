"""Who answered: each model's resolved identities in the evaluation, checked against
``alias_resolution``, and the single identity a promotion pins.

Endpoints report the model that answered (``model``) and often a ``system_fingerprint``. Both
are untrusted text: they are compared and recorded, never interpreted. A requested id the
record does not list must resolve to exactly itself; a declared identity may be a shell-style
pattern. Without a declared fingerprint, a model that reports more than one during the run
changed identity mid-run: that is undeclared drift too.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

from modelup.release.evidence import IdentityEvidence, IdentityRecord
from modelup.release.record import ExpectedAlias
from modelup.report.schema import ModelRecord


def check_identity(
    role: Literal["previous", "candidate"], model: ModelRecord, expected: ExpectedAlias
) -> IdentityEvidence:
    """Whether every identity ``model`` answered as is the one ``expected`` declares."""
    requested = model.requested_model
    reasons = []
    undeclared = [name for name in model.resolved_models if not fnmatchcase(name, expected.model)]
    if undeclared:
        reasons.append(
            f"Identity drift: {requested} answered as {', '.join(undeclared)}, which "
            f"alias_resolution does not declare (expected {expected.model})."
        )
    prints = model.system_fingerprints
    if expected.system_fingerprint is not None:
        pattern = expected.system_fingerprint
        if not prints:
            reasons.append(
                f"Identity drift: {requested} reported no system_fingerprint, and "
                f"alias_resolution expects {pattern}."
            )
        off = [fp for fp in prints if not fnmatchcase(fp, pattern)]
        if off:
            reasons.append(
                f"Identity drift: {requested} answered with system_fingerprint "
                f"{', '.join(off)}, which alias_resolution does not declare (expected {pattern})."
            )
    elif len(prints) > 1:
        reasons.append(
            f"Identity drift: {requested} changed system_fingerprint during the run "
            f"({', '.join(prints)}); declare a fingerprint pattern in alias_resolution to "
            "accept it."
        )
    return IdentityEvidence(
        role=role,
        requested_model=requested,
        resolved_models=list(model.resolved_models),
        system_fingerprints=list(prints),
        expected_model=expected.model,
        expected_fingerprint=expected.system_fingerprint,
        declared=not reasons,
        reasons=reasons,
    )


def single_identity(model: ModelRecord) -> tuple[IdentityRecord | None, str | None]:
    """The one identity ``model`` answered as, or why there is none to pin."""
    resolved = model.resolved_models
    if not resolved:
        return None, (
            f"{model.requested_model}: the endpoint reported no resolved model, so there is no "
            "identity to pin."
        )
    if len(resolved) > 1:
        return None, (
            f"{model.requested_model} answered as {len(resolved)} models during the run "
            f"({', '.join(resolved)}): no single identity to pin."
        )
    identity = IdentityRecord(
        requested_model=model.requested_model,
        model=resolved[0],
        system_fingerprints=list(model.system_fingerprints),
    )
    return identity, None
