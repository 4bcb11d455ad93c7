"""A stored upload whose bytes the storage lost becomes failed, saying why, and gives its bytes
back to the quota; the filesystem store finds such objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.errors import Conflict
from filestore.domain.events import UploadFailed
from filestore.domain.model import UploadStatus
from tests.unit.test_uploads import stored_upload

REASON = "its stored bytes are missing from the server's storage"


async def test_a_lost_object_fails_its_stored_upload(store: FileStore, alice: Actor) -> None:
    upload = await stored_upload(store, alice)
    assert await store.bus.handle(commands.RecordLostObject(upload.object_key, REASON)) is True
    got = await store.get_upload(alice, upload.id)
    assert got.status is UploadStatus.FAILED
    assert (await store.me(alice)).used_bytes == 0
    failed = [e for e in store.memory_publisher.published if isinstance(e, UploadFailed)]
    assert [(e.upload.id, e.reason) for e in failed] == [(upload.id, REASON)]
    with pytest.raises(Conflict, match="only stored files can be downloaded"):
        await store.download(alice, upload.id)
    assert await store.services.blobs.head(upload.object_key) is None
    # Found again by the next check: nothing more happens.
    assert await store.bus.handle(commands.RecordLostObject(upload.object_key, REASON)) is False


async def test_the_filesystem_store_finds_files_missing_or_changed(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, base_url="http://blobs.test", signing_key=b"k" * 32)
    for key in ("u/a/kept", "u/a/gone", "u/a/changed"):
        store.put_object(key, b"twelve bytes")
    objects = tmp_path / "objects" / "u" / "a"
    (objects / "gone").unlink()
    (objects / "changed").write_bytes(b"short")
    assert sorted(store.lost_objects()) == [
        ("u/a/changed", "its stored bytes were changed on the server's storage"),
        ("u/a/gone", "its stored bytes are missing from the server's storage"),
    ]
