"""Use cases of the trash, on the in-memory system: delete moves there, restore brings back,
delete forever and the sweep's purge free the bytes and the objects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from filestore.app import FileStore
from filestore.domain import commands, events
from filestore.domain.commands import Actor
from filestore.domain.errors import NotFound
from filestore.domain.handlers import TrashPage
from filestore.domain.model import Folder, Upload
from tests.support.clock import FakeClock
from tests.unit.test_folders import upload_into
from tests.unit.test_uploads import DATA, stored_upload


def published(store: FileStore, kind: str) -> list[events.Event]:
    return [e for e in store.memory_publisher.published if e.type == kind]


class TestTrash:
    async def test_a_deleted_file_waits_in_the_trash_until_its_purge_date(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        file = await stored_upload(store, alice)
        await store.delete(alice, file.id)
        page = await store.trash(alice)
        assert [i.item.id for i in page.items] == [file.id]
        assert page.items[0].purge_at == clock.now() + timedelta(days=30)
        for use in (store.get_upload, store.download, store.shares):
            with pytest.raises(NotFound):
                await use(alice, file.id)
        with pytest.raises(NotFound):
            await store.rename(alice, file.id, "x.txt")
        assert (await store.bus.handle(commands.ListUploads(alice))).items == []

    async def test_a_folder_goes_to_the_trash_with_everything_in_it_listed_once(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        inner = await store.create_folder(alice, "inner", parent_id=docs.id)
        file, _ = await upload_into(store, alice, "a.txt", inner.id)
        await store.delete_folder(alice, docs.id)
        await store.delete_folder(alice, docs.id)  # again: fine
        page = await store.trash(alice)
        assert [i.item.id for i in page.items] == [docs.id]
        assert len(published(store, "folder.trashed")) == 1
        with pytest.raises(NotFound):
            await store.get_upload(alice, file.id)
        with pytest.raises(NotFound):
            await store.list_folders(alice, parent_id=docs.id)
        assert (await store.me(alice)).used_bytes == len(DATA)

    async def test_a_restored_folder_comes_back_whole_and_renamed_on_a_clash(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        file, _ = await upload_into(store, alice, "a.txt", docs.id)
        await store.delete_folder(alice, docs.id)
        await store.create_folder(alice, "docs")
        restored = await store.restore(alice, docs.id)
        assert isinstance(restored, Folder) and restored.name == "Docs (2)"
        assert (await store.get_upload(alice, file.id)).folder_id == docs.id
        assert (await store.trash(alice)).items == []
        assert len(published(store, "folder.restored")) == 1

    async def test_a_restored_file_goes_to_the_root_when_its_folder_is_gone(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        file, _ = await upload_into(store, alice, "a.txt", docs.id)
        await store.delete(alice, file.id)
        await store.delete_folder(alice, docs.id)
        await stored_upload(store, alice, "a.txt")
        restored = await store.restore(alice, file.id)
        assert isinstance(restored, Upload)
        assert (restored.folder_id, restored.name) == (None, "a (2).txt")
        kinds = [e.type for e in store.memory_publisher.published]
        assert kinds[-1] == "upload.restored"

    async def test_share_links_of_a_trashed_file_stay_dead_after_a_restore(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        file = await stored_upload(store, alice)
        share = await store.share(alice, file.id, expires_in=3600)
        await store.delete(alice, file.id)
        with pytest.raises(NotFound):
            await store.resolve_share(share.token)
        await store.restore(alice, file.id)
        with pytest.raises(NotFound):
            await store.resolve_share(share.token)
        assert await store.shares(alice, file.id) == []
        clock.advance(timedelta(microseconds=1))
        fresh = await store.share(alice, file.id, expires_in=3600)
        assert (await store.resolve_share(fresh.token)).name == file.name

    async def test_only_what_was_trashed_directly_and_is_yours_can_be_restored(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        file, _ = await upload_into(store, alice, "a.txt", docs.id)
        live = await stored_upload(store, alice, "live.txt")
        await store.delete_folder(alice, docs.id)
        for actor, item in ((alice, file.id), (bob, docs.id), (alice, live.id), (alice, "x")):
            with pytest.raises(NotFound):
                await store.restore(actor, item)
            with pytest.raises(NotFound):
                await store.delete_forever(actor, item)

    async def test_deleting_a_folder_forever_frees_its_files(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        files = [(await upload_into(store, alice, f"{i}.txt", docs.id))[0] for i in range(3)]
        await store.delete_folder(alice, docs.id)
        await store.delete_forever(alice, docs.id)
        assert (await store.me(alice)).used_bytes == 0
        for file in files:
            assert await store.services.blobs.head(file.object_key) is None
        [deleted] = published(store, "folder.deleted")
        assert isinstance(deleted, events.FolderDeleted)
        assert (deleted.files, deleted.size) == (3, 3 * len(DATA))
        assert published(store, "upload.deleted") == []
        await store.delete_folder(alice, docs.id)  # again, long gone: still fine

    async def test_emptying_the_trash_deletes_everything_in_it(
        self, store: FileStore, alice: Actor
    ) -> None:
        docs = await store.create_folder(alice, "Docs")
        await upload_into(store, alice, "a.txt", docs.id)
        loose = await stored_upload(store, alice, "b.txt")
        kept = await stored_upload(store, alice, "c.txt")
        await store.delete_folder(alice, docs.id)
        await store.delete(alice, loose.id)
        assert await store.empty_trash(alice) == 2
        page: TrashPage = await store.trash(alice)
        assert page.items == []
        assert (await store.me(alice)).used_bytes == len(DATA)
        assert (await store.get_upload(alice, kept.id)).id == kept.id
        assert len(published(store, "upload.deleted")) == 1

    async def test_the_sweep_purges_what_stayed_longer_than_the_retention(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        old = await stored_upload(store, alice, "old.txt")
        docs = await store.create_folder(alice, "Docs")
        await upload_into(store, alice, "in.txt", docs.id)
        await store.delete(alice, old.id)
        await store.delete_folder(alice, docs.id)
        clock.advance(timedelta(days=29))
        young = await stored_upload(store, alice, "young.txt")
        await store.delete(alice, young.id)
        clock.advance(timedelta(days=1, seconds=1))
        report = await store.reconcile()
        assert report.purged == 2
        assert [i.item.id for i in (await store.trash(alice)).items] == [young.id]
        assert (await store.me(alice)).used_bytes == len(DATA)
        assert await store.services.blobs.head(old.object_key) is None
        [deleted] = published(store, "upload.deleted")
        assert isinstance(deleted, events.UploadDeleted) and deleted.upload.id == old.id
        assert (await store.reconcile()).purged == 0

    async def test_the_trash_pages_most_recent_first(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        files = [await stored_upload(store, alice, f"{i}.txt") for i in range(3)]
        for file in files:
            clock.advance(timedelta(seconds=1))
            await store.delete(alice, file.id)
        first: TrashPage = await store.bus.handle(commands.ListTrash(alice, limit=2))
        rest: TrashPage = await store.bus.handle(
            commands.ListTrash(alice, limit=2, cursor=first.next_cursor)
        )
        assert [i.item.id for i in first.items + rest.items] == [f.id for f in reversed(files)]
        assert rest.next_cursor is None
