"""The use cases: one async handler per command, written against the ports only.

By topic: `users` (and whether mail reaches them), `uploads`, `multipart`, `stored_objects`
(an object arrived), `folders`, `trash` (with `placement`: the name rules), `shares`,
`notifications` (realtime connections, e-mail and realtime notices) and `maintenance`
(outbox relay, sweep). What they run on is `services.Services`; what they answer is in
`results`. Everything public is importable from here too, and `COMMAND_HANDLERS` maps each
command to its use case for the message bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from filestore.domain import commands
from filestore.domain.handlers.cursors import decode_cursor, encode_cursor
from filestore.domain.handlers.folders import (
    create_folder,
    delete_folder,
    get_folder,
    list_folders,
    update_folder,
)
from filestore.domain.handlers.maintenance import (
    CONNECTION_MAX_AGE,
    SWEEP_GRACE,
    reconcile,
    relay_outbox,
)
from filestore.domain.handlers.multipart import (
    MAX_PARTS_PER_REQUEST,
    complete_multipart,
    list_parts,
    sign_parts,
)
from filestore.domain.handlers.notifications import (
    EMAIL_CONSUMER,
    REALTIME_CONSUMER,
    connect,
    disconnect,
    notify_by_email,
    notify_realtime,
)
from filestore.domain.handlers.results import (
    DownloadLink,
    EmailNotice,
    FolderPage,
    FolderWithPath,
    MultipartPlan,
    ReconcileReport,
    SharedFile,
    StoredOutcome,
    TrashItem,
    TrashPage,
    UndeliverableMarks,
    UploadPage,
    UploadTicket,
)
from filestore.domain.handlers.services import Services
from filestore.domain.handlers.shares import (
    create_share,
    list_shares,
    resolve_share,
    revoke_share,
)
from filestore.domain.handlers.stored_objects import record_lost_object, record_stored_object
from filestore.domain.handlers.trash import (
    delete_from_trash,
    empty_trash,
    list_trash,
    restore_from_trash,
)
from filestore.domain.handlers.uploads import (
    LIST_LIMIT_MAX,
    delete_upload,
    get_download,
    get_upload,
    list_uploads,
    request_upload,
    update_upload,
)
from filestore.domain.handlers.users import (
    EMAIL_FEEDBACK_CONSUMER,
    confirm_email_deliverable,
    get_me,
    mark_email_undeliverable,
    register_user,
    update_preferences,
)

Handler = Callable[[Any, Services], Awaitable[Any]]
"""A use case: takes its command and the services, returns its result."""

COMMAND_HANDLERS: dict[type[commands.Command], Handler] = {
    commands.RegisterUser: register_user,
    commands.GetMe: get_me,
    commands.UpdatePreferences: update_preferences,
    commands.MarkEmailUndeliverable: mark_email_undeliverable,
    commands.ConfirmEmailDeliverable: confirm_email_deliverable,
    commands.RequestUpload: request_upload,
    commands.SignParts: sign_parts,
    commands.ListParts: list_parts,
    commands.CompleteMultipart: complete_multipart,
    commands.RecordStoredObject: record_stored_object,
    commands.RecordLostObject: record_lost_object,
    commands.ListUploads: list_uploads,
    commands.GetUpload: get_upload,
    commands.GetDownload: get_download,
    commands.UpdateUpload: update_upload,
    commands.DeleteUpload: delete_upload,
    commands.CreateFolder: create_folder,
    commands.GetFolder: get_folder,
    commands.ListFolders: list_folders,
    commands.UpdateFolder: update_folder,
    commands.DeleteFolder: delete_folder,
    commands.ListTrash: list_trash,
    commands.RestoreFromTrash: restore_from_trash,
    commands.DeleteFromTrash: delete_from_trash,
    commands.EmptyTrash: empty_trash,
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

__all__ = [
    "COMMAND_HANDLERS",
    "CONNECTION_MAX_AGE",
    "EMAIL_CONSUMER",
    "EMAIL_FEEDBACK_CONSUMER",
    "LIST_LIMIT_MAX",
    "MAX_PARTS_PER_REQUEST",
    "REALTIME_CONSUMER",
    "SWEEP_GRACE",
    "DownloadLink",
    "EmailNotice",
    "FolderPage",
    "FolderWithPath",
    "Handler",
    "MultipartPlan",
    "ReconcileReport",
    "Services",
    "SharedFile",
    "StoredOutcome",
    "TrashItem",
    "TrashPage",
    "UndeliverableMarks",
    "UploadPage",
    "UploadTicket",
    "complete_multipart",
    "confirm_email_deliverable",
    "connect",
    "create_folder",
    "create_share",
    "decode_cursor",
    "delete_folder",
    "delete_from_trash",
    "delete_upload",
    "disconnect",
    "empty_trash",
    "encode_cursor",
    "get_download",
    "get_folder",
    "get_me",
    "get_upload",
    "list_folders",
    "list_parts",
    "list_shares",
    "list_trash",
    "list_uploads",
    "mark_email_undeliverable",
    "notify_by_email",
    "notify_realtime",
    "reconcile",
    "record_lost_object",
    "record_stored_object",
    "register_user",
    "relay_outbox",
    "request_upload",
    "resolve_share",
    "restore_from_trash",
    "revoke_share",
    "sign_parts",
    "update_folder",
    "update_preferences",
    "update_upload",
]
