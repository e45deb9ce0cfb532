"""Key spelling shared by configuration and datasets: camelCase / PascalCase to snake_case."""

from __future__ import annotations

import re
from functools import lru_cache

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=4096)  # a dataset spells the same few keys on every case
def to_snake(key: str) -> str:
    """``BaselineModelId`` → ``baseline_model_id``; ``MaxP95LatencyRegressionPercent`` →
    ``max_p95_latency_regression_percent``; snake_case passes through unchanged."""
    return _BOUNDARY.sub("_", key).lower()
