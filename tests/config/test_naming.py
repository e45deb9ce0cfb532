"""Key spelling: the C# harness's PascalCase and the seed's camelCase read as snake_case."""

from __future__ import annotations

import pytest

from modelup._naming import to_snake


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("BaselineModelId", "baseline_model_id"),
        ("MaxP95LatencyRegressionPercent", "max_p95_latency_regression_percent"),
        ("UseMockClient", "use_mock_client"),
        ("BaseUrl", "base_url"),
        ("userMessage", "user_message"),
        ("requiredActionKeywords", "required_action_keywords"),
        ("already_snake", "already_snake"),
        ("id", "id"),
    ],
)
def test_to_snake(key: str, expected: str) -> None:
    assert to_snake(key) == expected
