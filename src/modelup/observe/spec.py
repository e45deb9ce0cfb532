"""A dataset reference that names recorded traces instead of a file: ``traces:FILTERS``.

Apart from the queries, so that planning a run from a file does not import the trace records.
"""

from __future__ import annotations

TRACES_PREFIX = "traces:"


def is_traces_spec(reference: object) -> bool:
    """Whether a dataset reference names recorded traces (``traces:...``), not a file."""
    return str(reference).startswith(TRACES_PREFIX)
