"""Partial batch responses for SQS consumers, on the environment's kept event loop.

Powertools' `AsyncBatchProcessor` would start a fresh loop outside Lambda (closing pooled
connections with it); this is the same contract in a few lines: each record is handled on its
own, a failure is logged and reported as `{"itemIdentifier": messageId}` so SQS redelivers only
that record, and one bad record never sinks the batch. A record that raises `Ignore` is
acknowledged without being retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord

from filestore.entrypoints.observability import count, log_keys, logger


class Ignore(Exception):
    """This record needs nothing done (and never will): acknowledge it."""


async def process_batch(
    event: dict[str, Any], handle_record: Callable[[SQSRecord], Awaitable[None]]
) -> dict[str, list[dict[str, str]]]:
    """Handle each record of an SQS event; report the ones that failed."""
    failures: list[dict[str, str]] = []
    for record in SQSEvent(event).records:
        with log_keys(message_id=record.message_id):
            try:
                await handle_record(record)
            except Ignore as reason:
                logger.info("record acknowledged without action: %s", reason)
            except Exception:
                # Retried by SQS; after the queue's maxReceiveCount it lands in the DLQ (alarmed).
                logger.exception("record failed; SQS will deliver it again")
                failures.append({"itemIdentifier": record.message_id})
    count("FailedRecords", len(failures))
    return {"batchItemFailures": failures}
