"""Use cases of the trash: list it, restore from it, delete forever, empty it, and the
sweep's purge of what has been there longer than the retention.

Deleting forever is final: the files' objects are removed once the database says so (after
the commit; an object left behind by a crash is an orphan the sweep of the bucket can find,
and no upload points at it any more). A folder may hold any number of files, so what a purge
reads of them is bounded: their count and size, and their object keys a page at a time (the
Data API answers at most 1 MiB a call). The database marks them all deleted in one write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from filestore.domain import commands
from filestore.domain.errors import ConcurrencyConflict, InvalidInput, NotFound
from filestore.domain.handlers.cursors import decode_trash_cursor, encode_trash_cursor
from filestore.domain.handlers.placement import (
    IfGone,
    IfTaken,
    place_upload,
    restore_folder_where_it_fits,
)
from filestore.domain.handlers.results import TrashItem, TrashPage
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import Folder, Upload
from filestore.domain.ports import TrashedFiles, TrashPosition, UnitOfWork

log = logging.getLogger(__name__)

LIST_LIMIT_MAX = 100
# Objects removed at once when a folder is deleted forever.
DELETE_CONCURRENCY = 16
# Object keys read at a time when a folder is deleted forever: as the Data API answers them, a
# page is ~100 KB on its own and ~650 KB with the item's first read (rows as wide as a trash
# item's), below its 1 MiB per call; a folder of up to this many files costs no extra read.
PURGE_PAGE = 1000


def _position(item: Upload | Folder) -> TrashPosition:
    assert item.trashed_at is not None  # a trash listing holds trashed items  # nosec B101
    return TrashPosition(item.trashed_at, item.id)


async def list_trash(cmd: commands.ListTrash, services: Services) -> TrashPage:
    """One page of what the actor put in the trash, most recent first (one query)."""
    if not 1 <= cmd.limit <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}.")
    after = decode_trash_cursor(cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        rows = await uow.trash.list_for_sub(cmd.actor.sub, cmd.limit + 1, after)
    retention = services.policy.trash_retention
    items = [TrashItem(row, _position(row).trashed_at + retention) for row in rows[: cmd.limit]]
    next_cursor = (
        encode_trash_cursor(_position(rows[cmd.limit - 1])) if len(rows) > cmd.limit else None
    )
    return TrashPage(items, next_cursor)


async def _trashed(uow: UnitOfWork, actor: commands.Actor, item_id: str) -> Upload | Folder:
    if not is_public_id(item_id):
        raise NotFound("Nothing like that in the trash.")
    item = await uow.trash.get_for_sub(item_id, actor.sub)
    if item is None:
        raise NotFound("Nothing like that in the trash.")
    return item


async def restore_from_trash(cmd: commands.RestoreFromTrash, services: Services) -> Upload | Folder:
    """Put a file or folder back where it was (the root if that folder is gone), as
    `name (2)` if its name is taken there; a folder comes back with everything that went to
    the trash with it. Share links of restored files stay dead."""
    now = services.clock.now()
    async with services.uow() as uow:
        item = await _trashed(uow, cmd.actor, cmd.item_id)
        if isinstance(item, Folder):
            restored: Upload | Folder = await restore_folder_where_it_fits(uow, item, now)
        else:
            restored = await place_upload(
                uow,
                item,
                lambda upload, name, folder_id: upload.restore(now, folder_id=folder_id, name=name),
                name=item.name,
                folder_id=item.folder_id,
                if_taken=IfTaken.NUMBER,
                if_gone=IfGone.ROOT,
            )
        await uow.commit()
    return restored


async def delete_from_trash(cmd: commands.DeleteFromTrash, services: Services) -> None:
    """Delete forever one file or folder the actor put in the trash: one read (the item, and
    the count, size and first page of object keys of the files trashed with it) and one
    write; one more read per further `PURGE_PAGE` files."""
    found = None
    if is_public_id(cmd.item_id):
        async with services.uow() as uow:
            found = await uow.trash.get_with_files_for_sub(cmd.item_id, cmd.actor.sub, PURGE_PAGE)
    if found is None:
        raise NotFound("Nothing like that in the trash.")
    item, files = found
    await purge(item, services, files)


async def empty_trash(cmd: commands.EmptyTrash, services: Services) -> int:
    """Delete forever everything the actor put in the trash; returns how many items."""
    purged = 0
    while True:
        async with services.uow() as uow:
            page = await uow.trash.list_for_sub(cmd.actor.sub, LIST_LIMIT_MAX)
        done = sum([await _purge_quietly(item, services) for item in page])
        purged += done
        # A page none of which could be purged (restored meanwhile, each of them) would come
        # back the same: stop rather than go round.
        if len(page) < LIST_LIMIT_MAX or not done:
            return purged


async def purge_expired(
    now: datetime, batch_size: int, services: Services, deadline: datetime | None = None
) -> int:
    """Delete forever what has been in the trash longer than the retention (the sweep), a
    page at a time, starting no page past `deadline`; returns how many items."""
    cutoff = now - services.policy.trash_retention
    # Whole rows of files and folders, as a trash page has them: no more of them at once
    # (a row with a long name is ~2 KB as the Data API answers it; it answers 1 MiB a call).
    page_size = min(batch_size, LIST_LIMIT_MAX)
    purged = 0
    after: TrashPosition | None = None
    while deadline is None or services.clock.now() < deadline:
        async with services.uow() as uow:
            page = await uow.trash.list_expired(cutoff, page_size, after)
        for item in page:
            purged += await _purge_quietly(item, services)
        if len(page) < page_size:
            break
        after = _position(page[-1])
    return purged


async def _purge_quietly(item: Upload | Folder, services: Services) -> int:
    """Purge one item; 0 if someone restored or purged it meanwhile."""
    try:
        await purge(item, services)
    except ConcurrencyConflict:
        log.info("trash item %s changed meanwhile; left for next time", item.id)
        return 0
    return 1


async def purge(
    item: Upload | Folder, services: Services, files: TrashedFiles | None = None
) -> None:
    """Delete forever a file, or a folder and everything trashed with it (`files`, what the
    caller read of the uploads among it; read here if None): the bytes no longer count, the
    objects are removed; a file's `upload.deleted` or a folder's `folder.deleted` tells of it.

    The write marks every row deleted in one step; the objects are then removed a page of
    keys at a time, each page read after the last (the rows keep `trashed_with`)."""
    now = services.clock.now()
    if isinstance(item, Upload):
        async with services.uow() as uow:
            item.delete(now)
            await uow.uploads.update(item, release_bytes=item.size)
            await uow.commit()
        await services.blobs.delete(item.object_key)
        return
    async with services.uow() as uow:
        if files is None:
            files = await uow.uploads.files_trashed_with(item.owner_id, item.id, PURGE_PAGE)
        item.purge(now, files=files.count, size=files.size)
        await uow.folders.purge(item, release_bytes=files.size, now=now)
        await uow.commit()
    keys = files.object_keys
    await _delete_objects(keys, services)
    while len(keys) >= PURGE_PAGE:
        async with services.uow() as uow:
            keys = await uow.uploads.object_keys_trashed_with(
                item.owner_id, item.id, PURGE_PAGE, after=keys[-1]
            )
        await _delete_objects(keys, services)


async def _delete_objects(keys: Sequence[str], services: Services) -> None:
    """Remove objects, a few at a time."""
    limit = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def delete(key: str) -> None:
        async with limit:
            await services.blobs.delete(key)

    await asyncio.gather(*(delete(key) for key in keys))
