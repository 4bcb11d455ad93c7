"""The Powertools Logger, Tracer and Metrics every entrypoint shares (one of each per process).

Configured by Powertools' own environment variables (`POWERTOOLS_SERVICE_NAME`,
`POWERTOOLS_METRICS_NAMESPACE`, `LOG_LEVEL`, `POWERTOOLS_TRACE_DISABLED`, …), with defaults so
that the handlers also run outside Lambda (tests, the local server). The Tracer is disabled
outside Lambda by Powertools itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "filestore")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "filestore")
)

__all__ = ["SERVICE", "MetricUnit", "lambda_invocation", "log_keys", "logger", "metrics", "tracer"]


def count(name: str, value: int = 1) -> None:
    """Add `value` to the count metric `name` (flushed when the Lambda handler returns)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# Keys that describe one request (a connection, a message) are kept with Powertools'
# `thread_safe_*` keys: a context variable, so they belong to the running asyncio task and its
# children. `append_keys` would put them on the one formatter every function of the process
# shares, where they outlive the request: on Lambda the next invocation would log them, and in
# `filestore serve`, where many functions run at once on one loop, every other function too.


@contextmanager
def log_keys(**keys: Any) -> Iterator[None]:
    """Add `keys` to every log line of the current task until the block ends, then restore
    exactly the keys it had (even ones of the same name)."""
    saved = logger.thread_safe_get_current_keys()
    logger.thread_safe_append_keys(**keys)  # sets a new dict: `saved` stays as it was
    try:
        yield
    finally:
        _set_task_keys(saved)


@contextmanager
def lambda_invocation(context: Any) -> Iterator[None]:
    """One invocation's logging state, for a caller that awaits an async core directly (the
    local server) and so never runs `@logger.inject_lambda_context`: what that decorator does
    with `clear_state=True`, the context's keys and nothing left from another invocation, but
    for the current task only, so concurrent invocations on one loop keep their own."""
    saved = logger.thread_safe_get_current_keys()
    _set_task_keys(build_lambda_context_model(context).__dict__)
    try:
        yield
    finally:
        _set_task_keys(saved)


def _set_task_keys(keys: dict[str, Any]) -> None:
    # Clearing sets a fresh empty dict and appending a fresh merged one: neither changes a dict
    # another task (or a `saved` copy) still holds.
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(**keys)
