"""AWS services for tests: LocalStack (S3, SQS, SNS, SES), moto (WebSocket management API).

Where LocalStack comes from, in order:
1. `FILESTORE_TEST_AWS_ENDPOINT_URL`, if set (e.g. one you keep running: `scripts/localstack
   start`, then `export FILESTORE_TEST_AWS_ENDPOINT_URL=http://127.0.0.1:4566`);
2. a LocalStack container (testcontainers), when a Docker daemon answers;
3. `scripts/localstack` on a free port: installed once into the cache (a minute or two the
   first time), started for this test session (about 3 s) and stopped at its end.

An instance that merely happens to listen on 4566 is not picked up: it may be another version or
run with other settings (signature checks off), and tests would then pass or fail for the wrong
reason. Name it in the environment to use it.

With `FILESTORE_REQUIRE_SERVICES=1` (CI) a service that cannot be found or started fails the
run; otherwise its tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.required import unavailable

REGION = "us-east-1"
LOCALSTACK_VERSION = os.environ.get("FILESTORE_LOCALSTACK_VERSION", "2026.3.0")
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "localstack"
# LocalStack's test account: it checks signatures against this secret.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def localstack_healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=3) as answer:
            services = json.load(answer).get("services", {})
    except OSError:
        return False
    return all(services.get(s) in ("running", "available") for s in ("s3", "sqs", "sns", "ses"))


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.2) -> Any:
    """Poll until `condition()` is truthy; its value, or the last one after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def _docker_answers() -> bool:
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The URL of a LocalStack with S3, SQS, SNS and SES, and test credentials in the env."""
    patch = pytest.MonkeyPatch()
    for name, value in CREDENTIALS.items():
        patch.setenv(name, value)
    patch.setenv("AWS_DEFAULT_REGION", REGION)
    try:
        url = os.environ.get("FILESTORE_TEST_AWS_ENDPOINT_URL")
        if url:
            if not localstack_healthy(url):
                unavailable(f"FILESTORE_TEST_AWS_ENDPOINT_URL={url} does not answer as LocalStack")
            yield url.rstrip("/")
        elif _docker_answers():
            yield from _localstack_container()
        else:
            yield from _localstack_script()
    finally:
        patch.undo()


def _localstack_container() -> Iterator[str]:
    from testcontainers.localstack import LocalStackContainer

    image = os.environ.get(
        "FILESTORE_LOCALSTACK_IMAGE", f"localstack/localstack:{LOCALSTACK_VERSION}"
    )
    container = (
        LocalStackContainer(image=image, region_name=REGION)
        .with_services("s3", "sqs", "sns", "ses")
        .with_env("S3_SKIP_SIGNATURE_VALIDATION", "0")
        .with_env("EAGER_SERVICE_LOADING", "1")
        .with_env("SQS_ENDPOINT_STRATEGY", "path")
    )
    try:
        container.start()
    except Exception as error:
        unavailable(f"could not start a LocalStack container: {error}")
    try:
        yield container.get_url()
    finally:
        container.stop()


def _localstack_script() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "FILESTORE_LOCALSTACK_PORT": str(port)}
    started = subprocess.run(
        [str(SCRIPT), "start"], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        unavailable(f"scripts/localstack start failed:\n{started.stderr[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, check=False)


@pytest.fixture(scope="session")
def aws_client(aws_endpoint: str) -> Callable[[str], Any]:
    """`aws_client("s3")`: the process's shared client for a service at the emulator."""
    from filestore.adapters import aws

    def make(service: str) -> Any:
        return aws.client(service, region=REGION, endpoint_url=aws_endpoint)

    return make


@pytest.fixture(scope="session")
def s3_bucket(aws_client: Callable[[str], Any]) -> str:
    """A bucket for this test session, versioned as template.yaml's uploads bucket is."""
    name = f"filestore-test-{os.urandom(4).hex()}"
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


class Queue:
    """An SQS queue made for one test, with a way to read back what arrived."""

    def __init__(self, sqs: Any, name: str) -> None:
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def allow(self, principal_service: str, source_arn: str) -> None:
        """Let an AWS service (S3, SNS) send here, as on AWS (LocalStack does not insist)."""
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": principal_service},
                    "Action": "sqs:SendMessage",
                    "Resource": self.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
                }
            ],
        }
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})

    def receive(
        self, expected: int, timeout: float = 10.0, quiet: float = 0.0
    ) -> list[dict[str, Any]]:
        """SQS records (deleted once read) until `expected` arrived or `timeout` passed.

        Then keeps listening for `quiet` seconds more, so a test can see that nothing else came.
        """
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            records.extend(self._poll(wait=1))
        if quiet:
            end = time.monotonic() + quiet
            while time.monotonic() < end:
                records.extend(self._poll(wait=1))
        return records

    def _poll(self, wait: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        # The shape a Lambda SQS event record has, for the parsers.
        return [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]


@pytest.fixture
def make_queue(aws_client: Callable[[str], Any]) -> Iterator[Callable[[], Queue]]:
    """Makes fresh queues for one test and deletes them after it."""
    made: list[Queue] = []

    def make() -> Queue:
        queue = Queue(aws_client("sqs"), f"filestore-test-{os.urandom(6).hex()}")
        made.append(queue)
        return queue

    yield make
    for queue in made:
        queue.sqs.delete_queue(QueueUrl=queue.url)


@pytest.fixture
def sns_topic(aws_client: Callable[[str], Any]) -> Iterator[str]:
    """A fresh SNS topic for one test."""
    sns = aws_client("sns")
    arn = str(sns.create_topic(Name=f"filestore-test-{os.urandom(6).hex()}")["TopicArn"])
    yield arn
    sns.delete_topic(TopicArn=arn)


def ses_messages(endpoint: str) -> list[dict[str, Any]]:
    """Every e-mail LocalStack's SES has accepted (its `GET /_aws/ses` endpoint)."""
    with urllib.request.urlopen(f"{endpoint}/_aws/ses", timeout=5) as answer:
        return list(json.load(answer)["messages"])


@pytest.fixture(scope="session")
def ses_sender(aws_client: Callable[[str], Any]) -> str:
    """A verified sender address (SES refuses mail from unverified identities)."""
    sender = "filestore@example.com"
    aws_client("ses").verify_email_identity(EmailAddress=sender)
    return sender


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in this process, for the API Gateway management API LocalStack's free edition lacks."""
    from moto.server import ThreadedMotoServer

    patch = pytest.MonkeyPatch()
    for name, value in CREDENTIALS.items():
        patch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        patch.undo()


@pytest.fixture(scope="session")
def management_api() -> Iterator[Any]:
    """The local management-API stub (see `tests.support.apigateway_stub`)."""
    from tests.support.apigateway_stub import management_api_stub

    patch = pytest.MonkeyPatch()
    for name, value in CREDENTIALS.items():
        patch.setenv(name, value)
    with management_api_stub() as stub:
        yield stub
    patch.undo()
