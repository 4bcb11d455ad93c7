"""`filestore serve` killed with SIGKILL keeps what it committed: every e-mail an upload
promised is sent after the restart, and the local inbox keeps the mail sent before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.journeys import api, stored, upload_bytes, wait_for
from tests.support.local_server import LocalServerProcess, filestore

pytestmark = pytest.mark.e2e

UPLOADS = 12


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServerProcess]:
    process = LocalServerProcess(tmp_path / "data")
    process.start()
    yield process
    if process.process is not None and process.process.poll() is None:
        process.kill()


def inbox(server: LocalServerProcess, address: str) -> list[str]:
    items = httpx.get(
        f"{server.url}/_local/emails", headers={"accept": "application/json"}, timeout=30
    ).json()["items"]
    return [m["text"] for m in items if address in m["to"]]


def test_every_stored_upload_is_mailed_across_a_kill_9(server: LocalServerProcess) -> None:
    address = "kim@example.com"
    client = api(server, server.token(address))
    assert client.patch("/me", json={"notify_email": True}).status_code == 200
    names = [f"file-{i:02}.txt" for i in range(UPLOADS)]
    uploads = [upload_bytes(client, name, name.encode()) for name in names]
    for upload in uploads:
        stored(client, upload["id"])
    # Killed as soon as the last one is stored: its e-mail, and maybe others, still queued.
    mailed_before = inbox(server, address)
    server.kill()

    server.start()

    def all_mailed() -> list[str] | None:
        mail = inbox(server, address)
        return mail if all(any(name in text for text in mail) for name in names) else None

    mail = wait_for(all_mailed, f"an e-mail for each of the {UPLOADS} uploads")
    # What was mailed before the kill is still in the inbox, once each at least.
    assert all(text in mail for text in mailed_before)


def test_a_lost_write_ahead_log_after_a_kill_9_is_refused_with_a_way_out(
    server: LocalServerProcess,
) -> None:
    client = api(server, server.token("lee@example.com"))
    upload = upload_bytes(client, "only-in-the-log.txt", b"committed, not checkpointed")
    stored(client, upload["id"])
    server.kill()
    database = server.data_dir / "filestore.db"
    wal = database.with_name("filestore.db-wal")
    assert wal.exists()  # the commits since the last checkpoint are there
    wal.unlink()  # lost: copied without it, or deleted as clutter

    answer = filestore("serve", "--port", str(server.port), "--data-dir", str(server.data_dir))
    assert answer.returncode != 0
    message = answer.stderr.strip()
    assert "filestore.db-wal is missing" in message, message
    assert "filestore.db.running" in message  # how to accept the loss and go on
    assert "Traceback" not in answer.stderr

    (server.data_dir / "filestore.db.running").unlink()
    server.start()  # accepted: it starts, without what the log held
    assert client.get(f"/uploads/{upload['id']}").status_code == 404


def test_a_clean_stop_leaves_nothing_to_refuse(server: LocalServerProcess) -> None:
    client = api(server, server.token("max@example.com"))
    stored(client, upload_bytes(client, "a.txt", b"a")["id"])
    assert server.stop() == 0
    assert not (server.data_dir / "filestore.db.running").exists()
    server.start()


def test_a_file_deleted_from_the_disk_fails_its_upload_saying_why(
    server: LocalServerProcess,
) -> None:
    address = "ned@example.com"
    client = api(server, server.token(address))
    assert client.patch("/me", json={"notify_email": True}).status_code == 200
    upload = upload_bytes(client, "fragile.txt", b"soon deleted behind the server's back")
    stored(client, upload["id"])
    assert server.stop() == 0
    objects = server.data_dir / "blobs" / "objects"
    [path] = [p for p in objects.rglob(upload["id"]) if p.is_file()]
    path.unlink()

    server.start()  # the check runs on start (and with every sweep)
    got = client.get(f"/uploads/{upload['id']}").json()
    assert got["status"] == "failed", got
    answer = client.get(f"/uploads/{upload['id']}/download")
    assert answer.status_code == 409
    assert "only stored files can be downloaded" in answer.json()["message"]
    assert client.get("/me").json()["used_bytes"] == 0

    def told() -> list[str] | None:
        mail = [t for t in inbox(server, address) if "missing from the server's storage" in t]
        return mail or None

    wait_for(told, "an e-mail saying the file's bytes are missing")
