"""What we tell people, and how it reads: e-mail templates and realtime messages."""

from __future__ import annotations

from html import escape
from typing import Any

from filestore.domain import events
from filestore.domain.model import User
from filestore.domain.ports import EmailMessage

# Event types that reach people; the rest are for machines. E-mail tells of what happened
# while the person was away (their file arrived, or did not); what they did themselves
# (folders, moves, the trash) goes only to their open windows, which show it at once. A
# purge by the sweep is not mailed either: it happens exactly when the trash said it would.
EMAIL_EVENT_TYPES = frozenset({events.UploadStored.type, events.UploadFailed.type})
REALTIME_EVENT_TYPES = frozenset(
    {
        events.UploadStored.type,
        events.UploadFailed.type,
        events.UploadRenamed.type,
        events.UploadDeleted.type,
        events.UploadMoved.type,
        events.UploadTrashed.type,
        events.UploadRestored.type,
        events.FolderCreated.type,
        events.FolderRenamed.type,
        events.FolderMoved.type,
        events.FolderTrashed.type,
        events.FolderRestored.type,
        events.FolderDeleted.type,
    }
)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def email_for(event: events.Event, user: User) -> EmailMessage | None:
    """The e-mail telling `user` about `event`, or None if this event is not mailed.

    The file name is the only user-controlled text; it goes in the body (escaped in HTML), never
    in a header, so it cannot inject one.
    """
    if isinstance(event, events.UploadStored):
        upload = event.upload
        size = _human_size(upload.size)
        subject = "Your file has been stored"
        text = f'Your file "{upload.name}" ({size}) has been stored.\n\nUpload id: {upload.id}\n'
        html = (
            f"<p>Your file <strong>{escape(upload.name)}</strong> ({size}) has been stored.</p>"
            f"<p>Upload id: <code>{escape(upload.id)}</code></p>"
        )
    elif isinstance(event, events.UploadFailed):
        upload = event.upload
        subject = "Your upload failed"
        text = (
            f'Your upload "{upload.name}" failed: {event.reason}\n\n'
            "The file was not kept; please upload it again.\n"
        )
        html = (
            f"<p>Your upload <strong>{escape(upload.name)}</strong> failed: "
            f"{escape(event.reason)}</p><p>The file was not kept; please upload it again.</p>"
        )
    else:
        return None
    return EmailMessage(to=user.email, subject=subject, text=text, html=html)


def realtime_message(event: events.Event) -> dict[str, Any] | None:
    """The WebSocket message for `event`, or None if it is not pushed."""
    if event.type not in REALTIME_EVENT_TYPES:
        return None
    upload = getattr(event, "upload", None)
    if isinstance(upload, events.UploadData):
        return {"type": event.type, "upload": upload.model_dump(mode="json")}
    folder = getattr(event, "folder", None)
    if isinstance(folder, events.FolderData):
        return {"type": event.type, "folder": folder.model_dump(mode="json")}
    return None
