from __future__ import annotations

from typing import Any

import pytest

from modelup._lazy import lazy_exports


def test_a_name_is_imported_on_first_use_then_kept() -> None:
    namespace: dict[str, Any] = {"__name__": "pkg", "__all__": ["dumps", "Path"]}
    getattr_, dir_ = lazy_exports(namespace, {"dumps": "json", "Path": ("pathlib", "PurePath")})
    assert "dumps" not in namespace
    import json
    import pathlib

    assert getattr_("dumps") is json.dumps
    assert namespace["dumps"] is json.dumps
    assert getattr_("Path") is pathlib.PurePath
    assert dir_() == sorted({"__name__", "__all__", "dumps", "Path"})


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    getattr_, _ = lazy_exports({"__name__": "pkg"}, {})
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'nope'"):
        getattr_("nope")
