"""In-memory adapters for every port: for library users, examples and tests.

They behave like the real ones where the contract tests look (transactions that roll back,
optimistic concurrency, unique keys, presigned URLs that are checked) and keep everything in
the process. Thread-safe: commits take a lock.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

from filestore.adapters.http_headers import content_disposition
from filestore.adapters.memory_tree import (
    MemoryFileListing,
    MemoryFolderRepository,
    MemoryTrashRepository,
    MemoryTree,
    TreeGuard,
    clone,
)
from filestore.domain.checksums import Checksum
from filestore.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConnectionGone,
    InvalidInput,
    NotFound,
    QuotaExceeded,
)
from filestore.domain.events import Event
from filestore.domain.model import (
    Aggregate,
    Connection,
    Folder,
    Share,
    Upload,
    UploadStatus,
    User,
    drain_events,
)
from filestore.domain.ports import (
    CompletedPart,
    EmailMessage,
    ListPosition,
    ObjectInfo,
    OutboxEntry,
    PresignedPost,
    ProcessedBy,
    StoredPart,
)

# --- database ----------------------------------------------------------------------------------


class _Versioned(Protocol):
    version: int


V = TypeVar("V", bound=_Versioned)


@dataclass
class _OutboxRow:
    position: int
    event: Event
    published_at: datetime | None = None


@dataclass
class MemoryDatabase:
    """The committed state, shared by the units of work made from it."""

    users: dict[str, User] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    folders: dict[str, Folder] = field(default_factory=dict)
    trees: dict[str, MemoryTree] = field(default_factory=dict)  # by owner id
    shares: dict[str, Share] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    outbox: list[_OutboxRow] = field(default_factory=list)
    unpublished: dict[str, _OutboxRow] = field(default_factory=dict)  # by event id, in order
    processed: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Secondary indexes of committed rows (subs and object keys never change once written).
    user_ids_by_sub: dict[str, str] = field(default_factory=dict)
    upload_ids_by_key: dict[str, str] = field(default_factory=dict)
    upload_ids_by_owner: dict[str, set[str]] = field(default_factory=dict)

    def index(self, users: list[User], uploads: list[Upload]) -> None:
        for user in users:
            self.user_ids_by_sub[user.sub] = user.id
        for upload in uploads:
            self.upload_ids_by_key[upload.object_key] = upload.id
            self.upload_ids_by_owner.setdefault(upload.owner_id, set()).add(upload.id)


class _Staged(Generic[V]):
    """One table as a transaction sees it: its own changes over the committed rows."""

    def __init__(self, rows: dict[str, V]) -> None:
        self.rows = rows
        self.changes: dict[str, V] = {}
        self.expected: dict[str, int] = {}  # version each changed row had when first touched

    def get(self, key: str) -> V | None:
        row = self.changes.get(key, self.rows.get(key))
        return clone(row) if row is not None else None

    def values(self) -> Iterator[V]:
        for key, row in self.rows.items():
            if key not in self.changes:
                yield row
        yield from self.changes.values()

    def insert(self, key: str, row: V) -> None:
        if self.get(key) is not None:
            raise AlreadyExists(f"{key} exists")
        row.version = 1
        self.expected.setdefault(key, 0)
        self.changes[key] = clone(row)

    def update(self, key: str, row: V) -> None:
        current = self.get(key)
        if current is None or current.version != row.version:
            raise ConcurrencyConflict(f"{key} was changed by someone else")
        self.expected.setdefault(key, current.version)
        row.version += 1
        self.changes[key] = clone(row)

    def check(self) -> None:
        for key, version in self.expected.items():
            committed = self.rows.get(key)
            if (committed.version if committed is not None else 0) != version:
                raise ConcurrencyConflict(f"{key} was changed by someone else")

    def apply(self) -> None:
        self.rows.update(self.changes)


class MemoryUserRepository:
    def __init__(
        self,
        table: _Staged[User],
        seen: list[Aggregate],
        db: MemoryDatabase,
        processed: MemoryProcessedEvents,
    ) -> None:
        self._table, self._seen, self._db, self._processed = table, seen, db, processed

    async def get(self, user_id: str) -> User | None:
        return self._table.get(user_id)

    async def get_by_sub(self, sub: str) -> User | None:
        for user in self._table.changes.values():
            if user.sub == sub:
                return clone(user)
        user_id = self._db.user_ids_by_sub.get(sub)
        return self._table.get(user_id) if user_id is not None else None

    async def list_by_email(self, email: str) -> list[User]:
        # A scan: bounces are rare, and this database holds what one process holds.
        wanted = email.lower()
        return [clone(u) for u in self._table.values() if u.email.lower() == wanted]

    async def add(self, user: User) -> None:
        if await self.get_by_sub(user.sub) is not None:
            raise AlreadyExists("A user with this sub exists.")
        self._table.insert(user.id, user)
        self._seen.append(user)

    async def update(self, user: User) -> None:
        self._table.update(user.id, user)
        self._seen.append(user)

    async def id_for_sub(self, sub: str) -> str | None:
        return self.id_of(sub)

    def id_of(self, sub: str) -> str | None:
        """The id of the user with this sub, as this unit of work sees it."""
        for user in self._table.changes.values():
            if user.sub == sub:
                return user.id
        return self._db.user_ids_by_sub.get(sub)

    async def get_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[User | None, bool]:
        user = self._table.get(user_id)
        return user, user is not None and self._processed.has(processed)

    async def reserve(self, user_id: str, size: int) -> bool:
        user = self._table.get(user_id)
        if user is None:
            return False
        try:
            user.reserve(size)
        except QuotaExceeded:
            return False
        # Staged against the version read: a concurrent change fails the commit (retried).
        self._table.update(user_id, user)
        return True

    def release(self, user_id: str, size: int) -> None:
        """Give `size` bytes back to the user's quota (staged like an update)."""
        user = self._table.get(user_id)
        if user is not None:
            user.release(size)
            self._table.update(user_id, user)


class MemoryUploadRepository:
    def __init__(
        self,
        table: _Staged[Upload],
        seen: list[Aggregate],
        db: MemoryDatabase,
        users: MemoryUserRepository,
        folders: _Staged[Folder],
        guard: TreeGuard,
    ) -> None:
        self._table, self._seen, self._db, self._users = table, seen, db, users
        self.files = MemoryFileListing(self._owned, self._save, users, folders, guard)
        # Folders, sorting, search and the trash: see `memory_tree`.
        self.list_files_for_sub = self.files.list_files_for_sub
        self.list_pending_for_sub = self.files.list_pending_for_sub
        self.place = self.files.place
        self.files_trashed_with = self.files.files_trashed_with
        self.object_keys_trashed_with = self.files.object_keys_trashed_with

    def _save(self, upload: Upload) -> None:
        self._table.update(upload.id, upload)
        self._seen.append(upload)

    async def get(self, upload_id: str) -> Upload | None:
        return self._table.get(upload_id)

    async def get_for_sub(self, upload_id: str, sub: str) -> Upload | None:
        upload = self._table.get(upload_id)
        owner_id = self._users.id_of(sub)
        return upload if upload is not None and upload.owner_id == owner_id else None

    async def get_by_object_key(self, object_key: str) -> Upload | None:
        for upload in self._table.changes.values():
            if upload.object_key == object_key:
                return clone(upload)
        upload_id = self._db.upload_ids_by_key.get(object_key)
        return self._table.get(upload_id) if upload_id is not None else None

    def _owned(self, owner_id: str) -> list[Upload]:
        ids = set(self._db.upload_ids_by_owner.get(owner_id, ()))
        ids.update(k for k, u in self._table.changes.items() if u.owner_id == owner_id)
        rows = (self._table.changes.get(i) or self._table.rows.get(i) for i in ids)
        return [u for u in rows if u is not None]

    async def add(self, upload: Upload) -> None:
        if await self.get_by_object_key(upload.object_key) is not None:
            raise AlreadyExists("An upload with this object key exists.")
        if await self._users.get(upload.owner_id) is None:
            raise NotFound("The owner of this upload does not exist.")
        if not self.files.active_folder(upload.owner_id, upload.folder_id):
            raise NotFound("No such folder.")
        if upload.status is UploadStatus.STORED and self.files.clash(
            upload.owner_id, upload.folder_id, upload.name_key, upload.id
        ):
            raise AlreadyExists("A stored file or a folder there has this name.")
        self._table.insert(upload.id, upload)
        self._seen.append(upload)

    async def update(self, upload: Upload, *, release_bytes: int = 0) -> None:
        self._table.update(upload.id, upload)
        if release_bytes:
            self._users.release(upload.owner_id, release_bytes)
        self._seen.append(upload)

    async def list_stored_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        return self.files.newest_for_sub(sub, UploadStatus.STORED, limit, after)

    async def list_pending(
        self, created_before: datetime, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        rows = [
            u
            for u in self._table.values()
            if u.status is UploadStatus.PENDING
            and u.created_at < created_before
            and (after is None or ListPosition(u.created_at, u.id) > after)
        ]
        rows.sort(key=lambda u: (u.created_at, u.id))
        return [clone(u) for u in rows[:limit]]


class MemoryShareRepository:
    def __init__(
        self,
        table: _Staged[Share],
        seen: list[Aggregate],
        uploads: MemoryUploadRepository,
        users: MemoryUserRepository,
    ) -> None:
        self._table, self._seen, self._uploads, self._users = table, seen, uploads, users

    async def get(self, token: str) -> Share | None:
        return self._table.get(token)

    async def get_for_sub(self, token: str, sub: str) -> Share | None:
        share = self._table.get(token)
        owner_id = self._users.id_of(sub)
        return share if share is not None and share.owner_id == owner_id else None

    async def get_with_upload(self, token: str) -> tuple[Share, Upload] | None:
        share = self._table.get(token)
        upload = await self._uploads.get(share.upload_id) if share is not None else None
        return (share, upload) if share is not None and upload is not None else None

    async def add(self, share: Share) -> None:
        if await self._uploads.get(share.upload_id) is None:
            raise NotFound("The upload of this share does not exist.")
        self._table.insert(share.token, share)
        self._seen.append(share)

    async def update(self, share: Share) -> None:
        self._table.update(share.token, share)
        self._seen.append(share)

    async def list_live_for_sub(
        self, upload_id: str, sub: str, now: datetime
    ) -> list[Share] | None:
        upload = await self._uploads.get_for_sub(upload_id, sub)
        if upload is None or upload.status in (UploadStatus.DELETED, UploadStatus.TRASHED):
            return None
        rows = [
            s
            for s in self._table.values()
            if s.upload_id == upload_id
            and s.is_live(now)
            and (upload.restored_at is None or s.created_at > upload.restored_at)
        ]
        rows.sort(key=lambda s: (s.expires_at, s.token))
        return [clone(s) for s in rows]


class MemoryConnectionRepository:
    def __init__(self, db: MemoryDatabase, processed: MemoryProcessedEvents) -> None:
        self._db = db
        self._processed = processed
        self.added: dict[str, Connection] = {}
        self.removed: set[str] = set()

    def _view(self) -> dict[str, Connection]:
        rows = {k: v for k, v in self._db.connections.items() if k not in self.removed}
        rows.update(self.added)
        return rows

    async def add(self, connection: Connection) -> None:
        self.removed.discard(connection.id)
        self.added[connection.id] = copy.copy(connection)

    async def remove(self, connection_id: str) -> None:
        self.added.pop(connection_id, None)
        self.removed.add(connection_id)

    async def list_for_user(self, user_id: str) -> list[Connection]:
        rows = [c for c in self._view().values() if c.user_id == user_id]
        return sorted((copy.copy(c) for c in rows), key=lambda c: (c.connected_at, c.id))

    async def list_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[list[Connection], bool]:
        connections = await self.list_for_user(user_id)
        return connections, bool(connections) and self._processed.has(processed)

    async def remove_connected_before(self, cutoff: datetime) -> int:
        stale = [c.id for c in self._view().values() if c.connected_at < cutoff]
        for connection_id in stale:
            await self.remove(connection_id)
        return len(stale)

    def apply(self) -> None:
        for connection_id in self.removed:
            self._db.connections.pop(connection_id, None)
        self._db.connections.update(self.added)


class MemoryOutbox:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self.added: list[Event] = []
        self.published: dict[str, datetime] = {}

    async def add(self, events: Sequence[Event]) -> None:
        self.added.extend(events)

    async def pending(self, limit: int) -> list[OutboxEntry]:
        rows = itertools.islice(self._db.unpublished.values(), limit)
        return [OutboxEntry(r.position, r.event) for r in rows]

    async def mark_published(self, event_ids: Sequence[str], now: datetime) -> None:
        for event_id in event_ids:
            self.published[event_id] = now

    def apply(self) -> None:
        for event in self.added:
            row = _OutboxRow(len(self._db.outbox) + 1, event)
            self._db.outbox.append(row)
            self._db.unpublished[event.id] = row
        for event_id, published_at in self.published.items():
            if event_id in self._db.unpublished:
                self._db.unpublished.pop(event_id).published_at = published_at


class MemoryProcessedEvents:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self.added: set[tuple[str, str]] = set()
        # Recorded without an answer: a concurrent record of the same is no conflict.
        self.recorded: set[tuple[str, str]] = set()

    async def add(self, consumer: str, event_id: str, now: datetime) -> bool:
        if await self.contains(consumer, event_id):
            return False
        self.added.add((consumer, event_id))
        return True

    async def contains(self, consumer: str, event_id: str) -> bool:
        return self.has(ProcessedBy(consumer, event_id))

    async def record(self, consumer: str, event_id: str, now: datetime) -> None:
        self.recorded.add((consumer, event_id))

    def has(self, processed: ProcessedBy) -> bool:
        key = (processed.consumer, processed.event_id)
        return key in self.added or key in self.recorded or key in self._db.processed

    def apply(self) -> None:
        self._db.processed |= self.added | self.recorded


class MemoryUnitOfWork:
    """A transaction over a `MemoryDatabase`: changes are invisible to others until commit."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self.committed_events: list[Event] = []
        self._begin()

    def _begin(self) -> None:
        self._seen: list[Aggregate] = []
        self._users = _Staged(self._db.users)
        self._uploads = _Staged(self._db.uploads)
        self._folders = _Staged(self._db.folders)
        self._trees = _Staged(self._db.trees)
        self._shares = _Staged(self._db.shares)
        self.processed = MemoryProcessedEvents(self._db)
        self.users = MemoryUserRepository(self._users, self._seen, self._db, self.processed)
        guard = TreeGuard(self._trees)
        self.uploads = MemoryUploadRepository(
            self._uploads, self._seen, self._db, self.users, self._folders, guard
        )
        self.folders = MemoryFolderRepository(
            self._folders, self._seen, self.users, self.uploads.files, self._uploads, guard
        )
        self.trash = MemoryTrashRepository(self._folders, self._uploads, self.users)
        self.shares = MemoryShareRepository(self._shares, self._seen, self.uploads, self.users)
        self.connections = MemoryConnectionRepository(self._db, self.processed)
        self.outbox = MemoryOutbox(self._db)

    async def __aenter__(self) -> Self:
        await self.rollback()  # a unit of work may be entered again: start clean
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        events = drain_events(self._seen)
        await self.outbox.add(events)
        with self._db.lock:
            for table in self._tables():
                table.check()
            for processed in self.processed.added:
                if processed in self._db.processed:
                    raise ConcurrencyConflict("event processed concurrently")
            new_users = [u for k, u in self._users.changes.items() if not self._users.expected[k]]
            for user in new_users:
                if self._db.user_ids_by_sub.get(user.sub, user.id) != user.id:
                    # Another unit of work registered this sub since we looked: a lost race.
                    raise ConcurrencyConflict("user registered concurrently")
            for applied in self._tables():
                applied.apply()
            self._db.index(new_users, list(self._uploads.changes.values()))
            self.connections.apply()
            self.outbox.apply()
            self.processed.apply()
        self.committed_events.extend(events)
        await self.rollback()  # what was staged is now committed: start clean

    def _tables(self) -> tuple[_Staged[Any], ...]:
        return (self._users, self._uploads, self._folders, self._trees, self._shares)

    async def rollback(self) -> None:
        if self._pending():
            self._begin()

    def _pending(self) -> bool:
        """Whether anything was written since the last commit or rollback."""
        return bool(
            self._seen
            or self._users.changes
            or any(table.changes for table in self._tables())
            or self.connections.added
            or self.connections.removed
            or self.outbox.added
            or self.outbox.published
            or self.processed.added
            or self.processed.recorded
        )


class MemoryUnitOfWorkFactory:
    """Makes units of work over one shared `MemoryDatabase`."""

    def __init__(self, db: MemoryDatabase | None = None) -> None:
        self.db = db or MemoryDatabase()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db)

    async def aclose(self) -> None:
        """Nothing to release: the data stays in `db` for whoever holds it."""


# --- blobs -------------------------------------------------------------------------------------


@dataclass
class _StoredObject:
    data: bytes
    content_type: str
    etag: str
    sha256: str
    checksum: Checksum | None = None


@dataclass
class _Multipart:
    key: str
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)
    # The SHA-256 (hex) each part was sent with, if it was sent with one.
    part_sha256s: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Grant:
    """What one presigned URL allows."""

    method: str
    key: str
    expires_at: datetime
    size: int | None = None
    content_type: str | None = None
    sha256: str | None = None
    multipart_id: str | None = None
    part_number: int | None = None
    filename: str | None = None


class PresignedRequestRefused(Exception):
    """What S3 would answer 403 or 400 to: the request does not fit its presigned policy."""


class MemoryBlobStore:
    """Objects in a dict, behind presigned `memory://` URLs that are checked like S3's.

    `post`, `put_part` and `get` play the client's side: they use a presigned URL and are
    refused when the request breaks its policy (size, key, content type, expiry, checksum).
    """

    def __init__(self, clock: Any | None = None, bucket: str = "filestore") -> None:
        self.bucket = bucket
        self._clock = clock
        self.objects: dict[str, _StoredObject] = {}
        self._multipart: dict[str, _Multipart] = {}
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _grant(self, grant: _Grant) -> str:
        grant_id = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[grant_id] = grant
        return grant_id

    def _check(self, grant_id: str, method: str) -> _Grant:
        grant = self._grants.get(grant_id)
        if grant is None or grant.method != method:
            raise PresignedRequestRefused("The request signature does not match.")
        if self._now() >= grant.expires_at:
            raise PresignedRequestRefused("Request has expired.")
        return grant

    # presigning

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        expires_at = self._now() + expires_in
        grant_id = self._grant(_Grant("POST", key, expires_at, size, content_type, sha256))
        fields = {"key": key, "Content-Type": content_type, "policy": grant_id}
        if sha256 is not None:
            fields["x-amz-checksum-sha256"] = sha256
        return PresignedPost(f"memory://{self.bucket}/", fields, expires_at)

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        grant = _Grant(
            "PUT", key, self._now() + expires_in, size, sha256=sha256, multipart_id=multipart_id,
            part_number=part_number,
        )  # fmt: skip
        return f"memory://{self.bucket}/{quote(key)}?grant={self._grant(grant)}"

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        grant = _Grant("GET", key, self._now() + expires_in, filename=filename)
        return f"memory://{self.bucket}/{quote(key)}?grant={self._grant(grant)}"

    # the client's side

    def post(
        self, post: PresignedPost, data: bytes, *, fields: Mapping[str, str] | None = None
    ) -> None:
        """Upload `data` with a presigned POST, as a browser form would."""
        sent = dict(post.fields if fields is None else fields)
        grant = self._check(sent.get("policy", ""), "POST")
        if sent.get("key") != grant.key:
            raise PresignedRequestRefused("Invalid according to Policy: key")
        if sent.get("Content-Type") != grant.content_type:
            raise PresignedRequestRefused("Invalid according to Policy: Content-Type")
        if grant.size is not None and len(data) != grant.size:
            raise PresignedRequestRefused("Your proposed upload size does not match the policy.")
        digest = hashlib.sha256(data).hexdigest()
        if grant.sha256 is not None and digest != grant.sha256:
            raise PresignedRequestRefused("The SHA256 you specified did not match the calculated.")
        # As the local server's storage: a stored object is never replaced.
        self._store(grant.key, data, grant.content_type or "application/octet-stream", once=True)
        if grant.sha256 is not None:
            self.objects[grant.key].checksum = Checksum.full_object(digest)

    def put_part(self, url: str, data: bytes, *, sha256: str | None = None) -> str:
        """Upload one part with a presigned part URL (with the SHA-256 the client sends it
        with, if any: required when the URL signs one); returns its ETag."""
        grant = self._check(_grant_id(url), "PUT")
        if len(data) != grant.size:
            raise PresignedRequestRefused("Content-Length does not match the signed length.")
        if grant.sha256 is not None and sha256 != grant.sha256:
            raise PresignedRequestRefused("x-amz-checksum-sha256 is signed and differs.")
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise PresignedRequestRefused("The SHA256 you specified did not match the calculated.")
        with self._lock:
            upload = self._multipart.get(grant.multipart_id or "")
            if upload is None:
                raise PresignedRequestRefused("The specified upload does not exist.")
            assert grant.part_number is not None  # part grants always carry one  # nosec B101
            upload.parts[grant.part_number] = data
            if sha256 is None:
                upload.part_sha256s.pop(grant.part_number, None)
            else:
                upload.part_sha256s[grant.part_number] = sha256
        return _etag(data)

    def get(self, url: str) -> tuple[bytes, dict[str, str]]:
        """Download with a presigned GET URL: the bytes and the response headers."""
        grant = self._check(_grant_id(url), "GET")
        obj = self.objects.get(grant.key)
        if obj is None:
            raise PresignedRequestRefused("The specified key does not exist.")
        return obj.data, {
            "Content-Type": obj.content_type,
            "Content-Disposition": content_disposition(grant.filename or "download"),
            "ETag": obj.etag,
        }

    def put_object(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        """Store an object directly, as someone with bucket access could."""
        self._store(key, data, content_type)

    def _store(self, key: str, data: bytes, content_type: str, *, once: bool = False) -> None:
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            if once and key in self.objects:
                raise PresignedRequestRefused("An object is already stored under this key.")
            self.objects[key] = _StoredObject(data, content_type, _etag(data), sha)

    # the port

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        multipart_id = secrets.token_hex(16)
        with self._lock:
            self._multipart[multipart_id] = _Multipart(key, content_type)
        return multipart_id

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        upload = self._multipart.get(multipart_id)
        if upload is None or upload.key != key:
            return []
        return [StoredPart(n, _etag(d), len(d)) for n, d in sorted(upload.parts.items())]

    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        with self._lock:
            upload = self._multipart.get(multipart_id)
            if upload is None or upload.key != key:
                raise InvalidInput("The multipart upload does not exist; start a new upload.")
            chunks = []
            for part in parts:
                data = upload.parts.get(part.part_number)
                if data is None or _etag(data) != part.etag.strip('"'):
                    raise InvalidInput(
                        f"Part {part.part_number} was not uploaded or its ETag does not match."
                    )
                sent = upload.part_sha256s.get(part.part_number)
                if part.sha256 is not None and part.sha256 != sent:
                    raise InvalidInput(
                        f"Part {part.part_number} is not what was sent: its SHA-256 does not "
                        "match the bytes that arrived. Upload the part again."
                    )
                chunks.append(data)
            del self._multipart[multipart_id]
            # As S3: a composite checksum when every part came with its SHA-256.
            shas = [upload.part_sha256s.get(p.part_number) for p in parts]
            checksum = None
            if parts and all(shas):
                checksum = Checksum.composite([s for s in shas if s], len(chunks[0]))
        self._store(key, b"".join(chunks), upload.content_type)
        # S3 reports no full-object SHA-256 for multipart objects: keep that behaviour.
        self.objects[key].sha256 = ""
        self.objects[key].checksum = checksum

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        with self._lock:
            self._multipart.pop(multipart_id, None)

    async def head(self, key: str) -> ObjectInfo | None:
        obj = self.objects.get(key)
        if obj is None:
            return None
        return ObjectInfo(len(obj.data), obj.etag, obj.sha256 or None, obj.checksum)

    async def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    async def keep_first_version(self, key: str) -> bool:
        return False  # `post` never replaces a stored object


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _grant_id(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("grant", [""])[0]


# --- messages out ------------------------------------------------------------------------------


class MemoryEventPublisher:
    """Keeps what was published, in order. `fail_next` makes the next publish raise."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.fail_next = 0

    async def publish(self, events: Sequence[Event]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("publisher unavailable")
        self.published.extend(events)


class MemoryEmailSender:
    """Keeps sent messages, newest last."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class MemoryRealtimeNotifier:
    """Connections that are `open`ed receive messages; any other id is gone."""

    def __init__(self) -> None:
        self.messages: dict[str, list[dict[str, Any]]] = {}

    def open(self, connection_id: str) -> None:
        self.messages.setdefault(connection_id, [])

    def close(self, connection_id: str) -> None:
        self.messages.pop(connection_id, None)

    async def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        inbox = self.messages.get(connection_id)
        if inbox is None:
            raise ConnectionGone(f"connection {connection_id} is gone")
        inbox.append(dict(message))
