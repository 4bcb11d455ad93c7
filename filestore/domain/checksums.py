"""End-to-end checksums of uploads: what was verified, and how a client recomputes it.

A single-request upload is checked against the SHA-256 of the whole file. S3 has no full-object
SHA-256 for a multipart upload (its full-object checksums are CRCs): each part is checked against
its own SHA-256 as it arrives, and the object carries the composite, the SHA-256 of the parts'
binary SHA-256s followed by `-<number of parts>`, which a client recomputes from `part_size`.
Values here are hexadecimal (S3 writes them in base64; `to_base64`/`from_base64` convert).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ChecksumType = Literal["full_object", "composite"]


@dataclass(frozen=True)
class Checksum:
    """A verified SHA-256 of an upload."""

    type: ChecksumType
    value: str  # hex; a composite ends in "-<parts>"
    part_size: int | None = None  # composites only: the size of every part but the last
    algorithm: Literal["sha256"] = "sha256"

    @classmethod
    def full_object(cls, sha256_hex: str) -> Checksum:
        return cls("full_object", sha256_hex.lower())

    @classmethod
    def composite(cls, part_sha256s: Sequence[str], part_size: int) -> Checksum:
        """The composite of parts whose SHA-256s (hex) are `part_sha256s`, in part order."""
        return cls("composite", composite_value(part_sha256s), part_size)


def composite_value(part_sha256s: Sequence[str]) -> str:
    digests = b"".join(bytes.fromhex(value) for value in part_sha256s)
    return f"{hashlib.sha256(digests).hexdigest()}-{len(part_sha256s)}"


def is_sha256_hex(value: str) -> bool:
    """Whether `value` is a SHA-256 written as 64 hex digits."""
    if len(value) != 64:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def to_base64(sha256_hex: str) -> str:
    """A SHA-256 as S3's `x-amz-checksum-sha256` writes it (a composite keeps its `-<parts>`)."""
    digest, dash, parts = sha256_hex.partition("-")
    return base64.b64encode(bytes.fromhex(digest)).decode() + (dash + parts if dash else "")


def from_base64(value: str) -> str | None:
    """S3's base64 SHA-256 (or composite) in hex; None if it is not one."""
    digest, dash, parts = value.partition("-")
    try:
        raw = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    return raw.hex() + (dash + parts if dash else "")
