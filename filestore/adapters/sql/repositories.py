"""The repositories, written once as SQL text over a `UnitExecutor` (MySQL and SQLite alike).

Public ids (UUIDv7 text) are what the domain sees; the auto-increment `id` columns join the
tables and never leave the database. Datetimes are stored as naive UTC with microseconds.
Optimistic concurrency: `UPDATE … WHERE public_id = :id AND version = :version`; no row changed
means someone saved first (`ConcurrencyConflict`).

Queries keyed by a caller's `sub` join `users` on its unique key instead of looking the user
up first, so each is one statement (one Data API call). Writes that answer nothing are handed
to the unit of work to send when it suits (`UnitExecutor.defer`).

The few differences between dialects are spelled out where they occur: `FOR UPDATE SKIP
LOCKED` for the outbox relay, `INSERT IGNORE` / `INSERT OR IGNORE`, and an upload's update
that gives bytes back to its owner's quota (one multi-table `UPDATE` on MySQL; SQLite has
none, and no round trips to save).

Every value is a bound parameter. The f-strings only join fixed fragments of this module
(column lists, placeholder names, a locking clause), never data: hence the `noqa: S608`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from filestore.adapters.sql.executor import (
    Dialect,
    Params,
    Row,
    UnitExecutor,
    in_list,
    to_datetime,
    to_datetime_or_none,
    to_db_time,
    to_db_time_or_none,
)
from filestore.adapters.sql.organize import SqlUploadOrganizing
from filestore.adapters.sql.rows import (
    UPLOAD_COLUMNS,
    UPLOAD_SELECT,
    release_set,
    upload_from,
    upload_set,
    upload_values,
)
from filestore.domain.errors import ConcurrencyConflict, NotFound
from filestore.domain.events import Event, parse_event
from filestore.domain.model import (
    Aggregate,
    Connection,
    EmailStatus,
    FolderStatus,
    Share,
    Upload,
    UploadStatus,
    User,
)
from filestore.domain.ports import ListPosition, OutboxEntry, ProcessedBy

_INSERT_IGNORE: dict[Dialect, str] = {"mysql": "INSERT IGNORE", "sqlite": "INSERT OR IGNORE"}


def _changed_one(count: int, what: str) -> None:
    if count != 1:
        raise ConcurrencyConflict(f"The {what} was changed by someone else; try again.")


# A consumer reads what it needs for an event and whether it handled the event already in one
# query: this column last in its select list, with the parameters of `_processed`.
_PROCESSED = (
    "EXISTS (SELECT 1 FROM processed_events p"
    " WHERE p.consumer = :consumer AND p.event_id = :event_id)"
)


def _processed(processed: ProcessedBy) -> dict[str, Any]:
    return {"consumer": processed.consumer, "event_id": processed.event_id}


# --- users -------------------------------------------------------------------------------------

_USER_COLUMNS = (
    "public_id, sub, email, quota_bytes, created_at, notify_email, used_bytes, version,"
    " email_status"
)


def _user(row: Row) -> User:
    return User(
        id=row[0],
        sub=row[1],
        email=row[2],
        quota_bytes=int(row[3]),
        created_at=to_datetime(row[4]),
        notify_email=bool(row[5]),
        used_bytes=int(row[6]),
        version=int(row[7]),
        email_status=EmailStatus(row[8]),
    )


class UserIds:
    """sub → user id, learned from committed rows, for the life of a process (a sub's user
    never changes). Bounded: past `limit` entries the oldest learned is forgotten."""

    def __init__(self, limit: int = 10_000) -> None:
        self._ids: dict[str, str] = {}
        self._limit = limit

    def get(self, sub: str) -> str | None:
        return self._ids.get(sub)

    def learn(self, sub: str, user_id: str) -> None:
        self._ids.pop(sub, None)
        self._ids[sub] = user_id
        if len(self._ids) > self._limit:
            del self._ids[next(iter(self._ids))]


class SqlUserRepository:
    def __init__(
        self,
        executor: UnitExecutor,
        seen: list[Aggregate],
        ids: UserIds,
        learned: dict[str, str],
    ) -> None:
        self._db, self._seen = executor, seen
        # `ids`: what the process knows; `learned`: what this unit of work read or wrote inside
        # its transaction, which the process may know once it commits.
        self._ids, self._learned = ids, learned

    def _learn(self, sub: str, user_id: str, *, committed: bool) -> None:
        if committed:
            self._ids.learn(sub, user_id)
        else:
            self._learned[sub] = user_id

    async def _one(self, where: str, params: Params) -> User | None:
        committed = not self._db.in_transaction  # read outside the transaction: committed rows
        rows = await self._db.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE {where}", params)  # noqa: S608 - constant columns; `where` is ours, values are bound  # nosec B608
        if not rows:
            return None
        user = _user(rows[0])
        self._learn(user.sub, user.id, committed=committed)
        return user

    async def get(self, user_id: str) -> User | None:
        return await self._one("public_id = :id", {"id": user_id})

    async def get_by_sub(self, sub: str) -> User | None:
        return await self._one("sub = :sub", {"sub": sub})

    async def list_by_email(self, email: str) -> list[User]:
        # `email_lower` is LOWER(email), kept and indexed by the database (migration 0004);
        # lowering the parameter with the same function makes both sides fold alike.
        rows = await self._db.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE email_lower = LOWER(:email)",  # noqa: S608 - constant columns; the value is bound  # nosec B608
            {"email": email},
        )
        return [_user(row) for row in rows]

    async def add(self, user: User) -> None:
        await self._db.execute(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (:id, :sub, :email, :quota_bytes,"  # noqa: S608 - constant column list; values are bound  # nosec B608
            " :created_at, :notify_email, :used_bytes, 1, :email_status)",
            {
                "id": user.id,
                "sub": user.sub,
                "email": user.email,
                "quota_bytes": user.quota_bytes,
                "created_at": to_db_time(user.created_at),
                "notify_email": user.notify_email,
                "used_bytes": user.used_bytes,
                "email_status": user.email_status.value,
            },
        )
        user.version = 1
        self._learn(user.sub, user.id, committed=False)
        self._seen.append(user)

    async def update(self, user: User) -> None:
        count = await self._db.execute(
            "UPDATE users SET email = :email, quota_bytes = :quota_bytes,"
            " notify_email = :notify_email, used_bytes = :used_bytes,"
            " email_status = :email_status, version = version + 1"
            " WHERE public_id = :id AND version = :version",
            {
                "id": user.id,
                "email": user.email,
                "quota_bytes": user.quota_bytes,
                "notify_email": user.notify_email,
                "used_bytes": user.used_bytes,
                "email_status": user.email_status.value,
                "version": user.version,
            },
        )
        _changed_one(count, "user")
        user.version += 1
        self._seen.append(user)

    async def reserve(self, user_id: str, size: int) -> bool:
        # The row is locked from here to the end of the transaction: a concurrent reservation
        # waits, then sees this one's bytes in `used_bytes` (an UPDATE reads the latest row).
        count = await self._db.execute(
            "UPDATE users SET used_bytes = used_bytes + :size, version = version + 1"
            " WHERE public_id = :id AND used_bytes + :size <= quota_bytes",
            {"id": user_id, "size": size},
        )
        return count == 1

    async def id_for_sub(self, sub: str) -> str | None:
        known = self._learned.get(sub) or self._ids.get(sub)
        if known is not None:
            return known
        committed = not self._db.in_transaction
        rows = await self._db.fetch("SELECT public_id FROM users WHERE sub = :sub", {"sub": sub})
        if not rows:
            return None
        user_id = str(rows[0][0])
        self._learn(sub, user_id, committed=committed)
        return user_id

    async def get_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[User | None, bool]:
        rows = await self._db.fetch(
            f"SELECT {_USER_COLUMNS}, {_PROCESSED} FROM users WHERE public_id = :id",  # noqa: S608 - constant fragments; values are bound  # nosec B608
            {"id": user_id, **_processed(processed)},
        )
        if not rows:
            return None, False
        return _user(rows[0]), bool(rows[0][-1])


# --- uploads -----------------------------------------------------------------------------------

# MariaDB, given a keyset page whose range holds many rows, picks a `ref` scan of the owner's
# part of the index (user_id, status) and reads from their newest upload down to the cursor:
# page n costs O(n), as with OFFSET. Forcing the index makes it take the range on created_at
# (measured in bench/listing.py, asserted on the plan by the integration tests).
_LISTING_HINT: dict[Dialect, str] = {"mysql": " FORCE INDEX (uploads_owner_listing)", "sqlite": ""}


def list_stored_query(
    owner_sub: str, limit: int, after: ListPosition | None = None, dialect: Dialect = "mysql"
) -> tuple[str, dict[str, Any]]:
    """The newest-first listing of the user with this sub as SQL and parameters (also
    EXPLAINed by the tests).

    Keyset pagination on the index (user_id, status, created_at, public_id): the owner's row
    in `users` is a constant (unique key on `sub`), then one range of the index read
    backwards. The redundant `u.created_at <= :at` is what makes it a range on the index; the
    OR decides ties on created_at by id.
    """
    params: dict[str, Any] = {
        "owner_sub": owner_sub,
        "status": UploadStatus.STORED.value,
        "limit": limit,
    }
    keyset = ""
    if after is not None:
        keyset = " AND u.created_at <= :at AND (u.created_at < :at OR u.public_id < :after_id)"
        params |= {"at": to_db_time(after.created_at), "after_id": after.id}
    select = UPLOAD_SELECT.replace(" FROM uploads u ", f" FROM uploads u{_LISTING_HINT[dialect]} ")
    sql = (
        f"{select} WHERE o.sub = :owner_sub AND u.status = :status{keyset}"
        " ORDER BY u.created_at DESC, u.public_id DESC LIMIT :limit"
    )
    return sql, params


# The same trap as the listing's: given a cursor with many rows after it, MariaDB sometimes
# reads the pending part of the index from its oldest row (`ref` on status) up to the cursor,
# so page n would cost O(n). Forcing the index keeps the range (asserted on the plan by the
# integration tests, which saw the `ref` plan in about one run in three without it).
_SWEEP_HINT: dict[Dialect, str] = {"mysql": " FORCE INDEX (uploads_pending)", "sqlite": ""}


def list_pending_query(
    created_before: datetime,
    limit: int,
    after: ListPosition | None = None,
    dialect: Dialect = "mysql",
) -> tuple[str, dict[str, Any]]:
    """The sweep's oldest-first page of pending uploads as SQL and parameters (also EXPLAINed
    by the tests).

    Keyset pagination on the index (pending_since, public_id), read forwards: one range
    bounded by the cursor below and `created_before` above. `pending_since` is `created_at`
    while the upload is pending, else NULL (migration 0005). As in the listing, the redundant
    `u.pending_since >= :at` is what makes the cursor a bound of the range; the OR decides ties
    on the time by id.
    """
    params: dict[str, Any] = {"before": to_db_time(created_before), "limit": limit}
    keyset = ""
    if after is not None:
        keyset = (
            " AND u.pending_since >= :at AND (u.pending_since > :at OR u.public_id > :after_id)"
        )
        params |= {"at": to_db_time(after.created_at), "after_id": after.id}
    select = UPLOAD_SELECT.replace(" FROM uploads u ", f" FROM uploads u{_SWEEP_HINT[dialect]} ")
    sql = (
        f"{select} WHERE u.pending_since < :before{keyset}"
        " ORDER BY u.pending_since, u.public_id LIMIT :limit"
    )
    return sql, params


class SqlUploadRepository(SqlUploadOrganizing):
    def __init__(self, executor: UnitExecutor, seen: list[Aggregate]) -> None:
        self._db, self._seen = executor, seen

    async def _one(self, where: str, params: Params) -> Upload | None:
        rows = await self._db.fetch(f"{UPLOAD_SELECT} WHERE {where}", params)
        return upload_from(rows[0]) if rows else None

    async def get(self, upload_id: str) -> Upload | None:
        return await self._one("u.public_id = :id", {"id": upload_id})

    async def get_for_sub(self, upload_id: str, sub: str) -> Upload | None:
        return await self._one("u.public_id = :id AND o.sub = :sub", {"id": upload_id, "sub": sub})

    async def get_by_object_key(self, object_key: str) -> Upload | None:
        return await self._one("u.object_key = :object_key", {"object_key": object_key})

    async def add(self, upload: Upload) -> None:
        count = await self._db.execute(
            "INSERT INTO uploads (public_id, user_id, object_key, created_at, name, size,"
            " content_type, expires_at, sha256, status, stored_at, multipart_id, part_size,"
            " folder_id, name_key, search_key, on_conflict, trashed_at, trashed_with,"
            " restored_at, checksum_type, checksum_value, updated_at, version) SELECT :id, o.id,"
            " :object_key, :created_at, :name, :size, :content_type, :expires_at, :sha256,"
            " :status, :stored_at, :multipart_id, :part_size, :folder_id, :name_key,"
            " :search_key, :on_conflict, :trashed_at, :trashed_with, :restored_at,"
            " :checksum_type, :checksum_value, :updated_at, 1 FROM users o"
            # Into the root, or an active folder of the owner: checked here, not read first.
            " LEFT JOIN folders p ON p.public_id = :folder_id AND p.user_id = o.id"
            " AND p.status = :active"
            " WHERE o.public_id = :owner_id AND (:folder_id = '' OR p.id IS NOT NULL)",
            {
                "id": upload.id,
                "owner_id": upload.owner_id,
                "object_key": upload.object_key,
                "created_at": to_db_time(upload.created_at),
                "active": FolderStatus.ACTIVE.value,
                **upload_values(upload),
            },
        )
        if count != 1:
            raise NotFound("The owner of this upload, or its folder, does not exist.")
        upload.version = 1
        self._seen.append(upload)

    async def update(self, upload: Upload, *, release_bytes: int = 0) -> None:
        params = {"id": upload.id, "version": upload.version, **upload_values(upload)}
        if release_bytes and self._db.dialect == "mysql":
            # One statement for both rows: the upload (if nobody saved it meanwhile) and its
            # owner's quota. It changes both rows, or neither (a stale version matches none).
            count = await self._db.execute(
                "UPDATE uploads u JOIN users o ON o.id = u.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                f" SET {upload_set('u.')}, {release_set('o.')}"
                " WHERE u.public_id = :id AND u.version = :version",
                params | {"release": release_bytes},
            )
            _changed_one(min(count, 1), "upload")
        else:
            count = await self._db.execute(
                f"UPDATE uploads SET {upload_set()}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " WHERE public_id = :id AND version = :version",
                params,
            )
            _changed_one(count, "upload")
            if release_bytes:
                await self._db.execute(
                    f"UPDATE users SET {release_set()}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                    " WHERE id = (SELECT user_id FROM uploads WHERE public_id = :id)",
                    {"id": upload.id, "release": release_bytes},
                )
        upload.version += 1
        self._seen.append(upload)

    async def list_stored_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        sql, params = list_stored_query(sub, limit, after, self._db.dialect)
        return [upload_from(row) for row in await self._db.fetch(sql, params)]

    async def list_pending(
        self, created_before: datetime, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        sql, params = list_pending_query(created_before, limit, after, self._db.dialect)
        return [upload_from(row) for row in await self._db.fetch(sql, params)]


# --- shares ------------------------------------------------------------------------------------

_SHARE_COLUMNS = (
    "s.token, u.public_id, o.public_id, s.created_at, s.expires_at, s.revoked_at, s.version"
)
_SHARE_FROM = "shares s JOIN uploads u ON u.id = s.upload_id JOIN users o ON o.id = u.user_id"
_SHARE_SELECT = f"SELECT {_SHARE_COLUMNS} FROM {_SHARE_FROM}"  # noqa: S608 - constant  # nosec B608
_SHARE_WIDTH = 7  # columns of a share in a row; an upload's follow in `get_with_upload`


def _share(row: Row) -> Share:
    return Share(
        token=row[0],
        upload_id=row[1],
        owner_id=row[2],
        created_at=to_datetime(row[3]),
        expires_at=to_datetime(row[4]),
        revoked_at=to_datetime_or_none(row[5]),
        version=int(row[6]),
    )


class SqlShareRepository:
    def __init__(self, executor: UnitExecutor, seen: list[Aggregate]) -> None:
        self._db, self._seen = executor, seen

    async def get(self, token: str) -> Share | None:
        rows = await self._db.fetch(f"{_SHARE_SELECT} WHERE s.token = :token", {"token": token})
        return _share(rows[0]) if rows else None

    async def get_for_sub(self, token: str, sub: str) -> Share | None:
        rows = await self._db.fetch(
            f"{_SHARE_SELECT} WHERE s.token = :token AND o.sub = :sub", {"token": token, "sub": sub}
        )
        return _share(rows[0]) if rows else None

    async def get_with_upload(self, token: str) -> tuple[Share, Upload] | None:
        rows = await self._db.fetch(
            f"SELECT {_SHARE_COLUMNS}, {UPLOAD_COLUMNS} FROM {_SHARE_FROM}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " WHERE s.token = :token",
            {"token": token},
        )
        if not rows:
            return None
        return _share(rows[0][:_SHARE_WIDTH]), upload_from(rows[0][_SHARE_WIDTH:])

    async def add(self, share: Share) -> None:
        count = await self._db.execute(
            "INSERT INTO shares (token, upload_id, created_at, expires_at, revoked_at, version)"
            " SELECT :token, u.id, :created_at, :expires_at, :revoked_at, 1"
            " FROM uploads u WHERE u.public_id = :upload_id",
            {
                "token": share.token,
                "upload_id": share.upload_id,
                "created_at": to_db_time(share.created_at),
                "expires_at": to_db_time(share.expires_at),
                "revoked_at": to_db_time_or_none(share.revoked_at),
            },
        )
        if count != 1:
            raise NotFound("The upload of this share does not exist.")
        share.version = 1
        self._seen.append(share)

    async def update(self, share: Share) -> None:
        count = await self._db.execute(
            "UPDATE shares SET expires_at = :expires_at, revoked_at = :revoked_at,"
            " version = version + 1 WHERE token = :token AND version = :version",
            {
                "token": share.token,
                "expires_at": to_db_time(share.expires_at),
                "revoked_at": to_db_time_or_none(share.revoked_at),
                "version": share.version,
            },
        )
        _changed_one(count, "share")
        share.version += 1
        self._seen.append(share)

    async def list_live_for_sub(
        self, upload_id: str, sub: str, now: datetime
    ) -> list[Share] | None:
        # From the upload, so that "no such upload" (no row) and "no live share" (one row of
        # NULL shares) are told apart in one query.
        rows = await self._db.fetch(
            f"SELECT {_SHARE_COLUMNS} FROM uploads u JOIN users o ON o.id = u.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " LEFT JOIN shares s ON s.upload_id = u.id AND s.revoked_at IS NULL"
            " AND s.expires_at > :now"
            # Links made up to the file's last restore died when it went to the trash.
            " AND (u.restored_at IS NULL OR s.created_at > u.restored_at)"
            " WHERE u.public_id = :upload_id AND o.sub = :sub"
            " AND u.status NOT IN (:deleted, :trashed)"
            " ORDER BY s.expires_at, s.token",
            {
                "upload_id": upload_id,
                "sub": sub,
                "now": to_db_time(now),
                "deleted": UploadStatus.DELETED.value,
                "trashed": UploadStatus.TRASHED.value,
            },
        )
        if not rows:
            return None
        return [_share(row) for row in rows if row[0] is not None]


# --- connections -------------------------------------------------------------------------------


class SqlConnectionRepository:
    def __init__(self, executor: UnitExecutor) -> None:
        self._db = executor

    async def add(self, connection: Connection) -> None:
        # REPLACE: a reconnect may reuse an id (MySQL and SQLite both know it).
        self._db.defer(
            "REPLACE INTO connections (id, user_id, connected_at)"
            " SELECT :id, o.id, :connected_at FROM users o WHERE o.public_id = :user_id",
            {
                "id": connection.id,
                "user_id": connection.user_id,
                "connected_at": to_db_time(connection.connected_at),
            },
        )

    async def remove(self, connection_id: str) -> None:
        self._db.defer("DELETE FROM connections WHERE id = :id", {"id": connection_id})

    async def list_for_user(self, user_id: str) -> list[Connection]:
        rows = await self._db.fetch(
            "SELECT c.id, o.public_id, c.connected_at FROM connections c"
            " JOIN users o ON o.id = c.user_id WHERE o.public_id = :user_id"
            " ORDER BY c.connected_at, c.id",
            {"user_id": user_id},
        )
        return [Connection(row[0], row[1], to_datetime(row[2])) for row in rows]

    async def list_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[list[Connection], bool]:
        rows = await self._db.fetch(
            f"SELECT c.id, o.public_id, c.connected_at, {_PROCESSED} FROM connections c"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " JOIN users o ON o.id = c.user_id WHERE o.public_id = :user_id"
            " ORDER BY c.connected_at, c.id",
            {"user_id": user_id, **_processed(processed)},
        )
        connections = [Connection(row[0], row[1], to_datetime(row[2])) for row in rows]
        return connections, bool(rows) and bool(rows[0][-1])

    async def remove_connected_before(self, cutoff: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM connections WHERE connected_at < :cutoff",
            {"cutoff": to_db_time(cutoff)},
        )


# --- outbox and idempotency --------------------------------------------------------------------


class SqlOutbox:
    def __init__(self, executor: UnitExecutor) -> None:
        self._db = executor

    async def add(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self._db.execute_many(
            "INSERT INTO outbox (event_id, event_type, user_id, occurred_at, envelope)"
            " VALUES (:event_id, :event_type, :user_id, :occurred_at, :envelope)",
            [
                {
                    "event_id": event.id,
                    "event_type": event.type,
                    "user_id": event.user_id,
                    "occurred_at": to_db_time(event.occurred_at),
                    "envelope": json.dumps(event.envelope(), ensure_ascii=False),
                }
                for event in events
            ],
        )

    async def pending(self, limit: int) -> list[OutboxEntry]:
        # On MySQL, rows another relay holds are skipped rather than waited for, so two relays
        # never publish the same rows at once. SQLite has one writer at a time: a second relay
        # that read the same rows fails to mark them (ConcurrencyConflict) and rolls back.
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "mysql" else ""
        rows = await self._db.fetch_locking(
            "SELECT position, envelope FROM outbox WHERE published_at IS NULL"  # noqa: S608 - constant fragments; the limit is bound  # nosec B608
            f" ORDER BY position LIMIT :limit{lock}",
            {"limit": limit},
        )
        return [OutboxEntry(int(row[0]), parse_event(json.loads(row[1]))) for row in rows]

    async def mark_published(self, event_ids: Sequence[str], now: datetime) -> None:
        if not event_ids:
            return
        placeholders, params = in_list("event", list(event_ids))
        self._db.defer(
            f"UPDATE outbox SET published_at = :now WHERE event_id IN ({placeholders})"  # noqa: S608 - generated placeholders; values are bound  # nosec B608
            " AND published_at IS NULL",
            {"now": to_db_time(now), **params},
        )


class SqlProcessedEvents:
    def __init__(self, executor: UnitExecutor) -> None:
        self._db = executor

    async def add(self, consumer: str, event_id: str, now: datetime) -> bool:
        # A concurrent insert of the same key waits for the other transaction, then is ignored.
        count = await self._db.execute(
            f"{_INSERT_IGNORE[self._db.dialect]} INTO processed_events"
            " (consumer, event_id, processed_at) VALUES (:consumer, :event_id, :now)",
            {"consumer": consumer, "event_id": event_id, "now": to_db_time(now)},
        )
        return count == 1

    async def contains(self, consumer: str, event_id: str) -> bool:
        rows = await self._db.fetch(
            "SELECT 1 FROM processed_events WHERE consumer = :consumer AND event_id = :event_id",
            {"consumer": consumer, "event_id": event_id},
        )
        return bool(rows)

    async def record(self, consumer: str, event_id: str, now: datetime) -> None:
        # As `add`, answering nothing: the unit of work may hold it back to its commit.
        self._db.defer(
            f"{_INSERT_IGNORE[self._db.dialect]} INTO processed_events"
            " (consumer, event_id, processed_at) VALUES (:consumer, :event_id, :now)",
            {"consumer": consumer, "event_id": event_id, "now": to_db_time(now)},
        )
