"""HTTP header values shared by the adapters that hand out downloads (memory, filesystem, S3)."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """`attachment` with the file name, RFC 6266: an ASCII fallback plus RFC 5987 `filename*`.

    The fallback replaces anything outside printable ASCII, and the quote and backslash that
    would end or escape the quoted string, so a name can never add a header parameter.
    """
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
