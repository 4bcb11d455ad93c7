"""Business rules on what users may send: names, sizes, content types, share lifetimes."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from filestore.domain.errors import InvalidInput, TooLarge

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

MAX_NAME_LENGTH = 255
# S3's own limits for multipart uploads.
MIN_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
S3_MAX_OBJECT_SIZE = 5 * TiB
S3_MAX_SINGLE_UPLOAD = 5 * GiB
MIN_SHARE_LIFETIME = timedelta(seconds=1)
MAX_SHARE_LIFETIME = timedelta(days=7)
MAX_UPLOAD_URL_TTL = timedelta(minutes=15)

# What a name must not contain, by Unicode general category: controls (Cc), surrogates (Cs),
# line and paragraph separators (Zl, Zp), and format characters (Cf), which are invisible yet
# change what a name says or how it shows: bidi overrides make "txt.exe" look like "exe.txt",
# zero-width spaces, soft hyphens, byte-order marks and tag characters hide text inside a name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp", "Cf"})
# Two format characters that writing needs (Persian and Indic scripts, emoji sequences such as
# 👩‍💻), allowed between two visible characters.
_JOINERS = frozenset("\u200c\u200d")
# Letters by category that show as nothing: the Hangul fillers.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_MIME_PART = r"[A-Za-z0-9!#$&^_.+-]{1,127}"
_CONTENT_TYPE = re.compile(
    rf"^({_MIME_PART})/({_MIME_PART})((?:\s*;\s*{_MIME_PART}=(?:{_MIME_PART}|\"[^\"\\]*\"))*)$"
)
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalize_name(raw: str, what: str = "file name") -> str:
    """A file or folder name as stored (`what` names which, for the messages):
    NFC-normalised, surrounding white space removed.

    Raises `InvalidInput` if it is empty, longer than 255 characters, contains control or
    invisible characters or path separators, or is `.` or `..`. Any other Unicode is kept.
    """
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise InvalidInput(f"The {what} is empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"The {what} is {len(name)} characters long; the limit is 255.")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"The {what} must not contain '/' or '\\'.")
    if name in {".", ".."}:
        raise InvalidInput(f"The {what} must not be '.' or '..'.")
    for index, char in enumerate(name):
        if _invisible(name, index):
            raise InvalidInput(
                f"The {what} contains an invisible or control character (U+{ord(char):04X}); "
                "remove it."
            )
    return name


def _invisible(name: str, index: int) -> bool:
    """Whether `name[index]` is a character names must not contain (see _REFUSED_CATEGORIES)."""
    char = name[index]
    if char in _BLANK_LETTERS:
        return True
    if unicodedata.category(char) not in _REFUSED_CATEGORIES:
        return False
    if char in _JOINERS and 0 < index < len(name) - 1:
        before, after = name[index - 1], name[index + 1]
        return any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in (before, after))
    return True


def normalize_sha256(raw: str | None) -> str | None:
    """A declared SHA-256 as 64 lower-case hex digits, or None when none was declared."""
    if raw is None:
        return None
    value = raw.strip().lower()
    if not _SHA256_HEX.match(value):
        raise InvalidInput("sha256 must be 64 hexadecimal digits.")
    return value


@dataclass(frozen=True)
class UploadPolicy:
    """The limits uploads are checked against; configurable per deployment."""

    multipart_threshold: int = 100 * MiB
    single_request_limit: int = S3_MAX_SINGLE_UPLOAD
    max_upload_size: int = S3_MAX_OBJECT_SIZE
    default_quota_bytes: int = 10 * GiB
    allowed_content_types: frozenset[str] = field(default_factory=frozenset)
    upload_url_ttl: timedelta = MAX_UPLOAD_URL_TTL
    download_url_ttl: timedelta = timedelta(minutes=5)
    multipart_ttl: timedelta = timedelta(hours=24)
    share_url_ttl: timedelta = timedelta(minutes=5)
    # How long a file or folder stays in the trash before the sweep deletes it for good.
    trash_retention: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if not 0 < self.multipart_threshold <= self.single_request_limit <= S3_MAX_SINGLE_UPLOAD:
            raise ValueError(
                "need 0 < multipart_threshold <= single_request_limit <= 5 GiB "
                f"(got {self.multipart_threshold} and {self.single_request_limit})"
            )
        if not 0 < self.max_upload_size <= S3_MAX_OBJECT_SIZE:
            raise ValueError("max_upload_size must be between 1 byte and 5 TiB")
        if not timedelta(0) < self.upload_url_ttl <= MAX_UPLOAD_URL_TTL:
            raise ValueError("upload_url_ttl must be at most 15 minutes")
        if self.trash_retention < timedelta(0):
            raise ValueError("trash_retention must not be negative")
        for pattern in self.allowed_content_types:
            if not _CONTENT_TYPE.match(pattern) and not pattern.endswith("/*"):
                raise ValueError(f"allowed content type {pattern!r} is not type/subtype or type/*")

    def check_size(self, size: int) -> None:
        """Refuse a declared size that is negative or over the largest upload we accept."""
        if size < 0:
            raise InvalidInput("size must be zero or more bytes.")
        if size > self.max_upload_size:
            raise TooLarge(
                f"The file is {size} bytes; the largest upload accepted is "
                f"{self.max_upload_size} bytes."
            )

    def is_multipart(self, size: int) -> bool:
        """Whether a file of this size goes up in parts rather than in one request."""
        return size > self.multipart_threshold

    def normalize_content_type(self, raw: str) -> str:
        """The content type as stored (type and subtype lower-cased), if allowed here."""
        value = raw.strip()
        match = _CONTENT_TYPE.match(value)
        if len(value) > 255 or not match:
            raise InvalidInput(
                "content_type must look like 'type/subtype' (e.g. 'image/png'), at most 255 "
                "characters."
            )
        kind, sub, params = match.group(1).lower(), match.group(2).lower(), match.group(3)
        essence = f"{kind}/{sub}"
        if self.allowed_content_types and not (
            essence in self.allowed_content_types or f"{kind}/*" in self.allowed_content_types
        ):
            allowed = ", ".join(sorted(self.allowed_content_types))
            raise InvalidInput(
                f"Content type {essence!r} is not accepted here; allowed: {allowed}."
            )
        return essence + params


def part_size_for(size: int) -> int:
    """The part size for a multipart upload: at least 8 MiB, whole MiB, at most 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    return max(MIN_PART_SIZE, math.ceil(needed / MiB) * MiB)


def part_count_for(size: int, part_size: int) -> int:
    """How many parts a file of `size` bytes needs at `part_size` bytes a part."""
    return max(1, math.ceil(size / part_size))


def check_share_lifetime(seconds: int) -> timedelta:
    """A share's lifetime, from 1 second to 7 days."""
    # Compare the number first: `timedelta` overflows on the huge integers JSON allows.
    if not MIN_SHARE_LIFETIME.total_seconds() <= seconds <= MAX_SHARE_LIFETIME.total_seconds():
        raise InvalidInput("expires_in must be between 1 second and 7 days (604800 seconds).")
    return timedelta(seconds=seconds)
