"""How names compare: the keys every adapter stores and compares, computed in one place.

Two names clash within a folder when their `name_key`s are equal: NFC normalization then
Unicode case folding, so `Report.pdf` and `report.PDF` clash, and so do a precomposed `é`
and `e` followed by a combining acute accent. Name order is the order of `name_key`s compared
code point by code point (a SQL adapter stores the key and compares it with a binary
collation, so every adapter sorts alike). Search ignores accents as well: `search_key` drops
combining marks after compatibility decomposition, so `resume` finds `Résumé.pdf` and `ﬁle`
finds `file.txt`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from filestore.domain.rules import MAX_NAME_LENGTH


def name_key(name: str) -> str:
    """The key names are compared and sorted by: NFC, then case folding (NFC again, since
    folding may decompose)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def search_key(text: str) -> str:
    """The key search compares: case folded, compatibility-decomposed, combining marks
    dropped, recomposed. A name matches a query when the query's key is a substring of the
    name's key."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def split_extension(name: str, *, is_file: bool = True) -> tuple[str, str]:
    """`(stem, extension)`: a file's extension is from its last dot (`.pdf`), unless the dot
    starts the name (`.bashrc` has none); a folder has no extension."""
    dot = name.rfind(".")
    if not is_file or dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def numbered_name(name: str, number: int, *, is_file: bool = True) -> str:
    """`name` as its `number`th copy: `report (2).pdf`, `photos (3)`. The stem is shortened
    if need be so the result stays within the name length limit."""
    stem, extension = split_extension(name, is_file=is_file)
    suffix = f" ({number}){extension}"
    return stem[: max(1, MAX_NAME_LENGTH - len(suffix))] + suffix


def free_name(name: str, taken: Collection[str], *, is_file: bool = True) -> str:
    """`name` if its key is not among the `taken` keys, else the first of `name (2)`,
    `name (3)`, … whose key is not."""
    if name_key(name) not in taken:
        return name
    number = 2
    while name_key(candidate := numbered_name(name, number, is_file=is_file)) in taken:
        number += 1
    return candidate
