"""Public ids, tokens and the event wire format."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from filestore.domain import events
from filestore.domain.ids import is_public_id, is_token, new_token, uuid7

NOW = datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=UTC)


def test_uuid7_is_a_version_7_rfc_uuid() -> None:
    value = uuid.UUID(uuid7())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_sorts_in_creation_order_even_within_a_millisecond() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(uuid.uuid4()), True),
        ("01890000-0000-7000-8000-000000000000", True),
        ("01890000-0000-7000-8000-00000000000", False),
        ("01890000-0000-7000-8000-00000000000G", False),
        ("01890000-0000-7000-8000-00000000000A", False),  # not canonical (upper case)
        ("1; DROP TABLE uploads", False),
        ("", False),
    ],
)
def test_public_id_shape(value: str, expected: bool) -> None:
    assert is_public_id(value) is expected


def test_tokens_are_unguessable_and_url_safe() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(is_token(t) and len(t) >= 43 for t in tokens)
    assert not is_token("../../etc")
    assert not is_token("short")


def _stored() -> events.UploadStored:
    return events.UploadStored(
        occurred_at=NOW,
        user_id="user-1",
        upload=events.UploadData(
            id="01890000-0000-7000-8000-000000000001",
            name="naïve.txt",
            size=3,
            content_type="text/plain",
            status="stored",
            created_at=NOW,
            stored_at=NOW,
        ),
    )


def test_envelope_has_the_wire_shape() -> None:
    event = _stored()
    envelope = event.envelope()
    assert set(envelope) == {"id", "type", "occurred_at", "user_id", "data"}
    assert envelope["type"] == "upload.stored"
    assert envelope["occurred_at"] == "2026-01-01T12:00:00.000005+00:00"
    assert envelope["data"]["upload"]["name"] == "naïve.txt"


def test_every_event_type_round_trips_through_its_envelope() -> None:
    upload = _stored().upload
    folder = events.FolderData(id="f", name="Docs", parent_id=None, created_at=NOW)
    samples: list[events.Event] = [
        events.UserRegistered(occurred_at=NOW, user_id="u", email="a@example.com"),
        events.UploadRequested(occurred_at=NOW, user_id="u", upload=upload, multipart=True),
        _stored(),
        events.UploadFailed(occurred_at=NOW, user_id="u", upload=upload, reason="size"),
        events.UploadExpired(occurred_at=NOW, user_id="u", upload=upload),
        events.UploadRenamed(occurred_at=NOW, user_id="u", upload=upload, old_name="x"),
        events.UploadDeleted(occurred_at=NOW, user_id="u", upload=upload),
        events.UploadMoved(occurred_at=NOW, user_id="u", upload=upload, old_folder_id=None),
        events.UploadTrashed(occurred_at=NOW, user_id="u", upload=upload),
        events.UploadRestored(occurred_at=NOW, user_id="u", upload=upload),
        events.FolderCreated(occurred_at=NOW, user_id="u", folder=folder),
        events.FolderRenamed(occurred_at=NOW, user_id="u", folder=folder, old_name="x"),
        events.FolderMoved(occurred_at=NOW, user_id="u", folder=folder, old_parent_id="p"),
        events.FolderTrashed(occurred_at=NOW, user_id="u", folder=folder),
        events.FolderRestored(occurred_at=NOW, user_id="u", folder=folder),
        events.FolderDeleted(occurred_at=NOW, user_id="u", folder=folder, files=2, size=9),
        events.ShareCreated(occurred_at=NOW, user_id="u", upload_id="x", expires_at=NOW),
        events.ShareRevoked(occurred_at=NOW, user_id="u", upload_id="x"),
    ]
    assert {type(e) for e in samples} == set(events.EVENT_TYPES.values())
    for event in samples:
        assert events.parse_event(event.envelope()) == event


def test_an_older_envelope_without_updated_at_reads_the_latest_time_it_has() -> None:
    """Events written before uploads had `updated_at` may still be in a queue or the outbox."""
    envelope = _stored().envelope()
    later = NOW + timedelta(seconds=7)
    for stored_at, expected in ((later.isoformat(), later), (None, NOW)):
        upload = {**envelope["data"]["upload"], "stored_at": stored_at}
        del upload["updated_at"]
        event = events.parse_event({**envelope, "data": {"upload": upload}})
        assert event.upload.updated_at == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "envelope",
    [
        {},
        {"type": "upload.exploded", "data": {}},
        {"type": "upload.stored", "data": "nope"},
        {
            "type": "upload.stored",
            "id": "x",
            "occurred_at": "2026-01-01T00:00:00Z",
            "user_id": "u",
            "data": {},
        },
        {"type": 5, "data": {}},
    ],
)
def test_unknown_or_malformed_envelopes_are_refused(envelope: dict[str, object]) -> None:
    with pytest.raises(events.UnknownEvent):
        events.parse_event(envelope)


def test_importing_the_domain_loads_no_infrastructure() -> None:
    code = (
        "import filestore.domain, filestore.domain.handlers, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3','botocore','sqlalchemy','aiomysql','aws_lambda_powertools','dependency_injector'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
