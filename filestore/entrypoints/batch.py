"""Partial batch responses for SQS consumers, on the environment's kept event loop.

Powertools' `AsyncBatchProcessor` would start a fresh loop outside Lambda (closing pooled
connections with it); this is the same contract in a few lines: each record is handled on its
own, a failure is logged and reported as `{"itemIdentifier": messageId}` so SQS redelivers only
that record, and one bad record never sinks the batch. A record that raises `Ignore` is
acknowledged without being retried.

The records of a batch are handled concurrently, at most `MAX_CONCURRENT_RECORDS` at a time:
each waits on the database (on Aurora, ~100 ms per Data API call), not on the CPU, so ten
records take about as long as one. Each runs as a task of its own, with its own log keys and
its own command clock. Our queues are standard queues, which promise no order to keep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord

from filestore.entrypoints.observability import count, log_keys, logger

# A batch is at most 10 records (template.yaml's BatchSize): all of them at once.
MAX_CONCURRENT_RECORDS = 10


class Ignore(Exception):
    """This record needs nothing done (and never will): acknowledge it."""


async def process_batch(
    event: dict[str, Any],
    handle_record: Callable[[SQSRecord], Awaitable[None]],
    *,
    concurrency: int = MAX_CONCURRENT_RECORDS,
) -> dict[str, list[dict[str, str]]]:
    """Handle the records of an SQS event, `concurrency` at a time; report the ones that
    failed, in the order of the batch."""
    slots = asyncio.Semaphore(concurrency)

    async def handled(record: SQSRecord) -> bool:
        """Whether the record is done with (handled, or acknowledged without action)."""
        async with slots:
            with log_keys(message_id=record.message_id):
                try:
                    await handle_record(record)
                except Ignore as reason:
                    logger.info("record acknowledged without action: %s", reason)
                except Exception:
                    # Retried by SQS; after the queue's maxReceiveCount it lands in the DLQ
                    # (alarmed).
                    logger.exception("record failed; SQS will deliver it again")
                    return False
        return True

    records = list(SQSEvent(event).records)
    outcomes = await asyncio.gather(*(handled(record) for record in records))
    failures = [
        {"itemIdentifier": record.message_id}
        for record, done in zip(records, outcomes, strict=True)
        if not done
    ]
    count("FailedRecords", len(failures))
    return {"batchItemFailures": failures}
