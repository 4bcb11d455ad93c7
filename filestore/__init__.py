"""filestore: a serverless file store for AWS, usable as a library.

    >>> from filestore import FileStore
    >>> store = FileStore.in_memory()

Importing `filestore` stays light: the library API and its adapters load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from filestore.app import FileStore

__all__ = ["FileStore", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "FileStore":
        from filestore.app import FileStore

        return FileStore
    raise AttributeError(f"module 'filestore' has no attribute {name!r}")
