"""Examples for the OpenAPI document: one value per request and answer model (by the name the
document gives its schema), and one error body per status. Values as the API really sends
them; a test validates each against its schema and its pydantic model.
"""

from __future__ import annotations

from typing import Any

_FILE_ID = "0193a1f2-7c4e-7b3a-9d2e-5f6a7b8c9d0e"
_BIG_FILE_ID = "0193a1f3-0a11-7c2b-8e4f-1a2b3c4d5e6f"
_FOLDER_ID = "0193a1e8-5d20-7f31-a6b7-c8d9e0f1a2b3"
_PARENT_ID = "0193a1e7-1234-7abc-9def-0123456789ab"
_SHARE_KEY = "Jx3kq9VdR2w7yTQmZb1hL8pN4sCfGaE6uWoYiKnMvXc"
_COGNITO = "https://files-example.auth.eu-west-1.amazoncognito.com"
_SHA256_HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_SHA256_B64 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
_BUCKET = "https://filestore-uploads.s3.amazonaws.com"
_SIGNED = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=…"

_UPLOAD: dict[str, Any] = {
    "id": _FILE_ID,
    "name": "report.pdf",
    "size": 1234,
    "content_type": "application/pdf",
    "status": "stored",
    "created_at": "2026-12-02T09:14:03.512301Z",
    "stored_at": "2026-12-02T09:14:04.020417Z",
    "checksum": {"algorithm": "sha256", "type": "full_object", "value": _SHA256_HEX},
    "folder_id": _FOLDER_ID,
    "updated_at": "2026-12-02T09:14:04.020417Z",
}
_PENDING_BIG: dict[str, Any] = {
    "id": _BIG_FILE_ID,
    "name": "holiday.mp4",
    "size": 157286400,
    "content_type": "video/mp4",
    "status": "pending",
    "created_at": "2026-12-02T09:20:41.007719Z",
    "stored_at": None,
    "checksum": None,
    "folder_id": None,
    "updated_at": "2026-12-02T09:20:41.007719Z",
}
_FOLDER: dict[str, Any] = {
    "id": _FOLDER_ID,
    "name": "Reports",
    "parent_id": _PARENT_ID,
    "created_at": "2026-11-30T16:02:11.250000Z",
}
_SHARE: dict[str, Any] = {
    "token": _SHARE_KEY,
    "url": f"https://files.example.com/s/{_SHARE_KEY}",
    "expires_at": "2026-12-09T09:30:00Z",
}

SCHEMA_EXAMPLES: dict[str, Any] = {
    # requests
    "PreferencesIn": {"notify_email": True},
    "UploadIn": {
        "name": "report.pdf",
        "size": 1234,
        "content_type": "application/pdf",
        "sha256": _SHA256_HEX,
        "folder_id": _FOLDER_ID,
        "on_conflict": "rename",
    },
    "UploadPatchIn": {"name": "report 2026.pdf", "folder_id": None},
    "PartNumbersIn": {"part_numbers": [1, 2], "sha256": [_SHA256_HEX, _SHA256_HEX]},
    "CompleteIn": {
        "parts": [
            {"part_number": 1, "etag": '"a54357aff0632cce46d942af68356b38"'},
            {"part_number": 2, "etag": '"0c78aef83f66abc1fa1e8477f296d394"'},
        ]
    },
    "ShareIn": {"expires_in": 604800},
    "FolderIn": {"name": "Reports", "parent_id": _PARENT_ID},
    "FolderPatchIn": {"name": "Reports 2026", "parent_id": None},
    # answers
    "UserOut": {
        "id": "0193a1d0-9e8f-7a6b-8c5d-4e3f2a1b0c9d",
        "email": "you@example.com",
        "notify_email": True,
        "email_status": "ok",
        "quota_bytes": 10737418240,
        "used_bytes": 158520634,
        "created_at": "2026-11-30T15:58:27.104512Z",
    },
    "UploadOut": _UPLOAD,
    "SingleUploadOut": {
        "upload": {
            **_UPLOAD,
            "status": "pending",
            "stored_at": None,
            "checksum": None,
            "updated_at": _UPLOAD["created_at"],
        },
        "upload_url": {
            "method": "POST",
            "url": _BUCKET,
            "fields": {
                "key": f"u/0193a1d0-9e8f-7a6b-8c5d-4e3f2a1b0c9d/{_FILE_ID}",
                "Content-Type": "application/pdf",
                "x-amz-checksum-sha256": _SHA256_B64,
                "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMTItMDJUMDk6Mjk6MDNaIiwgLi4ufQ==",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": "…/20261202/eu-west-1/s3/aws4_request",
                "x-amz-date": "20261202T091403Z",
                "x-amz-signature": "…",
            },
            "expires_at": "2026-12-02T09:29:03Z",
        },
    },
    "MultipartUploadOut": {
        "upload": _PENDING_BIG,
        "multipart": {"part_size": 16777216, "part_count": 10},
    },
    "PartUrlsOut": {
        "parts": [
            {"part_number": 1, "url": f"{_BUCKET}/u/…/{_BIG_FILE_ID}?partNumber=1&{_SIGNED}"},
            {"part_number": 2, "url": f"{_BUCKET}/u/…/{_BIG_FILE_ID}?partNumber=2&{_SIGNED}"},
        ]
    },
    "StoredPartsOut": {
        "parts": [
            {"part_number": 1, "etag": '"a54357aff0632cce46d942af68356b38"', "size": 16777216}
        ]
    },
    "UploadPageOut": {"items": [_UPLOAD], "next_cursor": "MjAyNi0xMi0wMlQwOToxNDowMy41MTIzMDFa"},
    "DownloadOut": {
        "url": f"{_BUCKET}/u/…/{_FILE_ID}?response-content-disposition=attachment&{_SIGNED}",
        "expires_at": "2026-12-02T09:29:30Z",
    },
    "ShareOut": _SHARE,
    "SharesOut": {"items": [_SHARE]},
    "SharedFileOut": {
        "name": "report.pdf",
        "size": 1234,
        "url": f"{_BUCKET}/u/…/{_FILE_ID}?response-content-disposition=attachment&{_SIGNED}",
        "expires_at": "2026-12-02T09:35:00Z",
        "share_expires_at": "2026-12-09T09:30:00Z",
    },
    "LocalSignIn": {"kind": "local", "sign_in_url": "http://127.0.0.1:8000/_local/sign-in"},
    "CognitoSignIn": {
        "kind": "cognito",
        "client_id": "4b1ir5p0mq7kq3h2ldl0f9ac2e",
        "authorize_url": f"{_COGNITO}/oauth2/authorize",
        "token_url": f"{_COGNITO}/oauth2/token",
        "logout_url": f"{_COGNITO}/logout",
        "scopes": ["openid", "email", "profile"],
        "cli_redirect_uri": "http://localhost:53682/callback",
    },
    "FolderOut": _FOLDER,
    "FolderWithPathOut": {
        **_FOLDER,
        "path": [{"id": _PARENT_ID, "name": "Work"}, {"id": _FOLDER_ID, "name": "Reports"}],
    },
    "FolderPageOut": {"items": [_FOLDER], "next_cursor": None},
    "TrashPageOut": {
        "items": [
            {
                "kind": "upload",
                "id": _FILE_ID,
                "name": "report.pdf",
                "size": 1234,
                "trashed_at": "2026-12-02T10:00:00Z",
                "purge_at": "2027-01-01T10:00:00Z",
            },
            {
                "kind": "folder",
                "id": _FOLDER_ID,
                "name": "Old reports",
                "trashed_at": "2026-12-01T17:45:12Z",
                "purge_at": "2026-12-31T17:45:12Z",
            },
        ],
        "next_cursor": None,
    },
}
"""An example of each model the document names, by its schema's name."""

ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"message": "The request body is not valid JSON."},
    401: {"message": "The token has expired: sign in again."},
    404: {"message": "No such upload."},
    409: {
        "message": 'A file named "report.pdf" is already there; choose another name.',
        "details": [{"kind": "upload", "id": _FILE_ID, "name": "report.pdf"}],
    },
    413: {
        "message": "This upload needs 157286400 bytes but only 1048576 of your 10737418240 "
        "bytes are free; delete some files first."
    },
    422: {
        "message": "The request is not valid; see details.",
        "details": [
            {
                "loc": ["body", "size"],
                "msg": "Input should be greater than or equal to 0",
                "type": "greater_than_equal",
            }
        ],
    },
    503: {"message": "The service is waking up; try again shortly."},
}
"""An error body for each status the API documents."""

PARAMETER_EXAMPLES: dict[tuple[str, str], tuple[str, Any]] = {
    ("path", "upload_id"): ("A file's (or pending upload's) id.", _FILE_ID),
    ("path", "folder_id"): ("A folder's id.", _FOLDER_ID),
    ("path", "item_id"): ("The id of a file or folder in the trash.", _FILE_ID),
    ("path", "token"): ("A share link's token (the end of its URL).", _SHARE_KEY),
    ("query", "limit"): ("How many items a page holds at most (1 to 100; default 50).", 50),
    ("query", "cursor"): (
        "Where the next page starts: the `next_cursor` of the page before.",
        "MjAyNi0xMi0wMlQwOToxNDowMy41MTIzMDFa",
    ),
    ("query", "folder_id"): ("Only the files in this folder (its id, or `root`).", "root"),
    ("query", "parent_id"): ("The folder whose folders to list (its id, or `root`).", "root"),
    ("query", "sort"): ("The order: by date (default), name (ignoring case) or size.", "name"),
    ("query", "order"): ("`desc` (default: newest, Z to A, largest first) or `asc`.", "asc"),
    ("query", "q"): ("Only names containing this text, ignoring case and accents.", "resume"),
    ("query", "status"): (
        "`stored` (default), or `pending`: my unfinished uploads, to resume or abort.",
        "stored",
    ),
}
"""What each parameter means, and an example, by where it goes and its name."""
