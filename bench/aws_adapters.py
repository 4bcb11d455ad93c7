"""Benchmark of the AWS adapters: presigning speed, and the outbox relay's publish throughput.

    .venv/bin/python bench/aws_adapters.py [--events 1000]

Presigning needs no network. The relay runs against LocalStack: the one named by
FILESTORE_TEST_AWS_ENDPOINT_URL, else one started with scripts/localstack on a free port (and
stopped at the end). It publishes to a topic with one SQS subscriber, as a deployment does, with
PublishBatch (10 events a call) and with one Publish per event. Prints numbers and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import botocore
from host import describe  # bench/ is the script's directory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from filestore.adapters import aws  # noqa: E402
from filestore.adapters.memory import MemoryUnitOfWorkFactory  # noqa: E402
from filestore.adapters.s3 import S3BlobStore  # noqa: E402
from filestore.adapters.sns import SnsEventPublisher  # noqa: E402
from filestore.adapters.system import RandomIds, SystemClock  # noqa: E402
from filestore.domain import commands, events, handlers  # noqa: E402
from filestore.domain.handlers import Services  # noqa: E402

REGION = "us-east-1"


def machine() -> str:
    return f"{describe()}; boto3 {boto3.__version__}, botocore {botocore.__version__}"


def bench_presign(seconds: float = 3.0) -> float:
    """Presigned POSTs per second (SigV4 policy signing, no network)."""
    client = boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=botocore.config.Config(signature_version="s3v4"),
    )
    store = S3BlobStore(client, "bench-bucket")
    sha = "ab" * 32
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            store.presign_post(
                f"u/bench/{count}", size=1234, content_type="application/pdf", sha256=sha,
                expires_in=timedelta(minutes=15),
            )  # fmt: skip
            count += 1
    return count / elapsed


@contextmanager
def localstack() -> Iterator[str]:
    url = os.environ.get("FILESTORE_TEST_AWS_ENDPOINT_URL")
    if url:
        yield url
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "FILESTORE_LOCALSTACK_PORT": str(port)}
    script = str(ROOT / "scripts" / "localstack")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        raise SystemExit(f"could not start LocalStack:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True)


async def relay_throughput(endpoint: str, count: int, batch_size: int) -> float:
    """Events per second through relay_outbox → SnsEventPublisher → SNS (one SQS subscriber)."""
    sns = aws.client("sns", region=REGION, endpoint_url=endpoint)
    sqs = aws.client("sqs", region=REGION, endpoint_url=endpoint)
    name = f"bench-{os.urandom(4).hex()}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
    uow_factory = MemoryUnitOfWorkFactory()
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        await uow.outbox.add(
            [
                events.ShareRevoked(occurred_at=now, user_id="u", upload_id=str(i))
                for i in range(count)
            ]
        )
        await uow.commit()
    services = Services(
        uow_factory=uow_factory, blobs=None, clock=SystemClock(), ids=RandomIds(),  # type: ignore[arg-type]
        publisher=SnsEventPublisher(sns, topic, batch_size=batch_size),
    )  # fmt: skip
    published, start = 0, time.perf_counter()
    while relayed := await handlers.relay_outbox(commands.RelayOutbox(batch_size=100), services):
        published += relayed
    elapsed = time.perf_counter() - start
    assert published == count
    sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    print(f"machine: {machine()}")
    print(f"presigned POST generations: {bench_presign():,.0f} /s (no network)")
    with localstack() as endpoint:
        print(f"LocalStack: {endpoint}")
        asyncio.run(relay_throughput(endpoint, 50, 10))  # warm up clients and LocalStack
        for label, batch in (("PublishBatch (10 per call)", 10), ("one Publish per event", 1)):
            rate = asyncio.run(relay_throughput(endpoint, args.events, batch))
            print(f"outbox relay, {args.events} events, {label}: {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
