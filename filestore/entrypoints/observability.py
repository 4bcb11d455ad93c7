"""The Powertools Logger, Tracer and Metrics every entrypoint shares (one of each per process).

Configured by Powertools' own environment variables (`POWERTOOLS_SERVICE_NAME`,
`POWERTOOLS_METRICS_NAMESPACE`, `LOG_LEVEL`, `POWERTOOLS_TRACE_DISABLED`, …), with defaults so
that the handlers also run outside Lambda (tests, the local server). The Tracer is disabled
outside Lambda by Powertools itself.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "filestore")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "filestore")
)

__all__ = ["SERVICE", "MetricUnit", "logger", "metrics", "tracer"]


def count(name: str, value: int = 1) -> None:
    """Add `value` to the count metric `name` (flushed when the Lambda handler returns)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
