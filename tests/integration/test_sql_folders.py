"""Folders and the trash on the SQL adapters, beyond the shared contract: the set-based
statements (a subtree moved, trashed, restored and purged at once), names compared by their
keys whatever their length, the same answers from SQLite, MySQL and the Data API.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from filestore.domain.model import Folder, FolderStatus, Upload, UploadStatus, User
from filestore.domain.ports import ANY_FOLDER, FileQuery, SortField, SortPosition
from filestore.domain.ports import UnitOfWorkFactory as Factory
from tests.factories import T0, make_upload, make_user

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "mysql", "dataapi"])
def uow_factory(request: pytest.FixtureRequest) -> Factory:
    factory: Factory = request.getfixturevalue(f"uow_factory_{request.param}")
    return factory


def folder(owner: User, name: str, parent: Folder | None = None, **fields: object) -> Folder:
    from filestore.domain.ids import uuid7

    return Folder.create(
        id=str(fields.pop("id", uuid7())),
        owner_id=owner.id,
        name=name,
        parent_id=parent.id if parent else None,
        now=T0,
    )


def stored(owner: User, name: str, where: Folder | None = None, **fields: object) -> Upload:
    return make_upload(
        owner,
        name=name,
        folder_id=where.id if where else None,
        status=UploadStatus.STORED,
        stored_at=T0,
        **fields,
    )


async def setup(factory: Factory, user: User, *items: Folder | Upload) -> None:
    async with factory() as uow:
        await uow.users.add(user)
        for item in items:
            if isinstance(item, Folder):
                assert await uow.folders.add(item)
            else:
                await uow.uploads.add(item)
        await uow.commit()


async def test_a_folder_moves_with_its_subtree_and_never_into_it(uow_factory: Factory) -> None:
    user = make_user()
    a = folder(user, "a")
    b = folder(user, "b", a)
    c = folder(user, "c", b)
    other = folder(user, "other")
    deep = stored(user, "deep.txt", c)
    await setup(uow_factory, user, a, b, c, other, deep)
    for target in (b, c, a):  # below itself, or itself
        async with uow_factory() as uow:
            moving = await uow.folders.get_for_sub(a.id, user.sub)
            assert moving is not None
            moving.parent_id = target.id
            assert not await uow.folders.update(moving)
    async with uow_factory() as uow:
        moving = await uow.folders.get_for_sub(a.id, user.sub)
        assert moving is not None
        moving.move(other.id, T0)
        assert await uow.folders.update(moving)
        await uow.commit()
    async with uow_factory() as uow:
        path = await uow.folders.get_path_for_sub(c.id, user.sub)
        assert [f.name for f in path] == ["other", "a", "b", "c"]
        # `other` is now above `c`: moving it below `c` would make a cycle.
        looping = await uow.folders.get_for_sub(other.id, user.sub)
        assert looping is not None
        looping.move(c.id, T0)
        assert not await uow.folders.update(looping)
        in_c = await uow.uploads.list_files_for_sub(user.sub, FileQuery(folder=c.id), 10)
        assert [u.id for u in in_c or []] == [deep.id]


async def test_names_clash_across_files_and_folders_by_their_keys(uow_factory: Factory) -> None:
    user = make_user()
    docs = folder(user, "Docs")
    report = stored(user, "Report.pdf", docs)
    long_name = "ß" * 255  # its key is 510 letters: longer than any index would take
    await setup(uow_factory, user, docs, report, stored(user, long_name, docs))
    async with uow_factory() as uow:
        assert not await uow.folders.add(folder(user, "docs"))  # a folder in the root
        assert not await uow.folders.add(folder(user, "REPORT.PDF", docs))  # a file there
        assert not await uow.folders.add(folder(user, "SS" * 255, docs))
        assert await uow.folders.add(folder(user, "report.pdf"))  # elsewhere: fine
        clash = await uow.folders.find_clash(user.id, docs.id, "report.PDF")
        assert clash is not None and (clash.kind, clash.id) == ("upload", report.id)
        unclashed = await uow.folders.find_clash(
            user.id, docs.id, "REPORT.pdf", excluding=report.id
        )
        assert unclashed is None
        copy = stored(user, "x.pdf")
        await uow.uploads.add(copy)
        copy.name, copy.folder_id = "report.pdf", docs.id
        assert not await uow.uploads.place(copy)
        copy.name = "report (2).pdf"
        assert await uow.uploads.place(copy)
        assert await uow.folders.names_like(user.id, docs.id, "REPORT.pdf") == {
            "report.pdf",
            "report (2).pdf",
        }
        await uow.commit()


async def test_trash_restore_and_purge_act_on_what_went_together(uow_factory: Factory) -> None:
    user = make_user()
    top = folder(user, "top")
    inner = folder(user, "inner", top)
    alone = stored(user, "alone.txt", inner, size=10)  # trashed on its own first
    files = [stored(user, f"f{i}.txt", inner if i % 2 else top, size=100) for i in range(6)]
    await setup(uow_factory, user, top, inner, alone, *files)
    async with uow_factory() as uow:
        trashed = await uow.uploads.get(alone.id)
        assert trashed is not None and trashed.trash(T0)
        await uow.uploads.update(trashed)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.folders.get_for_sub(top.id, user.sub)
        assert loaded is not None and loaded.trash(T0 + timedelta(seconds=1))
        await uow.folders.trash(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.uploads.list_files_for_sub(user.sub, FileQuery(), 100)
        assert listed == []
        assert await uow.folders.list_for_sub(user.sub, top.id, 10) is None
        trash = await uow.trash.list_for_sub(user.sub, 10)
        assert [item.id for item in trash] == [top.id, alone.id]  # newest first
        went_with = await uow.uploads.files_trashed_with(user.id, top.id, 100)
        assert went_with.object_keys == sorted(f.object_key for f in files)
        got = await uow.trash.get_for_sub(top.id, user.sub)
        assert isinstance(got, Folder) and got.status is FolderStatus.TRASHED
        assert await uow.trash.get_for_sub(inner.id, user.sub) is None  # went along
        expired = await uow.trash.list_expired(T0 + timedelta(days=1), 10)
        assert [item.id for item in expired] == [alone.id, top.id]  # oldest first
    async with uow_factory() as uow:
        loaded = await uow.folders.get_for_sub(top.id, user.sub)
        assert loaded is not None
        loaded.restore(T0 + timedelta(seconds=2), parent_id=None, name="top")
        assert await uow.folders.restore(loaded, now=T0 + timedelta(seconds=2))
        await uow.commit()
    async with uow_factory() as uow:
        back = await uow.uploads.list_files_for_sub(
            user.sub, FileQuery(sort=SortField.NAME, descending=False), 100
        )
        assert [u.name for u in back or []] == [f"f{i}.txt" for i in range(6)]
        assert all(u.restored_at == T0 + timedelta(seconds=2) for u in back or [])
        assert [f.id for f in await uow.folders.list_for_sub(user.sub, top.id, 10) or []] == [
            inner.id
        ]
        assert [item.id for item in await uow.trash.list_for_sub(user.sub, 10)] == [alone.id]
    # Trash again, then delete forever: the quota gets the files' bytes back.
    async with uow_factory() as uow:
        owner = await uow.users.get(user.id)
        assert owner is not None
        owner.used_bytes = 610
        await uow.users.update(owner)
        loaded = await uow.folders.get_for_sub(top.id, user.sub)
        assert loaded is not None and loaded.trash(T0 + timedelta(seconds=3))
        await uow.folders.trash(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.folders.get_for_sub(top.id, user.sub)
        assert loaded is not None
        loaded.purge(T0, files=6, size=600)
        await uow.folders.purge(loaded, release_bytes=600, now=T0)
        await uow.commit()
    async with uow_factory() as uow:
        owner = await uow.users.get(user.id)
        assert owner is not None and owner.used_bytes == 10
        assert [item.id for item in await uow.trash.list_for_sub(user.sub, 10)] == [alone.id]
        for f in files:
            gone = await uow.uploads.get(f.id)
            assert gone is not None and gone.status is UploadStatus.DELETED
        gone_folder = await uow.folders.get_for_sub(inner.id, user.sub)
        assert gone_folder is not None and gone_folder.status is FolderStatus.DELETED


@pytest.mark.parametrize("sort", list(SortField))
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("where", ["any", "root", "folder"])
async def test_every_sort_pages_through_each_file_once_in_order(
    uow_factory: Factory, sort: SortField, descending: bool, where: str
) -> None:
    user = make_user()
    box = folder(user, "box")
    names = ["b.txt", "A.txt", "é.txt", "E2.txt", "a (2).txt", "z.txt", "Zz.txt"]
    files = [
        stored(
            user,
            name,
            box if (where == "folder") == (i % 3 != 0) and where != "any" else None,
            size=(i * 7) % 4,  # ties on size: the id decides
            created_at=T0 + timedelta(microseconds=i // 2),  # and on time
        )
        for i, name in enumerate(names)
    ]
    await setup(uow_factory, user, box, *files)
    scope = {"any": ANY_FOLDER, "root": None, "folder": box.id}[where]
    query = FileQuery(folder=scope, sort=sort, descending=descending)
    expected = sorted(
        (f for f in files if scope == ANY_FOLDER or f.folder_id == scope),
        key=lambda f: (query.key_of(f), f.id),
        reverse=descending,
    )
    got: list[str] = []
    after: SortPosition | None = None
    async with uow_factory() as uow:
        while True:
            page = await uow.uploads.list_files_for_sub(user.sub, query, 2, after)
            assert page is not None
            got += [u.id for u in page]
            if len(page) < 2:
                break
            after = SortPosition(query.key_of(page[-1]), page[-1].id)
    assert got == [f.id for f in expected]


async def test_search_ignores_case_and_accents_within_a_folder_or_all(
    uow_factory: Factory,
) -> None:
    from filestore.domain.names import search_key

    user = make_user()
    cv = folder(user, "cv")
    resume = stored(user, "Résumé.pdf", cv)
    other = stored(user, "RESUME-old.txt")
    await setup(uow_factory, user, cv, resume, other, stored(user, "notes.txt"))
    async with uow_factory() as uow:
        everywhere = await uow.uploads.list_files_for_sub(
            user.sub, FileQuery(contains=search_key("resume"), descending=False), 10
        )
        assert [u.id for u in everywhere or []] == sorted([resume.id, other.id])
        in_cv = await uow.uploads.list_files_for_sub(
            user.sub, FileQuery(folder=cv.id, contains=search_key("RÉSU")), 10
        )
        assert [u.id for u in in_cv or []] == [resume.id]
        percent = await uow.uploads.list_files_for_sub(
            user.sub, FileQuery(contains=search_key("%")), 10
        )
        assert percent == []  # a plain substring: no wildcard
