"""The aggregates: users, their uploads, share links, realtime connections.

Aggregates enforce their own state transitions and record the events those transitions cause;
the unit of work collects the events and writes them to the outbox with the state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from filestore.domain import events
from filestore.domain.checksums import Checksum
from filestore.domain.errors import Conflict, QuotaExceeded
from filestore.domain.names import name_key, search_key
from filestore.domain.rules import part_count_for

# The least step of a timestamp (they keep microseconds).
_TICK = timedelta(microseconds=1)


class EmailStatus(StrEnum):
    """Whether mail reaches a user's address, as the mail service last reported it."""

    OK = "ok"
    # The address bounced permanently: it does not exist, or never accepts our mail.
    BOUNCED = "bounced"
    # The recipient marked one of our e-mails as spam: they withdrew their consent.
    COMPLAINED = "complained"


class UploadStatus(StrEnum):
    PENDING = "pending"
    STORED = "stored"
    # In the trash: still counted against the quota, invisible but to the trash listing.
    TRASHED = "trashed"
    FAILED = "failed"
    EXPIRED = "expired"
    DELETED = "deleted"


class FolderStatus(StrEnum):
    ACTIVE = "active"
    TRASHED = "trashed"
    # Deleted forever (purged from the trash); the row stays so a repeated DELETE is no error.
    DELETED = "deleted"


class OnConflict(StrEnum):
    """What storing a file does when its name is taken in its folder."""

    RENAME = "rename"  # keep both: the new one becomes `name (2).ext`
    FAIL = "fail"  # refuse the new one


@dataclass
class Aggregate:
    """Something loaded and saved as a whole, with a version for optimistic concurrency."""

    version: int = field(default=0, kw_only=True)
    events: list[events.Event] = field(
        default_factory=list, kw_only=True, repr=False, compare=False
    )


def drain_events(aggregates: Iterable[Aggregate]) -> list[events.Event]:
    """Take the events the aggregates recorded, in order, leaving them with none."""
    drained: list[events.Event] = []
    for aggregate in aggregates:
        drained.extend(aggregate.events)
        aggregate.events.clear()
    return drained


@dataclass
class User(Aggregate):
    """A person, known by their identity provider's `sub`."""

    id: str
    sub: str
    email: str
    quota_bytes: int
    created_at: datetime
    notify_email: bool = False
    used_bytes: int = 0
    email_status: EmailStatus = EmailStatus.OK

    @classmethod
    def register(cls, *, id: str, sub: str, email: str, quota_bytes: int, now: datetime) -> User:
        user = cls(id=id, sub=sub, email=email, quota_bytes=quota_bytes, created_at=now)
        user.events.append(events.UserRegistered(occurred_at=now, user_id=id, email=email))
        return user

    @property
    def email_deliverable(self) -> bool:
        """Whether e-mail may be sent to this user's address."""
        return self.email_status is EmailStatus.OK

    def change_email(self, email: str) -> bool:
        """Take the address the identity provider now holds; True if anything changed.

        A different mailbox starts afresh (`ok`): what bounced or complained was the old one.
        The same mailbox written differently (only the case differs) keeps its status.
        """
        if email == self.email:
            return False
        if email.lower() != self.email.lower():
            self.email_status = EmailStatus.OK
        self.email = email
        return True

    def mark_email_undeliverable(self, status: EmailStatus) -> bool:
        """Record that mail to this address bounced or was complained about; True if that
        changed the status. A complaint outranks a bounce: both stop the mail, but only a
        new opt-in undoes a complaint (`set_notify_email`)."""
        if status is EmailStatus.OK:
            raise ValueError("an address is marked undeliverable as bounced or complained")
        if self.email_status is status or self.email_status is EmailStatus.COMPLAINED:
            return False
        self.email_status = status
        return True

    def email_proven_deliverable(self) -> bool:
        """Mail reached the address again (the person read a code sent to it): a bounce no
        longer holds. A complaint does: receiving mail is not consenting to it. True if that
        changed the status."""
        if self.email_status is not EmailStatus.BOUNCED:
            return False
        self.email_status = EmailStatus.OK
        return True

    def set_notify_email(self, notify_email: bool) -> bool:
        """Turn e-mail notifications on or off; True if anything changed.

        Turning them on is a new opt-in, which lifts a complaint (not a bounce: the address
        still does not receive mail).
        """
        changed = notify_email != self.notify_email
        self.notify_email = notify_email
        if notify_email and self.email_status is EmailStatus.COMPLAINED:
            self.email_status = EmailStatus.OK
            changed = True
        return changed

    def reserve(self, size: int) -> None:
        """Count `size` more bytes against the quota, or refuse them."""
        if self.used_bytes + size > self.quota_bytes:
            free = max(0, self.quota_bytes - self.used_bytes)
            raise QuotaExceeded(
                f"This upload needs {size} bytes but only {free} of your {self.quota_bytes} "
                "bytes are free; delete some files first."
            )
        self.used_bytes += size

    def release(self, size: int) -> None:
        """Give back bytes that no longer count (failed, expired or deleted uploads)."""
        self.used_bytes = max(0, self.used_bytes - size)


@dataclass
class Upload(Aggregate):
    """One file: declared by its owner, then stored in the blob store, or not."""

    id: str
    owner_id: str
    name: str
    size: int
    content_type: str
    object_key: str
    created_at: datetime
    expires_at: datetime
    # The last change its owner can see (status, name, folder): `created_at` at first, then
    # strictly later with every change (`touch`), so clients order the messages about it,
    # which reach them in any order and sometimes twice, by this alone.
    updated_at: datetime
    sha256: str | None = None
    status: UploadStatus = UploadStatus.PENDING
    stored_at: datetime | None = None
    multipart_id: str | None = None
    part_size: int | None = None
    # What storage verified once the file was stored (`filestore.domain.checksums`).
    checksum: Checksum | None = None
    folder_id: str | None = None  # None: the root
    on_conflict: OnConflict = OnConflict.RENAME
    # While trashed: when, and the id of what was trashed directly to put it there (its own id,
    # or the folder it was in); a restore of that item restores exactly what carries its id.
    trashed_at: datetime | None = None
    trashed_with: str | None = None
    # Share links made before this stay dead: trashing a file ends its links for good.
    restored_at: datetime | None = None

    @staticmethod
    def key_for(owner_id: str, upload_id: str) -> str:
        """Object keys are generated, never taken from the user."""
        return f"u/{owner_id}/{upload_id}"

    @property
    def is_multipart(self) -> bool:
        return self.multipart_id is not None

    @property
    def is_visible(self) -> bool:
        """Whether its owner can see, change and share it (not trashed, deleted or failed)."""
        return self.status in (UploadStatus.PENDING, UploadStatus.STORED)

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @property
    def search_key(self) -> str:
        return search_key(self.name)

    @property
    def holds_quota(self) -> bool:
        """Pending, stored and trashed bytes count against the owner's quota."""
        return self.status in (UploadStatus.PENDING, UploadStatus.STORED, UploadStatus.TRASHED)

    @property
    def part_count(self) -> int:
        if self.part_size is None:
            return 0
        return part_count_for(self.size, self.part_size)

    def part_length(self, part_number: int) -> int:
        """The exact length of one part (all parts are `part_size` but the last)."""
        assert self.part_size is not None  # only multipart uploads have parts  # nosec B101
        if part_number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)

    def view(self) -> events.UploadData:
        return events.UploadData(
            id=self.id,
            name=self.name,
            size=self.size,
            content_type=self.content_type,
            status=self.status.value,
            created_at=self.created_at,
            stored_at=self.stored_at,
            checksum=None if self.checksum is None else events.ChecksumData.of(self.checksum),
            folder_id=self.folder_id,
            updated_at=self.updated_at,
        )

    def touch(self, now: datetime) -> None:
        """Record a change its owner can see: `updated_at` becomes `now`, or a microsecond
        past the last change if the clock says otherwise (another machine's clock, or the
        same microsecond), so two different states never carry the same `updated_at`."""
        self.updated_at = max(now, self.updated_at + _TICK)

    def requested(self, now: datetime) -> None:
        self.events.append(
            events.UploadRequested(
                occurred_at=now,
                user_id=self.owner_id,
                upload=self.view(),
                multipart=self.is_multipart,
            )
        )

    def mark_stored(
        self,
        now: datetime,
        checksum: Checksum | None = None,
        *,
        name: str | None = None,
        folder_id: str | None = None,
    ) -> None:
        """Stored, with the checksum storage verified (None: none was), under its final `name`
        in its final folder (see `handlers.placement`): the name it asked for may have been
        taken, its folder trashed meanwhile."""
        if self.status is not UploadStatus.PENDING:
            raise Conflict(f"The upload is {self.status.value}, not pending.")
        if name is not None:
            self.name, self.folder_id = name, folder_id
        self.status = UploadStatus.STORED
        self.stored_at = now
        self.checksum = checksum
        self.touch(now)
        self.events.append(
            events.UploadStored(occurred_at=now, user_id=self.owner_id, upload=self.view())
        )

    def mark_failed(self, reason: str, now: datetime) -> None:
        if self.status is not UploadStatus.PENDING:
            raise Conflict(f"The upload is {self.status.value}, not pending.")
        self.status = UploadStatus.FAILED
        self.touch(now)
        self.events.append(
            events.UploadFailed(
                occurred_at=now, user_id=self.owner_id, upload=self.view(), reason=reason
            )
        )

    def mark_lost(self, reason: str, now: datetime) -> None:
        """A stored upload whose bytes the storage lost: failed, as if they had never arrived
        whole (`upload.failed` tells its owner why); its quota is released by the caller."""
        if self.status is not UploadStatus.STORED:
            raise Conflict(f"The upload is {self.status.value}, not stored.")
        self.status = UploadStatus.FAILED
        self.touch(now)
        self.events.append(
            events.UploadFailed(
                occurred_at=now, user_id=self.owner_id, upload=self.view(), reason=reason
            )
        )

    def expire(self, now: datetime) -> None:
        if self.status is not UploadStatus.PENDING:
            raise Conflict(f"The upload is {self.status.value}, not pending.")
        self.status = UploadStatus.EXPIRED
        self.touch(now)
        self.events.append(
            events.UploadExpired(occurred_at=now, user_id=self.owner_id, upload=self.view())
        )

    def rename(self, name: str, now: datetime) -> None:
        if not self.is_visible:
            raise Conflict(f"The upload is {self.status.value}; only live uploads can be renamed.")
        if name == self.name:
            return
        old, self.name = self.name, name
        self.touch(now)
        self.events.append(
            events.UploadRenamed(
                occurred_at=now, user_id=self.owner_id, upload=self.view(), old_name=old
            )
        )

    def move(self, folder_id: str | None, now: datetime) -> None:
        """Into another folder (None: the root)."""
        if not self.is_visible:
            raise Conflict(f"The upload is {self.status.value}; only live uploads can be moved.")
        if folder_id == self.folder_id:
            return
        old, self.folder_id = self.folder_id, folder_id
        self.touch(now)
        self.events.append(
            events.UploadMoved(
                occurred_at=now, user_id=self.owner_id, upload=self.view(), old_folder_id=old
            )
        )

    def trash(self, now: datetime) -> bool:
        """Into the trash; False if it already is there or deleted (again is no error)."""
        if self.status in (UploadStatus.TRASHED, UploadStatus.DELETED):
            return False
        if self.status is not UploadStatus.STORED:
            raise Conflict(f"The upload is {self.status.value}; only stored files go to the trash.")
        self.status, self.trashed_at, self.trashed_with = UploadStatus.TRASHED, now, self.id
        self.touch(now)
        self.events.append(
            events.UploadTrashed(occurred_at=now, user_id=self.owner_id, upload=self.view())
        )
        return True

    def restore(self, now: datetime, *, folder_id: str | None, name: str) -> None:
        """Out of the trash into `folder_id` as `name` (where it was, or the root if that
        is gone; renamed on a clash). Its old share links stay dead."""
        if self.status is not UploadStatus.TRASHED or self.trashed_with != self.id:
            raise Conflict("Only a file put in the trash by itself can be restored by itself.")
        self.status, self.trashed_at, self.trashed_with = UploadStatus.STORED, None, None
        self.folder_id, self.name, self.restored_at = folder_id, name, now
        self.touch(now)
        self.events.append(
            events.UploadRestored(occurred_at=now, user_id=self.owner_id, upload=self.view())
        )

    def honours(self, share: Share) -> bool:
        """Whether a share link of this upload still leads to it: it is stored, and the link
        was made after the file last came back from the trash (strictly: a link of the same
        instant is taken as older, so an old link never survives)."""
        return self.status is UploadStatus.STORED and (
            self.restored_at is None or share.created_at > self.restored_at
        )

    def delete(self, now: datetime) -> bool:
        """Mark deleted; False if it already was (deleting twice is not an error)."""
        if self.status is UploadStatus.DELETED:
            return False
        self.status = UploadStatus.DELETED
        self.touch(now)
        self.events.append(
            events.UploadDeleted(occurred_at=now, user_id=self.owner_id, upload=self.view())
        )
        return True

    def check_downloadable(self) -> None:
        if self.status is not UploadStatus.STORED:
            raise Conflict(
                f"The upload is {self.status.value}; only stored files can be downloaded."
            )


@dataclass
class Folder(Aggregate):
    """A folder of one user's files and folders; `parent_id` None is the root (which is no
    folder of its own). Adapters keep whatever they need to find a folder's subtree in one
    statement (a materialized path of ancestor ids, say); the model knows only the parent."""

    id: str
    owner_id: str
    name: str
    parent_id: str | None
    created_at: datetime
    status: FolderStatus = FolderStatus.ACTIVE
    # As for uploads: when it went to the trash, and what was trashed directly to put it there.
    trashed_at: datetime | None = None
    trashed_with: str | None = None

    @classmethod
    def create(
        cls, *, id: str, owner_id: str, name: str, parent_id: str | None, now: datetime
    ) -> Folder:
        folder = cls(id=id, owner_id=owner_id, name=name, parent_id=parent_id, created_at=now)
        folder.events.append(
            events.FolderCreated(occurred_at=now, user_id=owner_id, folder=folder.view())
        )
        return folder

    @property
    def is_active(self) -> bool:
        return self.status is FolderStatus.ACTIVE

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    def view(self) -> events.FolderData:
        return events.FolderData(
            id=self.id, name=self.name, parent_id=self.parent_id, created_at=self.created_at
        )

    def _check_active(self) -> None:
        if not self.is_active:
            raise Conflict(f"The folder is {self.status.value}.")

    def rename(self, name: str, now: datetime) -> None:
        self._check_active()
        if name == self.name:
            return
        old, self.name = self.name, name
        self.events.append(
            events.FolderRenamed(
                occurred_at=now, user_id=self.owner_id, folder=self.view(), old_name=old
            )
        )

    def move(self, parent_id: str | None, now: datetime) -> None:
        """Into another folder (None: the root); whether that makes a cycle is checked where
        it is saved (`FolderRepository.update`), against the stored tree."""
        self._check_active()
        if parent_id == self.id:
            raise Conflict("A folder cannot be moved into itself.")
        if parent_id == self.parent_id:
            return
        old, self.parent_id = self.parent_id, parent_id
        self.events.append(
            events.FolderMoved(
                occurred_at=now, user_id=self.owner_id, folder=self.view(), old_parent_id=old
            )
        )

    def trash(self, now: datetime) -> bool:
        """Into the trash with everything in it (saved by `FolderRepository.trash`); False if
        it already is there or deleted."""
        if not self.is_active:
            return False
        self.status, self.trashed_at, self.trashed_with = FolderStatus.TRASHED, now, self.id
        self.events.append(
            events.FolderTrashed(occurred_at=now, user_id=self.owner_id, folder=self.view())
        )
        return True

    def restore(self, now: datetime, *, parent_id: str | None, name: str) -> None:
        """Out of the trash into `parent_id` as `name`, with everything trashed with it
        (saved by `FolderRepository.restore`)."""
        if self.status is not FolderStatus.TRASHED or self.trashed_with != self.id:
            raise Conflict("Only a folder put in the trash by itself can be restored by itself.")
        self.status, self.trashed_at, self.trashed_with = FolderStatus.ACTIVE, None, None
        self.parent_id, self.name = parent_id, name
        self.events.append(
            events.FolderRestored(occurred_at=now, user_id=self.owner_id, folder=self.view())
        )

    def purge(self, now: datetime, *, files: int, size: int) -> None:
        """Deleted forever with the `files` (of `size` bytes in all) trashed with it (saved by
        `FolderRepository.purge`, which says how many they were)."""
        if self.status is not FolderStatus.TRASHED:
            raise Conflict(f"The folder is {self.status.value}, not in the trash.")
        self.status = FolderStatus.DELETED
        self.events.append(
            events.FolderDeleted(
                occurred_at=now, user_id=self.owner_id, folder=self.view(), files=files, size=size
            )
        )


@dataclass
class Share(Aggregate):
    """A link that lets anyone holding `token` download one stored upload until it expires."""

    token: str
    upload_id: str
    owner_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def create(cls, *, token: str, upload: Upload, lifetime: timedelta, now: datetime) -> Share:
        share = cls(
            token=token,
            upload_id=upload.id,
            owner_id=upload.owner_id,
            created_at=now,
            expires_at=now + lifetime,
        )
        share.events.append(
            events.ShareCreated(
                occurred_at=now,
                user_id=upload.owner_id,
                upload_id=upload.id,
                expires_at=share.expires_at,
            )
        )
        return share

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is not None:
            return
        self.revoked_at = now
        self.events.append(
            events.ShareRevoked(occurred_at=now, user_id=self.owner_id, upload_id=self.upload_id)
        )


@dataclass
class Connection:
    """An open realtime (WebSocket) connection of one user."""

    id: str
    user_id: str
    connected_at: datetime
