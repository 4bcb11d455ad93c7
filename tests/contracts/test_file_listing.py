"""The file listings (`UploadRepository.list_files_for_sub`, `list_pending_for_sub`) and the
conditional placement of a file (`place`), on every unit-of-work adapter: each sort in each
direction pages through every file once with its keyset; search ignores case and accents."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from filestore.domain.model import Upload, UploadStatus
from filestore.domain.names import search_key
from filestore.domain.ports import (
    ANY_FOLDER,
    FileQuery,
    ListPosition,
    SortField,
    SortPosition,
    UnitOfWorkFactory,
)
from tests.contracts.organize_support import (
    folder,
    owner,
    reload_upload,
    stored,
    trash_folder,
    trash_upload,
)
from tests.factories import T0, make_upload

# Distinct by their keys (a folder holds each name once), close in every order.
NAMES = ["b.txt", "A.txt", "é.txt", "e.txt", "Z.txt", "a (2).txt", "10.txt", "9.txt", "ß.txt"]


async def _pages(
    uow_factory: UnitOfWorkFactory, sub: str, query: FileQuery, limit: int
) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    async with uow_factory() as uow:
        for _ in range(20):
            page = await uow.uploads.list_files_for_sub(sub, query, limit, after)
            assert page is not None
            if not page:
                return pages
            pages.append([u.id for u in page])
            after = SortPosition(query.key_of(page[-1]), page[-1].id)
    raise AssertionError("the listing did not end")


@pytest.mark.parametrize("sort", list(SortField))
@pytest.mark.parametrize("descending", [True, False])
async def test_every_sort_pages_through_every_file_once_in_order(
    uow_factory: UnitOfWorkFactory, sort: SortField, descending: bool
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    files: list[Upload] = []
    for i, name in enumerate(NAMES):
        # Ties: two files share each time and each size; the id breaks them.
        files.append(
            await stored(
                uow_factory,
                alice,
                name,
                created_at=T0 + timedelta(seconds=i // 2),
                size=100 * (i // 2),
            )
        )
    await stored(uow_factory, bob, "bob.txt")
    query = FileQuery(sort=sort, descending=descending)
    ordered = sorted(files, key=lambda u: (query.key_of(u), u.id), reverse=descending)
    ids = [u.id for u in ordered]
    assert await _pages(uow_factory, alice.sub, query, 4) == [ids[0:4], ids[4:8], ids[8:9]]


async def test_a_listing_of_one_folder_shows_only_its_stored_files(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    docs = await folder(uow_factory, alice, "docs")
    inner = await folder(uow_factory, alice, "inner", parent=docs)
    in_root = await stored(uow_factory, alice, "root.txt")
    in_docs = await stored(uow_factory, alice, "docs.txt", parent=docs)
    in_inner = await stored(uow_factory, alice, "inner.txt", parent=inner)
    gone = await stored(uow_factory, alice, "gone.txt", parent=docs)
    await trash_upload(uow_factory, gone)
    async with uow_factory() as uow:
        await uow.uploads.add(make_upload(alice, name="pending.txt", folder_id=docs.id))
        await uow.commit()
    bobs = await folder(uow_factory, bob, "bob's")
    trashed = await folder(uow_factory, alice, "trashed")
    await trash_folder(uow_factory, trashed)

    async def listed(folder_id: str | None) -> list[str] | None:
        async with uow_factory() as uow:
            rows = await uow.uploads.list_files_for_sub(alice.sub, FileQuery(folder_id), 50)
        return None if rows is None else sorted(u.id for u in rows)

    assert await listed(None) == [in_root.id]
    assert await listed(docs.id) == [in_docs.id]
    assert await listed(ANY_FOLDER) == sorted([in_root.id, in_docs.id, in_inner.id])
    assert await listed(bobs.id) is None
    assert await listed(trashed.id) is None
    assert await listed("01890000-0000-7000-8000-000000000000") is None
    async with uow_factory() as uow:
        assert await uow.uploads.list_files_for_sub("sub-of-nobody", FileQuery(), 5) == []


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("resume", {"Résumé.pdf", "RESUME-final.txt"}),
        ("RÉSUMÉ", {"Résumé.pdf", "RESUME-final.txt"}),
        ("file", {"ﬁle.txt", "my file.txt"}),  # the ligature decomposes
        ("%", {"100%.txt"}),  # wildcards are plain characters
        ("_", {"a_b.txt"}),
        ("\\", set()),
        (".TXT", {"RESUME-final.txt", "ﬁle.txt", "my file.txt", "100%.txt", "a_b.txt"}),
    ],
)
async def test_search_finds_names_containing_the_text_ignoring_case_and_accents(
    uow_factory: UnitOfWorkFactory, q: str, found: set[str]
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    names = ["Résumé.pdf", "RESUME-final.txt", "ﬁle.txt", "my file.txt", "100%.txt", "a_b.txt"]
    for name in names:
        await stored(uow_factory, alice, name)
    await stored(uow_factory, bob, "resume.pdf")
    gone = await stored(uow_factory, alice, "resume-old.pdf")
    await trash_upload(uow_factory, gone)
    query = FileQuery(contains=search_key(q), sort=SortField.NAME, descending=False)
    async with uow_factory() as uow:
        rows = await uow.uploads.list_files_for_sub(alice.sub, query, 50)
    assert rows is not None and {u.name for u in rows} == found


async def test_search_combines_with_a_folder_a_sort_and_a_keyset(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    docs = await folder(uow_factory, alice, "docs")
    wanted = [
        await stored(uow_factory, alice, f"report {i}.pdf", parent=docs, size=i) for i in range(5)
    ]
    await stored(uow_factory, alice, "report.pdf")  # not in the folder
    await stored(uow_factory, alice, "notes.txt", parent=docs)
    query = FileQuery(docs.id, SortField.SIZE, True, search_key("REPORT"))
    ids = [u.id for u in reversed(wanted)]
    assert await _pages(uow_factory, alice.sub, query, 2) == [ids[0:2], ids[2:4], ids[4:5]]


async def test_pending_uploads_are_listed_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    pending = [make_upload(alice, created_at=T0 + timedelta(seconds=i)) for i in range(3)]
    async with uow_factory() as uow:
        for upload in pending:
            await uow.uploads.add(upload)
        await uow.uploads.add(make_upload(bob))
        await uow.commit()
    await stored(uow_factory, alice, "done.txt")
    async with uow_factory() as uow:
        first = await uow.uploads.list_pending_for_sub(alice.sub, 2)
        last = first[-1]
        rest = await uow.uploads.list_pending_for_sub(
            alice.sub, 2, ListPosition(last.created_at, last.id)
        )
    assert [u.id for u in first + rest] == [pending[2].id, pending[1].id, pending[0].id]


async def test_a_file_is_placed_only_where_its_name_is_free(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    docs = await folder(uow_factory, alice, "docs")
    await stored(uow_factory, alice, "Taken.txt", parent=docs)
    await folder(uow_factory, alice, "Folder", parent=docs)
    file = await stored(uow_factory, alice, "mine.txt")
    for name in ("taken.TXT", "folder"):
        async with uow_factory() as uow:
            moving = await uow.uploads.get(file.id)
            assert moving is not None
            moving.rename(name, T0)
            moving.move(docs.id, T0)
            assert not await uow.uploads.place(moving)
    async with uow_factory() as uow:
        moving = await uow.uploads.get(file.id)
        assert moving is not None
        moving.move(docs.id, T0)
        assert await uow.uploads.place(moving)
        await uow.commit()
    moved = await reload_upload(uow_factory, file)
    assert (moved.folder_id, moved.name, moved.version) == (docs.id, "mine.txt", 2)


async def test_a_file_is_placed_only_in_an_active_folder_of_its_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await owner(uow_factory), await owner(uow_factory)
    bobs = await folder(uow_factory, bob, "bob's")
    trashed = await folder(uow_factory, alice, "trashed")
    await trash_folder(uow_factory, trashed)
    file = await stored(uow_factory, alice, "mine.txt")
    for target in (bobs.id, trashed.id, "01890000-0000-7000-8000-000000000000"):
        async with uow_factory() as uow:
            moving = await uow.uploads.get(file.id)
            assert moving is not None
            moving.move(target, T0)
            assert not await uow.uploads.place(moving)


async def test_a_pending_file_holds_no_name_and_a_stale_one_is_not_placed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    await stored(uow_factory, alice, "same.txt")
    pending = make_upload(alice, name="other.txt")
    async with uow_factory() as uow:
        await uow.uploads.add(pending)
        await uow.commit()
    async with uow_factory() as uow:
        renamed = await uow.uploads.get(pending.id)
        assert renamed is not None
        stale = dataclasses.replace(renamed)
        renamed.rename("same.txt", T0)
        assert await uow.uploads.place(renamed)  # pending: no clash yet
        await uow.commit()
    async with uow_factory() as uow:
        stale.rename("third.txt", T0)
        assert not await uow.uploads.place(stale)
        # stored now, its name is taken
        current = await uow.uploads.get(pending.id)
        assert current is not None
        current.mark_stored(T0)
        assert not await uow.uploads.place(current)
    assert (await reload_upload(uow_factory, pending)).status is UploadStatus.PENDING
