"""S3's HTTP front for the filesystem blob store: what `filestore serve` answers at `/_blobs`.

A client holding a presigned URL of the filesystem blob store talks to this app as it would to S3:
`POST /` with the presigned form (the file last), `PUT /<key>?uploadId=…&partNumber=…` for one
part of a multipart upload, `GET /<key>?…` for a download. The app parses the requests and streams
the bytes; the store checks the signatures and policies and stores or reads the objects. A refused
request gets S3's XML error body and status.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks, MultipartParser
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from filestore.domain.ports import ObjectInfo

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
# What comes before the file (every field, with its part's headers) is small in an upload
# form: S3 refuses more than 20 kB. Past these bounds the form is refused as it arrives, before
# the signature is checked, so a hostile form costs no more memory than this.
MAX_FORM_FIELDS_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50
_NOT_MULTIPART = "The body of your POST request is not well-formed multipart/form-data."


@runtime_checkable
class Refusal(Protocol):
    """What S3 answers with an error document: a status, an S3 error code and a message.

    The store's refusals (`BlobRequestRefused`) and the front's own (`FormRefused`) have this
    shape; the front recognises them by it, so it imports no adapter to catch them.
    """

    status: int
    code: str
    message: str


class CheckedPost(Protocol):
    """A presigned POST's policy once its signature was checked: at least the key it allows."""

    @property
    def key(self) -> str: ...


Policy = TypeVar("Policy", bound=CheckedPost)
# The SHA-256s recorded when an object was stored, as `(size, sha256)` of consecutive byte
# ranges from its start: one for the whole object, or one per part of a multipart object
# (assembled without reading its bytes again, it has no SHA-256 of the whole).
Segments = Sequence[tuple[int, str]]


class SignedObjects(Protocol[Policy]):
    """What the front needs of a store whose presigned URLs it serves (the filesystem blob
    store has this shape; the composition root hands it over)."""

    base_url: str

    def check_post(self, fields: Mapping[str, str]) -> Policy: ...

    async def receive_post(self, policy: Policy, chunks: AsyncIterator[bytes]) -> ObjectInfo: ...

    def check_url(self, method: str, key: str, params: Mapping[str, str]) -> None: ...

    async def receive_part(
        self,
        key: str,
        params: Mapping[str, str],
        chunks: AsyncIterator[bytes],
        content_length: str | None = None,
        checksum_sha256: str | None = None,
    ) -> str: ...

    def open_object(self, key: str) -> tuple[Sequence[Path], int, str, str, Segments | None]:
        """The files whose bytes, in order, are the object's (a multipart one's may be its
        parts, kept as they arrived), its size, ETag, content type and recorded SHA-256s."""
        ...


class FormRefused(Exception):
    """A POST body that is not an upload form S3 would take."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.status = 400
        self.code = code
        self.message = message


def blob_app(store: SignedObjects[Policy]) -> Starlette:
    """The ASGI app that serves `store`'s presigned URLs (mount it where `base_url` points)."""
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def post_form(request: Request) -> Response:
        try:
            fields, chunks = await _parse_form(request)
            # As on S3, the `Content-Type` form field is what the policy checks and what the
            # object is stored with; the file part's own header is ignored.
            policy = store.check_post(fields)
            info = await store.receive_post(policy, chunks)
        except Exception as error:
            return _refused(error)
        headers = {"ETag": info.etag, "Location": f"{store.base_url}/{quote(policy.key)}"}
        return Response(status_code=204, headers=headers)

    async def object_route(request: Request) -> Response:
        key = unquote(request.path_params["key"])
        params = dict(request.query_params)
        try:
            store.check_url(request.method, key, params)
            if request.method == "PUT":
                etag = await store.receive_part(
                    key,
                    params,
                    request.stream(),
                    request.headers.get("content-length"),
                    request.headers.get("x-amz-checksum-sha256"),
                )
                return Response(status_code=200, headers={"ETag": etag})
            files, size, etag, content_type, sha256 = await asyncio.to_thread(
                store.open_object, key
            )
            body = await _verified_chunks(files, size, sha256)
        except Exception as error:
            return _refused(error)
        headers = {
            "Content-Length": str(size),
            "ETag": etag,
            "Content-Disposition": params.get("response-content-disposition", "attachment"),
        }
        return StreamingResponse(body, media_type=content_type, headers=headers, status_code=200)

    return Starlette(
        routes=[
            Route("/", post_form, methods=["POST"]),
            Route("/{key:path}", object_route, methods=["GET", "PUT"]),
        ]
    )


def _refused(error: Exception) -> Response:
    """S3's error document for a refusal; anything else is a bug and goes on up."""
    if not isinstance(error, Refusal):
        raise error
    from starlette.responses import Response

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{error.code}</Code><Message>{_xml_escape(error.message)}</Message></Error>"
    )
    return Response(body, status_code=error.status, media_type="application/xml")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ObjectDamaged(Exception):
    """Stored bytes that no longer match the SHA-256 recorded when they were stored."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: the stored bytes no longer match their SHA-256")
        self.status = 410
        self.code = "ObjectDamaged"
        self.message = (
            "The object's stored bytes are damaged (they no longer match the SHA-256 recorded "
            "when they were stored); they are not served."
        )


class _Expected:
    """Bytes read in order, checked against the SHA-256 of each range of `Segments`."""

    def __init__(self, segments: Segments) -> None:
        self._segments = deque(segments)
        self._digest = hashlib.sha256()
        self._seen = 0
        self.intact = True

    def room(self) -> int:
        """How much to read next: no read crosses the end of a range."""
        if not self._segments:
            return CHUNK
        return max(1, min(CHUNK, self._segments[0][0] - self._seen))

    def update(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        self._seen += len(chunk)
        while self._segments and self._seen >= self._segments[0][0]:
            size, sha256 = self._segments.popleft()
            if self._seen != size or self._digest.hexdigest() != sha256:
                self.intact = False
            self._digest, self._seen = hashlib.sha256(), 0

    def whole(self) -> bool:
        """Whether all that was read matched, and it was all the ranges hold."""
        self.update(b"")  # ranges of no bytes
        return self.intact and not self._segments and self._seen == 0


async def _verified_chunks(
    files: Sequence[Path], size: int, sha256s: Segments | None
) -> AsyncIterator[bytes]:
    """The chunks of `files`, one after the other, checked against `sha256s` as they are read
    (hashing costs far less than the disk and the network that carry the bytes, and only what is
    downloaded is read). A multipart object's files are its parts, and its ranges theirs: a read
    never crosses the end of a range, so none crosses from one file to the next.

    The last chunk is held back until the digest is known, and a chunk is held back until the
    range it ends has matched: damaged bytes are never served as a whole file. An object of one
    chunk is checked before the answer starts (`ObjectDamaged`, S3-style 410); a longer one is
    cut off before its last chunk, so the client sees a body shorter than its Content-Length, an
    error, not a file.
    """
    expected = None if sha256s is None else _Expected(sha256s)
    path, following = files[0], deque(files[1:])
    file: BinaryIO = await asyncio.to_thread(path.open, "rb")

    def read() -> bytes:
        # Hashed in the worker thread that reads (hashlib lets go of the GIL), off the loop.
        nonlocal file
        while not (chunk := file.read(CHUNK if expected is None else expected.room())):
            if not following:
                break
            file.close()
            file = following.popleft().open("rb")
        if expected is not None:
            expected.update(chunk)
        return chunk

    first = await asyncio.to_thread(read)
    if expected is not None and len(first) >= size and not expected.whole():
        file.close()
        raise ObjectDamaged(path)

    async def chunks() -> AsyncIterator[bytes]:
        held = first
        try:
            while chunk := await asyncio.to_thread(read):
                if expected is not None and not expected.intact:
                    break
                yield held
                held = chunk
        finally:
            file.close()
        if expected is not None and not expected.whole():
            log.error("not serving the end of %s: %s", path, ObjectDamaged(path).message)
            raise ObjectDamaged(path)
        yield held

    return chunks()


class _FormReader:
    """`python-multipart`'s callbacks: the fields before the file, then the file's chunks."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.file_chunks: list[bytes] = []
        self.in_file = False
        self.file_done = False
        self._headers: dict[str, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._value = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers, self._value, self._name = {}, b"", None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, disposition = parse_options_header(self._headers.get("content-disposition", b""))
        try:
            self._name = disposition.get(b"name", b"").decode()
        except UnicodeDecodeError as error:
            raise FormRefused(
                "MalformedPOSTRequest", "A form field's name is not UTF-8."
            ) from error
        self.in_file = self._name == "file"
        if not self.in_file and len(self.fields) >= MAX_FORM_FIELDS:
            raise FormRefused(
                "MalformedPOSTRequest", f"The form has more than {MAX_FORM_FIELDS} fields."
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.file_chunks.append(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FORM_FIELDS_BYTES:
            raise FormRefused("MalformedPOSTRequest", "A form field is too large.")

    def on_part_end(self) -> None:
        if self.in_file:
            self.file_done = True
        elif self._name is not None:
            self.fields[self._name] = self._value.decode("utf-8", "replace")


def _write(parser: MultipartParser, chunk: bytes) -> None:
    """Feed the parser; a body it cannot parse is S3's 400, not a crash."""
    from python_multipart.exceptions import MultipartParseError

    try:
        parser.write(chunk)
    except MultipartParseError as error:
        raise FormRefused("MalformedPOSTRequest", _NOT_MULTIPART) from error


async def _parse_form(request: Request) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """Read the form's fields up to the file, then hand back the file's bytes as a stream.

    S3 requires the file to be the last field, which lets the fields be checked before a byte
    of the file is stored, and the file be written as it arrives (bounded memory).
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise FormRefused("MalformedPOSTRequest", _NOT_MULTIPART)
    reader = _FormReader()
    parser = MultipartParser(boundary, reader.callbacks())
    stream = request.stream()
    before_file = 0
    # Read until the file starts (its first bytes may come with the last field).
    async for chunk in stream:
        if before_file > MAX_FORM_FIELDS_BYTES:
            raise FormRefused(
                "MaxPostPreDataLengthExceeded",
                "Your POST request fields preceding the upload file were too large.",
            )
        before_file += len(chunk)
        _write(parser, chunk)
        if reader.in_file:
            break
    if not reader.in_file:
        raise FormRefused("InvalidArgument", "POST requires exactly one file upload per request.")

    async def file_stream() -> AsyncIterator[bytes]:
        while reader.file_chunks:
            yield reader.file_chunks.pop(0)
        if reader.file_done:
            return
        async for chunk in stream:
            _write(parser, chunk)
            while reader.file_chunks:
                yield reader.file_chunks.pop(0)
            if reader.file_done:
                return

    return reader.fields, file_stream()
