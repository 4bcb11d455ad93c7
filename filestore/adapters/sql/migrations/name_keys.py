"""The Python step of migration 0005: name and search keys for the uploads written before it.

Only the application computes the keys (`filestore.domain.names`: NFC, Unicode case folding,
accents dropped), so the SQL step adds the columns empty and this step fills them, a batch at a
time, in the order the uploads were made. Existing files all land in the root, where names
must now be unique among stored files: the oldest keeps its name, a later one with the same
key becomes `name (2).ext` (`(3)`, …), as a new upload would.

Idempotent: it only touches rows without a key, and counts the names already keyed (by an
earlier, interrupted run, or written since) as taken.
"""

from __future__ import annotations

from filestore.adapters.sql.executor import Executor, Params
from filestore.adapters.sql.keys import stored_name_key, stored_search_key
from filestore.domain.names import free_name, name_key

BATCH = 500


async def _taken(executor: Executor, user_id: int, folder_id: str) -> set[str]:
    rows = await executor.fetch(
        "SELECT name FROM uploads WHERE user_id = :user_id AND folder_id = :folder_id"
        " AND status = 'stored' AND name_key IS NOT NULL",
        {"user_id": user_id, "folder_id": folder_id},
    )
    return {name_key(str(row[0])) for row in rows}


async def fill_name_keys(executor: Executor) -> None:
    """Give every upload without keys its keys, renaming stored duplicates (see the module)."""
    taken: dict[tuple[int, str], set[str]] = {}
    after = 0
    while True:
        rows = await executor.fetch(
            "SELECT id, user_id, folder_id, name, status FROM uploads"
            " WHERE id > :after AND name_key IS NULL ORDER BY id LIMIT :limit",
            {"after": after, "limit": BATCH},
        )
        if not rows:
            return
        updates: list[Params] = []
        for row_id, user_id, folder_id, name, status in rows:
            name = str(name)
            if status == "stored":
                place = (int(user_id), str(folder_id))
                if place not in taken:
                    taken[place] = await _taken(executor, *place)
                name = free_name(name, taken[place])
                taken[place].add(name_key(name))
            updates.append(
                {
                    "id": int(row_id),
                    "name": name,
                    "name_key": stored_name_key(name),
                    "search_key": stored_search_key(name),
                }
            )
        await executor.execute_many(
            "UPDATE uploads SET name = :name, name_key = :name_key, search_key = :search_key"
            " WHERE id = :id AND name_key IS NULL",
            updates,
        )
        after = int(rows[-1][0])
