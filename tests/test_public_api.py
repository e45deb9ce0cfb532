"""The public API: ``__all__`` lists exactly what users may import, and it all imports."""

from __future__ import annotations

import modelup


def test_all_is_sorted_and_unique() -> None:
    assert list(modelup.__all__) == sorted(set(modelup.__all__))


def test_everything_in_all_exists() -> None:
    missing = [name for name in modelup.__all__ if not hasattr(modelup, name)]
    assert missing == []


def test_public_names_are_in_all() -> None:
    import typing

    # What ``import modelup`` binds itself (the error tree) and what it imports on first use.
    eager = {
        name
        for name, value in vars(modelup).items()
        if not name.startswith("_")
        and not isinstance(value, type(modelup))
        and name not in ("TYPE_CHECKING", "Any", "annotations", "import_module")
        and value is not typing.Any
    }
    assert eager | set(modelup._EXPORTS) == set(modelup.__all__)
    assert set(dir(modelup)) >= set(modelup.__all__)


def test_importing_modelup_imports_no_stage() -> None:
    import subprocess
    import sys

    code = (
        "import sys, modelup; print(sorted(m for m in sys.modules "
        "if m.startswith('modelup.') and m not in ('modelup.errors', 'modelup._lazy')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_errors_share_one_root() -> None:
    for name in (
        "ConfigError",
        "DatasetError",
        "WorkflowError",
        "ClientError",
        "ReportError",
        "StoreError",
        "ModelNotFoundError",
        "ReleaseError",
        "ServeError",
    ):
        assert issubclass(getattr(modelup, name), modelup.ModelupError)
    assert issubclass(modelup.ConfigError, ValueError)


def test_the_release_package_lists_what_it_exports() -> None:
    import modelup.release

    assert list(modelup.release.__all__) == sorted(set(modelup.release.__all__))
    assert all(hasattr(modelup.release, name) for name in modelup.release.__all__)
    assert issubclass(modelup.ReleaseError, ValueError)


def test_the_serve_package_lists_what_it_exports() -> None:
    import modelup.serve

    assert list(modelup.serve.__all__) == sorted(set(modelup.serve.__all__))
    assert all(hasattr(modelup.serve, name) for name in modelup.serve.__all__)
