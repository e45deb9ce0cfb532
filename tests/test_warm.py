"""Background imports: the modules are loaded on a thread, a failing one is left for later, and
the follow-up runs after them."""

from __future__ import annotations

import sys
import threading

import pytest

from modelup._warm import import_in_background


def test_modules_are_imported_on_a_thread_and_then_the_follow_up_runs() -> None:
    sys.modules.pop("colorsys", None)
    seen: list[bool] = []
    thread = import_in_background(
        ("colorsys", "modelup_no_such_module"), then=lambda: seen.append("colorsys" in sys.modules)
    )
    thread.join(30)
    assert not thread.is_alive() and thread.daemon and thread.name == "modelup-warm-up"
    assert seen == [True]
    assert "modelup_no_such_module" not in sys.modules


def test_a_failing_follow_up_never_escapes_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    escaped: list[object] = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)

    def broken() -> None:
        raise RuntimeError("no")

    thread = import_in_background(("modelup_no_such_module",), then=broken)
    thread.join(30)
    assert not thread.is_alive() and escaped == []
