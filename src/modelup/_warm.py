"""Importing in the background: modules a command will need, loaded on a thread while it does
something else (reads its configuration, waits for answers). Imports are mostly Python code and
take the GIL, so only what waits outside it overlaps: reading files, and the TLS certificates
aiohttp loads at import (about 55 ms on the project's 2-core machine)."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Sequence


def import_in_background(
    modules: Sequence[str], *, then: Callable[[], object] | None = None
) -> threading.Thread:
    """Import ``modules`` (then call ``then``) on a daemon thread. An import that fails there is
    simply done again, and raises, where it is needed."""

    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        if then is not None:
            with contextlib.suppress(Exception):
                then()

    thread = threading.Thread(target=load, name="modelup-warm-up", daemon=True)
    thread.start()
    return thread
