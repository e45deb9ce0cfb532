#!/usr/bin/env bash
# Set up a virtual environment from the project's own files, then lint, type-check and test.
# Usage: ./scripts/test.sh [pytest arguments]
# The tests run beside a throwaway PostgreSQL server (scripts/postgres.sh) when PostgreSQL's
# binaries are installed, so the store's tests run on both engines; without them those tests
# skip, or fail under REQUIRE_POSTGRES=1 (CI). TEST_POSTGRES_URL names a server of your own.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports --no-cache > /dev/null || .venv/bin/lint-imports --no-cache
./scripts/postgres.sh .venv/bin/python -m pytest "$@"
