"""The AWS adapters end to end against a real LocalStack (and moto / the stub for API Gateway).

Each test drives the domain's use cases over the real adapter and checks what really happened
on the other side: bytes in S3, messages in SQS, mail in SES's outbox, posts on a connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from filestore.adapters.memory import MemoryUnitOfWorkFactory
from filestore.adapters.s3 import S3BlobStore
from filestore.adapters.ses import SesEmailSender
from filestore.adapters.sns import SnsEventPublisher
from filestore.adapters.system import RandomIds, SystemClock
from filestore.adapters.websocket import ApiGatewayRealtimeNotifier
from filestore.domain import commands, events, handlers
from filestore.domain.errors import ServiceUnavailable
from filestore.domain.handlers import Services, StoredOutcome
from filestore.domain.model import Connection, UploadStatus
from filestore.domain.rules import MiB, UploadPolicy
from filestore.entrypoints.aws_events import CreatedObject
from tests.support.aws import REGION, Queue, ses_messages
from tests.support.aws_messages import created_objects_in_sqs, event_in_sqs

pytestmark = pytest.mark.integration

ALICE = commands.Actor(sub="alice-sub", email="alice@example.com")


def services(blobs: Any = None, **ports: Any) -> Services:
    return Services(
        uow_factory=MemoryUnitOfWorkFactory(),
        blobs=blobs,
        clock=SystemClock(),
        ids=RandomIds(),
        policy=UploadPolicy(multipart_threshold=10 * MiB),
        **ports,
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The client's side: a browser, `curl`, or the front end."""
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


@pytest.fixture
def store(aws_client: Callable[[str], Any], s3_bucket: str) -> S3BlobStore:
    return S3BlobStore(aws_client("s3"), s3_bucket)


@pytest.fixture
def notified_queue(
    aws_client: Callable[[str], Any], s3_bucket: str, make_queue: Callable[[], Queue]
) -> Queue:
    """A queue receiving the bucket's ObjectCreated notifications (as the S3-events queue)."""
    queue = make_queue()
    queue.allow("s3.amazonaws.com", f"arn:aws:s3:::{s3_bucket}")
    aws_client("s3").put_bucket_notification_configuration(
        Bucket=s3_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return queue


def created_objects(queue: Queue, key: str, timeout: float = 10.0) -> list[CreatedObject]:
    """The ObjectCreated notices for `key` that arrive within `timeout` (the s3:TestEvent S3
    sends when notifications are configured parses to none)."""
    found: list[CreatedObject] = []
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        for record in queue.receive(1, timeout=1.0):
            found.extend(c for c in created_objects_in_sqs(record) if c.key == key)
    return found


# --- S3 ----------------------------------------------------------------------------------------


async def test_upload_by_presigned_post_is_stored_through_the_s3_event_path(
    store: S3BlobStore, notified_queue: Queue, http: httpx.AsyncClient
) -> None:
    """request_upload → browser-style POST → ObjectCreated → SQS → parser → stored."""
    svc = services(store)
    data = os.urandom(3000)
    ticket = await handlers.request_upload(
        commands.RequestUpload(
            ALICE, "report.pdf", len(data), "application/pdf", hashlib.sha256(data).hexdigest()
        ),
        svc,
    )
    assert ticket.post is not None
    answer = await http.post(
        ticket.post.url, data=dict(ticket.post.fields), files={"file": ("report.pdf", data)}
    )
    assert answer.status_code == 204, answer.text

    created = created_objects(notified_queue, ticket.upload.object_key)
    assert [c.size for c in created] == [len(data)]
    outcome = await handlers.record_stored_object(
        commands.RecordStoredObject(created[0].key, created[0].size), svc
    )
    assert outcome is StoredOutcome.STORED

    download = await handlers.get_download(commands.GetDownload(ALICE, ticket.upload.id), svc)
    got = await http.get(download.url)
    assert got.content == data
    assert got.headers["content-disposition"].startswith('attachment; filename="report.pdf"')


async def test_notification_keys_are_decoded_even_with_spaces_and_non_ascii(
    aws_client: Callable[[str], Any], s3_bucket: str, notified_queue: Queue
) -> None:
    key = f"u/{os.urandom(4).hex()}/année 2026 + résumé (1).txt"
    aws_client("s3").put_object(Bucket=s3_bucket, Key=key, Body=b"abc")
    created = created_objects(notified_queue, key)
    assert [(c.key, c.size, c.bucket) for c in created] == [(key, 3, s3_bucket)]
    assert created[0].sequencer and created[0].event_id


async def test_multipart_upload_of_20_mib_through_the_use_cases(
    store: S3BlobStore, http: httpx.AsyncClient
) -> None:
    svc = services(store)
    data = os.urandom(20 * MiB)
    ticket = await handlers.request_upload(
        commands.RequestUpload(ALICE, "big.bin", len(data), "application/octet-stream"), svc
    )
    assert ticket.multipart is not None and ticket.multipart.part_count == 3
    upload_id, size = ticket.upload.id, ticket.multipart.part_size
    urls = await handlers.sign_parts(commands.SignParts(ALICE, upload_id, (1, 2, 3)), svc)
    for part in urls[:2]:  # two parts now, the last after "resuming"
        chunk = data[(part.part_number - 1) * size : part.part_number * size]
        assert (await http.put(part.url, content=chunk)).status_code == 200
    arrived = await handlers.list_parts(commands.ListParts(ALICE, upload_id), svc)
    assert [p.part_number for p in arrived] == [1, 2]
    assert (await http.put(urls[2].url, content=data[2 * size :])).status_code == 200
    arrived = await handlers.list_parts(commands.ListParts(ALICE, upload_id), svc)
    parts = tuple(commands.CompletedPart(p.part_number, p.etag) for p in arrived)
    upload = await handlers.complete_multipart(
        commands.CompleteMultipart(ALICE, upload_id, parts), svc
    )
    assert upload.status is UploadStatus.STORED
    download = await handlers.get_download(commands.GetDownload(ALICE, upload_id), svc)
    body = (await http.get(download.url)).content
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


async def test_a_wrong_sha256_is_refused_by_storage(
    store: S3BlobStore, http: httpx.AsyncClient
) -> None:
    """LocalStack, like S3, checks `x-amz-checksum-sha256` on a POST: the first line holds.

    If this ever fails (an emulator or S3 that stores it anyway), the next test's path is what
    keeps a wrong file from being marked stored.
    """
    data = b"the real bytes"
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    key = f"u/sha/{os.urandom(6).hex()}"
    post = store.presign_post(
        key, size=len(data), content_type="text/plain", sha256=wrong,
        expires_in=handlers.SWEEP_GRACE,
    )  # fmt: skip
    answer = await http.post(post.url, data=dict(post.fields), files={"file": ("f", data)})
    assert answer.status_code == 400, answer.text
    assert await store.head(key) is None


async def test_an_object_whose_sha256_differs_fails_its_upload_on_the_s3_event_path(
    aws_client: Callable[[str], Any], store: S3BlobStore, s3_bucket: str
) -> None:
    """Where storage did not check: head reports S3's SHA-256, the upload fails, the object goes."""
    svc = services(store)
    declared = b"what was declared"
    ticket = await handlers.request_upload(
        commands.RequestUpload(
            ALICE, "a.txt", len(declared), "text/plain", hashlib.sha256(declared).hexdigest()
        ),
        svc,
    )
    key = ticket.upload.object_key
    # Same size, other bytes, stored with S3 computing a full-object SHA-256.
    other = b"what was sent!!!!"
    assert len(other) == len(declared)
    aws_client("s3").put_object(Bucket=s3_bucket, Key=key, Body=other, ChecksumAlgorithm="SHA256")
    info = await store.head(key)
    assert info is not None and info.sha256 == hashlib.sha256(other).hexdigest()

    outcome = await handlers.record_stored_object(commands.RecordStoredObject(key), svc)
    assert outcome is StoredOutcome.FAILED
    assert await store.head(key) is None
    upload = await handlers.get_upload(commands.GetUpload(ALICE, ticket.upload.id), svc)
    assert upload.status is UploadStatus.FAILED


async def test_completing_a_multipart_upload_with_a_wrong_etag_is_invalid_input(
    store: S3BlobStore, http: httpx.AsyncClient
) -> None:
    from filestore.domain.errors import InvalidInput

    key = f"u/mp/{os.urandom(6).hex()}"
    multipart_id = await store.create_multipart(key, content_type="text/plain")
    url = store.presign_part(key, multipart_id, 1, 3, handlers.SWEEP_GRACE)
    assert (await http.put(url, content=b"abc")).status_code == 200
    with pytest.raises(InvalidInput):
        await store.complete_multipart(key, multipart_id, [commands.CompletedPart(1, "0" * 32)])
    await store.abort_multipart(key, multipart_id)
    with pytest.raises(InvalidInput):  # and a multipart upload that is gone
        await store.complete_multipart(key, multipart_id, [commands.CompletedPart(1, "0" * 32)])


def test_a_head_storage_refuses_is_a_configuration_error_never_a_missing_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """S3 answers 403 to a HEAD its caller may not make: for a missing key without
    s3:ListBucket, or for any key without s3:GetObject. Taken for "absent", it would expire or
    delete uploads whose bytes are there; let through, it is a 500. moto, with IAM enforced,
    refuses a role that may only write, as S3 would."""
    import asyncio

    from moto import mock_aws
    from moto.core import set_initial_no_auth_action_count

    bucket, key = "filestore-uploads", "u/alice/upload"

    # The four set-up calls go unchecked; every call after them is authorized by IAM.
    @set_initial_no_auth_action_count(4)
    @mock_aws
    def refused() -> None:
        import boto3

        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="function")
        write_only = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/u/*",
                }
            ],
        }
        iam.put_user_policy(
            UserName="function", PolicyName="uploads", PolicyDocument=json.dumps(write_only)
        )
        credentials = iam.create_access_key(UserName="function")["AccessKey"]
        s3 = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
        )
        store = S3BlobStore(s3, bucket)
        with pytest.raises(ServiceUnavailable) as raised:
            asyncio.run(store.head(key))
        assert raised.value.retry_after > 0

    refused()
    [record] = [r for r in caplog.records if r.name == "filestore.adapters.s3"]
    assert record.levelname == "ERROR"
    assert "s3:ListBucket" in record.getMessage()
    assert key in record.getMessage()


# --- SNS → SQS ---------------------------------------------------------------------------------


def _stored_event(user_id: str = "u1") -> events.UploadStored:
    now = datetime.now(UTC)
    upload = events.UploadData(
        id="01890000-0000-7000-8000-000000000001", name="ü.txt", size=3,
        content_type="text/plain", status="stored", created_at=now, stored_at=now,
    )  # fmt: skip
    return events.UploadStored(occurred_at=now, user_id=user_id, upload=upload)


async def test_filter_policy_on_type_delivers_only_the_subscribed_events(
    aws_client: Callable[[str], Any], sns_topic: str, make_queue: Callable[[], Queue]
) -> None:
    sns = aws_client("sns")
    mail, raw = make_queue(), make_queue()
    for queue, attributes in (
        (mail, {"FilterPolicy": json.dumps({"type": ["upload.stored", "upload.failed"]})}),
        (raw, {"RawMessageDelivery": "true"}),
    ):
        queue.allow("sns.amazonaws.com", sns_topic)
        sns.subscribe(TopicArn=sns_topic, Protocol="sqs", Endpoint=queue.arn, Attributes=attributes)
    now = datetime.now(UTC)
    sent = [
        _stored_event(),
        events.ShareRevoked(occurred_at=now, user_id="u1", upload_id="x"),
        events.UserRegistered(occurred_at=now, user_id="u1", email="a@example.com"),
    ]
    await SnsEventPublisher(sns, sns_topic).publish(sent)

    filtered = [event_in_sqs(r) for r in mail.receive(1, quiet=1.0)]
    assert filtered == [sent[0]]
    everything = [event_in_sqs(r) for r in raw.receive(3)]
    assert sorted(e.id for e in everything) == sorted(e.id for e in sent)


async def test_the_outbox_relay_publishes_in_batches_and_keeps_what_failed(
    aws_client: Callable[[str], Any], sns_topic: str, make_queue: Callable[[], Queue]
) -> None:
    sns = aws_client("sns")
    queue = make_queue()
    queue.allow("sns.amazonaws.com", sns_topic)
    sns.subscribe(
        TopicArn=sns_topic, Protocol="sqs", Endpoint=queue.arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    uow_factory = MemoryUnitOfWorkFactory()
    sent = [_stored_event() for _ in range(23)]
    async with uow_factory() as uow:
        await uow.outbox.add(sent)
        await uow.commit()

    # A topic that is gone: the publish raises and nothing is marked published.
    gone = services(publisher=SnsEventPublisher(sns, sns_topic + "-gone"))
    gone.uow_factory = uow_factory
    with pytest.raises(ClientError):
        await handlers.relay_outbox(commands.RelayOutbox(), gone)
    async with uow_factory() as uow:
        assert len(await uow.outbox.pending(100)) == 23

    svc = services(publisher=SnsEventPublisher(sns, sns_topic))
    svc.uow_factory = uow_factory
    assert await handlers.relay_outbox(commands.RelayOutbox(), svc) == 23
    assert await handlers.relay_outbox(commands.RelayOutbox(), svc) == 0
    delivered = {event_in_sqs(r).id for r in queue.receive(23)}
    assert delivered == {e.id for e in sent}


# --- SES ---------------------------------------------------------------------------------------


async def test_email_notification_is_sent_through_ses(
    aws_client: Callable[[str], Any], aws_endpoint: str, ses_sender: str
) -> None:
    svc = services(email=SesEmailSender(aws_client("ses"), f"Filestore Café <{ses_sender}>"))
    address = f"user-{os.urandom(4).hex()}@example.com"
    user = await handlers.update_preferences(
        commands.UpdatePreferences(commands.Actor("ses-sub", address), notify_email=True), svc
    )
    event = _stored_event(user.id)
    notify = commands.NotifyByEmail(event)
    assert await handlers.notify_by_email(notify, svc) is handlers.EmailNotice.SENT
    assert await handlers.notify_by_email(notify, svc) is handlers.EmailNotice.REPEAT  # once
    mail = [m for m in ses_messages(aws_endpoint) if address in m["Destination"]["ToAddresses"]]
    assert len(mail) == 1
    assert mail[0]["Subject"] == "Your file has been stored"
    assert "ü.txt" in mail[0]["Body"]["text_part"]
    assert "<strong>ü.txt</strong>" in mail[0]["Body"]["html_part"]
    assert ses_sender in mail[0]["Source"]


# --- API Gateway management API ----------------------------------------------------------------


async def test_post_to_connection_reaches_it(moto_endpoint: str) -> None:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    from filestore.adapters import aws

    client = aws.client("apigatewaymanagementapi", region=REGION, endpoint_url=moto_endpoint)
    connection_id = "L0SM9cOFvHcCIhw" + os.urandom(3).hex()
    message = {"type": "upload.stored", "upload": {"name": "ü.txt"}}
    await ApiGatewayRealtimeNotifier(client).post(connection_id, message)
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    assert json.loads(backend.connections[connection_id].data) == message


async def test_gone_connection_is_removed_by_notify_realtime(management_api: Any) -> None:
    from filestore.adapters import aws

    client = aws.client("apigatewaymanagementapi", region=REGION, endpoint_url=management_api.url)
    svc = services(realtime=ApiGatewayRealtimeNotifier(client))
    user = await handlers.register_user(commands.RegisterUser(ALICE), svc)
    live, gone = "live" + os.urandom(4).hex() + "=", "gone" + os.urandom(4).hex() + "="
    management_api.open_connection(live)
    async with svc.uow() as uow:
        for connection_id in (live, gone):
            await uow.connections.add(Connection(connection_id, user.id, datetime.now(UTC)))
        await uow.commit()

    delivered = await handlers.notify_realtime(commands.NotifyRealtime(_stored_event(user.id)), svc)
    assert delivered == 1
    assert management_api.received[live][0]["type"] == "upload.stored"
    async with svc.uow() as uow:
        assert [c.id for c in await uow.connections.list_for_user(user.id)] == [live]


async def test_server_errors_are_retried_a_bounded_number_of_times(management_api: Any) -> None:
    from filestore.adapters import aws

    client = aws.client("apigatewaymanagementapi", region=REGION, endpoint_url=management_api.url)
    notifier = ApiGatewayRealtimeNotifier(client)
    connection_id = "retry" + os.urandom(4).hex()
    management_api.open_connection(connection_id)

    before = management_api.requests
    management_api.fail_next = 2
    await notifier.post(connection_id, {"type": "pong"})
    assert management_api.requests - before == 3
    assert management_api.received[connection_id] == [{"type": "pong"}]

    before = management_api.requests
    management_api.fail_next = 10
    with pytest.raises(ClientError):
        await notifier.post(connection_id, {"type": "pong"})
    assert management_api.requests - before == 3  # botocore's standard mode: 3 attempts
    management_api.fail_next = 0
