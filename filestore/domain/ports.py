"""The ports: what the domain needs from the outside world, shaped by the use cases.

Every port has an in-memory adapter in `filestore.adapters.memory` and a contract test suite in
`tests/contracts/` that every adapter of it passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Literal, Protocol, Self

from filestore.domain.checksums import Checksum
from filestore.domain.events import Event
from filestore.domain.model import Connection, Folder, Share, Upload, User

# --- persistence -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ListPosition:
    """Where a listing stopped: the last row's `(created_at, id)`."""

    created_at: datetime
    id: str


class SortField(StrEnum):
    """What a file listing is sorted by. Each sort is a total order on `(key, id)`, where the
    key is `created_at`, `name_key(name)` (see `filestore.domain.names`: NFC + case folding,
    compared code point by code point) or `size`; ties are broken by `id` in the same
    direction as the key."""

    CREATED_AT = "created_at"
    NAME = "name"
    SIZE = "size"


@dataclass(frozen=True)
class SortPosition:
    """Where a sorted listing stopped: the last row's `(key, id)`, the key as `SortField`
    says (a `datetime` for `created_at`, the name key `str` for `name`, an `int` for
    `size`). The next page holds the rows strictly after it in the listing's order."""

    key: datetime | str | int
    id: str


# `FileQuery.folder` for a listing of every stored file, whatever its folder (the v1 listing).
ANY_FOLDER: Final = "*"


@dataclass(frozen=True)
class FileQuery:
    """Which of a user's stored (not trashed) files a listing shows, and in which order."""

    # A folder id, None for the root, or ANY_FOLDER for every folder.
    folder: str | None = ANY_FOLDER
    sort: SortField = SortField.CREATED_AT
    descending: bool = True
    # A `search_key` (filestore.domain.names): only files whose name's search key contains it
    # (a plain substring: no wildcards, whatever characters it holds).
    contains: str | None = None

    def key_of(self, upload: Upload) -> datetime | str | int:
        """The upload's sort key in this listing (its `SortPosition.key`)."""
        if self.sort is SortField.NAME:
            return upload.name_key
        if self.sort is SortField.SIZE:
            return upload.size
        return upload.created_at


@dataclass(frozen=True)
class NameClash:
    """What already holds a name in a folder."""

    kind: Literal["upload", "folder"]
    id: str
    name: str


@dataclass(frozen=True)
class TrashPosition:
    """Where a trash listing stopped: the last item's `(trashed_at, id)`."""

    trashed_at: datetime
    id: str


@dataclass(frozen=True)
class TrashedFiles:
    """The files trashed with an item, as deleting it forever needs them: how many, their
    bytes in all, and the object keys of the first of them in object-key order (at most the
    limit asked for; `UploadRepository.object_keys_trashed_with` reads on from the last).
    Bounded whatever the folder holds: one page of keys, never every row."""

    count: int
    size: int
    object_keys: list[str]


@dataclass(frozen=True)
class ProcessedBy:
    """One consumer's handling of one event: what `ProcessedEvents` remembers."""

    consumer: str
    event_id: str


# Optimistic concurrency, the same for every aggregate: `add` saves version 1 and sets it on the
# entity; `update` saves only if the stored version is still the entity's, then increments both,
# else raises `ConcurrencyConflict`. Reads return copies: changing one saves nothing.
#
# Queries keyed by `sub` (the identity provider's id of the caller) join the users table
# themselves, so that a use case needs no lookup of its caller first: one statement each. A
# user who is not registered yet owns nothing, so those queries find nothing for them.
#
# Folders and names. A user's files and folders form a tree under their root (which is no
# folder: `parent_id`/`folder_id` None). Within one folder, the names of its *active* folders
# and its *stored* files are unique by `name_key` (filestore.domain.names): trashed, deleted,
# pending, failed and expired things hold no name. The writes that could break that rule, or
# make a folder its own ancestor, are conditional: they change nothing and answer False when
# they would, so the check and the write are one statement (no read-check-write race). The use
# case then reads to say why (`FolderRepository.find_clash`, `get_for_sub`).
#
# The trash. Putting an item (a stored file, or an active folder) in the trash directly marks
# it `trashed` with `trashed_at` and `trashed_with` = its own id; a folder takes along every
# active folder and stored file below it, at any depth, marking them with the same
# `trashed_at` and `trashed_with` = the folder's id. What is already in the trash stays
# marked as it was (a file trashed on its own before keeps its own entry). A restore or a purge
# of an item acts on exactly the rows whose `trashed_with` is its id; the trash listing shows
# only the items trashed directly (`trashed_with` = own id). Parents and folders are left as
# they were while in the trash, so what is restored comes back in the same shape.


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def get_by_sub(self, sub: str) -> User | None: ...
    async def list_by_email(self, email: str) -> list[User]:
        """Every user whose address is `email` ignoring the case of ASCII letters (how other
        letters fold is the database's; the addresses we mail are ASCII), in no set order.
        The identity provider keeps addresses unique, but a user may not have signed in since
        their address moved to someone else, so there may be several."""

    async def add(self, user: User) -> None:
        """Insert; raises `AlreadyExists` if the sub (or id) is taken."""

    async def update(self, user: User) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""

    async def reserve(self, user_id: str, size: int) -> bool:
        """Count `size` more bytes against the user's quota if they fit (`used_bytes + size <=
        quota_bytes`), as one step no concurrent change can come between, and bump the
        version; False (nothing changed) if they do not fit or there is no such user."""

    async def id_for_sub(self, sub: str) -> str | None:
        """The id of the user with this sub, or None. A sub's user never changes: an adapter may
        answer from what it learned before (of committed users only), without a query."""

    async def get_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[User | None, bool]:
        """The user, and whether that consumer already handled that event: a consumer's read
        and its idempotency check in one query. `(None, False)` if there is no such user."""


class UploadRepository(Protocol):
    async def get(self, upload_id: str) -> Upload | None: ...
    async def get_for_sub(self, upload_id: str, sub: str) -> Upload | None:
        """The upload if the user with this sub owns it (in whatever state), else None."""

    async def get_by_object_key(self, object_key: str) -> Upload | None: ...
    async def add(self, upload: Upload) -> None:
        """Insert; raises `AlreadyExists` if the id or object key is taken, or if the upload
        is stored and its name is taken in its folder (uploads are added pending, so this
        guards the rule, no more), `NotFound` if the owner does not exist or if `folder_id`
        is not None and not an active folder of the owner (checked in the same statement,
        so declaring an upload into a folder needs no read of the folder first)."""

    async def update(self, upload: Upload, *, release_bytes: int = 0) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`. With
        `release_bytes`, also give that many bytes back to the owner's quota (never below
        zero) in the same step: for an upload that stopped counting (failed, expired,
        deleted). The owner's version changes then, as by `UserRepository.update`."""

    async def list_stored_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """The stored uploads of the user with this sub, newest first by `(created_at, id)`,
        after `after`."""

    async def list_pending(
        self, created_before: datetime, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """Pending uploads created before a time, oldest first by `(created_at, id)`, strictly
        after `after` (for the reconciling sweep, which pages through them all)."""

    async def list_files_for_sub(
        self, sub: str, query: FileQuery, limit: int, after: SortPosition | None = None
    ) -> list[Upload] | None:
        """One page of the stored (not trashed) uploads of the user with this sub that match
        `query`, in its order (see `SortField`), strictly after `after`; at most `limit`.
        None if `query.folder` names a folder that is not an active folder of theirs (so that
        a listing of a gone folder is told apart from an empty one). One statement."""

    async def list_pending_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """The pending uploads of the user with this sub (unfinished, for a client to resume
        or abort), newest first by `(created_at, id)`, strictly after `after`."""

    async def place(self, upload: Upload) -> bool:
        """Save the upload (as `update` does, whatever changed: typically its name, its
        folder, its status), on the condition that, as it is saved, (a) its `folder_id` is
        None or an active folder of its owner, and (b) if it is stored, no active folder and no
        other stored upload in that folder has its `name_key`. False if the version is stale
        or (a) or (b) fails: nothing is saved then and the caller reads to find out which.
        For a rename, a move, a restore and the step to `stored`."""

    async def files_trashed_with(self, owner_id: str, item_id: str, limit: int) -> TrashedFiles:
        """The owner's trashed uploads whose `trashed_with` is `item_id` (what a purge of
        that item deletes): their count, their size, and the first `limit` of their object
        keys. One statement."""

    async def object_keys_trashed_with(
        self, owner_id: str, item_id: str, limit: int, after: str
    ) -> list[str]:
        """The object keys of the owner's uploads whose `trashed_with` is `item_id` (trashed
        with it, or deleted forever with it: a purge reads on after its write), in key order,
        strictly after the key `after`; at most `limit`. One statement."""


class FolderRepository(Protocol):
    """A user's folders (see "Folders and names" and "The trash" above)."""

    async def get_for_sub(self, folder_id: str, sub: str) -> Folder | None:
        """The folder if the user with this sub owns it (in whatever state), else None."""

    async def get_path_for_sub(self, folder_id: str, sub: str) -> list[Folder]:
        """The folder and its ancestors, outermost first and the folder last, if the user
        with this sub owns it (in whatever state); [] otherwise. One statement."""

    async def list_for_sub(
        self, sub: str, parent_id: str | None, limit: int, after: SortPosition | None = None
    ) -> list[Folder] | None:
        """One page of the active folders directly in `parent_id` (None: the root) of the user
        with this sub, by `(name_key, id)` ascending, strictly after `after` (whose key is a
        name key); None if `parent_id` is not an active folder of theirs. One statement."""

    async def add(self, folder: Folder) -> bool:
        """Insert an active folder, on the condition that its parent is None or an active
        folder of the same owner and that no active folder or stored upload in the parent has
        its `name_key`; False (nothing inserted) if not. Raises `AlreadyExists` if the id is
        taken, `NotFound` if the owner does not exist."""

    async def update(self, folder: Folder) -> bool:
        """Save a rename and/or a move of an active folder, on the condition that the version
        is still the folder's, that its new parent is None or an active folder of the same
        owner that is neither the folder nor below it (no cycle, checked against the stored
        tree as it is saved, so two concurrent moves cannot make one), and that no other
        active folder and no stored upload in the new parent has its `name_key`. Everything
        below a moved folder moves with it. False (nothing saved) if any condition fails."""

    async def trash(self, folder: Folder) -> None:
        """Save a folder just put in the trash (`Folder.trash`) and take along, in the same
        step, every active folder and stored upload below it: status `trashed`, `trashed_at`
        and `trashed_with` as the folder's (and the uploads' `updated_at` its `trashed_at`).
        Raises `ConcurrencyConflict` if the version is stale. As fast for 10,000 files as for
        one: a few set-based statements."""

    async def restore(self, folder: Folder, *, now: datetime) -> bool:
        """Save a folder just restored (`Folder.restore`: active, its `parent_id` and `name`
        where it goes back to) and bring back, in the same step, every folder and upload
        whose `trashed_with` is its id: folders active and uploads stored, their trash marks
        cleared, the uploads' `restored_at` and `updated_at` = `now` (the time of the
        restore), everything as it was below the folder. Conditional as `update` is (version,
        parent active, no clash in the parent); False (nothing saved) if a condition fails."""

    async def purge(self, folder: Folder, *, release_bytes: int, now: datetime) -> None:
        """Save a folder just deleted forever (`Folder.purge`) and mark deleted, in the same
        step, every folder and upload whose `trashed_with` is its id (the uploads'
        `updated_at` = `now`), giving `release_bytes` (the total size of those uploads, read
        by `UploadRepository.files_trashed_with`) back to the owner's quota. Raises
        `ConcurrencyConflict` if the version is stale (a restore or a purge came first)."""

    async def find_clash(
        self, owner_id: str, parent_id: str | None, name: str, *, excluding: str | None = None
    ) -> NameClash | None:
        """The active folder or stored upload directly in `parent_id` (None: the root) of
        that owner whose `name_key` is `name`'s, other than the one with id `excluding`; None
        if there is none. (If there are several, any one.)"""

    async def names_like(self, owner_id: str, parent_id: str | None, name: str) -> set[str]:
        """The `name_key`s of the active folders and stored uploads directly in `parent_id`
        that begin with the key of `name`'s stem as a file's (`names.split_extension`:
        `report` for `report.pdf`, `.bashrc` for `.bashrc`): every name `free_name` must
        avoid when numbering copies of `name` (file or folder), and maybe more."""

    async def get(self, folder_id: str) -> Folder | None:
        """The folder, whoever owns it, in whatever state."""


class TrashRepository(Protocol):
    """What a user put in the trash directly: files and folders, in one listing."""

    async def list_for_sub(
        self, sub: str, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        """One page of the items the user with this sub trashed directly (`trashed_with` = own
        id; a trashed folder, not what it took along), most recent first by
        `(trashed_at, id)` descending, strictly after `after`. One statement."""

    async def get_for_sub(self, item_id: str, sub: str) -> Upload | Folder | None:
        """The upload or folder `item_id` if the user with this sub trashed it directly and it
        is still in the trash, else None. One statement."""

    async def get_with_files_for_sub(
        self, item_id: str, sub: str, limit: int
    ) -> tuple[Upload | Folder, TrashedFiles] | None:
        """What `get_for_sub` answers, together with the uploads trashed with it as
        `UploadRepository.files_trashed_with` answers them (none for a file): what deleting
        it forever reads first. None as `get_for_sub`. One statement."""

    async def list_expired(
        self, trashed_before: datetime, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        """Items trashed directly before `trashed_before`, of every user, oldest first by
        `(trashed_at, id)`, strictly after `after` (for the sweep's purge)."""


class ShareRepository(Protocol):
    async def get(self, token: str) -> Share | None: ...
    async def get_for_sub(self, token: str, sub: str) -> Share | None:
        """The share if the user with this sub owns it (revoked or not), else None."""

    async def get_with_upload(self, token: str) -> tuple[Share, Upload] | None:
        """The share and its upload, in one query (what a share link resolves to)."""

    async def add(self, share: Share) -> None:
        """Insert; raises `AlreadyExists` if the token is taken."""

    async def update(self, share: Share) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""

    async def list_live_for_sub(
        self, upload_id: str, sub: str, now: datetime
    ) -> list[Share] | None:
        """Unrevoked, unexpired shares of one upload that it still honours (made after its
        `restored_at`, if any, strictly: `Upload.honours`), soonest to expire first; None if the
        user with this sub has no such upload, or it is trashed or deleted."""


class ConnectionRepository(Protocol):
    async def add(self, connection: Connection) -> None:
        """Insert or replace (a reconnect may reuse an id)."""

    async def remove(self, connection_id: str) -> None:
        """Forget a connection; absent is fine."""

    async def list_for_user(self, user_id: str) -> list[Connection]: ...
    async def remove_connected_before(self, cutoff: datetime) -> int:
        """Forget connections older than `cutoff`; returns how many."""

    async def list_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[list[Connection], bool]:
        """The user's connections, oldest first, and whether that consumer already handled
        that event: its read and its idempotency check in one query. `([], False)` if the
        user has none (nothing to deliver either way)."""


@dataclass(frozen=True)
class OutboxEntry:
    """An event committed with the state change it describes, waiting to be published."""

    position: int
    event: Event


class Outbox(Protocol):
    async def add(self, events: Sequence[Event]) -> None:
        """Write events in the current transaction, in order."""

    async def pending(self, limit: int) -> list[OutboxEntry]:
        """Unpublished entries, oldest first; skips rows another relay is working on."""

    async def mark_published(self, event_ids: Sequence[str], now: datetime) -> None: ...


class ProcessedEvents(Protocol):
    async def add(self, consumer: str, event_id: str, now: datetime) -> bool:
        """Record that `consumer` handled `event_id`; False if it already had."""

    async def contains(self, consumer: str, event_id: str) -> bool: ...
    async def record(self, consumer: str, event_id: str, now: datetime) -> None:
        """Record that `consumer` handled `event_id`, answering nothing (again is fine, and so
        is the same record made concurrently): for a consumer that records after its side
        effect, whose write may then wait for the commit and go alone."""


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without `commit()` rolls back.

    The transaction begins with the first write. Reads before it run on their own, each
    seeing what is committed when it runs, with no transaction to begin or end (on the Data
    API, one call each): a use case that only reads makes one statement per read and no more.
    Every write that depends on such a read is conditional on it (versions, or the condition
    of `UserRepository.reserve`), so a change made in between is still detected
    (`ConcurrencyConflict`). Reads after the first write run inside the transaction and see
    its writes.

    Writes that answer nothing (adding or removing a connection, `processed.record`, marking
    events published) may be held back until the next statement or the commit; a unit of work
    whose only statement is one of them commits it on its own, with no transaction.

    On commit, the events recorded by every aggregate added or updated through it are written
    to the outbox in the same transaction, and kept in `committed_events` for the caller.
    """

    users: UserRepository
    uploads: UploadRepository
    folders: FolderRepository
    trash: TrashRepository
    shares: ShareRepository
    connections: ConnectionRepository
    outbox: Outbox
    processed: ProcessedEvents
    committed_events: list[Event]

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
    async def aclose(self) -> None:
        """Release what the factory holds (pooled connections); it is not used afterwards."""


# --- blobs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresignedPost:
    """A form upload: POST `fields` plus the file (last) as multipart/form-data to `url`."""

    url: str
    fields: Mapping[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class CompletedPart:
    part_number: int
    etag: str
    sha256: str | None = None  # hex: the part's SHA-256 the client sent it with


@dataclass(frozen=True)
class ObjectInfo:
    """What the blob store knows of a stored object."""

    size: int
    etag: str
    sha256: str | None = None  # hex, when the store recorded a full-object SHA-256
    # The SHA-256 storage checked the bytes against as they arrived: the whole file's, or the
    # composite of a multipart upload whose parts were each sent with theirs; None if none was.
    checksum: Checksum | None = None


class BlobStore(Protocol):
    """Where the bytes live. Presigning is local computation; the rest does I/O."""

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        """A POST accepting exactly `size` bytes of `content_type` at `key`, and nothing else."""

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        """A PUT URL for one part whose Content-Length is signed to `size` and, given `sha256`
        (hex), whose `x-amz-checksum-sha256` header is signed to it: storage refuses a part
        whose bytes do not match."""

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        """A GET URL answering with `Content-Disposition: attachment` carrying `filename`."""

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        """Start a multipart upload; returns its id. With `part_checksums`, its parts come with
        their SHA-256s and the object gets their composite (S3 wants to know at the start)."""

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]: ...
    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        """Assemble the parts; raises `InvalidInput` if a part, ETag or part SHA-256 does not
        match what arrived."""

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Abandon a multipart upload; absent is fine."""

    async def head(self, key: str) -> ObjectInfo | None: ...
    async def delete(self, key: str) -> None:
        """Delete an object; absent is fine."""

    async def keep_first_version(self, key: str) -> bool:
        """Make the bytes first stored under `key` its current ones again, if a later write
        replaced them (a presigned POST sent again before it expired); whether it did. A store
        that refuses a second write to a key has nothing to do."""


# --- messages out ------------------------------------------------------------------------------


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> None:
        """Publish to every subscriber (at least once); raises if any was not accepted."""


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class RealtimeNotifier(Protocol):
    async def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        """Send one JSON message; raises `ConnectionGone` if the connection no longer exists."""


# --- time and identity -------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new opaque, time-ordered public id."""

    def new_token(self) -> str:
        """A new unguessable share token."""
