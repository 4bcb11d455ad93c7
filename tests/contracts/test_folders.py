"""The folder contract (`FolderRepository`): names unique within a folder by their key, moves
that cannot make a cycle, listings by name; on every unit-of-work adapter."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest

from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, NotFound
from filestore.domain.model import FolderStatus, UploadStatus
from filestore.domain.names import name_key
from filestore.domain.ports import NameClash, SortPosition, TrashedFiles, UnitOfWorkFactory
from tests.contracts.organize_support import (
    folder,
    owner,
    reload_folder,
    reload_upload,
    stored,
    trash_folder,
    trash_upload,
)
from tests.factories import T0, make_folder, make_upload


async def test_a_folder_is_read_back_by_id_and_by_its_owner_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    docs = await folder(uow_factory, alice, "Documents")
    async with uow_factory() as uow:
        by_id = await uow.folders.get(docs.id)
        mine = await uow.folders.get_for_sub(docs.id, alice.sub)
        assert await uow.folders.get_for_sub(docs.id, bob.sub) is None
        assert await uow.folders.get_for_sub(docs.id, "sub-of-nobody") is None
        assert await uow.folders.get("01890000-0000-7000-8000-000000000000") is None
    for found in (by_id, mine):
        assert found is not None
        assert (found.id, found.owner_id, found.name, found.parent_id) == (
            docs.id, alice.id, "Documents", None,
        )  # fmt: skip
        assert (found.created_at, found.status, found.version) == (T0, FolderStatus.ACTIVE, 1)
        assert (found.trashed_at, found.trashed_with) == (None, None)


async def test_adding_twice_the_same_id_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    alice = await owner(uow_factory)
    docs = await folder(uow_factory, alice, "Documents")
    async with uow_factory() as uow:
        with pytest.raises(AlreadyExists):
            await uow.folders.add(make_folder(alice, id=docs.id, name="Other"))


@pytest.mark.parametrize(
    ("taken", "asked"),
    [
        ("Report", "report"),
        ("REPORT.PDF", "report.pdf"),
        ("Straße", "STRASSE"),  # case folding, not lower-casing
        (unicodedata.normalize("NFD", "Café"), "café"),  # composed and decomposed
    ],
)
async def test_a_folder_name_taken_by_a_folder_is_refused_ignoring_case_and_composition(
    uow_factory: UnitOfWorkFactory, taken: str, asked: str
) -> None:
    alice = await owner(uow_factory)
    first = await folder(uow_factory, alice, taken)
    async with uow_factory() as uow:
        assert not await uow.folders.add(make_folder(alice, name=asked))
        clash = await uow.folders.find_clash(alice.id, None, asked)
    assert clash == NameClash("folder", first.id, taken)


async def test_a_folder_name_taken_by_a_stored_file_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    file = await stored(uow_factory, alice, "notes")
    async with uow_factory() as uow:
        assert not await uow.folders.add(make_folder(alice, name="Notes"))
        assert await uow.folders.find_clash(alice.id, None, "NOTES") == NameClash(
            "upload", file.id, "notes"
        )
        assert await uow.folders.find_clash(alice.id, None, "notes", excluding=file.id) is None


async def test_names_held_elsewhere_or_by_nothing_live_do_not_clash(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    inner = await folder(uow_factory, alice, "inner")
    await folder(uow_factory, bob, "a")  # someone else's root
    await folder(uow_factory, alice, "b", parent=inner)  # another folder
    async with uow_factory() as uow:
        await uow.uploads.add(make_upload(alice, name="c"))  # pending: holds no name
        await uow.uploads.add(make_upload(alice, name="d", status=UploadStatus.FAILED))
        await uow.commit()
    gone = await stored(uow_factory, alice, "e")
    await trash_upload(uow_factory, gone)  # trashed: holds no name
    old = await folder(uow_factory, alice, "f")
    await trash_folder(uow_factory, old)
    for name in ("a", "b", "c", "d", "e", "f"):
        async with uow_factory() as uow:
            assert await uow.folders.find_clash(alice.id, None, name) is None
            assert await uow.folders.add(make_folder(alice, name=name)), name
            await uow.commit()


async def test_a_folder_goes_only_into_an_active_folder_of_its_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    bobs = await folder(uow_factory, bob, "bob's")
    trashed = await folder(uow_factory, alice, "old")
    await trash_folder(uow_factory, trashed)
    async with uow_factory() as uow:
        assert not await uow.folders.add(make_folder(alice, name="x", parent_id=bobs.id))
        assert not await uow.folders.add(make_folder(alice, name="x", parent_id=trashed.id))
        missing = "01890000-0000-7000-8000-000000000000"
        assert not await uow.folders.add(make_folder(alice, name="x", parent_id=missing))


async def test_folders_are_listed_by_name_key_then_id_with_a_keyset(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    parent = await folder(uow_factory, alice, "parent")
    names = ["b", "A", "é", "Z", "a (2)", "10", "9", "_x", "ß"]
    made = [await folder(uow_factory, alice, name, parent=parent) for name in names]
    await folder(uow_factory, alice, "elsewhere")
    expected = [f.id for f in sorted(made, key=lambda f: (name_key(f.name), f.id))]
    pages, after = [], None
    async with uow_factory() as uow:
        for _ in range(10):
            page = await uow.folders.list_for_sub(alice.sub, parent.id, 4, after)
            assert page is not None
            if not page:
                break
            pages.append([f.id for f in page])
            after = SortPosition(page[-1].name_key, page[-1].id)
    assert pages == [expected[0:4], expected[4:8], expected[8:9]]


async def test_a_folder_listing_of_the_root_and_of_no_folder(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    top = await folder(uow_factory, alice, "top")
    await folder(uow_factory, alice, "inside", parent=top)
    bobs = await folder(uow_factory, bob, "bob's")
    trashed = await folder(uow_factory, alice, "trashed")
    await trash_folder(uow_factory, trashed)
    async with uow_factory() as uow:
        root = await uow.folders.list_for_sub(alice.sub, None, 10)
        assert root is not None and [f.id for f in root] == [top.id]
        assert await uow.folders.list_for_sub(alice.sub, bobs.id, 10) is None
        assert await uow.folders.list_for_sub(alice.sub, trashed.id, 10) is None
        assert await uow.folders.list_for_sub("sub-of-nobody", None, 10) == []


async def test_the_path_runs_from_the_outermost_folder_down(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b", parent=a)
    c = await folder(uow_factory, alice, "c", parent=b)
    async with uow_factory() as uow:
        path = await uow.folders.get_path_for_sub(c.id, alice.sub)
        assert [f.id for f in await uow.folders.get_path_for_sub(a.id, alice.sub)] == [a.id]
        assert await uow.folders.get_path_for_sub(c.id, bob.sub) == []
    assert [f.id for f in path] == [a.id, b.id, c.id]


async def test_a_rename_is_saved_unless_the_name_is_taken(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    docs = await folder(uow_factory, alice, "docs")
    await folder(uow_factory, alice, "photos")
    async with uow_factory() as uow:
        current = await uow.folders.get(docs.id)
        assert current is not None
        current.rename("PHOTOS", T0)
        assert not await uow.folders.update(current)
    async with uow_factory() as uow:
        current = await uow.folders.get(docs.id)
        assert current is not None
        current.rename("Docs", T0)  # its own name in another case: no clash with itself
        assert await uow.folders.update(current)
        await uow.commit()
    saved = await reload_folder(uow_factory, docs)
    assert (saved.name, saved.version) == ("Docs", 2)


async def test_an_update_of_a_stale_version_saves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    alice = await owner(uow_factory)
    docs = await folder(uow_factory, alice, "docs")
    async with uow_factory() as uow:
        first = await uow.folders.get(docs.id)
        second = await uow.folders.get(docs.id)
        assert first is not None and second is not None
        first.rename("one", T0)
        assert await uow.folders.update(first)
        await uow.commit()
    async with uow_factory() as uow:
        second.rename("two", T0)
        assert not await uow.folders.update(second)
    assert (await reload_folder(uow_factory, docs)).name == "one"


async def test_a_move_takes_the_subtree_along_and_never_makes_a_cycle(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b", parent=a)
    c = await folder(uow_factory, alice, "c", parent=b)
    d = await folder(uow_factory, alice, "d")
    for target in (b, c):  # below itself
        async with uow_factory() as uow:
            moving = await uow.folders.get(a.id)
            assert moving is not None
            moving.move(target.id, T0)
            assert not await uow.folders.update(moving)
    async with uow_factory() as uow:
        moving = await uow.folders.get(b.id)
        assert moving is not None
        moving.move(d.id, T0)
        assert await uow.folders.update(moving)
        await uow.commit()
    async with uow_factory() as uow:
        path = await uow.folders.get_path_for_sub(c.id, alice.sub)
        below_a = await uow.folders.list_for_sub(alice.sub, a.id, 10)
        # a into c is no cycle any more
        moving = await uow.folders.get(a.id)
        assert moving is not None
        moving.move(c.id, T0)
        assert await uow.folders.update(moving)
        await uow.commit()
    assert [f.id for f in path] == [d.id, b.id, c.id]
    assert below_a == []
    async with uow_factory() as uow:
        deep = await uow.folders.get_path_for_sub(a.id, alice.sub)
    assert [f.id for f in deep] == [d.id, b.id, c.id, a.id]


async def test_a_move_onto_a_taken_name_or_into_a_gone_folder_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    await stored(uow_factory, alice, "x", parent=a)
    x = await folder(uow_factory, alice, "X")
    gone = await folder(uow_factory, alice, "gone")
    await trash_folder(uow_factory, gone)
    for target in (a, gone):
        async with uow_factory() as uow:
            moving = await uow.folders.get(x.id)
            assert moving is not None
            moving.move(target.id, T0)
            assert not await uow.folders.update(moving)
    assert (await reload_folder(uow_factory, x)).parent_id is None


async def test_trashing_a_folder_marks_what_is_live_below_it_and_nothing_else(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b", parent=a)
    elsewhere = await folder(uow_factory, alice, "elsewhere")
    in_a = await stored(uow_factory, alice, "1.txt", parent=a)
    in_b = await stored(uow_factory, alice, "2.txt", parent=b)
    before = await stored(uow_factory, alice, "3.txt", parent=b)
    await trash_upload(uow_factory, before, minutes=1)  # trashed on its own first
    outside = await stored(uow_factory, alice, "4.txt", parent=elsewhere)
    pending = make_upload(alice, name="5.txt", folder_id=b.id)
    async with uow_factory() as uow:
        await uow.uploads.add(pending)
        await uow.commit()
    saved = await trash_folder(uow_factory, a, minutes=2)
    when = T0 + timedelta(minutes=2)
    assert saved.version == 2
    for made in (a, b):
        row = await reload_folder(uow_factory, made)
        assert (row.status, row.trashed_at, row.trashed_with) == (
            FolderStatus.TRASHED, when, a.id,
        )  # fmt: skip
    for file in (in_a, in_b):
        taken = await reload_upload(uow_factory, file)
        assert (taken.status, taken.trashed_at, taken.trashed_with, taken.updated_at) == (
            UploadStatus.TRASHED, when, a.id, when,
        )  # fmt: skip
    kept = await reload_upload(uow_factory, before)
    assert (kept.trashed_at, kept.trashed_with) == (T0 + timedelta(minutes=1), before.id)
    assert kept.updated_at == T0 + timedelta(minutes=1)  # its own trashing, not the folder's
    assert (await reload_upload(uow_factory, outside)).status is UploadStatus.STORED
    assert (await reload_upload(uow_factory, pending)).status is UploadStatus.PENDING
    assert (await reload_folder(uow_factory, elsewhere)).status is FolderStatus.ACTIVE


async def test_trashing_a_stale_folder_is_a_concurrency_conflict(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    async with uow_factory() as uow:
        stale = await uow.folders.get(a.id)
        assert stale is not None
    await trash_folder(uow_factory, a)
    async with uow_factory() as uow:
        stale.version = 1
        stale.trashed_at = None
        stale.status = FolderStatus.ACTIVE
        assert stale.trash(T0)
        with pytest.raises(ConcurrencyConflict):
            await uow.folders.trash(stale)
            await uow.commit()


async def test_restoring_a_folder_brings_back_exactly_what_went_with_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b", parent=a)
    in_b = await stored(uow_factory, alice, "2.txt", parent=b)
    before = await stored(uow_factory, alice, "3.txt", parent=b)
    await trash_upload(uow_factory, before)
    trashed = await trash_folder(uow_factory, a, minutes=1)
    restored_at = T0 + timedelta(hours=1)
    async with uow_factory() as uow:
        trashed.restore(restored_at, parent_id=None, name="a")
        assert await uow.folders.restore(trashed, now=restored_at)
        await uow.commit()
    for made in (a, b):
        row = await reload_folder(uow_factory, made)
        assert (row.status, row.trashed_at, row.trashed_with) == (FolderStatus.ACTIVE, None, None)
    back = await reload_upload(uow_factory, in_b)
    assert (back.status, back.trashed_at, back.trashed_with, back.restored_at) == (
        UploadStatus.STORED, None, None, restored_at,
    )  # fmt: skip
    assert back.folder_id == b.id
    assert back.updated_at == restored_at
    still = await reload_upload(uow_factory, before)
    assert (still.status, still.trashed_with) == (UploadStatus.TRASHED, before.id)
    assert still.updated_at < restored_at


async def test_a_restore_moves_the_subtree_where_it_is_put_unless_the_name_is_taken(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    home = await folder(uow_factory, alice, "home")
    a = await folder(uow_factory, alice, "a", parent=home)
    b = await folder(uow_factory, alice, "b", parent=a)
    await trash_folder(uow_factory, a)
    await trash_folder(uow_factory, home, minutes=1)
    await folder(uow_factory, alice, "a")  # the root's "a" now
    async with uow_factory() as uow:
        attempt = await uow.folders.get(a.id)
        assert attempt is not None
        attempt.restore(T0, parent_id=None, name="A")
        assert not await uow.folders.restore(attempt, now=T0)
    async with uow_factory() as uow:
        again = await uow.folders.get(a.id)
        assert again is not None
        again.restore(T0, parent_id=None, name="a (2)")
        assert await uow.folders.restore(again, now=T0)
        await uow.commit()
    async with uow_factory() as uow:
        path = await uow.folders.get_path_for_sub(b.id, alice.sub)
    assert [(f.id, f.name) for f in path] == [(a.id, "a (2)"), (b.id, "b")]


async def test_purging_a_folder_deletes_what_went_with_it_and_gives_the_bytes_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory, used_bytes=1000)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b", parent=a)
    one = await stored(uow_factory, alice, "1", parent=a, size=100)
    two = await stored(uow_factory, alice, "2", parent=b, size=200)
    alone = await stored(uow_factory, alice, "3", parent=b, size=300)
    await trash_upload(uow_factory, alone)
    trashed = await trash_folder(uow_factory, a, minutes=1)
    async with uow_factory() as uow:
        files = await uow.uploads.files_trashed_with(alice.id, a.id, 10)
        assert files == TrashedFiles(2, 300, sorted([one.object_key, two.object_key]))
        purged_at = T0 + timedelta(hours=1)
        trashed.purge(purged_at, files=2, size=300)
        await uow.folders.purge(trashed, release_bytes=300, now=purged_at)
        await uow.commit()
    for made in (a, b):
        assert (await reload_folder(uow_factory, made)).status is FolderStatus.DELETED
    for file in (one, two):
        gone = await reload_upload(uow_factory, file)
        assert (gone.status, gone.updated_at) == (UploadStatus.DELETED, purged_at)
    left = await reload_upload(uow_factory, alone)
    assert left.status is UploadStatus.TRASHED and left.updated_at < purged_at
    async with uow_factory() as uow:
        user = await uow.users.get(alice.id)
        assert user is not None and user.used_bytes == 700
        assert await uow.uploads.files_trashed_with(alice.id, a.id, 10) == TrashedFiles(0, 0, [])
        # purged again from what was read before: that version is gone
        trashed.status, trashed.version = FolderStatus.TRASHED, trashed.version - 1
        with pytest.raises(ConcurrencyConflict):
            await uow.folders.purge(trashed, release_bytes=0, now=T0)
            await uow.commit()


async def test_names_like_gives_every_numbered_copy_of_a_name(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    place = await folder(uow_factory, alice, "place")
    for name in ("Report.pdf", "report (2).pdf", "REPORT (3).PDF", "other.pdf"):
        await stored(uow_factory, alice, name, parent=place)
    await folder(uow_factory, alice, "report (4).pdf", parent=place)
    await stored(uow_factory, alice, "report (5).pdf")  # in the root, not there
    async with uow_factory() as uow:
        like = await uow.folders.names_like(alice.id, place.id, "report.pdf")
        percent = await uow.folders.names_like(alice.id, place.id, "%.pdf")
    assert {"report.pdf", "report (2).pdf", "report (3).pdf", "report (4).pdf"} <= like
    assert "other.pdf" not in like and "report (5).pdf" not in like
    assert percent == set()  # a wildcard character is just a character


async def test_an_upload_is_added_only_into_an_active_folder_of_its_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    mine = await folder(uow_factory, alice, "mine")
    bobs = await folder(uow_factory, bob, "bob's")
    trashed = await folder(uow_factory, alice, "trashed")
    await trash_folder(uow_factory, trashed)
    for target in (bobs.id, trashed.id, "01890000-0000-7000-8000-000000000000"):
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.uploads.add(make_upload(alice, folder_id=target))
    upload = make_upload(alice, folder_id=mine.id)
    async with uow_factory() as uow:
        await uow.uploads.add(upload)
        await uow.commit()
    assert (await reload_upload(uow_factory, upload)).folder_id == mine.id
