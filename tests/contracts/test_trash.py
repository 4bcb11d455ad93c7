"""The trash contract (`TrashRepository`, and what the trash does to share listings): what
was trashed directly, in one listing of files and folders; on every unit-of-work adapter."""

from __future__ import annotations

from datetime import timedelta

from filestore.domain.model import Folder, Upload
from filestore.domain.ports import TrashedFiles, TrashPosition, UnitOfWorkFactory
from tests.contracts.organize_support import (
    folder,
    owner,
    stored,
    trash_folder,
    trash_upload,
)
from tests.factories import T0, make_share


def _kinds(items: list[Upload | Folder]) -> list[tuple[str, str]]:
    return [("upload" if isinstance(i, Upload) else "folder", i.id) for i in items]


async def test_the_trash_lists_what_was_trashed_directly_most_recent_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    inside = await stored(uow_factory, alice, "inside.txt", parent=a)
    sub = await folder(uow_factory, alice, "sub", parent=a)
    first = await stored(uow_factory, alice, "first.txt")
    same_time = await stored(uow_factory, alice, "same-time.txt")
    await trash_upload(uow_factory, first, minutes=1)
    await trash_upload(uow_factory, same_time, minutes=1)
    await trash_folder(uow_factory, a, minutes=2)
    bobs = await stored(uow_factory, bob, "bob.txt")
    await trash_upload(uow_factory, bobs, minutes=3)
    tied = sorted([first.id, same_time.id], reverse=True)
    expected = [("folder", a.id)] + [("upload", i) for i in tied]
    async with uow_factory() as uow:
        everything = await uow.trash.list_for_sub(alice.sub, 10)
        page = await uow.trash.list_for_sub(alice.sub, 2)
        last = page[-1]
        assert last.trashed_at is not None
        rest = await uow.trash.list_for_sub(alice.sub, 2, TrashPosition(last.trashed_at, last.id))
        assert await uow.trash.list_for_sub("sub-of-nobody", 10) == []
    assert _kinds(everything) == expected
    assert _kinds(page + rest) == expected
    assert inside.id not in {i.id for i in everything} and sub.id not in {i.id for i in everything}
    listed = everything[0]
    assert isinstance(listed, Folder) and listed.name == "a"
    assert listed.trashed_at == T0 + timedelta(minutes=2)
    file = everything[1]
    assert isinstance(file, Upload) and file.size == first.size


async def test_a_trash_item_is_found_by_its_owner_only_while_trashed_directly(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    inside = await stored(uow_factory, alice, "inside.txt", parent=a)
    file = await stored(uow_factory, alice, "file.txt")
    live = await stored(uow_factory, alice, "live.txt")
    await trash_folder(uow_factory, a)
    await trash_upload(uow_factory, file)
    async with uow_factory() as uow:
        found_folder = await uow.trash.get_for_sub(a.id, alice.sub)
        found_file = await uow.trash.get_for_sub(file.id, alice.sub)
        assert await uow.trash.get_for_sub(a.id, bob.sub) is None
        assert await uow.trash.get_for_sub(inside.id, alice.sub) is None
        assert await uow.trash.get_for_sub(live.id, alice.sub) is None
    assert isinstance(found_folder, Folder) and found_folder.id == a.id
    assert isinstance(found_file, Upload) and found_file.id == file.id


async def test_a_trash_item_is_found_with_the_files_trashed_with_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    inside = await stored(uow_factory, alice, "inside.txt", parent=a)
    sub = await folder(uow_factory, alice, "sub", parent=a)
    deep = await stored(uow_factory, alice, "deep.txt", parent=sub)
    alone = await stored(uow_factory, alice, "alone.txt", parent=a)
    await trash_upload(uow_factory, alone, minutes=1)  # before its folder: an item of its own
    await trash_folder(uow_factory, a, minutes=2)
    file = await stored(uow_factory, alice, "file.txt")
    await trash_upload(uow_factory, file, minutes=3)
    async with uow_factory() as uow:
        found_folder = await uow.trash.get_with_files_for_sub(a.id, alice.sub, 10)
        found_file = await uow.trash.get_with_files_for_sub(file.id, alice.sub, 10)
        found_alone = await uow.trash.get_with_files_for_sub(alone.id, alice.sub, 10)
        assert await uow.trash.get_with_files_for_sub(a.id, bob.sub, 10) is None
        assert await uow.trash.get_with_files_for_sub(inside.id, alice.sub, 10) is None
        assert await uow.trash.get_with_files_for_sub(sub.id, alice.sub, 10) is None
        assert await uow.trash.get_with_files_for_sub(a.id, "sub-of-nobody", 10) is None
        first_key = await uow.trash.get_with_files_for_sub(a.id, alice.sub, 1)
    assert found_folder is not None and found_file is not None and found_alone is not None
    item, files = found_folder
    assert isinstance(item, Folder) and item.id == a.id and item.name == "a"
    keys = sorted([inside.object_key, deep.object_key])
    assert files == TrashedFiles(2, inside.size + deep.size, keys)
    # a page of keys, never more: the count and the size still tell of them all
    assert first_key is not None and first_key[1] == TrashedFiles(2, files.size, keys[:1])
    assert isinstance(found_file[0], Upload) and found_file[1] == TrashedFiles(0, 0, [])
    assert found_file[0].id == file.id
    assert isinstance(found_alone[0], Upload) and found_alone[0].id == alone.id
    assert found_alone[1] == TrashedFiles(0, 0, [])


async def test_the_object_keys_of_a_folders_files_are_read_a_page_at_a_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """What a purge reads of a folder's files is bounded: their count and size, and their
    object keys a page at a time, in key order, before and after the purge's write."""
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    sub = await folder(uow_factory, alice, "sub", parent=a)
    made = [await stored(uow_factory, alice, f"{n}.txt", parent=a, size=n) for n in (1, 2)]
    made += [await stored(uow_factory, alice, f"{n}.txt", parent=sub, size=n) for n in (3, 4, 5)]
    await stored(uow_factory, bob, "other.txt")
    trashed = await trash_folder(uow_factory, a)
    keys = sorted(u.object_key for u in made)
    async with uow_factory() as uow:
        assert await uow.uploads.files_trashed_with(alice.id, a.id, 2) == TrashedFiles(
            5, 15, keys[:2]
        )
        assert await uow.uploads.files_trashed_with(bob.id, a.id, 2) == TrashedFiles(0, 0, [])
        assert await uow.uploads.object_keys_trashed_with(alice.id, a.id, 2, keys[1]) == keys[2:4]
        assert await uow.uploads.object_keys_trashed_with(alice.id, a.id, 2, keys[3]) == keys[4:]
        assert await uow.uploads.object_keys_trashed_with(bob.id, a.id, 2, "") == []
        trashed.purge(T0, files=5, size=15)
        await uow.folders.purge(trashed, release_bytes=15, now=T0)
        await uow.commit()
    async with uow_factory() as uow:  # after the purge: deleted with it, read on all the same
        assert await uow.uploads.files_trashed_with(alice.id, a.id, 2) == TrashedFiles(0, 0, [])
        assert await uow.uploads.object_keys_trashed_with(alice.id, a.id, 3, "") == keys[:3]
        assert await uow.uploads.object_keys_trashed_with(alice.id, a.id, 3, keys[2]) == keys[3:]


async def test_expired_items_of_every_user_come_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    old = await stored(uow_factory, alice, "old.txt")
    older = await folder(uow_factory, bob, "older")
    new = await stored(uow_factory, alice, "new.txt")
    await trash_upload(uow_factory, old, minutes=10)
    await trash_folder(uow_factory, older, minutes=5)
    await trash_upload(uow_factory, new, minutes=60)
    cutoff = T0 + timedelta(minutes=30)
    async with uow_factory() as uow:
        expired = await uow.trash.list_expired(cutoff, 10)
        first = await uow.trash.list_expired(cutoff, 1)
        assert first[0].trashed_at is not None
        after = TrashPosition(first[0].trashed_at, first[0].id)
        rest = await uow.trash.list_expired(cutoff, 10, after)
    assert _kinds(expired) == [("folder", older.id), ("upload", old.id)]
    assert _kinds(first + rest) == _kinds(expired)


async def test_a_trashed_file_has_no_share_list_and_a_restored_one_lists_only_new_links(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    file = await stored(uow_factory, alice, "shared.txt")
    old_link = make_share(file, created_at=T0, expires_at=T0 + timedelta(days=7))
    async with uow_factory() as uow:
        await uow.shares.add(old_link)
        await uow.commit()
    await trash_upload(uow_factory, file, minutes=1)
    now = T0 + timedelta(minutes=2)
    async with uow_factory() as uow:
        assert await uow.shares.list_live_for_sub(file.id, alice.sub, now) is None
        trashed = await uow.uploads.get(file.id)
        assert trashed is not None
        trashed.restore(now, folder_id=None, name=trashed.name)
        assert await uow.uploads.place(trashed)
        await uow.commit()
    same_instant = make_share(file, created_at=now, expires_at=T0 + timedelta(days=7))
    new_link = make_share(
        file, created_at=now + timedelta(microseconds=1), expires_at=T0 + timedelta(days=7)
    )
    async with uow_factory() as uow:
        await uow.shares.add(same_instant)
        await uow.shares.add(new_link)
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.shares.list_live_for_sub(file.id, alice.sub, now)
        found = await uow.shares.get_with_upload(old_link.token)
    assert live is not None and [s.token for s in live] == [new_link.token]
    # The old link still resolves to its row; the upload says it no longer honours it.
    assert found is not None
    share, upload = found
    assert not upload.honours(share) and upload.honours(new_link)
    assert not upload.honours(same_instant)
