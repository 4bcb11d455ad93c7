"""`filestore serve`'s SQS event source mapping, against moto's SQS in this process (no sockets):
Lambda's partial-batch semantics and the queue's redrive policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from filestore.entrypoints.local.queues import QueuePoller

MAX_RECEIVES = 3


class Queues:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.dlq = self.sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
        dlq_arn = self.arn(self.dlq)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
        # Visible again at once after a failure, so retries need no waiting.
        self.url = self.sqs.create_queue(
            QueueName="work",
            Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]

    def arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def receive(self, url: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=url or self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return messages


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield Queues()


class Recorder:
    """A consumer that fails the records whose body is "bad" (or raises, or lies)."""

    def __init__(self, mode: str = "report") -> None:
        self.mode = mode
        self.seen: list[str] = []
        self.events: list[dict[str, Any]] = []

    async def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.seen.extend(r["body"] for r in event["Records"])
        if self.mode == "raise":
            raise RuntimeError("the function crashed")
        if self.mode == "unknown":
            return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


def poller(queues: Queues, function: Recorder) -> QueuePoller:
    return QueuePoller(
        "work", queues.sqs, queues.url, queues.arn(queues.url), function, region="us-east-1"
    )


async def test_a_failing_record_stays_until_the_dlq_and_the_others_are_deleted(
    queues: Queues,
) -> None:
    function = Recorder()
    work = poller(queues, function)
    queues.send("good-1", "bad", "good-2")

    first = queues.receive()
    assert len(first) == 3
    left = await work.invoke(first)
    assert left == {m["MessageId"] for m in first if m["Body"] == "bad"}
    for _ in range(MAX_RECEIVES - 1):
        again = queues.receive()
        assert [m["Body"] for m in again] == ["bad"]  # the good ones were deleted
        assert await work.invoke(again) == {again[0]["MessageId"]}
    assert queues.receive() == []  # received MAX_RECEIVES times: moved on
    assert [m["Body"] for m in queues.receive(queues.dlq)] == ["bad"]
    assert sorted(function.seen) == ["bad"] * MAX_RECEIVES + ["good-1", "good-2"]


async def test_the_event_is_what_lambda_builds_from_a_batch(queues: Queues) -> None:
    function = Recorder()
    queues.send("one")
    messages = queues.receive()
    await poller(queues, function).invoke(messages)
    [record] = function.events[0]["Records"]
    assert record["messageId"] == messages[0]["MessageId"]
    assert record["receiptHandle"] == messages[0]["ReceiptHandle"]
    assert (record["eventSource"], record["awsRegion"]) == ("aws:sqs", "us-east-1")
    assert record["eventSourceARN"] == queues.arn(queues.url)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


@pytest.mark.parametrize("mode", ["raise", "unknown"])
async def test_a_crash_or_an_unknown_id_leaves_the_whole_batch(queues: Queues, mode: str) -> None:
    queues.send("good-1", "good-2")
    batch = queues.receive()
    assert await poller(queues, Recorder(mode)).invoke(batch) == {m["MessageId"] for m in batch}
    assert sorted(m["Body"] for m in queues.receive()) == ["good-1", "good-2"]


async def test_run_delivers_until_stopped(queues: Queues) -> None:
    stop = asyncio.Event()
    delivered = asyncio.Event()

    class Stopping(Recorder):
        async def __call__(self, event: dict[str, Any], context: Any) -> Any:
            result = await super().__call__(event, context)
            delivered.set()
            stop.set()
            return result

    function = Stopping()
    queues.send("hello")
    work = QueuePoller(
        "work", queues.sqs, queues.url, queues.arn(queues.url), function,
        region="us-east-1", wait_seconds=0,
    )  # fmt: skip
    await asyncio.wait_for(work.run(stop), timeout=30)
    assert delivered.is_set()
    assert function.seen == ["hello"]
    assert queues.receive() == []
