"""The use cases: one async handler per command, written against the ports only."""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from filestore.domain import commands, notifications
from filestore.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    Conflict,
    ConnectionGone,
    InvalidInput,
    NotFound,
)
from filestore.domain.ids import is_public_id, is_token
from filestore.domain.model import Connection, Share, Upload, UploadStatus, User
from filestore.domain.ports import (
    BlobStore,
    Clock,
    EmailSender,
    EventPublisher,
    IdGenerator,
    ListPosition,
    ObjectInfo,
    PartUrl,
    PresignedPost,
    RealtimeNotifier,
    StoredPart,
    UnitOfWork,
    UnitOfWorkFactory,
)
from filestore.domain.rules import (
    UploadPolicy,
    check_share_lifetime,
    normalize_name,
    normalize_sha256,
    part_size_for,
)

log = logging.getLogger(__name__)

# The units of work opened while the bus handles one command, so it can collect their events.
_opened: contextvars.ContextVar[list[UnitOfWork] | None] = contextvars.ContextVar(
    "filestore_opened_uows", default=None
)

MAX_PARTS_PER_REQUEST = 1000
LIST_LIMIT_MAX = 100
# A pending upload younger than this is left to its S3 event by the sweep.
SWEEP_GRACE = timedelta(minutes=2)
# API Gateway closes WebSocket connections after two hours at most.
CONNECTION_MAX_AGE = timedelta(hours=2)


@dataclass
class Services:
    """Everything the use cases need, chosen by the composition root."""

    uow_factory: UnitOfWorkFactory
    blobs: BlobStore
    clock: Clock
    ids: IdGenerator
    policy: UploadPolicy = field(default_factory=UploadPolicy)
    publisher: EventPublisher | None = None
    email: EmailSender | None = None
    realtime: RealtimeNotifier | None = None

    def uow(self) -> UnitOfWork:
        """A new unit of work, remembered so the bus can collect what it commits."""
        uow = self.uow_factory()
        opened = _opened.get()
        if opened is not None:
            opened.append(uow)
        return uow


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MultipartPlan:
    part_size: int
    part_count: int


@dataclass(frozen=True)
class UploadTicket:
    """A requested upload and how to send its bytes: one form POST, or parts."""

    upload: Upload
    post: PresignedPost | None = None
    multipart: MultipartPlan | None = None


@dataclass(frozen=True)
class UploadPage:
    items: list[Upload]
    next_cursor: str | None


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SharedFile:
    name: str
    size: int
    url: str
    expires_at: datetime


class StoredOutcome(StrEnum):
    """What recording a stored object did."""

    STORED = "stored"
    FAILED = "failed"  # the object did not match the declaration; it was deleted
    DUPLICATE = "duplicate"  # already stored: an at-least-once repeat
    REJECTED = "rejected"  # its upload is deleted, failed or expired; the object was deleted
    ORPHAN = "orphan"  # no upload has this key; the object was deleted
    MISSING = "missing"  # the object is no longer there; nothing to do


@dataclass(frozen=True)
class ReconcileReport:
    completed: int = 0
    failed: int = 0
    expired: int = 0
    connections_removed: int = 0
    # The time budget ran out before every pending upload was looked at.
    stopped_early: bool = False


# --- helpers -----------------------------------------------------------------------------------


async def _user_for(uow: UnitOfWork, actor: commands.Actor, services: Services) -> User:
    """The actor's user, registered on first sight."""
    user = await uow.users.get_by_sub(actor.sub)
    if user is not None:
        return user
    user = User.register(
        id=services.ids.new_id(),
        sub=actor.sub,
        email=actor.email,
        quota_bytes=services.policy.default_quota_bytes,
        now=services.clock.now(),
    )
    try:
        await uow.users.add(user)
    except AlreadyExists as error:
        # Someone registered the same sub a moment ago: run the command again and find them.
        raise ConcurrencyConflict("user registered concurrently") from error
    return user


async def _owned_upload(uow: UnitOfWork, user: User, upload_id: str) -> Upload:
    if not is_public_id(upload_id):
        raise NotFound("No such upload.")
    upload = await uow.uploads.get(upload_id)
    if upload is None:
        raise NotFound("No such upload.")
    upload.check_owner(user.id)
    return upload


def encode_cursor(position: ListPosition) -> str:
    raw = json.dumps({"t": position.created_at.isoformat(), "i": position.id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> ListPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        position = ListPosition(datetime.fromisoformat(data["t"]), str(data["i"]))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "cursor is not valid; use next_cursor from the previous page."
        ) from error
    if position.created_at.tzinfo is None or not is_public_id(position.id):
        raise InvalidInput("cursor is not valid; use next_cursor from the previous page.")
    return position


def _check_object(upload: Upload, info: ObjectInfo) -> str | None:
    """Why the stored object does not match its declaration, or None if it does."""
    if info.size != upload.size:
        return f"the file has {info.size} bytes but {upload.size} were declared"
    if upload.sha256 is not None and info.sha256 is not None and info.sha256 != upload.sha256:
        return "the file's SHA-256 checksum does not match the one declared"
    return None


async def _settle(
    uow: UnitOfWork, upload: Upload, info: ObjectInfo, services: Services
) -> StoredOutcome:
    """Mark a pending upload stored, or failed if its object does not match; not committed."""
    now = services.clock.now()
    problem = _check_object(upload, info)
    if problem is None:
        upload.mark_stored(now)
        await uow.uploads.update(upload)
        return StoredOutcome.STORED
    upload.mark_failed(problem, now)
    await uow.uploads.update(upload)
    owner = await uow.users.get(upload.owner_id)
    if owner is not None:
        owner.release(upload.size)
        await uow.users.update(owner)
    return StoredOutcome.FAILED


# --- users -------------------------------------------------------------------------------------


async def register_user(cmd: commands.RegisterUser, services: Services) -> User:
    """Register a user (idempotent: an existing one is returned as it is)."""
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        await uow.commit()
    return user


async def get_me(cmd: commands.GetMe, services: Services) -> User:
    return await register_user(commands.RegisterUser(cmd.actor), services)


async def update_preferences(cmd: commands.UpdatePreferences, services: Services) -> User:
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        if user.notify_email != cmd.notify_email:
            user.notify_email = cmd.notify_email
            await uow.users.update(user)
        await uow.commit()
    return user


# --- uploads -----------------------------------------------------------------------------------


async def request_upload(cmd: commands.RequestUpload, services: Services) -> UploadTicket:
    """Declare an upload, reserve its bytes against the quota, and say where to send them."""
    policy = services.policy
    name = normalize_name(cmd.name)
    policy.check_size(cmd.size)
    content_type = policy.normalize_content_type(cmd.content_type)
    sha256 = normalize_sha256(cmd.sha256)
    now = services.clock.now()
    multipart = policy.is_multipart(cmd.size)

    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        user.reserve(cmd.size)
        upload_id = services.ids.new_id()
        upload = Upload(
            id=upload_id,
            owner_id=user.id,
            name=name,
            size=cmd.size,
            content_type=content_type,
            sha256=sha256,
            object_key=Upload.key_for(user.id, upload_id),
            created_at=now,
            expires_at=now + (policy.multipart_ttl if multipart else policy.upload_url_ttl),
        )
        if multipart:
            upload.part_size = part_size_for(cmd.size)
            upload.multipart_id = await services.blobs.create_multipart(
                upload.object_key, content_type=content_type
            )
        upload.requested(now)
        await uow.uploads.add(upload)
        await uow.users.update(user)
        await uow.commit()

    if multipart:
        assert upload.part_size is not None
        return UploadTicket(upload, multipart=MultipartPlan(upload.part_size, upload.part_count))
    post = services.blobs.presign_post(
        upload.object_key,
        size=upload.size,
        content_type=upload.content_type,
        sha256=upload.sha256,
        expires_in=policy.upload_url_ttl,
    )
    return UploadTicket(upload, post=post)


async def _pending_multipart(
    uow: UnitOfWork, actor: commands.Actor, upload_id: str, services: Services
) -> Upload:
    user = await _user_for(uow, actor, services)
    upload = await _owned_upload(uow, user, upload_id)
    if not upload.is_multipart:
        raise InvalidInput("This upload is not a multipart upload; POST the file to upload_url.")
    if upload.status is not UploadStatus.PENDING:
        raise Conflict(f"The upload is {upload.status.value}, not pending.")
    return upload


async def sign_parts(cmd: commands.SignParts, services: Services) -> list[PartUrl]:
    """Presigned PUT URLs for some parts of a pending multipart upload."""
    numbers = list(cmd.part_numbers)
    if not numbers:
        raise InvalidInput("part_numbers must list at least one part number.")
    if len(numbers) > MAX_PARTS_PER_REQUEST:
        raise InvalidInput(f"Ask for at most {MAX_PARTS_PER_REQUEST} parts at a time.")
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("part_numbers must not repeat a number.")
    async with services.uow() as uow:
        upload = await _pending_multipart(uow, cmd.actor, cmd.upload_id, services)
        await uow.commit()
    bad = [n for n in numbers if not 1 <= n <= upload.part_count]
    if bad:
        raise InvalidInput(
            f"Part numbers must be between 1 and {upload.part_count}; got {bad[:5]}."
        )
    assert upload.multipart_id is not None
    return [
        PartUrl(
            n,
            services.blobs.presign_part(
                upload.object_key,
                upload.multipart_id,
                n,
                upload.part_length(n),
                services.policy.upload_url_ttl,
            ),
        )
        for n in sorted(numbers)
    ]


async def list_parts(cmd: commands.ListParts, services: Services) -> list[StoredPart]:
    """The parts that have arrived, so an interrupted upload can send only the rest."""
    async with services.uow() as uow:
        upload = await _pending_multipart(uow, cmd.actor, cmd.upload_id, services)
        await uow.commit()
    assert upload.multipart_id is not None
    return await services.blobs.list_parts(upload.object_key, upload.multipart_id)


async def complete_multipart(cmd: commands.CompleteMultipart, services: Services) -> Upload:
    """Assemble the parts, check the result and mark the upload stored (or failed)."""
    numbers = [p.part_number for p in cmd.parts]
    async with services.uow() as uow:
        upload = await _pending_multipart(uow, cmd.actor, cmd.upload_id, services)
        if numbers != list(range(1, upload.part_count + 1)):
            raise InvalidInput(
                f"parts must list every part from 1 to {upload.part_count} in order, "
                "each with the ETag its PUT returned."
            )
        assert upload.multipart_id is not None
        await services.blobs.complete_multipart(upload.object_key, upload.multipart_id, cmd.parts)
        info = await services.blobs.head(upload.object_key)
        if info is None:
            raise ConcurrencyConflict("object vanished right after completion")
        try:
            outcome = await _settle(uow, upload, info, services)
            await uow.commit()
        except ConcurrencyConflict:
            outcome = None
    if outcome is None:
        # The blob store's event for this very completion settled the upload first: the
        # client's completion succeeded all the same, so answer with what it became.
        async with services.uow() as uow:
            settled = await uow.uploads.get(upload.id)
        if settled is None or settled.status not in (UploadStatus.STORED, UploadStatus.FAILED):
            raise ConcurrencyConflict("upload changed during completion")
        return settled
    if outcome is StoredOutcome.FAILED:
        await services.blobs.delete(upload.object_key)
    return upload


async def record_stored_object(
    cmd: commands.RecordStoredObject, services: Services
) -> StoredOutcome:
    """The blob store reports a new object: settle its upload, or delete what nobody asked for."""
    async with services.uow() as uow:
        upload = await uow.uploads.get_by_object_key(cmd.object_key)
        if upload is None:
            outcome = StoredOutcome.ORPHAN
        elif upload.status is UploadStatus.STORED:
            return StoredOutcome.DUPLICATE
        elif upload.status is not UploadStatus.PENDING:
            outcome = StoredOutcome.REJECTED
        else:
            info = await services.blobs.head(cmd.object_key)
            if info is None:
                return StoredOutcome.MISSING
            outcome = await _settle(uow, upload, info, services)
            await uow.commit()
    if outcome is not StoredOutcome.STORED:
        log.warning("deleting object %s: %s", cmd.object_key, outcome.value)
        await services.blobs.delete(cmd.object_key)
    return outcome


async def list_uploads(cmd: commands.ListUploads, services: Services) -> UploadPage:
    """One page of the actor's stored uploads, newest first."""
    if not 1 <= cmd.limit <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}.")
    after = decode_cursor(cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        rows = await uow.uploads.list_stored(user.id, cmd.limit + 1, after)
        await uow.commit()
    items = rows[: cmd.limit]
    next_cursor = None
    if len(rows) > cmd.limit:
        last = items[-1]
        next_cursor = encode_cursor(ListPosition(last.created_at, last.id))
    return UploadPage(items, next_cursor)


async def get_upload(cmd: commands.GetUpload, services: Services) -> Upload:
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        upload = await _owned_upload(uow, user, cmd.upload_id)
        await uow.commit()
    return upload


async def get_download(cmd: commands.GetDownload, services: Services) -> DownloadLink:
    """A short-lived link that downloads the file under its name."""
    upload = await get_upload(commands.GetUpload(cmd.actor, cmd.upload_id), services)
    upload.check_downloadable()
    ttl = services.policy.download_url_ttl
    url = services.blobs.presign_get(upload.object_key, filename=upload.name, expires_in=ttl)
    return DownloadLink(url, services.clock.now() + ttl)


async def rename_upload(cmd: commands.RenameUpload, services: Services) -> Upload:
    """Rename: metadata only, the object is not touched."""
    name = normalize_name(cmd.name)
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        upload = await _owned_upload(uow, user, cmd.upload_id)
        upload.rename(name, services.clock.now())
        await uow.uploads.update(upload)
        await uow.commit()
    return upload


async def delete_upload(cmd: commands.DeleteUpload, services: Services) -> None:
    """Delete an upload (twice is fine for its owner); its bytes no longer count."""
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        if not is_public_id(cmd.upload_id):
            raise NotFound("No such upload.")
        upload = await uow.uploads.get(cmd.upload_id)
        if upload is None or upload.owner_id != user.id:
            raise NotFound("No such upload.")
        held = upload.holds_quota
        was_pending = upload.status is UploadStatus.PENDING
        if not upload.delete(services.clock.now()):
            return
        await uow.uploads.update(upload)
        if held:
            user.release(upload.size)
            await uow.users.update(user)
        await uow.commit()
    # After the commit: if this fails the object is an orphan, which the S3 path deletes later.
    if was_pending and upload.multipart_id is not None:
        await services.blobs.abort_multipart(upload.object_key, upload.multipart_id)
    await services.blobs.delete(upload.object_key)


# --- shares ------------------------------------------------------------------------------------


async def create_share(cmd: commands.CreateShare, services: Services) -> Share:
    lifetime = check_share_lifetime(cmd.expires_in)
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        upload = await _owned_upload(uow, user, cmd.upload_id)
        upload.check_downloadable()
        share = Share.create(
            token=services.ids.new_token(),
            upload=upload,
            lifetime=lifetime,
            now=services.clock.now(),
        )
        await uow.shares.add(share)
        await uow.commit()
    return share


async def list_shares(cmd: commands.ListShares, services: Services) -> list[Share]:
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        upload = await _owned_upload(uow, user, cmd.upload_id)
        shares = await uow.shares.list_live(upload.id, services.clock.now())
        await uow.commit()
    return shares


async def revoke_share(cmd: commands.RevokeShare, services: Services) -> None:
    """Revoke a share link (again is fine for its owner; anyone else gets 'not found')."""
    if not is_token(cmd.token):
        raise NotFound("No such share.")
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        share = await uow.shares.get(cmd.token)
        if share is None or share.owner_id != user.id:
            raise NotFound("No such share.")
        if share.revoked_at is None:
            share.revoke(services.clock.now())
            await uow.shares.update(share)
        await uow.commit()


async def resolve_share(cmd: commands.ResolveShare, services: Services) -> SharedFile:
    """What a share link gives anyone holding it: the file's name, size and a short-lived URL."""
    if not is_token(cmd.token):
        raise NotFound("No such share.")
    now = services.clock.now()
    async with services.uow() as uow:
        share = await uow.shares.get(cmd.token)
        upload = await uow.uploads.get(share.upload_id) if share is not None else None
    if share is None or upload is None or not share.is_live(now):
        raise NotFound("No such share, or it has expired.")
    if upload.status is not UploadStatus.STORED:
        raise NotFound("No such share, or it has expired.")
    ttl = min(services.policy.share_url_ttl, share.expires_at - now)
    url = services.blobs.presign_get(upload.object_key, filename=upload.name, expires_in=ttl)
    return SharedFile(upload.name, upload.size, url, now + ttl)


# --- realtime and notifications ---------------------------------------------------------------


async def connect(cmd: commands.Connect, services: Services) -> None:
    async with services.uow() as uow:
        user = await _user_for(uow, cmd.actor, services)
        await uow.connections.add(Connection(cmd.connection_id, user.id, services.clock.now()))
        await uow.commit()


async def disconnect(cmd: commands.Disconnect, services: Services) -> None:
    async with services.uow() as uow:
        await uow.connections.remove(cmd.connection_id)
        await uow.commit()


EMAIL_CONSUMER = "email"
REALTIME_CONSUMER = "realtime"


async def notify_by_email(cmd: commands.NotifyByEmail, services: Services) -> bool:
    """E-mail the event's user if they opted in; each event at most once. True if sent."""
    event = cmd.event
    if event.type not in notifications.EMAIL_EVENT_TYPES or services.email is None:
        return False
    async with services.uow() as uow:
        if await uow.processed.contains(EMAIL_CONSUMER, event.id):
            return False
        user = await uow.users.get(event.user_id)
    message = notifications.email_for(event, user) if user and user.notify_email else None
    if message is not None:
        await services.email.send(message)
    await _mark_processed(services, EMAIL_CONSUMER, event.id)
    return message is not None


async def _mark_processed(
    services: Services, consumer: str, event_id: str, gone_connections: Sequence[str] = ()
) -> None:
    """Record, after the side effect, that `consumer` handled the event (a crash in between
    means it happens twice, never that it is lost). In a transaction of its own that writes
    first: had the side effect run inside the transaction that read, another writer committing
    meanwhile would fail this write (SQLite refuses to upgrade a stale read snapshot), and the
    bus's retry would send the e-mail or the message a second time."""
    async with services.uow() as uow:
        await uow.processed.add(consumer, event_id, services.clock.now())
        for connection_id in gone_connections:
            await uow.connections.remove(connection_id)
        await uow.commit()


async def notify_realtime(cmd: commands.NotifyRealtime, services: Services) -> int:
    """Push the event to each open connection of its user; forget the gone ones."""
    event = cmd.event
    message = notifications.realtime_message(event)
    if message is None or services.realtime is None:
        return 0
    async with services.uow() as uow:
        if await uow.processed.contains(REALTIME_CONSUMER, event.id):
            return 0
        connections = await uow.connections.list_for_user(event.user_id)
    delivered, gone = 0, []
    for connection in connections:
        try:
            await services.realtime.post(connection.id, message)
            delivered += 1
        except ConnectionGone:
            gone.append(connection.id)
    await _mark_processed(services, REALTIME_CONSUMER, event.id, gone)
    return delivered


# --- background --------------------------------------------------------------------------------


async def relay_outbox(cmd: commands.RelayOutbox, services: Services) -> int:
    """Publish unpublished outbox entries in order and mark them; returns how many."""
    if services.publisher is None:
        return 0
    async with services.uow() as uow:
        entries = await uow.outbox.pending(cmd.batch_size)
        if not entries:
            return 0
        await services.publisher.publish([entry.event for entry in entries])
        await uow.outbox.mark_published([entry.event.id for entry in entries], services.clock.now())
        await uow.commit()
    return len(entries)


async def reconcile(cmd: commands.Reconcile, services: Services) -> ReconcileReport:
    """Complete pending uploads whose object arrived unannounced, expire abandoned ones; page
    through every pending upload older than the grace, within the time budget if any."""
    now = cmd.now or services.clock.now()
    grace = SWEEP_GRACE if cmd.grace is None else cmd.grace
    # On the services' clock, not `now`: a caller may sweep as of another time.
    deadline = None if cmd.time_budget is None else services.clock.now() + cmd.time_budget
    completed = failed = expired = 0
    after: ListPosition | None = None
    stopped_early = False
    while True:
        # One short transaction per page: a page's uploads are each settled in their own.
        async with services.uow() as uow:
            page = await uow.uploads.list_pending(now - grace, cmd.batch_size, after)
        for candidate in page:
            try:
                result = await _reconcile_one(candidate.id, now, services)
            except ConcurrencyConflict:
                continue  # someone else settled it meanwhile
            completed += result == "completed"
            failed += result == "failed"
            expired += result == "expired"
        if len(page) < cmd.batch_size:
            break
        # Uploads still pending (waiting for their bytes, e.g. a multipart upload that lives a
        # day) stay in the listing: the cursor, not their state, moves the sweep past them.
        after = ListPosition(page[-1].created_at, page[-1].id)
        if deadline is not None and services.clock.now() >= deadline:
            stopped_early = True
            break
    async with services.uow() as uow:
        removed = await uow.connections.remove_connected_before(now - CONNECTION_MAX_AGE)
        await uow.commit()
    return ReconcileReport(completed, failed, expired, removed, stopped_early)


async def _reconcile_one(upload_id: str, now: datetime, services: Services) -> str | None:
    async with services.uow() as uow:
        upload = await uow.uploads.get(upload_id)
        if upload is None or upload.status is not UploadStatus.PENDING:
            return None
        info = await services.blobs.head(upload.object_key)
        if info is not None:
            outcome = await _settle(uow, upload, info, services)
            await uow.commit()
            if outcome is StoredOutcome.FAILED:
                await services.blobs.delete(upload.object_key)
                return "failed"
            return "completed"
        if now < upload.expires_at:
            return None
        upload.expire(now)
        await uow.uploads.update(upload)
        owner = await uow.users.get(upload.owner_id)
        if owner is not None:
            owner.release(upload.size)
            await uow.users.update(owner)
        await uow.commit()
    if upload.multipart_id is not None:
        await services.blobs.abort_multipart(upload.object_key, upload.multipart_id)
    return "expired"


Handler = Callable[[Any, Services], Awaitable[Any]]

COMMAND_HANDLERS: dict[type[commands.Command], Handler] = {
    commands.RegisterUser: register_user,
    commands.GetMe: get_me,
    commands.UpdatePreferences: update_preferences,
    commands.RequestUpload: request_upload,
    commands.SignParts: sign_parts,
    commands.ListParts: list_parts,
    commands.CompleteMultipart: complete_multipart,
    commands.RecordStoredObject: record_stored_object,
    commands.ListUploads: list_uploads,
    commands.GetUpload: get_upload,
    commands.GetDownload: get_download,
    commands.RenameUpload: rename_upload,
    commands.DeleteUpload: delete_upload,
    commands.CreateShare: create_share,
    commands.ListShares: list_shares,
    commands.RevokeShare: revoke_share,
    commands.ResolveShare: resolve_share,
    commands.Connect: connect,
    commands.Disconnect: disconnect,
    commands.NotifyByEmail: notify_by_email,
    commands.NotifyRealtime: notify_realtime,
    commands.RelayOutbox: relay_outbox,
    commands.Reconcile: reconcile,
}
