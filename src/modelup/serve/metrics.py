"""The shell's Prometheus metrics (``GET /metrics``), by workflow and arm: requests by status,
errors by kind, contract validation outcomes, policy overrides by field, identity drift, who
answered (the model, a reask, a fallback, the safe default) and request latency. One registry
per app, so two apps in one process (tests, embedding) never share counts. Label values are the
shell's own words and the workflows' declared ids and fields, never request or model text."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from modelup.serve.shell import Outcome

UNKNOWN_WORKFLOW = "unknown"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "modelup_serve_requests",
            "Requests, by workflow, arm (none: refused before routing) and HTTP status.",
            ["workflow", "arm", "status"],
            registry=r,
        )
        self.errors = Counter(
            "modelup_serve_errors",
            "Requests without an answer, by kind: invalid_request, not_found, unavailable, "
            "upstream, timeout, identity_drift, contract.",
            ["workflow", "arm", "kind"],
            registry=r,
        )
        self.validation = Counter(
            "modelup_serve_validation",
            "The model's first answer against the contract: strict, repaired, invalid, error.",
            ["workflow", "arm", "outcome"],
            registry=r,
        )
        self.overrides = Counter(
            "modelup_serve_overrides",
            "Fields the shell decided against the model answer (policy-owned fields, next steps).",
            ["workflow", "arm", "field"],
            registry=r,
        )
        self.drift = Counter(
            "modelup_serve_identity_drift",
            "Answers from another identity than the pinned one.",
            ["workflow", "arm"],
            registry=r,
        )
        self.answered_by = Counter(
            "modelup_serve_answered_by",
            "Who answered: model, reask, fallback, safe_default.",
            ["workflow", "arm", "answered_by"],
            registry=r,
        )
        self.latency = Histogram(
            "modelup_serve_request_duration_seconds",
            "Time from the request's arrival to its response, by workflow and arm.",
            ["workflow", "arm"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        # ``labels()`` checks and locks on every call; a served request needs six of them, so
        # each labelled child is looked up once (label values are a small, bounded set).
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def served(self, workflow_id: str, outcome: Outcome, seconds: float) -> None:
        arm = outcome.arm
        self._child(self.requests, workflow_id, arm, str(outcome.status)).inc()
        self._child(self.validation, workflow_id, arm, outcome.validation).inc()
        if outcome.error is not None:
            self._child(self.errors, workflow_id, arm, outcome.error).inc()
        else:
            self._child(self.answered_by, workflow_id, arm, outcome.answered_by).inc()
        for override in outcome.overrides:
            self._child(self.overrides, workflow_id, arm, override.field).inc()
        if outcome.drift:
            self._child(self.drift, workflow_id, arm).inc()
        self._child(self.latency, workflow_id, arm).observe(seconds)

    def refused(self, workflow_id: str, status: int, kind: str) -> None:
        self.requests.labels(workflow_id, "none", str(status)).inc()
        self.errors.labels(workflow_id, "none", kind).inc()

    def shadow_dropped(self, workflow_id: str) -> None:
        self._child(self.errors, workflow_id, "shadow", "shadow_dropped").inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)
