"""Scheduled functions: the outbox relay and the reconciling sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import Reconcile, RelayOutbox
from filestore.domain.handlers import ReconcileReport
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.observability import count, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime

# Stop relaying while this much of the invocation's time is left (a batch must fit in it).
RELAY_RESERVE_MS = 10_000
# Start no new page of the sweep while this much is left: a page (500 uploads, each a HEAD to
# S3 and a short transaction) must fit in it, and the stale connections are cleared after.
SWEEP_RESERVE_MS = 60_000


def _time_left_ms(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float(remaining()) if callable(remaining) else float("inf")


async def handle_relay(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None, batch_size: int = 100
) -> dict[str, int]:
    """Publish what the outbox holds, batch after batch, until empty or time is nearly up."""
    bus = bus or runtime.bus()
    published = 0
    while True:
        relayed: int = await bus.handle(RelayOutbox(batch_size))
        published += relayed
        if relayed < batch_size or _time_left_ms(context) < RELAY_RESERVE_MS:
            break
    count("EventsRelayed", published)
    # Quiet when idle: a run that found nothing is a debug line (the schedule runs every
    # minute on AWS, every 30 s locally), one that did something is news.
    (logger.info if published else logger.debug)("relayed %d events", published)
    return {"published": published}


async def handle_sweep(
    event: dict[str, Any],
    context: Any,
    *,
    bus: MessageBus | None = None,
    grace: timedelta | None = None,
    batch_size: int = Reconcile.batch_size,
    until_done: bool = False,
) -> dict[str, int]:
    """Run the reconciling sweep once (`grace`: see `Reconcile`; the schedule keeps the default).

    It pages through every pending upload, but starts no new page once only
    `SWEEP_RESERVE_MS` of the invocation is left; the next run starts again from the oldest.
    `until_done` lifts that limit, for a caller with no time limit (the local server's sweep
    on start, which must see everything before it serves).
    """
    time_budget = None
    left_ms = _time_left_ms(context)
    if not until_done and left_ms != float("inf"):
        time_budget = timedelta(milliseconds=max(0.0, left_ms - SWEEP_RESERVE_MS))
    report: ReconcileReport = await (bus or runtime.bus()).handle(
        Reconcile(grace=grace, batch_size=batch_size, time_budget=time_budget)
    )
    result = {
        "completed": report.completed,
        "failed": report.failed,
        "expired": report.expired,
        "connections_removed": report.connections_removed,
        "stopped_early": int(report.stopped_early),
        "purged": report.purged,
    }
    if report.stopped_early:
        logger.warning("sweep stopped before the newest pending uploads: time is nearly up")
    (logger.info if any(result.values()) else logger.debug)("sweep done", extra=result)
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def relay_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """The Lambda handler (`filestore.entrypoints.schedules.relay_handler`)."""
    return runtime.run(handle_relay(event, context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def sweep_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """The Lambda handler (`filestore.entrypoints.schedules.sweep_handler`)."""
    return runtime.run(handle_sweep(event, context))
