"""The HTTP API's bodies of folders, the trash and moving files (v2), as pydantic models,
and their mapping from domain results. Strict like `schemas`; in a PATCH, a field left out
changes nothing while `null` means the root."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from filestore.domain.commands import UNCHANGED, Unchanged
from filestore.domain.handlers import FolderPage, FolderWithPath, TrashItem, TrashPage
from filestore.domain.model import Folder, Upload
from filestore.entrypoints.schemas import UploadOut

_FOLDER_ID = Field(
    default=None, description="A folder's id; null for the root.", min_length=1, max_length=64
)


class _Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def given(self, field: str) -> bool:
        return field in self.model_fields_set


class UploadPatchIn(_Patch):
    name: StrictStr | None = Field(default=None, min_length=1, description="A new name.")
    folder_id: StrictStr | None = Field(
        default=None, description="Move into this folder; null for the root."
    )

    @model_validator(mode="after")
    def _something(self) -> UploadPatchIn:
        if not self.model_fields_set:
            raise ValueError("give a name, a folder_id, or both")
        if self.given("name") and self.name is None:
            raise ValueError("name cannot be null")
        return self

    def folder(self) -> str | Unchanged | None:
        return self.folder_id if self.given("folder_id") else UNCHANGED


class FolderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(min_length=1, examples=["Reports"])
    parent_id: StrictStr | None = _FOLDER_ID


class FolderPatchIn(_Patch):
    name: StrictStr | None = Field(default=None, min_length=1, description="A new name.")
    parent_id: StrictStr | None = Field(
        default=None, description="Move into this folder; null for the root."
    )

    @model_validator(mode="after")
    def _something(self) -> FolderPatchIn:
        if not self.model_fields_set:
            raise ValueError("give a name, a parent_id, or both")
        if self.given("name") and self.name is None:
            raise ValueError("name cannot be null")
        return self

    def parent(self) -> str | Unchanged | None:
        return self.parent_id if self.given("parent_id") else UNCHANGED


class FolderOut(BaseModel):
    id: str
    name: str
    parent_id: str | None = Field(description="null: the root.")
    created_at: datetime

    @classmethod
    def of(cls, folder: Folder) -> FolderOut:
        return cls.model_validate(folder.view().model_dump())


class PathStepOut(BaseModel):
    id: str
    name: str


class FolderWithPathOut(FolderOut):
    path: list[PathStepOut] = Field(
        description="The folders from the outermost down to this one, this one last."
    )

    @classmethod
    def of_path(cls, found: FolderWithPath) -> FolderWithPathOut:
        path = [PathStepOut(id=f.id, name=f.name) for f in found.path]
        return cls(**FolderOut.of(found.folder).model_dump(), path=path)


class FolderPageOut(BaseModel):
    items: list[FolderOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: FolderPage) -> FolderPageOut:
        return cls(items=[FolderOut.of(f) for f in page.items], next_cursor=page.next_cursor)


class TrashItemOut(BaseModel):
    kind: Literal["upload", "folder"]
    id: str
    name: str
    size: int | None = Field(default=None, description="Files only.")
    trashed_at: datetime
    purge_at: datetime = Field(description="When it will be deleted for good.")

    @classmethod
    def of(cls, entry: TrashItem) -> TrashItemOut:
        item = entry.item
        assert item.trashed_at is not None  # listed from the trash  # nosec B101
        return cls(
            kind="upload" if isinstance(item, Upload) else "folder",
            id=item.id,
            name=item.name,
            size=item.size if isinstance(item, Upload) else None,
            trashed_at=item.trashed_at,
            purge_at=entry.purge_at,
        )


class TrashPageOut(BaseModel):
    items: list[TrashItemOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: TrashPage) -> TrashPageOut:
        return cls(items=[TrashItemOut.of(i) for i in page.items], next_cursor=page.next_cursor)


def restored_out(item: Upload | Folder) -> UploadOut | FolderOut:
    return UploadOut.of(item) if isinstance(item, Upload) else FolderOut.of(item)
