"""The AWS adapters' local behaviour: presigning (no network), validation, publishing.

Sockets are blocked here (tests/unit/conftest.py): presigning that reached the network fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
from botocore.config import Config

from filestore.adapters.s3 import S3BlobStore, sha256_hex
from filestore.adapters.ses import SesEmailSender, check_address, check_sender
from filestore.adapters.websocket import management_endpoint
from filestore.domain import events
from filestore.domain.errors import InvalidInput
from filestore.domain.ports import EmailMessage

MIN = timedelta(minutes=1)


def s3_client(endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


@pytest.fixture
def store() -> S3BlobStore:
    return S3BlobStore(s3_client(), "bucket")


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def test_presigned_post_pins_key_size_type_and_checksum(store: S3BlobStore) -> None:
    digest = hashlib.sha256(b"abc").hexdigest()
    post = store.presign_post(
        "u/1/2", size=3, content_type="text/plain", sha256=digest, expires_in=5 * MIN
    )
    policy = policy_of(dict(post.fields))
    conditions = policy["conditions"]
    assert {"key": "u/1/2"} in conditions
    assert {"bucket": "bucket"} in conditions
    assert ["content-length-range", 3, 3] in conditions
    assert {"Content-Type": "text/plain"} in conditions
    b64 = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    assert {"x-amz-checksum-sha256": b64} in conditions
    assert {"x-amz-checksum-algorithm": "SHA256"} in conditions
    assert post.fields["x-amz-checksum-sha256"] == b64
    assert post.fields["key"] == "u/1/2"
    assert post.url.startswith("https://bucket.s3.")


def test_presigned_post_never_lives_longer_than_15_minutes(store: S3BlobStore) -> None:
    before = datetime.now(UTC)
    post = store.presign_post(
        "k", size=1, content_type="text/plain", sha256=None, expires_in=timedelta(hours=2)
    )
    expiration = datetime.fromisoformat(policy_of(dict(post.fields))["expiration"])
    assert expiration <= before + timedelta(minutes=15, seconds=1)
    assert post.expires_at <= before + timedelta(minutes=15, seconds=1)
    assert not any("checksum" in name for name in post.fields)


def test_part_url_signs_its_content_length(store: S3BlobStore) -> None:
    url = store.presign_part("u/1/2", "upload-id", 7, 8 * 1024 * 1024, 5 * MIN)
    query = parse_qs(urlsplit(url).query)
    assert query["partNumber"] == ["7"] and query["uploadId"] == ["upload-id"]
    assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
    assert query["X-Amz-Expires"] == ["300"]


def test_presigned_get_downloads_as_an_attachment_with_the_name(store: S3BlobStore) -> None:
    url = store.presign_get("u/1/2", filename='résumé "final".pdf', expires_in=5 * MIN)
    disposition = parse_qs(urlsplit(url).query)["response-content-disposition"][0]
    assert disposition.startswith('attachment; filename="r_sum_ _final_.pdf"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == 'résumé "final".pdf'


def test_path_style_with_an_endpoint_url() -> None:
    store = S3BlobStore(
        boto3.client(
            "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:4566",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        ),
        "bucket",
    )  # fmt: skip
    assert store.presign_get("k", filename="x", expires_in=MIN).startswith(
        "http://127.0.0.1:4566/bucket/k?"
    )


def test_head_takes_only_a_full_object_sha256() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert sha256_hex(base64.b64encode(digest).decode()) == digest.hex()
    assert sha256_hex("not base64!") is None
    assert sha256_hex(base64.b64encode(b"short").decode()) is None


@pytest.mark.parametrize(("status", "absent"), [(404, True), (403, False)])
async def test_a_head_without_a_body_is_told_apart_by_its_status(status: int, absent: bool) -> None:
    """S3 answers a HEAD with a bare status, which botocore reports as the error code: 404 is
    a missing key, 403 a permission missing from the role (for a missing key, s3:ListBucket)."""
    from botocore.stub import Stubber

    from filestore.domain.errors import ServiceUnavailable

    client = s3_client()
    store = S3BlobStore(client, "bucket")
    with Stubber(client) as stub:
        stub.add_client_error(
            "head_object",
            service_error_code=str(status),
            service_message="",
            http_status_code=status,
            expected_params={"Bucket": "bucket", "Key": "u/1/2", "ChecksumMode": "ENABLED"},
        )
        if absent:
            assert await store.head("u/1/2") is None
        else:
            with pytest.raises(ServiceUnavailable):
                await store.head("u/1/2")


# --- SES ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "alice@example.com\r\nBcc: eve@example.com",
        "alice@example.com\nBcc: eve@example.com",
        "Alice <alice@example.com>",
        "alice@example.com, eve@example.com",
        "alice",
        "alice@localhost",
        "",
        "alice@exa mple.com",
        '"alice"@example.com',
    ],
)
def test_recipient_must_be_one_plain_address(address: str) -> None:
    with pytest.raises(InvalidInput):
        check_address(address)


def test_plain_addresses_pass() -> None:
    for address in ("alice@example.com", "a.b+tag@sub.example.co.uk", "x_y-z@example.org"):
        assert check_address(address) == address


def test_sender_may_have_a_display_name_encoded_for_ses() -> None:
    assert check_sender("noreply@example.com") == "noreply@example.com"
    assert check_sender("Filestore <noreply@example.com>") == "Filestore <noreply@example.com>"
    encoded = check_sender("Filestore Café <noreply@example.com>")
    assert encoded.startswith("=?utf-8?") and encoded.endswith(" <noreply@example.com>")
    with pytest.raises(InvalidInput):
        check_sender("Filestore\r\nBcc: eve@example.com <noreply@example.com>")


async def test_a_line_break_in_the_subject_is_refused_before_sending() -> None:
    sender = SesEmailSender(client=None, sender="noreply@example.com")
    with pytest.raises(InvalidInput):
        await sender.send(EmailMessage("alice@example.com", "Hi\r\nBcc: eve@example.com", "", ""))


@pytest.mark.parametrize("configuration_set", ["filestore-prod-mail", None])
async def test_mail_goes_out_with_the_configuration_set_if_there_is_one(
    configuration_set: str | None,
) -> None:
    """The configuration set is what publishes bounces and complaints; an emulator has none."""
    import boto3
    from botocore.stub import ANY, Stubber

    client = boto3.client(
        "ses", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    expected: dict[str, object] = {"Source": "noreply@example.com", "Destination": ANY}
    expected["Message"] = ANY
    if configuration_set is not None:
        expected["ConfigurationSetName"] = configuration_set
    sender = SesEmailSender(client, "noreply@example.com", configuration_set)
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "m-1"}, expected)
        await sender.send(EmailMessage("alice@example.com", "Hi", "text", "<p>html</p>"))
        stub.assert_no_pending_responses()


# --- WebSocket ---------------------------------------------------------------------------------


def test_management_endpoint_from_the_websocket_url() -> None:
    assert (
        management_endpoint("wss://abc.execute-api.eu-west-1.amazonaws.com/prod/")
        == "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
    )
    assert management_endpoint("https://abc.example.com/prod") == "https://abc.example.com/prod"
    with pytest.raises(ValueError, match="not a WebSocket API endpoint"):
        management_endpoint("abc")


async def test_a_batch_entry_sns_did_not_answer_for_counts_as_not_published() -> None:
    """SNS answers every entry in Successful or Failed; one in neither must stay in the outbox."""
    from botocore.stub import ANY, Stubber

    from filestore.adapters.sns import EventsNotPublished, SnsEventPublisher

    client = boto3.client(
        "sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    topic = "arn:aws:sns:us-east-1:000000000000:filestore-events"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sent = [events.ShareRevoked(occurred_at=now, user_id="u", upload_id=str(i)) for i in range(3)]
    with Stubber(client) as stub:
        stub.add_response(
            "publish_batch",
            {"Successful": [{"Id": "0", "MessageId": "m0"}], "Failed": []},
            {"TopicArn": topic, "PublishBatchRequestEntries": ANY},
        )
        with pytest.raises(EventsNotPublished) as refused:
            await SnsEventPublisher(client, topic).publish(sent)
    assert refused.value.event_ids == [sent[1].id, sent[2].id]
