"""The name columns as the SQL schema stores them (migration 0005 says why they look so).

`name_key` is stored whole; `search_key` keeps its first `SEARCH_KEY_BYTES` bytes of UTF-8, cut
at a character boundary, so that it fits in the search index beside the columns it is read
with. Every name of ordinary characters fits whole (255 characters of at most 4 bytes); only
names of hundreds of characters that decompose into several (ligatures such as `ﷺ`) are cut,
and a search then looks at their first 1,024 bytes.
"""

from __future__ import annotations

from filestore.domain.names import name_key, search_key

SEARCH_KEY_BYTES = 1024


def stored_name_key(name: str) -> str:
    """What the `name_key` column holds for a name."""
    return name_key(name)


def stored_search_key(name: str) -> str:
    """What the `search_key` column holds for a name: its search key, cut to fit."""
    return truncated(search_key(name), SEARCH_KEY_BYTES)


def truncated(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, at a character boundary."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode(errors="ignore")
