"""Use cases of folders and of moving files, on the in-memory system."""

from __future__ import annotations

import pytest

from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.errors import Conflict, InvalidInput, NameTaken, NotFound
from filestore.domain.handlers import FolderWithPath, StoredOutcome
from filestore.domain.model import Folder, OnConflict, Upload, UploadStatus
from tests.unit.test_uploads import DATA, stored_upload


async def upload_into(
    store: FileStore,
    actor: Actor,
    name: str,
    folder_id: str | None = None,
    on_conflict: OnConflict = OnConflict.RENAME,
) -> tuple[Upload, StoredOutcome]:
    """Request and send a file; its upload as it became, and what storing it did."""
    ticket = await store.request_upload(
        actor, name, size=len(DATA), content_type="text/plain", folder_id=folder_id,
        on_conflict=on_conflict,
    )  # fmt: skip
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, DATA)
    outcome = await store.record_stored(ticket.upload.object_key)
    async with store.services.uow() as uow:
        upload = await uow.uploads.get(ticket.upload.id)
    assert upload is not None
    return upload, outcome


class TestFolders:
    async def test_folders_nest_and_know_their_path(self, store: FileStore, alice: Actor) -> None:
        docs = await store.create_folder(alice, " Docs ")
        year = await store.create_folder(alice, "2026", parent_id=docs.id)
        found: FolderWithPath = await store.bus.handle(commands.GetFolder(alice, year.id))
        assert [f.name for f in found.path] == ["Docs", "2026"]
        assert (await store.list_folders(alice)).items == [docs]
        assert [f.id for f in (await store.list_folders(alice, parent_id=docs.id)).items] == [
            year.id
        ]
        types = [e.type for e in store.memory_publisher.published]
        assert types.count("folder.created") == 2

    async def test_a_taken_name_is_a_conflict_naming_what_holds_it(
        self, store: FileStore, alice: Actor
    ) -> None:
        file = await stored_upload(store, alice, "Report")
        with pytest.raises(NameTaken) as raised:
            await store.create_folder(alice, "report")
        assert raised.value.details == [{"kind": "upload", "id": file.id, "name": "Report"}]
        assert '"Report"' in raised.value.message

    async def test_someone_elses_folder_is_not_found(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        # Named as where to put something, it is no folder at all: invalid input.
        with pytest.raises(InvalidInput, match="folder to put it in does not exist"):
            await store.create_folder(bob, "mine", parent_id=docs.id)
        with pytest.raises(NotFound):
            await store.bus.handle(commands.GetFolder(bob, docs.id))
        with pytest.raises(NotFound):
            await store.list_folders(bob, parent_id=docs.id)
        with pytest.raises(NotFound):
            await store.bus.handle(commands.UpdateFolder(bob, docs.id, name="x"))
        with pytest.raises(NotFound):
            await store.delete_folder(bob, docs.id)
        with pytest.raises(NotFound):
            await store.bus.handle(commands.GetFolder(alice, "not-an-id"))

    async def test_a_folder_name_follows_the_file_name_rules(
        self, store: FileStore, alice: Actor
    ) -> None:
        for bad in ("", "a/b", "..", "x" * 256):
            with pytest.raises(InvalidInput, match="folder name"):
                await store.create_folder(alice, bad)

    async def test_rename_and_move_in_one_request(self, store: FileStore, alice: Actor) -> None:
        a = await store.create_folder(alice, "a")
        b = await store.create_folder(alice, "b")
        moved: Folder = await store.bus.handle(
            commands.UpdateFolder(alice, b.id, name="B2", parent_id=a.id)
        )
        assert (moved.name, moved.parent_id) == ("B2", a.id)
        types = [e.type for e in store.memory_publisher.published]
        assert types[-2:] == ["folder.renamed", "folder.moved"]
        back: Folder = await store.bus.handle(commands.UpdateFolder(alice, b.id, parent_id=None))
        assert back.parent_id is None and back.name == "B2"

    async def test_a_folder_never_goes_below_itself(self, store: FileStore, alice: Actor) -> None:
        a = await store.create_folder(alice, "a")
        b = await store.create_folder(alice, "b", parent_id=a.id)
        for target in (a.id, b.id):
            with pytest.raises(Conflict, match="into itself"):
                await store.bus.handle(commands.UpdateFolder(alice, a.id, parent_id=target))

    async def test_a_move_onto_a_taken_name_is_a_conflict(
        self, store: FileStore, alice: Actor
    ) -> None:
        a = await store.create_folder(alice, "a")
        await store.create_folder(alice, "x", parent_id=a.id)
        x = await store.create_folder(alice, "X")
        with pytest.raises(NameTaken):
            await store.bus.handle(commands.UpdateFolder(alice, x.id, parent_id=a.id))
        with pytest.raises(NameTaken):
            await store.bus.handle(commands.UpdateFolder(alice, a.id, name="x"))


class TestFilesInFolders:
    async def test_a_file_is_stored_in_its_folder(self, store: FileStore, alice: Actor) -> None:
        docs = await store.create_folder(alice, "Docs")
        upload, outcome = await upload_into(store, alice, "a.txt", docs.id)
        assert outcome is StoredOutcome.STORED and upload.folder_id == docs.id
        page = await store.bus.handle(commands.ListUploads(alice, folder=docs.id))
        assert [u.id for u in page.items] == [upload.id]
        root = await store.bus.handle(commands.ListUploads(alice, folder=None))
        assert root.items == []

    async def test_a_taken_name_becomes_a_numbered_copy_when_stored(
        self, store: FileStore, alice: Actor
    ) -> None:
        names = [(await upload_into(store, alice, "report.pdf"))[0].name for _ in range(3)]
        assert names == ["report.pdf", "report (2).pdf", "report (3).pdf"]
        stored = [e for e in store.memory_publisher.published if e.type == "upload.stored"]
        assert [e.upload.name for e in stored] == names  # type: ignore[attr-defined]

    async def test_on_conflict_fail_is_refused_at_once_or_fails_when_stored(
        self, store: FileStore, alice: Actor
    ) -> None:
        await upload_into(store, alice, "a.txt")
        with pytest.raises(NameTaken):
            await store.request_upload(
                alice, "A.TXT", size=1, content_type="text/plain", on_conflict=OnConflict.FAIL
            )
        # Both asked for a free name; the second one stored finds it taken.
        first = await store.request_upload(
            alice, "b.txt", size=len(DATA), content_type="text/plain", on_conflict=OnConflict.FAIL
        )
        late, outcome = await upload_into(store, alice, "b.txt")
        assert outcome is StoredOutcome.STORED
        assert first.post is not None
        store.memory_blobs.post(first.post, DATA)
        assert await store.record_stored(first.upload.object_key) is StoredOutcome.FAILED
        assert late.name == "b.txt"
        assert await store.services.blobs.head(first.upload.object_key) is None

    async def test_a_file_whose_folder_went_to_the_trash_is_stored_in_the_root(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        ticket = await store.request_upload(
            alice, "a.txt", size=len(DATA), content_type="text/plain", folder_id=docs.id
        )
        await store.delete_folder(alice, docs.id)
        assert ticket.post is not None
        store.memory_blobs.post(ticket.post, DATA)
        assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.STORED
        assert (await store.get_upload(alice, ticket.upload.id)).folder_id is None

    async def test_move_and_rename_a_file(self, store: FileStore, alice: Actor) -> None:
        docs = await store.create_folder(alice, "Docs")
        file = await stored_upload(store, alice, "a.txt")
        moved: Upload = await store.bus.handle(
            commands.UpdateUpload(alice, file.id, name="b.txt", folder_id=docs.id)
        )
        assert (moved.name, moved.folder_id) == ("b.txt", docs.id)
        types = [e.type for e in store.memory_publisher.published]
        assert types[-2:] == ["upload.renamed", "upload.moved"]
        assert (await store.move(alice, file.id, None)).folder_id is None

    async def test_a_move_or_rename_onto_a_taken_name_is_a_conflict(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        await upload_into(store, alice, "a.txt", docs.id)
        mine = await stored_upload(store, alice, "A.TXT")
        other = await stored_upload(store, alice, "other.txt")
        with pytest.raises(NameTaken):
            await store.move(alice, mine.id, docs.id)
        with pytest.raises(NameTaken):
            await store.rename(alice, other.id, "a.txt")
        with pytest.raises(InvalidInput, match="folder to put it in does not exist"):
            await store.move(alice, mine.id, "01890000-0000-7000-8000-000000000000")
        assert (await store.get_upload(alice, mine.id)).folder_id is None

    async def test_pending_uploads_are_listed_newest_first(
        self, store: FileStore, alice: Actor
    ) -> None:
        first = await store.request_upload(alice, "1", size=1, content_type="a/b")
        second = await store.request_upload(alice, "2", size=1, content_type="a/b")
        await stored_upload(store, alice)
        page = await store.bus.handle(commands.ListUploads(alice, limit=1, pending=True))
        assert [u.id for u in page.items] == [second.upload.id]
        rest = await store.bus.handle(
            commands.ListUploads(alice, limit=1, cursor=page.next_cursor, pending=True)
        )
        assert [u.id for u in rest.items] == [first.upload.id]
        assert all(u.status is UploadStatus.PENDING for u in page.items + rest.items)
        with pytest.raises(InvalidInput):
            await store.bus.handle(commands.ListUploads(alice, pending=True, q="x"))
