"""The command-line client's checksums: a file's SHA-256s before it goes up, and a check of what
comes down against the upload's verified checksum (`Upload.checksum`).

A multipart upload's parts are hashed by the client as each is read to be sent (see
`filestore.entrypoints.client`), not in a pass of their own before the upload starts.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def header_value(sha256_hex: str) -> str:
    """A SHA-256 as the `x-amz-checksum-sha256` header carries it (base64)."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


class DownloadCheck:
    """Hashes a download as it arrives and says whether it matches the upload's checksum."""

    def __init__(self, checksum: dict[str, Any] | None) -> None:
        self.checksum = checksum
        self._whole = hashlib.sha256()
        self._part_size = int((checksum or {}).get("part_size") or 0)
        self._part = hashlib.sha256()
        self._in_part = 0
        self._digests: list[bytes] = []

    def update(self, data: bytes) -> None:
        if self.checksum is None:
            return
        if self.checksum.get("type") != "composite" or not self._part_size:
            self._whole.update(data)
            return
        view = memoryview(data)
        while view:
            take = min(len(view), self._part_size - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self._part_size:
                self._digests.append(self._part.digest())
                self._part, self._in_part = hashlib.sha256(), 0

    def problem(self) -> str | None:
        """Why the bytes received are not the ones stored, or None if they are (or if the
        upload has no checksum to check against)."""
        if self.checksum is None:
            return None
        expected = str(self.checksum.get("value", "")).lower()
        if self.checksum.get("type") == "composite" and self._part_size:
            digests = list(self._digests)
            if self._in_part or not digests:
                digests.append(self._part.digest())
            found = f"{hashlib.sha256(b''.join(digests)).hexdigest()}-{len(digests)}"
        else:
            found = self._whole.hexdigest()
        if found != expected:
            return f"the file downloaded has SHA-256 {found}, not {expected} as stored"
        return None
