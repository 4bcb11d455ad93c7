"""A blob store on the local disk, behind presigned URLs checked like S3 checks its own.

`FilesystemBlobStore` implements the `BlobStore` port and everything S3 does behind its presigned
URLs: signing them (HMAC-SHA256, with a key kept in the data dir) and, for the HTTP front that
serves them (`filestore.entrypoints.local.blobs`, mounted by `filestore serve` at `/_blobs`),
checking a request against what was signed: the exact key, the exact size, the content type, the
expiry and, when one was declared, the SHA-256. A refusal is a `BlobRequestRefused` carrying S3's
status and error code.

Objects are written atomically (temp file, fsync, rename: a reader never sees half a file under
its final name) and streamed in bounded chunks. When an object lands, an S3-shaped
`ObjectCreated` record goes to `on_created` (the local server sends it to the S3-events queue).

Layout under `root`:
  objects/<key>            the bytes           objects/<key>.meta.json   content type, ETag, SHA-256
  multipart/<id>/meta.json key, content type   multipart/<id>/<n>.part   one uploaded part
                                               multipart/<id>/<n>.sha256 its SHA-256 (hex), and
                                                 "sent" if it came with that checksum
  segments/<key>/<dir>/<i> part i >= 2 of a multipart object (its part 1 is objects/<key>)
  tmp/                     files being written (cleared on start)

Parts are hashed as they arrive (SHA-256, in a worker thread, so parts arriving together hash on
every core) and checked against the `x-amz-checksum-sha256` they come with (which their URL may
sign); completing a multipart upload checks the client's part SHA-256s against those and keeps
the parts as the object's segments, hard links to the parts' files (each synced in the
background after its answer; completion waits for that and syncs them again, see
`_sync_later`): no byte is copied, read or hashed again, whatever the object's size. The
object is its first part under its key and the others, in order, under `segments/`; the
metadata counts the segments and keeps each part's size and SHA-256, which a download is
checked against part by part (a single-request object's, against its SHA-256). As on
S3, the object's checksum is the composite of the parts' (`filestore.domain.checksums`) when every
part was checked against a checksum the client gave (with the part, or at completion).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

from filestore.adapters.http_headers import content_disposition
from filestore.domain.checksums import Checksum, from_base64
from filestore.domain.errors import InvalidInput
from filestore.domain.ports import (
    Clock,
    CompletedPart,
    ObjectInfo,
    PresignedPost,
    StoredPart,
)

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
# Received bytes are hashed and written this much at a time, in a worker thread.
WRITE_BATCH = 1024 * 1024
# The template's lifecycle rule aborts multipart uploads a day after they began (a multipart
# upload lives `multipart_ttl`, a day, in the domain).
MULTIPART_MAX_AGE = timedelta(days=1, hours=1)
MULTIPART_SWEEP_EVERY = timedelta(hours=1)

ObjectCreatedSink = Callable[[dict[str, Any]], Awaitable[None]]


class BlobRequestRefused(Exception):
    """What S3 answers with an error document: a status, an S3 error code and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _denied(message: str) -> BlobRequestRefused:
    return BlobRequestRefused(403, "AccessDenied", message)


def _bad_signature() -> BlobRequestRefused:
    return BlobRequestRefused(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )


def load_or_create_key(path: Path) -> bytes:
    """The HMAC key in `path`, created (owner-only) on first use."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: if two processes race, one writes and the other reads what it wrote.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as file:
        file.write(key.hex())
    return key


@dataclass(frozen=True)
class PostPolicy:
    """What a presigned POST allows; travels base64-encoded in the form, signed."""

    key: str
    size: int
    content_type: str
    sha256: str | None
    expires: int  # unix seconds


class FilesystemBlobStore:
    """The `BlobStore` port over a directory, with the checks behind its presigned URLs."""

    def __init__(
        self,
        root: Path,
        *,
        base_url: str,
        signing_key: bytes,
        clock: Clock | None = None,
        bucket: str = "filestore-local",
        on_created: ObjectCreatedSink | None = None,
    ) -> None:
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.bucket = bucket
        self.on_created = on_created
        self._key = signing_key
        self._clock = clock
        self._objects = self.root / "objects"
        self._multipart = self.root / "multipart"
        self._tmp = self.root / "tmp"
        self._segments = self.root / "segments"
        self._publishing = threading.Lock()
        # Parts are made durable after their answer (see `receive_part`): the syncs under way,
        # by multipart id, which completing that upload waits for.
        self._syncing: dict[str, set[concurrent.futures.Future[None]]] = {}
        self._syncing_lock = threading.Lock()
        self._syncer: concurrent.futures.ThreadPoolExecutor | None = None
        for directory in (self._objects, self._multipart, self._tmp, self._segments):
            directory.mkdir(parents=True, exist_ok=True)
        # Leftovers of writes interrupted by a crash: never visible under a final name.
        for leftover in self._tmp.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
        self._multipart_swept_at = 0.0
        self.sweep_multipart()

    @classmethod
    def in_data_dir(
        cls,
        data_dir: Path,
        *,
        base_url: str,
        clock: Clock | None = None,
        on_created: ObjectCreatedSink | None = None,
    ) -> FilesystemBlobStore:
        """The store of `filestore serve`: blobs and the signing key under the data dir."""
        key = load_or_create_key(Path(data_dir) / "keys" / "blob-signing.key")
        return cls(
            Path(data_dir) / "blobs",
            base_url=base_url,
            signing_key=key,
            clock=clock,
            on_created=on_created,
        )

    # --- time and signing ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _expiry(self, expires_in: timedelta) -> tuple[datetime, int]:
        # Whole seconds, rounded up, so the URL never lives shorter than asked.
        moment = self._now() + expires_in
        seconds = int(moment.timestamp()) + (moment.microsecond > 0)
        return datetime.fromtimestamp(seconds, UTC), seconds

    def _sign(self, *parts: str) -> str:
        message = "\n".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _check_signature(self, signature: str, *parts: str) -> None:
        if not hmac.compare_digest(signature.encode(), self._sign(*parts).encode()):
            raise _bad_signature()

    def _check_expiry(self, expires: int) -> None:
        if self._now().timestamp() >= expires:
            raise _denied("Request has expired")

    @staticmethod
    def _canonical(params: Mapping[str, str]) -> str:
        return urlencode(sorted((k, v) for k, v in params.items() if k != "X-Signature"))

    def _url(self, method: str, key: str, params: dict[str, str]) -> str:
        params["X-Signature"] = self._sign(method, key, self._canonical(params))
        return f"{self.base_url}/{quote(key, safe='/')}?{urlencode(params)}"

    # --- presigning (local computation, as the port says) -------------------------------------

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        _check_key(key)
        expires_at, expires = self._expiry(expires_in)
        policy = PostPolicy(key, size, content_type, sha256, expires)
        encoded = base64.b64encode(json.dumps(policy.__dict__).encode()).decode()
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": encoded,
            "x-signature": self._sign("POST", encoded),
        }
        if sha256 is not None:
            fields["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        return PresignedPost(f"{self.base_url}/", fields, expires_at)

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        _check_key(key)
        _, expires = self._expiry(expires_in)
        params = {
            "uploadId": multipart_id,
            "partNumber": str(part_number),
            "X-Size": str(size),
            "X-Expires": str(expires),
        }
        if sha256 is not None:
            # Signed: the part must come with this `x-amz-checksum-sha256`, and match it.
            params["X-Checksum-SHA256"] = sha256.lower()
        return self._url("PUT", key, params)

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        _check_key(key)
        _, expires = self._expiry(expires_in)
        params = {
            "response-content-disposition": content_disposition(filename),
            "X-Expires": str(expires),
        }
        return self._url("GET", key, params)

    # --- paths --------------------------------------------------------------------------------

    def _object_path(self, key: str) -> Path:
        _check_key(key)
        return self._objects.joinpath(*key.split("/"))

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(path.name + ".meta.json")

    def _segments_dir(self, key: str) -> Path:
        _check_key(key)
        return self._segments.joinpath(*key.split("/"))

    def _files(self, key: str, meta: Mapping[str, Any]) -> list[Path]:
        """The files whose bytes, in order, are the object's: its own, then its segments'."""
        path = self._object_path(key)
        segments = meta.get("segments")
        if not isinstance(segments, dict):
            return [path]
        directory = self._segments_dir(key) / str(segments["dir"])
        return [path, *(directory / str(i) for i in range(2, int(segments["count"]) + 1))]

    def _multipart_dir(self, multipart_id: str) -> Path | None:
        # Ids are ours (hex); anything else cannot name a directory of ours.
        if not multipart_id or not all(c in "0123456789abcdef" for c in multipart_id):
            return None
        return self._multipart / multipart_id

    def _multipart_meta(self, key: str, multipart_id: str) -> dict[str, Any] | None:
        directory = self._multipart_dir(multipart_id)
        if directory is None:
            return None
        try:
            meta: dict[str, Any] = json.loads((directory / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        return meta if meta.get("key") == key else None

    def new_temp(self) -> Path:
        return self._tmp / secrets.token_hex(16)

    # --- writing ------------------------------------------------------------------------------

    def _publish(
        self, temp: Path, key: str, meta: dict[str, Any], *, replace: bool = False
    ) -> None:
        """Move a complete, fsynced temp file under its key, its metadata first.

        Unless `replace`, a key that holds an object already is refused (`_already_stored`) and
        `temp` discarded: an object, once stored, is the one served (S3's `If-None-Match: *`).
        """
        path = self._object_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta_temp = self.new_temp()
        _write_synced(meta_temp, json.dumps(meta).encode())
        # One writer at a time between the check and the rename, or two POSTs of one form at
        # once could both find the key free.
        with self._publishing:
            if not replace and path.exists():
                _discard(meta_temp)
                _discard(temp)
                raise _already_stored()
            # Metadata first: a crash in between leaves metadata without an object, which reads
            # as absent; the other order would leave an object whose metadata is another one's.
            os.replace(meta_temp, self._meta_path(path))
            os.replace(temp, path)
        _fsync_dir(path.parent)

    async def _created(self, key: str, size: int, etag: str, event_name: str) -> None:
        if self.on_created is None:
            return
        record = s3_object_created_record(self.bucket, key, size, etag, event_name, self._now())
        try:
            await self.on_created({"Records": [record]})
        except Exception:
            # As with S3 events, a lost notification is repaired by the reconciling sweep.
            log.exception("could not send the ObjectCreated event for %s", key)

    def put_object(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        """Store an object directly, as the bucket owner can, with no `ObjectCreated` event
        (blocking: for tests and tools outside a loop)."""
        temp = self.new_temp()
        _write_synced(temp, data)
        meta: dict[str, Any] = {
            "content_type": content_type,
            "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        self._publish(temp, key, meta, replace=True)
        return ObjectInfo(len(data), f'"{meta["etag"]}"', meta["sha256"])

    # --- the port -----------------------------------------------------------------------------

    def sweep_multipart(self, now: float | None = None) -> int:
        """Remove multipart uploads begun more than `MULTIPART_MAX_AGE` ago, as the bucket's
        lifecycle rule (`AbortIncompleteMultipartUpload`) does on AWS; how many went. Run on
        start and, at most once per `MULTIPART_SWEEP_EVERY`, when a multipart upload begins."""
        now = time.time() if now is None else now
        self._multipart_swept_at = now
        removed = 0
        for directory in self._multipart.iterdir():
            try:
                begun = (directory / "meta.json").stat().st_mtime
            except OSError:
                begun = directory.stat().st_mtime  # made, but its metadata never written
            if now - begun > MULTIPART_MAX_AGE.total_seconds():
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
        if removed:
            log.info("removed %d multipart upload(s) begun over %s ago", removed, MULTIPART_MAX_AGE)
        return removed

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        _check_key(key)
        if time.time() - self._multipart_swept_at > MULTIPART_SWEEP_EVERY.total_seconds():
            await asyncio.to_thread(self.sweep_multipart)
        multipart_id = secrets.token_hex(16)
        directory = self._multipart / multipart_id

        def create() -> None:
            directory.mkdir(parents=True)
            meta = json.dumps({"key": key, "content_type": content_type}).encode()
            _write_synced(directory / "meta.json", meta)

        await asyncio.to_thread(create)
        return multipart_id

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        return await asyncio.to_thread(self._list_parts, key, multipart_id)

    def _list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        if self._multipart_meta(key, multipart_id) is None:
            return []
        directory = self._multipart_dir(multipart_id)
        assert directory is not None  # its metadata was found above, so the id is valid  # nosec B101
        parts = []
        for path in directory.glob("*.part"):
            number = int(path.stem)
            try:
                etag = (directory / f"{number}.etag").read_text().strip()
                size = path.stat().st_size
            except FileNotFoundError:
                # Only after a power cut before the part was synced (or while it is replaced):
                # not arrived, as far as anyone can tell; the client sends it again.
                continue
            parts.append(StoredPart(number, f'"{etag}"', size))
        return sorted(parts, key=lambda p: p.part_number)

    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        await asyncio.to_thread(self._wait_for_syncs, multipart_id)
        size, etag = await asyncio.to_thread(self._complete, key, multipart_id, parts)
        await self._created(key, size, etag, "ObjectCreated:CompleteMultipartUpload")

    def _complete(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> tuple[int, str]:
        meta = self._multipart_meta(key, multipart_id)
        existing = self._head(key)
        if meta is not None and existing is not None:
            # Completed before, and the parts left behind by a crash: S3 answers a repeated
            # CompleteMultipartUpload with the object it made, and so do we.
            shutil.rmtree(self._multipart / multipart_id, ignore_errors=True)
            return existing.size, existing.etag.strip('"')
        if meta is None:
            raise InvalidInput("The multipart upload does not exist; start a new upload.")
        directory = self._multipart_dir(multipart_id)
        assert directory is not None  # its metadata was found above, so the id is valid  # nosec B101
        stored = {p.part_number: p for p in self._list_parts(key, multipart_id)}
        part_sha256s: list[str | None] = []
        # Each part's size and SHA-256 as it arrived: what a read checks the object against,
        # part by part (there is no full-object SHA-256 without reading every byte again).
        segments: list[tuple[int, str]] = []
        for part in parts:
            have = stored.get(part.part_number)
            if have is None or have.etag.strip('"') != part.etag.strip('"'):
                raise InvalidInput(
                    f"Part {part.part_number} was not uploaded or its ETag does not match."
                )
            arrived, sent = _part_sha256(directory, part.part_number)
            if part.sha256 is not None and arrived is not None and part.sha256.lower() != arrived:
                raise InvalidInput(
                    f"Part {part.part_number} is not what was sent: its SHA-256 does not match "
                    "the bytes that arrived. Upload the part again."
                )
            checked = arrived is not None and (sent or part.sha256 is not None)
            part_sha256s.append(arrived if checked else None)
            if arrived is None:  # a part stored before their SHA-256s were kept: hash it now
                arrived = _file_sha256(directory / f"{part.part_number}.part")
            segments.append((stored[part.part_number].size, arrived))
        # The parts become the object's files as they are: hard links, no copy (ext4 has no
        # reflinks, and copying then fsyncing 1 GiB takes seconds). Their bytes were synced in
        # the background after each arrived (`complete_multipart` waited for that); synced again
        # here, which costs nothing for a clean file and covers a part received before a
        # restart, so the object is durable before it is published. The links' directories are
        # synced here and by `_publish`.
        temp = self.new_temp()
        files = [directory / f"{part.part_number}.part" for part in parts]
        for file in files:
            _fsync_path(file)
        if files:
            _link(files[0], temp)
        else:
            _write_synced(temp, b"")
        # A directory of this completion's own: one that lost a race with another, or was cut
        # short by a crash, never touches the segments of the object stored.
        segments_dir = self._segments_dir(key) / secrets.token_hex(8)
        if len(files) > 1:
            segments_dir.mkdir(parents=True)
            for index, source in enumerate(files[1:], start=2):
                _link(source, segments_dir / str(index))
            _fsync_dir(segments_dir)
            _fsync_dir(segments_dir.parent)
        size = sum(segment[0] for segment in segments)
        digests = b"".join(bytes.fromhex(part.etag.strip('"')) for part in parts)
        # S3's multipart ETag: the MD5 of the parts' ETags, then the part count.
        etag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"
        info: dict[str, Any] = {
            "content_type": meta["content_type"],
            "etag": etag,
            # S3 has no full-object SHA-256 of a multipart object: its composite instead.
            "sha256": None,
            "size": size,
            "part_sha256s": [list(segment) for segment in segments],
        }
        if len(files) > 1:
            info["segments"] = {"dir": segments_dir.name, "count": len(files)}
        verified = [value for value in part_sha256s if value is not None]
        if parts and len(verified) == len(parts):
            part_size = stored[parts[0].part_number].size
            checksum = Checksum.composite(verified, part_size)
            info["checksum"] = {"type": checksum.type, "value": checksum.value,
                                "part_size": part_size}  # fmt: skip
        try:
            self._publish(temp, key, info)
        except BlobRequestRefused:
            shutil.rmtree(segments_dir, ignore_errors=True)  # another completion stored it
            raise
        shutil.rmtree(directory, ignore_errors=True)
        return size, etag

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        if self._multipart_meta(key, multipart_id) is None:
            return
        directory = self._multipart_dir(multipart_id)
        assert directory is not None  # its metadata was found above, so the id is valid  # nosec B101
        await asyncio.to_thread(shutil.rmtree, directory, True)

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, key)

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            path = self._object_path(key)
        except InvalidInput:
            return None
        try:
            meta = json.loads(self._meta_path(path).read_text())
            size = sum(file.stat().st_size for file in self._files(key, meta))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if meta.get("size") != size:
            return None  # an interrupted replacement: treat as absent, like a missing object
        checksum = None
        if isinstance(found := meta.get("checksum"), dict):
            checksum = Checksum(found["type"], found["value"], found.get("part_size"))
        return ObjectInfo(size, f'"{meta["etag"]}"', meta.get("sha256"), checksum)

    def _content_type(self, path: Path) -> str:
        try:
            return str(json.loads(self._meta_path(path).read_text())["content_type"])
        except (OSError, ValueError, KeyError):
            return "application/octet-stream"

    async def delete(self, key: str) -> None:
        def remove() -> None:
            path = self._object_path(key)
            for target in (path, self._meta_path(path)):
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            shutil.rmtree(self._segments_dir(key), ignore_errors=True)

        await asyncio.to_thread(remove)

    def lost_objects(self) -> list[tuple[str, str]]:
        """Stored objects whose file went missing or changed size on the disk behind the
        store's back, with why: `(key, reason)`. One `stat` per object; the bytes themselves
        are checked when they are served (see the blob front)."""
        lost = []
        for meta_path in self._objects.rglob("*.meta.json"):
            path = meta_path.with_name(meta_path.name.removesuffix(".meta.json"))
            key = path.relative_to(self._objects).as_posix()
            try:
                meta = json.loads(meta_path.read_text())
                size, files = meta["size"], self._files(key, meta)
            except (OSError, ValueError, KeyError, TypeError, InvalidInput):
                continue  # being written, or not ours
            try:
                found = sum(file.stat().st_size for file in files)
            except FileNotFoundError:
                lost.append((key, "its stored bytes are missing from the server's storage"))
                continue
            if found != size:
                lost.append((key, "its stored bytes were changed on the server's storage"))
        return lost

    async def keep_first_version(self, key: str) -> bool:
        return False  # a stored object is never replaced here (see `_publish`)

    # --- serving presigned requests (for the HTTP front) ---------------------------------------

    def check_post(self, fields: Mapping[str, str]) -> PostPolicy:
        """The policy of a presigned POST form, if its fields are signed and fit it."""
        encoded = fields.get("policy", "")
        self._check_signature(fields.get("x-signature", ""), "POST", encoded)
        try:
            policy = PostPolicy(**json.loads(base64.b64decode(encoded, validate=True)))
        except (ValueError, TypeError, binascii.Error) as error:
            raise _bad_signature() from error
        self._check_expiry(policy.expires)
        if fields.get("key") != policy.key:
            raise _denied("Invalid according to Policy: Policy Condition failed: key")
        if fields.get("Content-Type") != policy.content_type:
            raise _denied("Invalid according to Policy: Policy Condition failed: Content-Type")
        return policy

    def check_url(self, method: str, key: str, params: Mapping[str, str]) -> None:
        """Refuse a presigned GET or part PUT whose key, signature or expiry does not hold."""
        try:
            _check_key(key)
        except InvalidInput as error:
            raise BlobRequestRefused(400, "InvalidURI", "Invalid key.") from error
        self._check_signature(params.get("X-Signature", ""), method, key, self._canonical(params))
        try:
            expires = int(params.get("X-Expires", ""))
        except ValueError as error:
            raise _bad_signature() from error
        self._check_expiry(expires)

    async def receive_post(self, policy: PostPolicy, chunks: AsyncIterator[bytes]) -> ObjectInfo:
        """Write a POSTed file that must be exactly `policy.size` bytes (and its SHA-256), under
        a key that holds no object yet (a form reposted within its expiry replaces nothing)."""
        if await asyncio.to_thread(self._object_path(policy.key).exists):
            raise _already_stored()  # before reading a byte of the file
        temp = self.new_temp()
        size, md5, sha = await self._receive(temp, chunks, policy.size, with_md5=True)
        try:
            if size != policy.size:
                raise BlobRequestRefused(
                    400,
                    "EntityTooSmall" if size < policy.size else "EntityTooLarge",
                    "Your proposed upload size does not match the policy.",
                )
            if policy.sha256 is not None and sha != policy.sha256:
                raise BlobRequestRefused(
                    400, "BadDigest", "The SHA256 you specified did not match the calculated."
                )
        except BlobRequestRefused:
            _discard(temp)
            raise
        meta: dict[str, Any] = {
            "content_type": policy.content_type,
            "etag": md5,
            "sha256": sha,
            "size": size,
        }
        checksum = None
        if policy.sha256 is not None:  # checked above: the client's checksum, verified
            checksum = Checksum.full_object(sha)
            meta["checksum"] = {"type": checksum.type, "value": checksum.value}
        await asyncio.to_thread(self._publish, temp, policy.key, meta)
        await self._created(policy.key, size, md5, "ObjectCreated:Post")
        return ObjectInfo(size, f'"{md5}"', sha, checksum)

    async def receive_part(
        self,
        key: str,
        params: Mapping[str, str],
        chunks: AsyncIterator[bytes],
        content_length: str | None = None,
        checksum_sha256: str | None = None,
    ) -> str:
        """Write one part of exactly its signed size (`content_length`: the request's header, if
        it has one) and, if it came with one (`x-amz-checksum-sha256`, base64; required when
        the URL signs one), of that SHA-256; returns its quoted ETag."""
        if content_length is not None and content_length != params.get("X-Size"):
            raise BlobRequestRefused(
                403, "SignatureDoesNotMatch", "Content-Length is signed and differs."
            )
        signed = params.get("X-Checksum-SHA256")
        sent = None if checksum_sha256 is None else from_base64(checksum_sha256)
        if checksum_sha256 is not None and sent is None:
            raise BlobRequestRefused(
                400, "InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid."
            )
        if signed is not None and sent != signed:
            raise BlobRequestRefused(
                403, "SignatureDoesNotMatch", "x-amz-checksum-sha256 is signed and differs."
            )
        multipart_id = params.get("uploadId", "")
        try:
            number, expected = int(params.get("partNumber", "")), int(params.get("X-Size", ""))
        except ValueError as error:
            raise _bad_signature() from error
        if self._multipart_meta(key, multipart_id) is None:
            raise BlobRequestRefused(404, "NoSuchUpload", "The specified upload does not exist.")
        temp = self.new_temp()
        size, _, sha = await self._receive(temp, chunks, expected, sync=False)
        if size != expected:
            _discard(temp)
            raise BlobRequestRefused(
                400, "BadRequest", "The part's length does not match the signed Content-Length."
            )
        if sent is not None and sha != sent:
            _discard(temp)
            raise BlobRequestRefused(
                400, "BadDigest", "The SHA256 you specified did not match the calculated checksum."
            )
        # ETags are opaque to clients (S3's are not always MD5s either): the part's is taken
        # from the SHA-256 computed anyway, so no second hash of every byte.
        etag = sha[:32]
        directory = self._multipart_dir(multipart_id)
        assert directory is not None  # its metadata was found above, so the id is valid  # nosec B101

        def publish() -> None:
            if not directory.exists():  # aborted while the part was arriving
                temp.unlink(missing_ok=True)
                raise BlobRequestRefused(
                    404, "NoSuchUpload", "The specified upload does not exist."
                )
            for suffix, value in (("sha256", f"{sha}\n{'sent' if sent else ''}"), ("etag", etag)):
                (directory / f"{number}.{suffix}.tmp").write_bytes(value.encode())
                os.replace(directory / f"{number}.{suffix}.tmp", directory / f"{number}.{suffix}")
            os.replace(temp, directory / f"{number}.part")

        await asyncio.to_thread(publish)
        self._sync_later(multipart_id, directory, number)
        return f'"{etag}"'

    def _sync_later(self, multipart_id: str, directory: Path, number: int) -> None:
        """Make part `number` durable (its bytes, its SHA-256 and ETag, their names) in the
        background, while its client sends the next: a part is answered once written, and its
        upload completes only once every part is on the disk (`_wait_for_syncs`, `_complete`).

        Why answering first keeps what was acknowledged as stored: the bytes written are in
        the kernel's page cache, which outlives the server (a kill -9 loses none of them);
        only a power cut or a kernel crash within the moment before the sync can, and then the
        part is an unfinished upload's, which its client sends again (docs/durability.md)."""
        with self._syncing_lock:
            if self._syncer is None:
                self._syncer = concurrent.futures.ThreadPoolExecutor(
                    2, thread_name_prefix="part-sync"
                )
            pending = self._syncing.setdefault(multipart_id, set())
            future = self._syncer.submit(_sync_part, directory, number)
            pending.add(future)

        def done(finished: concurrent.futures.Future[None]) -> None:
            with self._syncing_lock:
                pending.discard(finished)
                if not pending and self._syncing.get(multipart_id) is pending:
                    del self._syncing[multipart_id]
            if not finished.cancelled() and finished.exception() is not None:
                # `_complete` syncs every part again and fails there, where it matters.
                log.warning("syncing a part failed: %s", finished.exception())

        future.add_done_callback(done)

    def _wait_for_syncs(self, multipart_id: str) -> None:
        with self._syncing_lock:
            pending = list(self._syncing.get(multipart_id, ()))
        concurrent.futures.wait(pending)

    async def _receive(
        self,
        temp: Path,
        chunks: AsyncIterator[bytes],
        limit: int,
        *,
        with_md5: bool = False,
        sync: bool = True,
    ) -> tuple[int, str, str]:
        """Stream into `temp`, fsynced unless not `sync`; stops reading one byte past `limit`.
        Returns the size, the MD5 (if `with_md5`, else "") and the SHA-256, in hex.

        Bytes are hashed and written in a worker thread a batch at a time (hashlib lets go of
        the GIL on large buffers), while the loop receives the next batch: one batch at a time
        in the thread, in order, so the file and the digests see the bytes as they came. The
        loop only gathers the chunks; joining them would copy every byte once more on it."""
        md5 = hashlib.md5(usedforsecurity=False) if with_md5 else None
        sha = hashlib.sha256()
        size = 0
        batch: list[bytes] = []
        batched = 0
        loop = asyncio.get_running_loop()
        file: BinaryIO = await loop.run_in_executor(None, temp.open, "wb")
        writing: asyncio.Future[None] | None = None

        def take(chunks: list[bytes]) -> None:
            for chunk in chunks:
                if md5 is not None:
                    md5.update(chunk)
                sha.update(chunk)
                file.write(chunk)

        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    # No need to read (or keep) the rest: it is refused already.
                    raise BlobRequestRefused(
                        400, "EntityTooLarge", "Your proposed upload exceeds the allowed size."
                    )
                batch.append(chunk)
                batched += len(chunk)
                if batched >= WRITE_BATCH:
                    if writing is not None:
                        await writing
                    writing = loop.run_in_executor(None, take, batch)
                    batch, batched = [], 0
            if writing is not None:
                await writing
            if batch:
                await loop.run_in_executor(None, take, batch)
            await loop.run_in_executor(None, _sync_close if sync else _close, file)
        except BaseException:

            def abandon(written: asyncio.Future[None] | None = None) -> None:
                if written is not None and not written.cancelled():
                    written.exception()  # raised already, or superseded by what is raised
                file.close()
                _discard(temp)

            if writing is None or writing.done():
                abandon(writing)
            else:  # the thread still writes to the file: closed once it is done
                writing.add_done_callback(abandon)
            raise
        return size, "" if md5 is None else md5.hexdigest(), sha.hexdigest()

    def open_object(
        self, key: str
    ) -> tuple[list[Path], int, str, str, list[tuple[int, str]] | None]:
        """The object's files (its bytes, in order), size, ETag, content type and the SHA-256s
        recorded when it was stored, for serving a GET (whose signature was checked: the key was
        an object's). The SHA-256s are `(size, sha256)` of consecutive byte ranges: the whole
        object's, or each part's of a multipart object (None: nothing was recorded).

        A signed key with no object is one whose bytes went away (deleted since the URL was
        signed, or lost from the disk): 410, saying so, not a 404 that reads as a wrong link.
        """
        info = self._head(key)
        if info is None:
            raise BlobRequestRefused(
                410,
                "NoSuchKey",
                "The object's bytes are gone: it was deleted, or its file is missing from "
                "the server's storage.",
            )
        path = self._object_path(key)
        try:
            files = self._files(key, json.loads(self._meta_path(path).read_text()))
        except (OSError, ValueError):
            files = [path]
        return files, info.size, info.etag, self._content_type(path), self._digests(path, info)

    def _digests(self, path: Path, info: ObjectInfo) -> list[tuple[int, str]] | None:
        if info.sha256 is not None:
            return [(info.size, info.sha256)]
        try:
            parts = json.loads(self._meta_path(path).read_text()).get("part_sha256s")
        except (OSError, ValueError):
            return None
        if not isinstance(parts, list):
            return None
        return [(int(size), str(sha256)) for size, sha256 in parts]


def _already_stored() -> BlobRequestRefused:
    # S3's answer to a conditional write (`If-None-Match: *`) on a key that exists.
    return BlobRequestRefused(
        412,
        "PreconditionFailed",
        "An object is already stored under this key, and a stored object is never replaced.",
    )


def _check_key(key: str) -> None:
    """Keys are ours (`u/<user>/<upload>`), but a path must never leave the objects dir."""
    segments = key.split("/")
    if not key or any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segments):
        raise InvalidInput("invalid object key")
    if key.endswith(".meta.json"):
        raise InvalidInput("invalid object key")


def _link(source: Path, target: Path) -> None:
    """`target` as another name of `source`'s bytes; a synced copy where the file system has
    no hard links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        with target.open("rb+") as file:
            os.fsync(file.fileno())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _part_sha256(directory: Path, number: int) -> tuple[str | None, bool]:
    """A stored part's SHA-256 (None for a part stored before they were kept) and whether it
    was checked against one the client sent with it."""
    try:
        digest, _, sent = (directory / f"{number}.sha256").read_text().partition("\n")
    except FileNotFoundError:
        return None, False
    return digest.strip(), sent.strip() == "sent"


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _close(file: BinaryIO) -> None:
    file.close()


def _sync_part(directory: Path, number: int) -> None:
    """Part `number` of a multipart upload on the disk: its bytes, its SHA-256 and ETag, and
    the names of the three. Gone meanwhile (completed, aborted): nothing to do."""
    try:
        for name in (f"{number}.part", f"{number}.sha256", f"{number}.etag"):
            _fsync_path(directory / name)
        _fsync_dir(directory)
    except FileNotFoundError:
        pass


def _sync_close(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()


def _fsync_path(path: Path) -> None:
    """A file's bytes, or a directory's names, on the disk (opened read-only to sync)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # So the rename itself survives a power cut.
    _fsync_path(directory)


def s3_object_created_record(
    bucket: str, key: str, size: int, etag: str, event_name: str, now: datetime
) -> dict[str, Any]:
    """One record of an S3 event notification, shaped as S3 sends it (key URL-encoded)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            # S3 encodes keys like a form (spaces as '+'); consumers unquote_plus them.
            "object": {"key": quote(key, safe="/").replace("%20", "+"), "size": size,
                       "eTag": etag.strip('"'), "sequencer": f"{int(now.timestamp() * 1e6):016X}"},
        },
    }  # fmt: skip
