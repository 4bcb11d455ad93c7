"""The AWS adapters in the contract suites: harnesses that play the other side for real.

- S3: the client's side over real HTTP (httpx) against LocalStack, which checks signatures,
  policies and expiry;
- SNS: an SQS queue subscribed to a fresh topic, read back;
- SES: LocalStack's record of sent mail (`GET /_aws/ses`);
- API Gateway management API: the local stub, which records posts and answers 410 for
  connections that are not open.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from filestore.adapters.s3 import S3BlobStore
from filestore.adapters.ses import SesEmailSender
from filestore.adapters.sns import SnsEventPublisher
from filestore.adapters.websocket import ApiGatewayRealtimeNotifier
from filestore.domain.checksums import to_base64
from filestore.domain.ports import EmailMessage, PresignedPost
from tests.contracts.harness import Refused
from tests.support.aws import REGION, Queue, ses_messages

# The longest a harness waits for URLs to expire; contract tests use 1-second expiries.
_MAX_EXPIRY_WAIT = timedelta(seconds=30)


class _RecordingS3BlobStore(S3BlobStore):
    """The real adapter, remembering the latest expiry it signed, so a test can wait it out."""

    latest_expiry: datetime | None = None

    def _saw(self, expires_in: timedelta) -> None:
        expiry = datetime.now(UTC) + expires_in
        if self.latest_expiry is None or expiry > self.latest_expiry:
            self.latest_expiry = expiry

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        self._saw(expires_in)
        return super().presign_post(
            key, size=size, content_type=content_type, sha256=sha256, expires_in=expires_in
        )

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        self._saw(expires_in)
        return super().presign_part(key, multipart_id, part_number, size, expires_in, sha256)

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        self._saw(expires_in)
        return super().presign_get(key, filename=filename, expires_in=expires_in)


def _refuse_4xx(answer: httpx.Response) -> httpx.Response:
    if answer.status_code >= 400:
        raise Refused(f"{answer.status_code}: {answer.text[:300]}")
    return answer


def put_listening_early(
    url: str, data: bytes, timeout: float = 60, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """PUT `data`, reading the answer as soon as it comes, even before the body is all sent.

    A store that refuses a request (a wrong signed Content-Length) may answer at once and stop
    reading; a client that insists on writing the rest then blocks forever. Browsers and curl
    watch for that early answer, and so does this.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock: socket.socket = socket.create_connection((parts.hostname, port), timeout=timeout)
    if parts.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (
        f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(data)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        + "Connection: close\r\n\r\n"
    )
    with sock:
        sock.sendall(head.encode())
        view, sent = memoryview(data), 0
        while sent < len(data):
            readable, writable, _ = select.select([sock], [sock], [], timeout)
            if readable:
                break  # answered early: stop sending, read the answer
            if not writable:
                raise TimeoutError("the store neither read the body nor answered")
            sent += sock.send(view[sent : sent + 65536])
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()


class S3BlobHarness:
    """The client of S3's presigned URLs, over HTTP, as a browser or `curl` would be."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.s3 = client
        self.bucket = bucket
        self.store = _RecordingS3BlobStore(client, bucket)
        self.http = httpx.Client(timeout=60)

    def post(
        self, post: PresignedPost, data: bytes, fields: Mapping[str, str] | None = None
    ) -> None:
        sent = dict(post.fields if fields is None else fields)
        # The file goes last: S3 ignores form fields after it.
        _refuse_4xx(self.http.post(post.url, data=sent, files={"file": ("upload", data)}))

    def put_part(self, url: str, data: bytes, sha256: str | None = None) -> str:
        sent = {} if sha256 is None else {"x-amz-checksum-sha256": to_base64(sha256)}
        status, headers, body = put_listening_early(url, data, headers=sent)
        if status >= 400:
            raise Refused(f"{status}: {body[:300]!r}")
        return headers["etag"]

    def get(self, url: str) -> tuple[bytes, Mapping[str, str]]:
        answer = _refuse_4xx(self.http.get(url))
        return answer.content, {k.lower(): v for k, v in answer.headers.items()}

    def put_object(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def expire_all(self) -> None:
        """Wait until every URL signed so far has expired (S3 has no clock to move)."""
        latest = self.store.latest_expiry
        if latest is None:
            return
        wait = (latest - datetime.now(UTC)).total_seconds() + 1.1  # + SigV4's whole seconds
        if wait > _MAX_EXPIRY_WAIT.total_seconds():
            raise AssertionError(f"would have to wait {wait:.0f} s for URLs to expire")
        if wait > 0:
            time.sleep(wait)


class SnsPublisherHarness:
    """A fresh topic with one SQS subscriber (not raw: the SNS notification is unwrapped)."""

    def __init__(self, sns: Any, topic_arn: str, queue: Queue) -> None:
        queue.allow("sns.amazonaws.com", topic_arn)
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue.arn)
        self.queue = queue
        self.publisher = SnsEventPublisher(sns, topic_arn)

    async def received(self, expected: int) -> Sequence[dict[str, Any]]:
        # With nothing expected, listen a moment to see that nothing arrives.
        records = self.queue.receive(expected, quiet=1.0 if expected == 0 else 0.0)
        return [json.loads(json.loads(r["body"])["Message"]) for r in records]


class SesEmailHarness:
    """Reads what LocalStack's SES accepted, ignoring mail sent before this harness existed."""

    def __init__(self, ses: Any, endpoint: str, sender: str) -> None:
        self.endpoint = endpoint
        self.sender = SesEmailSender(ses, sender)
        self._before = {m["Id"] for m in ses_messages(endpoint)}

    async def sent_to(self, address: str) -> Sequence[EmailMessage]:
        return [
            EmailMessage(
                to=address,
                subject=m["Subject"],
                text=m["Body"].get("text_part") or "",
                html=m["Body"].get("html_part") or "",
            )
            for m in ses_messages(self.endpoint)
            if m["Id"] not in self._before and address in m["Destination"]["ToAddresses"]
        ]


class ApiGatewayRealtimeHarness:
    """Connections live in the management-API stub; the adapter talks to it over HTTP."""

    def __init__(self, client: Any, stub: Any) -> None:
        self.stub = stub
        self.notifier = ApiGatewayRealtimeNotifier(client)

    async def open_connection(self) -> str:
        # API Gateway's ids look like this: base64-ish, with "=" at the end.
        connection_id = os.urandom(6).hex() + "Q="
        self.stub.open_connection(connection_id)
        return connection_id

    async def close_connection(self, connection_id: str) -> None:
        self.stub.close_connection(connection_id)

    async def received(self, connection_id: str) -> Sequence[dict[str, Any]]:
        return list(self.stub.received.get(connection_id, []))


@pytest.fixture
def blobs_s3(aws_client: Callable[[str], Any], s3_bucket: str) -> S3BlobHarness:
    return S3BlobHarness(aws_client("s3"), s3_bucket)


@pytest.fixture
def publisher_sns(
    aws_client: Callable[[str], Any], sns_topic: str, make_queue: Callable[[], Queue]
) -> SnsPublisherHarness:
    return SnsPublisherHarness(aws_client("sns"), sns_topic, make_queue())


@pytest.fixture
def email_ses(
    aws_client: Callable[[str], Any], aws_endpoint: str, ses_sender: str
) -> SesEmailHarness:
    return SesEmailHarness(aws_client("ses"), aws_endpoint, ses_sender)


@pytest.fixture
def realtime_apigateway(management_api: Any) -> ApiGatewayRealtimeHarness:
    from filestore.adapters import aws

    client = aws.client("apigatewaymanagementapi", region=REGION, endpoint_url=management_api.url)
    return ApiGatewayRealtimeHarness(client, management_api)
