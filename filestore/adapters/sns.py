"""Domain events out to an SNS topic, as the envelope of DESIGN.md with a `type` attribute."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any

from filestore.domain.events import Event

# SNS limits: ten entries per PublishBatch, 256 KiB per message and per batch.
MAX_BATCH_ENTRIES = 10
MAX_PAYLOAD_BYTES = 256 * 1024


class EventsNotPublished(RuntimeError):
    """SNS refused some events; the outbox keeps them for the next relay."""

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        detail = ", ".join(f"{event_id} ({reason})" for event_id, reason in failures[:5])
        super().__init__(f"{len(failures)} event(s) not published: {detail}")
        self.event_ids = [event_id for event_id, _ in failures]


def _message(event: Event) -> dict[str, Any]:
    body = json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False)
    return {
        "Message": body,
        "MessageAttributes": {"type": {"DataType": "String", "StringValue": event.type}},
    }


class SnsEventPublisher:
    """`EventPublisher` on one SNS topic.

    Events go out in order, up to ten per `PublishBatch` call (`batch_size=1`: one `Publish`
    each). On a FIFO topic (`….fifo`) each user's events form one message group and the event id
    deduplicates. The first batch with an entry SNS did not accept makes `publish` raise and
    stops it: the caller marks nothing published, so the outbox resends them all, and consumers,
    idempotent by event id, ignore the repeats.
    """

    def __init__(self, client: Any, topic_arn: str, *, batch_size: int = MAX_BATCH_ENTRIES) -> None:
        if not 1 <= batch_size <= MAX_BATCH_ENTRIES:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_ENTRIES}")
        self._sns = client
        self.topic_arn = topic_arn
        self._batch_size = batch_size
        self._fifo = topic_arn.endswith(".fifo")

    async def publish(self, events: Sequence[Event]) -> None:
        if events:
            await asyncio.to_thread(self._publish, events)

    def _entry(self, event: Event) -> dict[str, Any]:
        entry = _message(event)
        if self._fifo:
            entry["MessageGroupId"] = event.user_id
            entry["MessageDeduplicationId"] = event.id
        return entry

    def _batches(self, events: Sequence[Event]) -> Iterator[list[Event]]:
        batch: list[Event] = []
        size = 0
        for event in events:
            length = len(_message(event)["Message"].encode())
            full = len(batch) == self._batch_size or size + length > MAX_PAYLOAD_BYTES
            if batch and full:
                yield batch
                batch, size = [], 0
            batch.append(event)
            size += length
        if batch:
            yield batch

    def _publish(self, events: Sequence[Event]) -> None:
        for batch in self._batches(events):
            if len(batch) == 1:
                self._sns.publish(TopicArn=self.topic_arn, **self._entry(batch[0]))
                continue
            entries = [{"Id": str(i), **self._entry(e)} for i, e in enumerate(batch)]
            answer = self._sns.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            )
            failures = [
                (batch[int(f["Id"])].id, f"{f.get('Code')}: {f.get('Message', '')}")
                for f in answer.get("Failed", [])
            ]
            # An entry in neither list was not confirmed: keep it in the outbox too.
            answered = {s["Id"] for s in answer.get("Successful", [])}
            answered |= {f["Id"] for f in answer.get("Failed", [])}
            failures += [
                (event.id, "no answer for this entry")
                for i, event in enumerate(batch)
                if str(i) not in answered
            ]
            if failures:
                raise EventsNotPublished(failures)
