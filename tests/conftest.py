"""Shared fixtures: a hermetic environment and the bundled example's paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.store_engines import postgres_url, store_url  # noqa: F401 (fixtures for every test module)

ROOT = Path(__file__).resolve().parent.parent
SUPPORT_OPS = ROOT / "examples" / "support-ops"


_PROXY_VARIABLES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No MODELUP_, OTEL_ or proxy variable from the developer's shell leaks into a test, and
    every test runs from an empty directory so that no ./modelup.toml is picked up by accident."""
    import os

    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(("MODELUP_", "OTEL_")) or upper in _PROXY_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def support_ops_dataset() -> Path:
    return SUPPORT_OPS / "dataset.json"


@pytest.fixture
def support_ops_config() -> Path:
    return SUPPORT_OPS / "modelup.toml"
