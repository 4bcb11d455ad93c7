"""Helpers of the contract suites of folders, the trash and file listings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from filestore.domain.model import Folder, Upload, UploadStatus, User
from filestore.domain.ports import UnitOfWorkFactory
from tests.factories import T0, make_folder, make_upload, make_user


async def owner(uow_factory: UnitOfWorkFactory, **overrides: Any) -> User:
    user = make_user(**overrides)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def folder(
    uow_factory: UnitOfWorkFactory, user: User, name: str, parent: Folder | None = None
) -> Folder:
    """A new active folder, committed (asserting it was accepted)."""
    made = make_folder(user, name=name, parent_id=parent.id if parent else None)
    async with uow_factory() as uow:
        assert await uow.folders.add(made)
        await uow.commit()
    return made


async def stored(
    uow_factory: UnitOfWorkFactory,
    user: User,
    name: str,
    parent: Folder | None = None,
    **overrides: Any,
) -> Upload:
    """A stored file, committed."""
    upload = make_upload(
        user,
        name=name,
        folder_id=parent.id if parent else None,
        status=UploadStatus.STORED,
        stored_at=T0,
        **overrides,
    )
    async with uow_factory() as uow:
        await uow.uploads.add(upload)
        await uow.commit()
    return upload


async def trash_upload(uow_factory: UnitOfWorkFactory, upload: Upload, minutes: int = 0) -> None:
    """Put a stored file in the trash directly, `minutes` after T0."""
    async with uow_factory() as uow:
        current = await uow.uploads.get(upload.id)
        assert current is not None and current.trash(T0 + timedelta(minutes=minutes))
        await uow.uploads.update(current)
        await uow.commit()


async def trash_folder(uow_factory: UnitOfWorkFactory, made: Folder, minutes: int = 0) -> Folder:
    """Put a folder in the trash directly, `minutes` after T0; returns it as saved."""
    async with uow_factory() as uow:
        current = await uow.folders.get(made.id)
        assert current is not None and current.trash(T0 + timedelta(minutes=minutes))
        await uow.folders.trash(current)
        await uow.commit()
    return current


async def reload_upload(uow_factory: UnitOfWorkFactory, upload: Upload) -> Upload:
    async with uow_factory() as uow:
        found = await uow.uploads.get(upload.id)
    assert found is not None
    return found


async def reload_folder(uow_factory: UnitOfWorkFactory, made: Folder) -> Folder:
    async with uow_factory() as uow:
        found = await uow.folders.get(made.id)
    assert found is not None
    return found
