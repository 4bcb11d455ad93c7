"""Putting a file or folder somewhere: the name rules, and what to do when they say no.

Every write that could break the rules (a name taken in a folder, a folder moved below itself,
a folder gone meanwhile) is conditional in the repository and answers False. Only then do we
read to find out why, and either give up with an error the user can act on, or adjust (the
root instead of a folder that is gone, `name (2)` instead of a name that is taken) and try
again. The common case costs the write alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from filestore.domain.errors import ConcurrencyConflict, Conflict, InvalidInput, NameTaken
from filestore.domain.ids import is_public_id
from filestore.domain.model import Aggregate, Folder, Upload
from filestore.domain.names import free_name, name_key
from filestore.domain.ports import UnitOfWork

# Each attempt follows a change someone else made meanwhile; this many in a row is a user
# racing themselves, and the message bus runs the whole command again.
MAX_ATTEMPTS = 5


class IfTaken(StrEnum):
    """What to do when the name is taken where the thing goes."""

    REFUSE = "refuse"  # `NameTaken`, naming what holds it
    NUMBER = "number"  # take the first free of `name (2)`, `name (3)`, …


class IfGone(StrEnum):
    """What to do when the folder the thing goes to is not there (trashed, deleted, none)."""

    REFUSE = "refuse"  # `InvalidInput` (`no_such_destination`)
    ROOT = "root"  # put it in the root instead


async def active_folder(uow: UnitOfWork, owner_id: str, folder_id: str | None) -> bool:
    """Whether `folder_id` is the root or an active folder of that owner."""
    if folder_id is None:
        return True
    folder = await uow.folders.get(folder_id)
    return folder is not None and folder.owner_id == owner_id and folder.is_active


async def place_upload(
    uow: UnitOfWork,
    upload: Upload,
    change: Callable[[Upload, str, str | None], None],
    *,
    name: str,
    folder_id: str | None,
    if_taken: IfTaken,
    if_gone: IfGone,
) -> Upload:
    """Apply `change(upload, name, folder_id)` to a copy of `upload` and save it where the
    rules allow (`UploadRepository.place`); returns the copy as saved (its events are the
    ones committed). `upload` takes the saved state too, without the events."""
    asked = name
    for _ in range(MAX_ATTEMPTS):
        candidate = dataclasses.replace(upload, events=[])
        change(candidate, name, folder_id)
        if await uow.uploads.place(candidate):
            _take_state(upload, candidate)
            return candidate
        if if_taken is IfTaken.NUMBER:
            # Most likely the name is taken: one read says so and gives the next free one.
            taken = await uow.folders.names_like(upload.owner_id, folder_id, asked)
            if name_key(candidate.name) in taken:
                name = free_name(asked, taken)
                continue
        current = await uow.uploads.get(upload.id)
        if current is None or current.version != upload.version:
            raise ConcurrencyConflict("The file was changed meanwhile.")
        if not await active_folder(uow, upload.owner_id, folder_id):
            if if_gone is IfGone.REFUSE:
                raise no_such_destination()
            folder_id = None
            continue
        clash = await uow.folders.find_clash(
            upload.owner_id, folder_id, candidate.name, excluding=upload.id
        )
        if clash is None:
            continue  # it moved away meanwhile
        if if_taken is IfTaken.REFUSE:
            raise NameTaken(clash.kind, clash.id, clash.name)
        taken = await uow.folders.names_like(upload.owner_id, folder_id, asked)
        name = free_name(asked, taken)
    raise ConcurrencyConflict("The folder kept changing; try again.")


def no_such_destination() -> InvalidInput:
    """A folder named in a request's body (where to put something) that is not one of the
    caller's active folders. Invalid input rather than 'not found', so that a 404 always
    means the thing the path names; the same answer whoever's the folder is, or whether it
    exists at all."""
    return InvalidInput(
        "The folder to put it in does not exist (it may have been deleted or put in the trash)."
    )


def check_destination_id(folder_id: str | None) -> None:
    """A destination folder id from a client that is not even the shape of one."""
    if folder_id is not None and not is_public_id(folder_id):
        raise no_such_destination()


async def refusal(
    uow: UnitOfWork,
    *,
    owner_id: str,
    parent_id: str | None,
    name: str,
    moving: Folder | None = None,
    excluding: str | None = None,
) -> Exception:
    """Why a conditional write that refused to put `name` in `parent_id` did (for `moving`,
    a folder being moved, also a cycle), as the error to raise; `ConcurrencyConflict` if the
    reason went away meanwhile (the bus runs the command again)."""
    if not await active_folder(uow, owner_id, parent_id):
        return no_such_destination()
    if moving is not None:
        current = await uow.folders.get(moving.id)
        if current is None or current.version != moving.version:
            return ConcurrencyConflict("The folder was changed meanwhile.")
        if parent_id is not None and await _is_below(uow, parent_id, moving.id):
            return Conflict("A folder cannot be moved into itself or a folder inside it.")
    clash = await uow.folders.find_clash(owner_id, parent_id, name, excluding=excluding)
    if clash is not None:
        return NameTaken(clash.kind, clash.id, clash.name)
    return ConcurrencyConflict("The folder changed meanwhile.")


async def restore_folder_where_it_fits(uow: UnitOfWork, folder: Folder, now: datetime) -> Folder:
    """Restore a folder from the trash into its parent (the root if that is gone), as
    `name (2)` if its name is taken there, with everything trashed with it."""
    name, parent_id = folder.name, folder.parent_id
    for _ in range(MAX_ATTEMPTS):
        candidate = dataclasses.replace(folder, events=[])
        candidate.restore(now, parent_id=parent_id, name=name)
        if await uow.folders.restore(candidate, now=now):
            _take_state(folder, candidate)
            return candidate
        current = await uow.folders.get(folder.id)
        if current is None or current.version != folder.version:
            raise ConcurrencyConflict("The folder was changed meanwhile.")
        if not await active_folder(uow, folder.owner_id, parent_id):
            parent_id = None
            continue
        taken = await uow.folders.names_like(folder.owner_id, parent_id, folder.name)
        name = free_name(folder.name, taken, is_file=False)
    raise ConcurrencyConflict("The folder kept changing; try again.")


async def _is_below(uow: UnitOfWork, folder_id: str, ancestor_id: str) -> bool:
    """Whether `folder_id` is `ancestor_id` or inside it, walking up the stored tree."""
    seen: set[str] = set()
    current: str | None = folder_id
    while current is not None and current not in seen:
        if current == ancestor_id:
            return True
        seen.add(current)
        folder = await uow.folders.get(current)
        current = folder.parent_id if folder is not None else None
    return False


def _take_state(target: Aggregate, saved: Aggregate) -> None:
    """Give `target` the fields of `saved`, a changed copy of it, but not its events."""
    for field in dataclasses.fields(saved):
        if field.name != "events":
            setattr(target, field.name, getattr(saved, field.name))
