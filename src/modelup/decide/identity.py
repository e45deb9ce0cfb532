"""Who actually answered: the identities an endpoint reported, and whether they are the ones the
run asked for.

An endpoint says which model answered (``model`` in its response) and often which build
(``system_fingerprint``). When an alias moves (``m-x`` now answers as ``m-x-2026-05-18``) or the
build changes midway, the evidence is about another model than the one requested, or about
several. Two figures say so, and the gate's default identity rules hold on them:

- ``identity_drift``: calls whose resolved model is not the one expected: the requested id, or
  what ``[models."id"] expect_resolved`` declares (an exact name or a glob pattern such as
  ``m-x-2026-*``). A call whose endpoint reported no model is not drift: nothing was claimed.
- ``identity_changes``: distinct identities (resolved model and fingerprint) seen, minus one;
  0 when none was reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Protocol

from modelup.untrusted import clean_line


class AnsweredLike(Protocol):
    """What identity is read from: an ``evaluate`` ``CaseResult`` or a report's case record."""

    @property
    def resolved_model(self) -> str | None: ...
    @property
    def system_fingerprint(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ExpectedIdentity:
    """The model a target expects to be answered by."""

    requested: str
    expect_resolved: str | None = None
    """An exact model name or a glob pattern (``*``, ``?``, ``[...]``); unset: the requested id."""

    def expects(self, resolved: str) -> bool:
        if self.expect_resolved is None:
            return resolved == self.requested
        return resolved == self.expect_resolved or fnmatchcase(resolved, self.expect_resolved)

    @property
    def described(self) -> str:
        if self.expect_resolved is None:
            return f"{self.requested!r}"
        return f"{self.expect_resolved!r} (expect_resolved of {self.requested!r})"


@dataclass(frozen=True, slots=True)
class Identity:
    """One identity an endpoint reported, and how many calls it answered."""

    model: str | None
    system_fingerprint: str | None
    calls: int

    @property
    def described(self) -> str:
        name = repr(clean_line(self.model, 200)) if self.model is not None else "an unnamed model"
        if self.system_fingerprint is not None:
            name += f" with fingerprint {clean_line(self.system_fingerprint, 200)!r}"
        return f"{name} ({self.calls} call{'s' if self.calls != 1 else ''})"


def identities(results: Iterable[AnsweredLike]) -> tuple[Identity, ...]:
    """Every distinct (resolved model, fingerprint) reported, in order first seen, with counts;
    calls that reported neither (errored calls among them) are left out."""
    counts = Counter((result.resolved_model, result.system_fingerprint) for result in results)
    return tuple(
        Identity(model, print_, calls)
        for (model, print_), calls in counts.items()
        if (model, print_) != (None, None)
    )


def identity_figures(
    seen: Iterable[Identity], expected: ExpectedIdentity | None
) -> dict[str, float | None]:
    """``identity_drift`` and ``identity_changes`` of the identities ``seen``; the drift is
    missing (``None``) when nothing says what was expected."""
    seen = tuple(seen)
    drift = (
        None
        if expected is None
        else sum(
            identity.calls
            for identity in seen
            if identity.model is not None and not expected.expects(identity.model)
        )
    )
    return {"identity_drift": drift, "identity_changes": max(0, len(seen) - 1)}


def describe(seen: Iterable[Identity]) -> str:
    """Every identity seen, for a reason: ``'m-x-2026-05-18' (36 calls), 'm-x' (2 calls)``."""
    shown = [identity.described for identity in seen]
    return ", ".join(shown) if shown else "none reported"
