"""SNS, SQS and SES for `filestore serve`, kept in a SQLite file under the data dir.

On AWS an event the outbox hands to SNS is durably in every subscribed queue once `Publish`
answers, and a message stays in its queue until a consumer deletes it. An in-memory emulator
(moto) loses both with the process, so a `kill -9` lost notifications the outbox had already
marked published. This store keeps the same promises across restarts: `publish` writes the
message into every queue whose filter policy lets it through, in one committed transaction,
before it answers; a received message becomes visible again after its visibility timeout unless
deleted, and moves to the queue's dead-letter queue on its fifth receive, as the template's
redrive policy says; the mail SES "sent" is kept as the local inbox (`/_local/emails`).

The clients are shaped like boto3's (the subset the local server uses: `publish`,
`publish_batch`, `send_message`, `receive_message`, `delete_message_batch`, `send_email`), so the
production SNS publisher and SES sender and the local queue pollers run on them unchanged.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "messaging.db"
ACCOUNT = "000000000000"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, visible_at);
CREATE TABLE IF NOT EXISTS emails (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    source TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL
);
"""


class DurableMessaging:
    """The store: one SQLite file, queues and topics by name, used from any thread.

    `queues` maps a queue name to the event types its topic subscription lets through (None: not
    subscribed to the events topic); `feedback_queue` is subscribed to the e-mail feedback topic.
    """

    def __init__(
        self,
        path: Path,
        *,
        prefix: str,
        queues: Mapping[str, Sequence[str] | None],
        feedback_queue: str,
        visibility_timeout: float,
        max_receive_count: int,
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.region = region
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self._clock = clock
        self.topic_arn = self.arn("sns", f"{prefix}-events")
        self.feedback_topic_arn = self.arn("sns", f"{prefix}-email-feedback")
        self.queue_names = {name: f"{prefix}-{name}" for name in queues}
        # topic arn -> [(queue, event types or None for all)]
        self._subscriptions: dict[str, list[tuple[str, frozenset[str] | None]]] = {
            self.topic_arn: [
                (self.queue_names[name], frozenset(types))
                for name, types in queues.items()
                if types is not None
            ],
            self.feedback_topic_arn: [(self.queue_names[feedback_queue], None)],
        }
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # FULL: a committed publish survives a power cut too, not only a killed process.
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "busy_timeout = 5000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self._add_html_column()

    def _add_html_column(self) -> None:
        """Mail kept before the inbox showed HTML has no `html` column: add it (idempotent)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(emails)")}
        if "html" not in columns:
            self._db.execute("ALTER TABLE emails ADD COLUMN html TEXT")

    def arn(self, service: str, name: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{name}"

    def url(self, queue: str) -> str:
        """A queue's URL, in SQS's shape; its last segment is the queue's name."""
        return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{queue}"

    def dlq(self, queue: str) -> str:
        return f"{queue}-dlq"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writes, each one transaction ----------------------------------------------------------

    def _insert(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """(id, queue, body, attributes JSON) rows, committed before this returns."""
        now = self._clock()
        with self._arrived:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO messages (id, queue, body, attributes, sent_at, visible_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(*row, now, now) for row in rows],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._arrived.notify_all()

    def send(self, queue: str, body: str, attributes: Mapping[str, Any] | None = None) -> str:
        message_id = str(uuid.uuid4())
        self._insert([(message_id, queue, body, json.dumps(attributes or {}))])
        return message_id

    def publish(self, topic_arn: str, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Fan `entries` (SNS `Message` and `MessageAttributes`) out to the topic's queues as SNS
        notifications (raw delivery off); all of them or none. Returns their message ids."""
        subscriptions = self._subscriptions.get(topic_arn)
        if subscriptions is None:
            raise NotFound(f"Topic does not exist: {topic_arn}")
        rows: list[tuple[str, str, str, str]] = []
        ids = []
        for entry in entries:
            message_id = str(uuid.uuid4())
            ids.append(message_id)
            attributes = dict(entry.get("MessageAttributes") or {})
            kind = (attributes.get("type") or {}).get("StringValue")
            notification = _notification(message_id, topic_arn, entry["Message"], attributes)
            for queue, types in subscriptions:
                if types is None or kind in types:
                    rows.append((str(uuid.uuid4()), queue, notification, "{}"))
        self._insert(rows)
        return ids

    def receive(self, queue: str, limit: int, wait_seconds: float) -> list[dict[str, Any]]:
        """Up to `limit` visible messages, hidden for the visibility timeout; waits up to
        `wait_seconds` for one. A message received once too often moves to the DLQ instead."""
        deadline = time.monotonic() + wait_seconds
        with self._arrived:
            while True:
                found = self._take(queue, limit)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                # A message sent by this process wakes the wait; one whose visibility times
                # out is found by the next look.
                self._arrived.wait(min(left, 0.5))

    def _take(self, queue: str, limit: int) -> list[dict[str, Any]]:
        now = self._clock()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rows = self._db.execute(
                "SELECT id, body, attributes, sent_at, receive_count FROM messages"
                " WHERE queue = ? AND visible_at <= ? ORDER BY sent_at, id LIMIT ?",
                (queue, now, limit),
            ).fetchall()
            taken = []
            for message_id, body, attributes, sent_at, count in rows:
                if count >= self.max_receive_count:
                    self._db.execute(
                        "UPDATE messages SET queue = ?, receive_count = 0, visible_at = ?"
                        " WHERE id = ?",
                        (self.dlq(queue), now, message_id),
                    )
                    continue
                receipt = f"{message_id}:{uuid.uuid4().hex}"
                self._db.execute(
                    "UPDATE messages SET receive_count = ?, visible_at = ?, receipt = ?"
                    " WHERE id = ?",
                    (count + 1, now + self.visibility_timeout, receipt, message_id),
                )
                message = _sqs_message(message_id, body, attributes, sent_at, count + 1, receipt)
                taken.append(message)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return taken

    def delete(self, queue: str, receipts: Sequence[str]) -> None:
        """Delete the messages of these receipts (a stale receipt deletes nothing)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "DELETE FROM messages WHERE queue = ? AND receipt = ?",
                [(queue, r) for r in receipts],
            )
            self._db.execute("COMMIT")

    def count(self, queue: str) -> int:
        """Messages in `queue`, visible or not."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM messages WHERE queue = ?", (queue,))
            return int(row.fetchone()[0])

    # --- the inbox -------------------------------------------------------------------------------

    def keep_email(
        self, source: str, to: Sequence[str], subject: str, text: str, html: str | None = None
    ) -> str:
        message_id = f"{uuid.uuid4().hex[:16]}-{uuid.uuid4()}-000000"
        when = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO emails (id, sent_at, source, recipients, subject, text, html)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (message_id, when, source, json.dumps(list(to)), subject, text, html),
            )
        return message_id

    def emails(self) -> list[dict[str, Any]]:
        """The mail kept, newest first, as `/_local/emails` lists it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, recipients, subject, text, html, sent_at FROM emails"
                " ORDER BY seq DESC"
            ).fetchall()
        return [
            {
                "id": i,
                "source": source,
                "to": json.loads(to),
                "subject": subject,
                "text": text,
                "html": html,
                "sent_at": sent_at,
            }
            for i, source, to, subject, text, html, sent_at in rows
        ]

    # --- boto3-shaped clients --------------------------------------------------------------------

    def sns_client(self) -> LocalSns:
        return LocalSns(self)

    def sqs_client(self) -> LocalSqs:
        return LocalSqs(self)

    def ses_client(self) -> LocalSes:
        return LocalSes(self)


class NotFound(Exception):
    """A topic or queue this store does not have."""


def _notification(
    message_id: str, topic_arn: str, message: str, attributes: Mapping[str, Any]
) -> str:
    """The JSON SNS puts in an SQS message when raw delivery is off."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Message": message,
            "Timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "SignatureVersion": "1",
            "MessageAttributes": {
                name: {"Type": value.get("DataType", "String"), "Value": value.get("StringValue")}
                for name, value in attributes.items()
            },
        }
    )


def _sqs_message(
    message_id: str, body: str, attributes: str, sent_at: float, count: int, receipt: str
) -> dict[str, Any]:
    import hashlib

    return {
        "MessageId": message_id,
        "ReceiptHandle": receipt,
        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "Body": body,
        "Attributes": {
            "SentTimestamp": str(int(sent_at * 1000)),
            "ApproximateReceiveCount": str(count),
            "ApproximateFirstReceiveTimestamp": str(int(sent_at * 1000)),
            "SenderId": ACCOUNT,
        },
        "MessageAttributes": json.loads(attributes),
    }


def _queue_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class LocalSns:
    """SNS `Publish` and `PublishBatch` on the store."""

    def __init__(self, store: DurableMessaging) -> None:
        self._store = store

    def publish(
        self, *, TopicArn: str, Message: str, MessageAttributes: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        entry = {"Message": Message, "MessageAttributes": MessageAttributes or {}}
        return {"MessageId": self._store.publish(TopicArn, [entry])[0]}

    def publish_batch(
        self, *, TopicArn: str, PublishBatchRequestEntries: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        ids = self._store.publish(TopicArn, PublishBatchRequestEntries)
        return {
            "Successful": [
                {"Id": entry["Id"], "MessageId": message_id}
                for entry, message_id in zip(PublishBatchRequestEntries, ids, strict=True)
            ],
            "Failed": [],
        }


class LocalSqs:
    """SQS `SendMessage`, `ReceiveMessage` and `DeleteMessageBatch` on the store."""

    def __init__(self, store: DurableMessaging) -> None:
        self._store = store

    def send_message(
        self,
        *,
        QueueUrl: str,
        MessageBody: str,
        MessageAttributes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {"MessageId": self._store.send(_queue_of(QueueUrl), MessageBody, MessageAttributes)}

    def receive_message(
        self,
        *,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        WaitTimeSeconds: int = 0,
        **_: Any,
    ) -> dict[str, Any]:
        messages = self._store.receive(_queue_of(QueueUrl), MaxNumberOfMessages, WaitTimeSeconds)
        return {"Messages": messages} if messages else {}

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, str]]
    ) -> dict[str, Any]:
        self._store.delete(_queue_of(QueueUrl), [e["ReceiptHandle"] for e in Entries])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class LocalSes:
    """SES `SendEmail`: the message is kept in the local inbox (nothing leaves the machine)."""

    def __init__(self, store: DurableMessaging) -> None:
        self._store = store

    def send_email(
        self,
        *,
        Source: str,
        Destination: Mapping[str, Sequence[str]],
        Message: Mapping[str, Any],
        **_: Any,
    ) -> dict[str, Any]:
        text = Message["Body"].get("Text", {}).get("Data", "")
        html = Message["Body"].get("Html", {}).get("Data")
        message_id = self._store.keep_email(
            Source, list(Destination.get("ToAddresses", [])), Message["Subject"]["Data"], text, html
        )
        return {"MessageId": message_id}
