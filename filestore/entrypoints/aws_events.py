"""What AWS sends us, turned into our terms: S3 object notices, filestore event envelopes, and
SES's reports of bounces and complaints.

The Lambda handlers (S3 events through SQS, SNS events through SQS, SES feedback through SNS and
SQS) call these; they read the records with Powertools' event source data classes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SQSRecord
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from filestore.domain.events import UnknownEvent
from filestore.domain.model import EmailStatus

# Names event ids derived from S3 records (uuid5), so the same record always gets the same id.
_S3_EVENT_NAMESPACE = uuid.UUID("5d0c7e6a-93c4-4a7e-9a57-6f1f3e0c2b11")
# Names the ids of SES reports whose own id would not fit where processed ids are kept.
_SES_FEEDBACK_NAMESPACE = uuid.UUID("0b6f3f7e-2c1d-4d8a-9a51-3c0e7a54e1d2")


@dataclass(frozen=True)
class CreatedObject:
    """One `ObjectCreated` notification: which object, how big, and its place in the order.

    `sequencer` orders the events of one key (compare equal-length hex strings); `event_id` is
    stable for one notification, so a repeated delivery can be recognised.
    """

    bucket: str
    key: str
    size: int
    sequencer: str
    event_id: str


def _created(record: S3EventRecord) -> CreatedObject | None:
    if not record.event_name.startswith("ObjectCreated:"):
        return None
    s3 = record.s3
    obj = s3.get_object
    # S3 URL-encodes keys in notifications, a space as "+" (form encoding).
    key = unquote_plus(obj.key)
    bucket = s3.bucket.name
    sequencer = obj.get("sequencer") or ""
    # S3 records carry no id of their own: bucket, key and sequencer identify one write.
    event_id = str(uuid.uuid5(_S3_EVENT_NAMESPACE, f"{bucket}\n{key}\n{sequencer}"))
    return CreatedObject(bucket, key, int(obj.get("size") or 0), sequencer, event_id)


def created_objects(event: Mapping[str, Any]) -> list[CreatedObject]:
    """The created objects of an S3 event (`{"Records": [...]}`); none for `s3:TestEvent`.

    Other event kinds (removals, restores) are not ours to act on and are left out.
    """
    if "Records" not in event:  # s3:TestEvent, sent when notifications are configured
        return []
    return [c for c in map(_created, S3Event(dict(event)).records) if c is not None]


def envelope_in_sqs(record: Mapping[str, Any] | SQSRecord) -> dict[str, Any]:
    """The envelope an SQS record fed by SNS carries (in the SNS notification or, raw, as the
    body), not yet checked against our event types; `UnknownEvent` if there is none."""
    sqs = record if isinstance(record, SQSRecord) else SQSRecord(dict(record))
    try:
        body = sqs.json_body
        if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
            body = json.loads(sqs.decoded_nested_sns_event.message)
    except (TypeError, ValueError) as error:
        raise UnknownEvent("the SQS message is not JSON") from error
    if not isinstance(body, dict):
        raise UnknownEvent("the SQS message is not a filestore event envelope")
    return body


# --- SES: bounces and complaints -----------------------------------------------------------------
# What SES publishes to SNS for a configuration set's event destination ("eventType"), or for an
# identity's feedback notifications ("notificationType"): the same record either way. Only the
# fields read here are modelled; the rest (headers, tags, diagnostic codes) is ignored.


class _SesRecord(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class _SesRecipient(_SesRecord):
    email_address: str


class _SesBounce(_SesRecord):
    bounce_type: str
    bounce_sub_type: str = ""
    bounced_recipients: list[_SesRecipient] = Field(min_length=1)
    feedback_id: str = Field(min_length=1)


class _SesComplaint(_SesRecord):
    complained_recipients: list[_SesRecipient] = Field(min_length=1)
    feedback_id: str = Field(min_length=1)
    complaint_feedback_type: str | None = None


class _SesMail(_SesRecord):
    message_id: str


class _SesNotification(_SesRecord):
    event_type: str | None = None
    notification_type: str | None = None
    mail: _SesMail
    bounce: _SesBounce | None = None
    complaint: _SesComplaint | None = None


# The longest id `processed_events` keeps.
_MAX_FEEDBACK_ID = 64


@dataclass(frozen=True)
class MailFeedback:
    """One bounce or complaint SES reported about a mail we sent.

    `status` is what it means for the recipients' addresses: `BOUNCED` for a permanent bounce,
    `COMPLAINED` for a complaint, None when it means nothing lasting (a transient or undetermined
    bounce, which SES reports once it gave up retrying: the mailbox was full or the server down;
    a feedback report that says "not spam"). `feedback_id` identifies the report, for
    idempotency; `detail` says what SES said, for the logs.
    """

    kind: Literal["bounce", "complaint"]
    feedback_id: str
    recipients: tuple[str, ...]
    status: EmailStatus | None
    message_id: str
    detail: str


def _feedback_id(raw: str) -> str:
    # SES's feedback ids are about 60 ASCII characters; anything else is named by a uuid5 of it.
    if len(raw) <= _MAX_FEEDBACK_ID and raw.isascii() and raw.isprintable():
        return raw
    return str(uuid.uuid5(_SES_FEEDBACK_NAMESPACE, raw))


def _addresses(recipients: list[_SesRecipient]) -> tuple[str, ...]:
    # SES gives the bare address; a display name around it (never seen) is dropped.
    found = (parseaddr(r.email_address)[1] or r.email_address.strip() for r in recipients)
    return tuple(a for a in found if a)


def ses_feedback(data: Mapping[str, Any]) -> MailFeedback | None:
    """The bounce or complaint an SES notification reports; None for any other kind (delivery,
    send, ...), which this system does not act on. `UnknownEvent` if it is not an SES
    notification or lacks what a bounce or complaint must have."""
    try:
        record = _SesNotification.model_validate(data)
    except ValidationError as error:
        raise UnknownEvent(
            f"not an SES notification: {error.error_count()} invalid fields"
        ) from error
    kind = record.event_type or record.notification_type
    if kind == "Bounce":
        if record.bounce is None:
            raise UnknownEvent("an SES Bounce notification without its bounce")
        bounce = record.bounce
        permanent = bounce.bounce_type == "Permanent"
        return MailFeedback(
            kind="bounce",
            feedback_id=_feedback_id(bounce.feedback_id),
            recipients=_addresses(bounce.bounced_recipients),
            status=EmailStatus.BOUNCED if permanent else None,
            message_id=record.mail.message_id,
            detail=f"{bounce.bounce_type}/{bounce.bounce_sub_type}",
        )
    if kind == "Complaint":
        if record.complaint is None:
            raise UnknownEvent("an SES Complaint notification without its complaint")
        complaint = record.complaint
        # A feedback loop may report that the recipient took the mail OUT of spam.
        not_spam = (complaint.complaint_feedback_type or "").lower() == "not-spam"
        return MailFeedback(
            kind="complaint",
            feedback_id=_feedback_id(complaint.feedback_id),
            recipients=_addresses(complaint.complained_recipients),
            status=None if not_spam else EmailStatus.COMPLAINED,
            message_id=record.mail.message_id,
            detail=complaint.complaint_feedback_type or "unspecified",
        )
    if kind is None:
        raise UnknownEvent("an SES notification without eventType or notificationType")
    return None
