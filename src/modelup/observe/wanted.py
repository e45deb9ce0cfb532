"""Whether a process traces at all, told from the settings and the environment alone: apart from
the recorder and the exporter, so that a run that traces nothing never imports them."""

from __future__ import annotations

import os

from modelup.config.settings import Settings

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
"""OpenTelemetry's standard variables naming where spans go, most specific first."""


def otel_destination(settings: Settings) -> str | None:
    """Where spans go: ``[otel] endpoint``, else the standard environment variables; ``None``
    when neither is set (nothing is exported)."""
    if settings.otel.endpoint:
        return settings.otel.endpoint
    for name in ENDPOINT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def tracing_wanted(settings: Settings) -> bool:
    """Whether calls are traced: to the project store (``[traces] enabled``) or to a collector."""
    return settings.traces.enabled or otel_destination(settings) is not None
