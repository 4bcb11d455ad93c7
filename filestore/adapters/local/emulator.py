"""The AWS side of `filestore serve`: durable queues in the data dir, or an external emulator
such as LocalStack.

Both have what template.yaml creates for messaging: the events topic, one queue per consumer
(S3 events, e-mail, realtime, e-mail feedback), each with a dead-letter queue and a redrive
policy, the events topic's subscriptions with their filter policies (envelopes, not raw
delivery, as deployed), and the e-mail feedback topic with its queue's subscription. `durable`
keeps them in a SQLite file under the data dir (`filestore.adapters.local.messaging`), so what
was published or queued survives a killed server; `provision` creates them on an emulator, each
call idempotent, so a restart finds the same resources. The result, `LocalAws`, also plays the
bucket's notification for the filesystem blob store (`notify_object_created`), reads back the
mail SES accepted (`sent_emails`), and plays SES's configuration set, which no emulator does:
`report_email_feedback` publishes a bounce or complaint as SES would.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from filestore.adapters.local.messaging import DurableMessaging

REGION = "us-east-1"
SENDER = "filestore@example.com"
# Like the template's redrive policy: the fifth failed receive sends a message to the DLQ.
MAX_RECEIVE_COUNT = 5
# Short, unlike on AWS (6 x the function timeout), so a failed message is retried in seconds.
VISIBILITY_TIMEOUT = 5

# consumer queue -> the event types its subscription lets through (None: not on the topic), as
# template.yaml's subscriptions say (a test compares them).
QUEUES: dict[str, list[str] | None] = {
    "s3-events": None,
    "email": ["upload.stored", "upload.failed"],
    "realtime": [
        "upload.stored",
        "upload.failed",
        "upload.renamed",
        "upload.deleted",
        "upload.moved",
        "upload.trashed",
        "upload.restored",
        "folder.created",
        "folder.renamed",
        "folder.moved",
        "folder.trashed",
        "folder.restored",
        "folder.deleted",
    ],
    "email-feedback": None,
}


def subscribed_types() -> set[str]:
    """The event types some subscription of the local events topic takes."""
    return {kind for types in QUEUES.values() if types for kind in types}


# The queue subscribed to the e-mail feedback topic (all of it, raw delivery off), where SES's
# configuration set publishes bounces and complaints.
FEEDBACK_QUEUE = "email-feedback"


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str
    dlq_url: str


@dataclass
class LocalAws:
    """Where the local messaging lives, once provisioned."""

    endpoint_url: str | None
    region: str
    topic_arn: str
    queues: dict[str, Queue]
    feedback_topic_arn: str
    sender: str = SENDER
    bucket: str | None = None
    # The durable store, when there is no external emulator (endpoint_url is None).
    messaging: DurableMessaging | None = field(default=None, repr=False)

    def _client(self, service: str) -> Any:
        if self.messaging is not None:
            return getattr(self.messaging, f"{service}_client")()
        assert self.endpoint_url is not None  # the durable store or an emulator: one is set  # nosec B101
        return client(service, self.endpoint_url, self.region)

    @cached_property
    def sqs(self) -> Any:
        """An SQS client (the queue pollers and the bucket notification)."""
        return self._client("sqs")

    @cached_property
    def sns(self) -> Any:
        """An SNS client (the events publisher and the e-mail feedback)."""
        return self._client("sns")

    @cached_property
    def ses(self) -> Any:
        """An SES client: the local inbox, or the emulator's SES."""
        return self._client("ses")

    async def report_email_feedback(
        self,
        address: str,
        kind: Literal["bounce", "complaint"],
        *,
        bounce_type: Literal["Permanent", "Transient"] = "Permanent",
    ) -> str:
        """Publish, as SES's configuration set would, a bounce or complaint of mail to
        `address` to the feedback topic; its queue's consumer takes it from there. Returns the
        report's feedback id."""
        record = ses_feedback_record(address, kind, bounce_type=bounce_type, sender=self.sender)
        await asyncio.to_thread(
            self.sns.publish, TopicArn=self.feedback_topic_arn, Message=json.dumps(record)
        )
        feedback_id: str = record[kind]["feedbackId"]
        return feedback_id

    async def notify_object_created(self, notification: Mapping[str, Any]) -> None:
        """The bucket's notification, as template.yaml configures it: `ObjectCreated` under `u/`
        goes to the S3-events queue (the filesystem blob store's `on_created`)."""
        records = [r for r in notification["Records"] if r["s3"]["object"]["key"].startswith("u/")]
        if records:
            await asyncio.to_thread(
                self.sqs.send_message,
                QueueUrl=self.queues["s3-events"].url,
                MessageBody=json.dumps({"Records": records}),
            )

    def sent_emails(self) -> list[dict[str, Any]]:
        """The e-mails SES accepted, newest first: the local inbox, else LocalStack's record."""
        if self.messaging is not None:
            return self.messaging.emails()
        assert self.endpoint_url is not None  # the durable store or an emulator: one is set  # nosec B101
        return _localstack_emails(self.endpoint_url)

    def stop(self) -> None:
        if self.messaging is not None:
            self.messaging.close()
            self.messaging = None


def prefix_for(data_dir: Path) -> str:
    """Resource names of one data dir on a shared emulator: `filestore-<8 hex of its path>`."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    return f"filestore-{digest}"


def use_local_credentials() -> None:
    """Emulators accept any credentials, but boto3 wants some: never reach for real ones."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "filestore-local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "filestore-local")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


def client(service: str, endpoint_url: str, region: str = REGION) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, config=config)


def provision(
    endpoint_url: str,
    *,
    prefix: str = "filestore-local",
    region: str = REGION,
    with_bucket: bool = False,
) -> LocalAws:
    """Create (or find) the topic, queues, DLQs, subscriptions and the SES sender identity.

    `with_bucket` also makes the uploads bucket, notifying the S3-events queue of every object
    created under `u/`, as the template's bucket does (for an emulator that has S3).
    """
    use_local_credentials()
    sns, sqs, ses = (client(s, endpoint_url, region) for s in ("sns", "sqs", "ses"))
    topic_arn = sns.create_topic(Name=f"{prefix}-events")["TopicArn"]
    feedback_topic_arn = sns.create_topic(Name=f"{prefix}-email-feedback")["TopicArn"]
    queues: dict[str, Queue] = {}
    for name, types in QUEUES.items():
        dlq_url = sqs.create_queue(QueueName=f"{prefix}-{name}-dlq")["QueueUrl"]
        dlq_arn = _arn(sqs, dlq_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        url = sqs.create_queue(
            QueueName=f"{prefix}-{name}",
            Attributes={
                "VisibilityTimeout": str(VISIBILITY_TIMEOUT),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        arn = _arn(sqs, url)
        queues[name] = Queue(name, url, arn, dlq_url)
        if types is not None:
            _subscribe(sns, topic_arn, arn, types)
        elif name == FEEDBACK_QUEUE:
            _subscribe(sns, feedback_topic_arn, arn, None)
    ses.verify_email_identity(EmailAddress=SENDER)
    bucket = None
    if with_bucket:
        bucket = f"{prefix}-uploads"
        s3 = client("s3", endpoint_url, region)
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": queues["s3-events"].arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "u/"}]}},
                    }
                ]
            },
        )
    return LocalAws(endpoint_url, region, topic_arn, queues, feedback_topic_arn, SENDER, bucket)


def durable(data_dir: Path, *, region: str = REGION) -> LocalAws:
    """The topics, queues and inbox in a SQLite file under `data_dir`, kept across restarts."""
    from filestore.adapters.local.messaging import FILE_NAME, DurableMessaging

    store = DurableMessaging(
        data_dir / FILE_NAME,
        prefix="filestore-local",
        queues=QUEUES,
        feedback_queue=FEEDBACK_QUEUE,
        visibility_timeout=VISIBILITY_TIMEOUT,
        max_receive_count=MAX_RECEIVE_COUNT,
        region=region,
    )
    queues = {}
    for name, queue in store.queue_names.items():
        queues[name] = Queue(
            name, store.url(queue), store.arn("sqs", queue), store.url(store.dlq(queue))
        )
    return LocalAws(
        None,
        region,
        store.topic_arn,
        queues,
        store.feedback_topic_arn,
        SENDER,
        None,
        messaging=store,
    )


def _arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _subscribe(sns: Any, topic_arn: str, queue_arn: str, types: list[str] | None) -> None:
    """Subscribe the queue (raw delivery off), filtered on the `type` attribute if `types`."""
    existing = sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", [])
    if any(s.get("Endpoint") == queue_arn for s in existing):
        return
    attributes = {"RawMessageDelivery": "false"}
    if types is not None:
        attributes |= {
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": json.dumps({"type": types}),
        }
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )


def ses_feedback_record(
    address: str,
    kind: Literal["bounce", "complaint"],
    *,
    bounce_type: Literal["Permanent", "Transient"] = "Permanent",
    sender: str = SENDER,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What SES publishes for a configuration set's bounce or complaint event (the fields of
    the SES developer guide's examples; ids made up in SES's format)."""
    when = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def ses_id() -> str:
        return f"{uuid.uuid4().hex[:16]}-{uuid.uuid4()}-000000"

    mail = {
        "timestamp": when,
        "source": sender,
        "sendingAccountId": "000000000000",
        "messageId": ses_id(),
        "destination": [address],
        "headersTruncated": False,
        "commonHeaders": {"from": [sender], "to": [address], "subject": "filestore"},
    }
    if kind == "bounce":
        permanent = bounce_type == "Permanent"
        event: dict[str, Any] = {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if permanent else "4.2.2",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                    if permanent
                    else "smtp; 452 4.2.2 mailbox full",
                }
            ],
            "timestamp": when,
            "feedbackId": ses_id(),
            "reportingMTA": "dsn; localhost",
        }
        return {"eventType": "Bounce", "bounce": event, "mail": mail}
    event = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": when,
        "feedbackId": ses_id(),
        "complaintSubType": None,
        "complaintFeedbackType": "abuse",
        "arrivalDate": when,
    }
    return {"eventType": "Complaint", "complaint": event, "mail": mail}


def _localstack_emails(endpoint_url: str) -> list[dict[str, Any]]:
    import urllib.request

    # LocalStack keeps what SES sent at this internal endpoint.
    with urllib.request.urlopen(f"{endpoint_url}/_aws/ses", timeout=10) as answer:  # noqa: S310 - the configured LocalStack URL  # nosec B310
        payload = json.load(answer)
    messages = [
        {
            "id": m.get("Id"),
            "source": m.get("Source"),
            "to": list(m.get("Destination", {}).get("ToAddresses", [])),
            "subject": m.get("Subject"),
            "text": (m.get("Body") or {}).get("text_part"),
            "html": (m.get("Body") or {}).get("html_part"),
            "sent_at": m.get("Timestamp"),
        }
        for m in payload.get("messages", [])
    ]
    return messages[::-1]
