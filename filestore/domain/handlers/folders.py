"""Use cases of folders: create, read, list, rename and move, and put in the trash."""

from __future__ import annotations

from filestore.domain import commands
from filestore.domain.errors import InvalidInput, NotFound
from filestore.domain.handlers.common import user_id_for
from filestore.domain.handlers.cursors import decode_folder_cursor, encode_folder_cursor
from filestore.domain.handlers.placement import check_destination_id, refusal
from filestore.domain.handlers.results import FolderPage, FolderWithPath
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import Folder, FolderStatus
from filestore.domain.ports import SortPosition, UnitOfWork
from filestore.domain.rules import normalize_name

LIST_LIMIT_MAX = 100
FOLDER_NAME = "folder name"


def check_folder_id(folder_id: str | None) -> None:
    """A folder id from a client that is not even the shape of one is 'not found'."""
    if folder_id is not None and not is_public_id(folder_id):
        raise NotFound("No such folder.")


async def owned_folder(uow: UnitOfWork, actor: commands.Actor, folder_id: str) -> Folder:
    """The actor's active folder `folder_id`; anything else is 'not found'."""
    check_folder_id(folder_id)
    folder = await uow.folders.get_for_sub(folder_id, actor.sub)
    if folder is None or not folder.is_active:
        raise NotFound("No such folder.")
    return folder


async def create_folder(cmd: commands.CreateFolder, services: Services) -> Folder:
    """A new folder in the root or in one of the actor's folders; a name taken there is a
    conflict naming what holds it."""
    name = normalize_name(cmd.name, FOLDER_NAME)
    check_destination_id(cmd.parent_id)
    async with services.uow() as uow:
        owner_id = await user_id_for(uow, cmd.actor, services)
        folder = Folder.create(
            id=services.ids.new_id(),
            owner_id=owner_id,
            name=name,
            parent_id=cmd.parent_id,
            now=services.clock.now(),
        )
        if not await uow.folders.add(folder):
            raise await refusal(uow, owner_id=owner_id, parent_id=cmd.parent_id, name=name)
        await uow.commit()
    return folder


async def get_folder(cmd: commands.GetFolder, services: Services) -> FolderWithPath:
    """One of the actor's folders, with the folders it is in (one query)."""
    check_folder_id(cmd.folder_id)
    async with services.uow() as uow:
        path = await uow.folders.get_path_for_sub(cmd.folder_id, cmd.actor.sub)
    if not path or not path[-1].is_active:
        raise NotFound("No such folder.")
    return FolderWithPath(path[-1], path)


async def list_folders(cmd: commands.ListFolders, services: Services) -> FolderPage:
    """One page of the folders in the root or in one of the actor's folders, by name."""
    if not 1 <= cmd.limit <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}.")
    check_folder_id(cmd.parent_id)
    after = decode_folder_cursor(cmd.parent_id, cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        rows = await uow.folders.list_for_sub(cmd.actor.sub, cmd.parent_id, cmd.limit + 1, after)
    if rows is None:
        raise NotFound("No such folder.")
    items = rows[: cmd.limit]
    next_cursor = None
    if len(rows) > cmd.limit:
        last = items[-1]
        next_cursor = encode_folder_cursor(cmd.parent_id, SortPosition(last.name_key, last.id))
    return FolderPage(items, next_cursor)


async def update_folder(cmd: commands.UpdateFolder, services: Services) -> Folder:
    """Rename and/or move a folder, with everything in it; a name taken where it goes, or a
    move into itself or below itself, is a conflict."""
    name = normalize_name(cmd.name, FOLDER_NAME) if cmd.name is not None else None
    if cmd.parent_id is not commands.UNCHANGED:
        check_destination_id(cmd.parent_id)
    now = services.clock.now()
    async with services.uow() as uow:
        folder = await owned_folder(uow, cmd.actor, cmd.folder_id)
        if name is not None:
            folder.rename(name, now)
        if cmd.parent_id is not commands.UNCHANGED:
            folder.move(cmd.parent_id, now)
        if folder.events:
            if not await uow.folders.update(folder):
                raise await refusal(
                    uow,
                    owner_id=folder.owner_id,
                    parent_id=folder.parent_id,
                    name=folder.name,
                    moving=folder,
                    excluding=folder.id,
                )
            await uow.commit()
    return folder


async def delete_folder(cmd: commands.DeleteFolder, services: Services) -> None:
    """Put a folder in the trash with everything in it (again is fine for its owner)."""
    check_folder_id(cmd.folder_id)
    async with services.uow() as uow:
        folder = await uow.folders.get_for_sub(cmd.folder_id, cmd.actor.sub)
        if folder is None:
            raise NotFound("No such folder.")
        if folder.status is not FolderStatus.ACTIVE or not folder.trash(services.clock.now()):
            return
        await uow.folders.trash(folder)
        await uow.commit()
