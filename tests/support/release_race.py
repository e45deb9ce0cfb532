"""Workers for the release race tests, each run in its own process (multiprocessing, spawn):
two people acting on one store at once, as a team on one PostgreSQL does."""

from __future__ import annotations

from typing import Any

from modelup.errors import ReleaseError
from modelup.release import Releases
from modelup.store.releases import Change, Locked, open_releases

TIMEOUT_S = 30.0


def approve_and_promote(
    url: str, release_id: str, in_transaction: bool, barrier: Any, results: Any
) -> None:
    """Approve then promote ``release_id``; report ``won`` or ``lost`` with the error.

    ``in_transaction``: meet the other process inside the approval's transaction, after its
    checks passed on the locked rows and before it writes, so both have decided before either
    commits (PostgreSQL; SQLite's write lock would make the other wait before its checks).
    Otherwise meet just before starting."""
    store = open_releases(url)
    assert store is not None
    releases = Releases(store)
    if in_transaction:
        transition = store.transition
        met: list[bool] = []

        def meeting(target: str, decide: Any) -> Any:
            def decide_then_meet(locked: Locked) -> Change:
                change = decide(locked)
                if not met:
                    met.append(True)
                    barrier.wait(timeout=TIMEOUT_S)
                return change

            return transition(target, decide_then_meet)

        store.transition = meeting  # type: ignore[method-assign]
    else:
        barrier.wait(timeout=TIMEOUT_S)
    try:
        releases.approve(release_id, actor="alice")
        releases.promote(release_id, actor=f"bot-{release_id}")
        results.put((release_id, "won", ""))
    except ReleaseError as error:
        results.put((release_id, "lost", str(error)))
    finally:
        store.close()


def promote(url: str, release_id: str, worker: int, barrier: Any, results: Any) -> None:
    """Promote ``release_id`` (already approved) at the same moment as another process."""
    store = open_releases(url)
    assert store is not None
    barrier.wait(timeout=TIMEOUT_S)
    try:
        Releases(store).promote(release_id, actor=f"bot-{worker}")
        results.put((worker, "won", ""))
    except ReleaseError as error:
        results.put((worker, "lost", str(error)))
    finally:
        store.close()
