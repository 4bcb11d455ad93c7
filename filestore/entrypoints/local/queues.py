"""Lambda's SQS event source mapping, locally: poll a queue and hand batches to a handler.

The semantics are Lambda's: up to ten messages per invocation; with `ReportBatchItemFailures`
the messages the handler lists in `batchItemFailures` stay on the queue (visible again after the
visibility timeout) and the rest are deleted; if the handler raises, the whole batch stays. The
queue's redrive policy then moves a message that keeps failing to its dead-letter queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from filestore.entrypoints.local.gateway import LambdaContext, sqs_event

log = logging.getLogger(__name__)

Function = Callable[[dict[str, Any], Any], Awaitable[Any]]


class QueuePoller:
    """Feeds one queue to one function until stopped; the batch in flight always finishes."""

    def __init__(
        self,
        name: str,
        client: Any,
        queue_url: str,
        queue_arn: str,
        function: Function,
        *,
        region: str,
        batch_size: int = 10,
        wait_seconds: int = 1,
        start_after: float = 0.0,
    ) -> None:
        self.name = name
        self._sqs = client
        self._url = queue_url
        self._arn = queue_arn
        self._function = function
        self._region = region
        self._batch_size = batch_size
        self._wait = wait_seconds
        self._start_after = start_after
        self.invocations = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop`, beginning `start_after` seconds from now (the messages wait in
        the queue meanwhile)."""
        await _sleep_unless(stop, self._start_after)
        while not stop.is_set():
            try:
                answer = await asyncio.to_thread(
                    self._sqs.receive_message,
                    QueueUrl=self._url,
                    MaxNumberOfMessages=self._batch_size,
                    WaitTimeSeconds=self._wait,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:
                log.exception("polling queue %s failed; retrying", self.name)
                await _sleep_unless(stop, 1.0)
                continue
            messages = answer.get("Messages", [])
            if messages:
                await self.invoke(messages)

    async def invoke(self, messages: list[dict[str, Any]]) -> set[str]:
        """One invocation; returns the ids of the messages left for retry."""
        event = sqs_event(messages, self._arn, self._region)
        self.invocations += 1
        ids = {m["MessageId"] for m in messages}
        try:
            result = await self._function(event, LambdaContext(function_name=self.name))
        except Exception:
            log.exception(
                "%s failed a batch of %d; every message will be retried", self.name, len(ids)
            )
            return ids
        failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
        failed = {str(f.get("itemIdentifier")) for f in failures}
        if failed - ids:
            # Lambda treats an unknown identifier as a failure of the whole batch.
            log.error("%s reported unknown message ids; the batch will be retried", self.name)
            return ids
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            await asyncio.to_thread(
                self._sqs.delete_message_batch, QueueUrl=self._url, Entries=done
            )
        if failed:
            log.warning("%s: %d message(s) left for retry", self.name, len(failed))
        return failed


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
