"""Releases: a model change as a release record, gated on evidence, signed by its owner,
promoted to a pinned identity and rolled back to the last-known-good one.

``Releases`` is the library behind ``modelup release``; the record is ``release.toml``
(``load_record``), the states are ``State``, and what a gate recorded is ``Evidence``.

Names are imported on first use (PEP 562), so importing one module of the package does not
import all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelup import _lazy

if TYPE_CHECKING:
    from modelup.release.evidence import Evidence, IdentityRecord
    from modelup.release.export import export, render_markdown
    from modelup.release.ledger import Approval, Release
    from modelup.release.record import ReleaseRecord, load_record
    from modelup.release.service import Gated, Releases
    from modelup.release.states import ALLOWED, Action, State, allowed_actions

_EXPORTS = {
    "ALLOWED": ("modelup.release.states", "ALLOWED"),
    "Action": ("modelup.release.states", "Action"),
    "Approval": ("modelup.release.ledger", "Approval"),
    "Evidence": ("modelup.release.evidence", "Evidence"),
    "Gated": ("modelup.release.service", "Gated"),
    "IdentityRecord": ("modelup.release.evidence", "IdentityRecord"),
    "Release": ("modelup.release.ledger", "Release"),
    "ReleaseRecord": ("modelup.release.record", "ReleaseRecord"),
    "Releases": ("modelup.release.service", "Releases"),
    "State": ("modelup.release.states", "State"),
    "allowed_actions": ("modelup.release.states", "allowed_actions"),
    "export": ("modelup.release.export", "export"),
    "load_record": ("modelup.release.record", "load_record"),
    "render_markdown": ("modelup.release.export", "render_markdown"),
}


__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)


__all__ = [
    "ALLOWED",
    "Action",
    "Approval",
    "Evidence",
    "Gated",
    "IdentityRecord",
    "Release",
    "ReleaseRecord",
    "Releases",
    "State",
    "allowed_actions",
    "export",
    "load_record",
    "render_markdown",
]
