"""Builders for domain objects in tests: valid by default, any field overridable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from filestore.domain.ids import new_token, uuid7
from filestore.domain.model import Folder, Share, Upload, User

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_user(**overrides: Any) -> User:
    user_id = overrides.pop("id", uuid7())
    fields: dict[str, Any] = {
        "id": user_id,
        "sub": f"sub-{user_id}",
        "email": f"{user_id[:8]}@example.com",
        "quota_bytes": 10 * 1024**3,
        "created_at": T0,
    }
    fields.update(overrides)
    return User(**fields)


def make_upload(owner: User, **overrides: Any) -> Upload:
    upload_id = overrides.pop("id", uuid7())
    created_at = overrides.pop("created_at", T0)
    fields: dict[str, Any] = {
        "id": upload_id,
        "owner_id": owner.id,
        "name": "report.pdf",
        "size": 1234,
        "content_type": "application/pdf",
        "object_key": Upload.key_for(owner.id, upload_id),
        "created_at": created_at,
        "expires_at": created_at + timedelta(minutes=15),
        # Its last change: when it was stored, if it was, else created.
        "updated_at": overrides.get("stored_at") or created_at,
    }
    fields.update(overrides)
    return Upload(**fields)


def make_share(upload: Upload, **overrides: Any) -> Share:
    fields: dict[str, Any] = {
        "token": new_token(),
        "upload_id": upload.id,
        "owner_id": upload.owner_id,
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=1),
    }
    fields.update(overrides)
    return Share(**fields)


def make_folder(owner: User, **overrides: Any) -> Folder:
    fields: dict[str, Any] = {
        "id": overrides.pop("id", uuid7()),
        "owner_id": owner.id,
        "name": "Documents",
        "parent_id": None,
        "created_at": T0,
    }
    fields.update(overrides)
    return Folder(**fields)
