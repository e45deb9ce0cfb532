"""Releases: a model change as a release record, gated on evidence, signed by its owner,
promoted to a pinned identity and rolled back to the last-known-good one.

``Releases`` is the library behind ``modelup release``; the record is ``release.toml``
(``load_record``), the states are ``State``, and what a gate recorded is ``Evidence``.
"""

from modelup.release.evidence import Evidence, IdentityRecord
from modelup.release.export import export, render_markdown
from modelup.release.ledger import Approval, Release
from modelup.release.record import ReleaseRecord, load_record
from modelup.release.service import Gated, Releases
from modelup.release.states import ALLOWED, Action, State, allowed_actions

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
