"""The whole library on SQLite: `FileStore.from_settings(database="sql")`, and `filestore db`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from filestore import app
from filestore.adapters.sql.alchemy import upgrade_database
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.handlers import EmailNotice, StoredOutcome
from filestore.domain.ports import EmailMessage
from filestore.entrypoints.cli import main
from filestore.settings import Settings
from tests.support.sql import sqlite_url

pytestmark = pytest.mark.integration


async def test_an_upload_round_trip_on_sqlite(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "library.db")
    await upgrade_database(url)
    async with app.FileStore.from_settings(Settings(database="sql", database_url=url)) as store:
        await _round_trip(store)


async def _round_trip(store: app.FileStore) -> None:
    alice = Actor(sub="alice", email="alice@example.com")
    bob = Actor(sub="bob", email="bob@example.com")

    ticket = await store.request_upload(alice, "notes 😀.txt", size=5, content_type="text/plain")
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, b"hello")
    outcome = await store.record_stored(ticket.upload.object_key)
    assert outcome == StoredOutcome.STORED
    renamed = await store.rename(alice, ticket.upload.id, "renamed.txt")

    page = await store.list_uploads(alice)
    assert [(u.id, u.name, u.status.value) for u in page.items] == [
        (ticket.upload.id, "renamed.txt", "stored")
    ]
    assert renamed.version == 3  # added, stored, renamed
    assert (await store.list_uploads(bob)).items == []
    me = await store.me(alice)
    assert me.used_bytes == 5
    # Every event went through the outbox, was published after commit and marked published.
    assert await store.relay_outbox() == 0
    types = [e.type for e in store.memory_publisher.published]
    assert types.index("upload.requested") < types.index("upload.stored")
    assert types.index("upload.stored") < types.index("upload.renamed")


def test_db_upgrade_applies_then_reports_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert "applied migrations: 0001, 0002, 0003, 0004, 0005, 0006" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert "up to date" in capsys.readouterr().out


class _SlowMailbox:
    """Keeps what it sends; while sending, something else commits (another consumer, a request)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.meanwhile: Callable[[], Awaitable[object]] | None = None

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
        if self.meanwhile is not None:
            await self.meanwhile()


async def test_a_write_committed_while_mailing_does_not_send_the_mail_twice(
    tmp_path: Path,
) -> None:
    # SQLite refuses a write from a transaction whose read snapshot went stale; had the consumer
    # mailed inside that transaction, the bus's retry would mail again.
    url = sqlite_url(tmp_path / "mail.db")
    await upgrade_database(url)
    mailbox = _SlowMailbox()
    store = app.FileStore.from_settings(
        Settings(database="sql", database_url=url, notify_in_process=False), email=mailbox
    )
    try:
        await _mail_once(store, mailbox)
    finally:
        await store.aclose()


async def _mail_once(store: app.FileStore, mailbox: _SlowMailbox) -> None:
    alice = Actor(sub="alice", email="alice@example.com")
    await store.set_notify_email(alice, True)
    ticket = await store.request_upload(alice, "a.txt", size=5, content_type="text/plain")
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, b"hello")
    await store.record_stored(ticket.upload.object_key)
    [stored] = [e for e in store.memory_publisher.published if e.type == "upload.stored"]
    mailbox.meanwhile = lambda: store.set_notify_email(Actor("bob", "bob@example.com"), True)

    assert await store.bus.handle(commands.NotifyByEmail(stored)) is EmailNotice.SENT
    assert len(mailbox.sent) == 1
    assert await store.bus.handle(commands.NotifyByEmail(stored)) is EmailNotice.REPEAT
    assert len(mailbox.sent) == 1
