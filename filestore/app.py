"""The library API: filestore driven from Python, with whatever adapters you choose.

import asyncio
from filestore import FileStore
from filestore.domain import Actor

async def main() -> None:
    store = FileStore.in_memory()
    alice = Actor(sub="alice", email="alice@example.com")
    ticket = await store.request_upload(alice, "notes.txt", size=5, content_type="text/plain")
    store.memory_blobs.post(ticket.post, b"hello")        # the client sends the bytes
    await store.record_stored(ticket.upload.object_key)   # what the S3 event does
    print([u.name for u in (await store.list_uploads(alice)).items])

asyncio.run(main())
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from filestore.adapters.memory import (
    MemoryBlobStore,
    MemoryEmailSender,
    MemoryEventPublisher,
    MemoryRealtimeNotifier,
)
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.handlers import (
    DownloadLink,
    FolderPage,
    ReconcileReport,
    Services,
    SharedFile,
    StoredOutcome,
    TrashPage,
    UploadPage,
    UploadTicket,
)
from filestore.domain.messagebus import MessageBus
from filestore.domain.model import Folder, OnConflict, Share, Upload, User
from filestore.domain.ports import ANY_FOLDER, CompletedPart, PartUrl, SortField, StoredPart
from filestore.domain.rules import UploadPolicy
from filestore.settings import Settings


class FileStore:
    """Every use case of filestore as a typed async method, over one message bus."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> FileStore:
        """Built by the composition root from `settings` (default: the environment)."""
        from filestore.bootstrap import build

        return cls(build(settings, **overrides).bus())

    @classmethod
    def in_memory(cls, policy: UploadPolicy | None = None, **overrides: Any) -> FileStore:
        """A complete filestore in this process: nothing to install, nothing kept."""
        if policy is not None:
            overrides["policy"] = policy
        # Asked for by name: in memory even on Lambda, where the root refuses it by default.
        return cls.from_settings(Settings(allow_memory_on_lambda=True), **overrides)

    async def aclose(self) -> None:
        """Release pooled connections; use the store no more afterwards."""
        await self.services.uow_factory.aclose()

    async def __aenter__(self) -> FileStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def services(self) -> Services:
        return self.bus.services

    @property
    def memory_blobs(self) -> MemoryBlobStore:
        """The in-memory blob store (to play the client's side), if that is the one in use."""
        return cast(MemoryBlobStore, _expect(self.services.blobs, MemoryBlobStore))

    @property
    def memory_email(self) -> MemoryEmailSender:
        return cast(MemoryEmailSender, _expect(self.services.email, MemoryEmailSender))

    @property
    def memory_realtime(self) -> MemoryRealtimeNotifier:
        return cast(MemoryRealtimeNotifier, _expect(self.services.realtime, MemoryRealtimeNotifier))

    @property
    def memory_publisher(self) -> MemoryEventPublisher:
        return cast(MemoryEventPublisher, _expect(self.services.publisher, MemoryEventPublisher))

    # users

    async def me(self, actor: Actor) -> User:
        result: User = await self.bus.handle(commands.GetMe(actor))
        return result

    async def set_notify_email(self, actor: Actor, notify_email: bool) -> User:
        result: User = await self.bus.handle(commands.UpdatePreferences(actor, notify_email))
        return result

    # uploads

    async def request_upload(
        self,
        actor: Actor,
        name: str,
        *,
        size: int,
        content_type: str,
        sha256: str | None = None,
        folder_id: str | None = None,
        on_conflict: OnConflict = OnConflict.RENAME,
        part_checksums: bool = False,
    ) -> UploadTicket:
        """Declare an upload into a folder (None: the root); `on_conflict` says what happens
        when its name is taken there once it is stored; `part_checksums`: the parts of a
        multipart upload come with their SHA-256s though no `sha256` was declared."""
        command = commands.RequestUpload(
            actor,
            name,
            size,
            content_type,
            sha256,
            folder_id=folder_id,
            on_conflict=on_conflict,
            part_checksums=part_checksums,
        )
        result: UploadTicket = await self.bus.handle(command)
        return result

    async def sign_parts(
        self,
        actor: Actor,
        upload_id: str,
        part_numbers: list[int],
        sha256s: list[str] | None = None,
    ) -> list[PartUrl]:
        """Part URLs; given each part's SHA-256 (hex, in the same order), each URL signs it."""
        command = commands.SignParts(
            actor, upload_id, tuple(part_numbers), None if sha256s is None else tuple(sha256s)
        )
        result: list[PartUrl] = await self.bus.handle(command)
        return result

    async def list_parts(self, actor: Actor, upload_id: str) -> list[StoredPart]:
        result: list[StoredPart] = await self.bus.handle(commands.ListParts(actor, upload_id))
        return result

    async def complete_upload(
        self, actor: Actor, upload_id: str, parts: list[CompletedPart]
    ) -> Upload:
        command = commands.CompleteMultipart(actor, upload_id, tuple(parts))
        result: Upload = await self.bus.handle(command)
        return result

    async def record_stored(self, object_key: str) -> StoredOutcome:
        result: StoredOutcome = await self.bus.handle(commands.RecordStoredObject(object_key))
        return result

    async def list_uploads(
        self,
        actor: Actor,
        *,
        limit: int = 50,
        cursor: str | None = None,
        folder: str | None = ANY_FOLDER,
        sort: SortField = SortField.CREATED_AT,
        descending: bool = True,
        q: str | None = None,
    ) -> UploadPage:
        """A page of stored files: every one (`ANY_FOLDER`), or those in a folder (None: the
        root); sorted; with `q`, those whose names contain it, ignoring case and accents."""
        command = commands.ListUploads(
            actor, limit, cursor, folder=folder, sort=sort, descending=descending, q=q
        )
        result: UploadPage = await self.bus.handle(command)
        return result

    async def get_upload(self, actor: Actor, upload_id: str) -> Upload:
        result: Upload = await self.bus.handle(commands.GetUpload(actor, upload_id))
        return result

    async def download(self, actor: Actor, upload_id: str) -> DownloadLink:
        result: DownloadLink = await self.bus.handle(commands.GetDownload(actor, upload_id))
        return result

    async def rename(self, actor: Actor, upload_id: str, name: str) -> Upload:
        result: Upload = await self.bus.handle(commands.UpdateUpload(actor, upload_id, name))
        return result

    async def move(self, actor: Actor, upload_id: str, folder_id: str | None) -> Upload:
        """Move a file into a folder (None: the root)."""
        command = commands.UpdateUpload(actor, upload_id, folder_id=folder_id)
        result: Upload = await self.bus.handle(command)
        return result

    async def delete(self, actor: Actor, upload_id: str) -> None:
        """Put a stored file in the trash; abort a pending upload."""
        await self.bus.handle(commands.DeleteUpload(actor, upload_id))

    # folders and the trash

    async def create_folder(
        self, actor: Actor, name: str, *, parent_id: str | None = None
    ) -> Folder:
        result: Folder = await self.bus.handle(commands.CreateFolder(actor, name, parent_id))
        return result

    async def list_folders(
        self, actor: Actor, *, parent_id: str | None = None, cursor: str | None = None
    ) -> FolderPage:
        command = commands.ListFolders(actor, parent_id, cursor=cursor)
        result: FolderPage = await self.bus.handle(command)
        return result

    async def delete_folder(self, actor: Actor, folder_id: str) -> None:
        """Put a folder in the trash with everything in it."""
        await self.bus.handle(commands.DeleteFolder(actor, folder_id))

    async def trash(self, actor: Actor, *, cursor: str | None = None) -> TrashPage:
        result: TrashPage = await self.bus.handle(commands.ListTrash(actor, cursor=cursor))
        return result

    async def delete_forever(self, actor: Actor, item_id: str) -> None:
        """Delete a file or folder in the trash for good."""
        await self.bus.handle(commands.DeleteFromTrash(actor, item_id))

    async def empty_trash(self, actor: Actor) -> int:
        result: int = await self.bus.handle(commands.EmptyTrash(actor))
        return result

    async def restore(self, actor: Actor, item_id: str) -> Upload | Folder:
        result: Upload | Folder = await self.bus.handle(commands.RestoreFromTrash(actor, item_id))
        return result

    # shares

    async def share(self, actor: Actor, upload_id: str, *, expires_in: int) -> Share:
        result: Share = await self.bus.handle(commands.CreateShare(actor, upload_id, expires_in))
        return result

    async def shares(self, actor: Actor, upload_id: str) -> list[Share]:
        result: list[Share] = await self.bus.handle(commands.ListShares(actor, upload_id))
        return result

    async def revoke_share(self, actor: Actor, token: str) -> None:
        await self.bus.handle(commands.RevokeShare(actor, token))

    async def resolve_share(self, token: str) -> SharedFile:
        result: SharedFile = await self.bus.handle(commands.ResolveShare(token))
        return result

    # realtime and background

    async def connect(self, actor: Actor, connection_id: str) -> None:
        await self.bus.handle(commands.Connect(connection_id, actor))

    async def disconnect(self, connection_id: str) -> None:
        await self.bus.handle(commands.Disconnect(connection_id))

    async def relay_outbox(self, batch_size: int = 100) -> int:
        result: int = await self.bus.handle(commands.RelayOutbox(batch_size))
        return result

    async def reconcile(
        self,
        *,
        grace: timedelta | None = None,
        time_budget: timedelta | None = None,
        batch_size: int = commands.Reconcile.batch_size,
    ) -> ReconcileReport:
        """The sweep; `grace=timedelta(0)` completes young uploads too (after a restart).

        It pages through every pending upload; with a `time_budget` it starts no new page
        once that much time has passed (see `commands.Reconcile`).
        """
        result: ReconcileReport = await self.bus.handle(
            commands.Reconcile(grace=grace, time_budget=time_budget, batch_size=batch_size)
        )
        return result


def _expect(adapter: object, kind: type) -> object:
    if not isinstance(adapter, kind):
        raise TypeError(
            f"this FileStore does not use {kind.__name__} (it uses {type(adapter).__name__})"
        )
    return adapter
