"""The `filestore` command-line client: the HTTP API of any deployment, local or on AWS.

Uploads go straight to storage with the presigned POST (small files) or as parallel presigned
part PUTs (large ones), resumable: the parts that already arrived are asked for and skipped.
A single-request upload declares the file's SHA-256, and a multipart one each part's (hashed as
the part is read to be sent), which storage checks the bytes against as they arrive; a download
is checked against the checksum storage verified.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from filestore.domain.rules import UploadPolicy
from filestore.entrypoints.checksums_client import DownloadCheck, file_sha256, header_value
from filestore.entrypoints.cli_progress import Progress
from filestore.entrypoints.client_errors import ClientError as ClientError  # re-exported
from filestore.entrypoints.client_errors import (
    LocalFileExists,
    Unreachable,
    UploadInterrupted,
    UsageError,
)
from filestore.entrypoints.client_network import Network

PARALLEL_PARTS = 4

TokenProvider = Callable[[], str]
"""Gives the token for each request (renewing it when due); raises ClientError when there is
none. May have a `refused_hint`: what to tell the user when the API answers 401."""

Items = list[Any]  # a listing's items, every page (`Client.list` hides the builtin in the class)


@dataclass
class Client:
    """One deployment's API, as one user."""

    endpoint: str
    token: str | TokenProvider | None
    progress: bool | None = None
    transport: httpx.BaseTransport | None = None  # default: the network
    # Above this size the API is expected to plan a multipart upload (its default threshold; a
    # deployment may set another, and the client then declares the upload again, see `upload`).
    multipart_threshold: int = UploadPolicy.multipart_threshold

    def __post_init__(self) -> None:
        self.endpoint = self.endpoint.rstrip("/")
        transport = self.transport or Network()  # one for both, TLS set up when first used
        self.http = httpx.Client(base_url=self.endpoint, timeout=60, transport=transport)
        # Storage URLs are presigned: never send the API token to them.
        self.storage = httpx.Client(timeout=300, transport=transport)

    def close(self) -> None:
        self.http.close()
        self.storage.close()

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self.token() if callable(self.token) else self.token
        if not token:
            raise ClientError(
                "not signed in: run `filestore login` (or pass --token or set FILESTORE_TOKEN)",
                status=401,
            )
        headers = {"authorization": f"Bearer {token}"}
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise Unreachable(f"cannot reach {self.endpoint}: {error}") from error
        except httpx.InvalidURL as error:
            raise UsageError(f"the endpoint {self.endpoint!r} is not a URL: {error}") from error
        if response.status_code == 401:
            hint = getattr(self.token, "refused_hint", "sign in with `filestore login`")
            raise ClientError(f"{_message(response)}; {hint}", status=401)
        if response.status_code >= 400:
            raise ClientError(_message(response), status=response.status_code)
        try:
            return response.json() if response.content else None
        except ValueError:
            raise Unreachable(
                f"{self.endpoint} answered {method} {path} with something that is not JSON: "
                "is it a filestore API? (check --endpoint or FILESTORE_ENDPOINT)"
            ) from None

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """The items of a paginated listing, every page (`next_cursor`) in turn."""
        params = {"limit": 100, **(params or {})}
        while True:
            page = self.api("GET", path, params=params)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    # commands

    def whoami(self) -> Any:
        return self.api("GET", "/me")

    def list(
        self,
        *,
        folder_id: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        query: str | None = None,
    ) -> Items:
        """Stored files, every page: in `folder_id` (an id or `root`), else in every folder;
        by `sort` (`created_at`, `name`, `size`) and `order` (`asc`, `desc`); whose names
        contain `query` (ignoring case and accents)."""
        params = {"folder_id": folder_id, "sort": sort, "order": order, "q": query}
        return list(self.pages("/uploads", {k: v for k, v in params.items() if v is not None}))

    def get(self, upload_id: str) -> Any:
        return self.api("GET", f"/uploads/{upload_id}")

    def rename(self, upload_id: str, name: str) -> Any:
        return self.api("PATCH", f"/uploads/{upload_id}", json={"name": name})

    def update(self, upload_id: str, changes: dict[str, Any]) -> Any:
        """Rename and/or move a file: `changes` has `name` and/or `folder_id` (None = the root)."""
        return self.api("PATCH", f"/uploads/{upload_id}", json=changes)

    def delete(self, upload_id: str) -> None:
        """To the trash (a pending upload is aborted instead)."""
        self.api("DELETE", f"/uploads/{upload_id}")

    # folders

    def folders(self, parent_id: str = "root") -> Items:
        """The folders in `parent_id` (an id or `root`), every page, in name order."""
        return list(self.pages("/folders", {"parent_id": parent_id}))

    def folder(self, folder_id: str) -> Any:
        """A folder, with its `path` from the outermost folder down to it."""
        return self.api("GET", f"/folders/{folder_id}")

    def create_folder(self, name: str, parent_id: str | None = None) -> Any:
        return self.api("POST", "/folders", json={"name": name, "parent_id": parent_id})

    def update_folder(self, folder_id: str, changes: dict[str, Any]) -> Any:
        """Rename and/or move a folder: `changes` has `name` and/or `parent_id` (None = root)."""
        return self.api("PATCH", f"/folders/{folder_id}", json=changes)

    def delete_folder(self, folder_id: str) -> None:
        """The folder and everything in it, to the trash."""
        self.api("DELETE", f"/folders/{folder_id}")

    # the trash

    def trash(self) -> Items:
        """What was trashed directly, most recent first, every page."""
        return list(self.pages("/trash"))

    def restore(self, item_id: str) -> Any:
        return self.api("POST", f"/trash/{item_id}/restore")

    def delete_forever(self, item_id: str) -> None:
        self.api("DELETE", f"/trash/{item_id}")

    def empty_trash(self) -> None:
        self.api("DELETE", "/trash")

    def share(self, upload_id: str, expires_in: int) -> Any:
        return self.api("POST", f"/uploads/{upload_id}/shares", json={"expires_in": expires_in})

    def shares(self, upload_id: str) -> Items:
        """A file's live share links."""
        return list(self.api("GET", f"/uploads/{upload_id}/shares")["items"])

    def revoke_share(self, token: str) -> None:
        self.api("DELETE", f"/shares/{token}")

    def pending(self) -> Items:
        """My unfinished uploads, newest first (to resume or abort)."""
        return list(self.pages("/uploads", {"status": "pending"}))

    def set_notify(self, notify_email: bool) -> Any:
        return self.api("PATCH", "/me", json={"notify_email": notify_email})

    def download(self, upload_id: str, output: Path | None, *, overwrite: bool = True) -> Path:
        """Into `output` (a file or a folder; default: the file's name here), through a
        temporary file renamed once the bytes are checked; an existing file is replaced only
        with `overwrite`."""
        upload = self.api("GET", f"/uploads/{upload_id}")
        target = output or Path(Path(upload["name"]).name or upload_id)
        if target.is_dir():
            target = target / (Path(upload["name"]).name or upload_id)
        if not overwrite and target.exists():
            raise LocalFileExists(f"{target} exists already (use --force to replace it)")
        if not target.parent.is_dir():
            raise ClientError(f"{target.parent}: no such folder")
        temp = target.with_name(f".{target.name}.part")
        try:
            with temp.open("wb") as file:
                self._fetch(upload, file, progress=self.progress)
            os.replace(temp, target)
        except OSError as error:
            raise ClientError(f"cannot write {target}: {error.strerror or error}") from error
        finally:
            temp.unlink(missing_ok=True)
        return target

    def write_to(self, upload_id: str, file: BinaryIO) -> Any:
        """The file's bytes into `file` (stdout for `cat`), checked as they arrive (a corrupt
        download fails once written: stdout cannot be taken back). Returns the upload."""
        upload = self.api("GET", f"/uploads/{upload_id}")
        self._fetch(upload, file, progress=False)
        return upload

    def _fetch(self, upload: Any, file: BinaryIO, *, progress: bool | None) -> None:
        link = self.api("GET", f"/uploads/{upload['id']}/download")
        bar = Progress(upload["name"], int(upload["size"]), enabled=progress)
        check = DownloadCheck(upload.get("checksum"))
        try:
            with self.storage.stream("GET", link["url"]) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ClientError(_message(response))
                for chunk in response.iter_bytes(256 * 1024):
                    file.write(chunk)
                    check.update(chunk)
                    bar.add(len(chunk))
            problem = check.problem()
            if problem is not None:
                raise ClientError(f"download of {upload['name']} is corrupt: {problem}")
        except httpx.HTTPError as error:
            raise Unreachable(f"download failed: {error}") from error
        finally:
            bar.close()

    def upload(
        self,
        path: Path,
        *,
        content_type: str | None = None,
        folder_id: str | None = None,
        on_conflict: str | None = None,
    ) -> Any:
        import mimetypes

        if not path.is_file():
            raise ClientError(f"{path}: not a file")
        size = path.stat().st_size
        kind = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # Every upload is checked end to end with SHA-256 (`checksum_algorithm`). A file sent in
        # one request declares its SHA-256, which storage checks the request against. One the
        # API will send up in parts (by the default threshold) declares none: a multipart
        # upload's checksum is its parts' composite, so the whole file's would be checked
        # against nothing; its parts are hashed as each is read to be sent, once.
        body: dict[str, Any] = {
            "name": path.name, "size": size, "content_type": kind, "checksum_algorithm": "sha256",
        }  # fmt: skip
        body |= {"folder_id": folder_id} if folder_id else {}
        body |= {"on_conflict": on_conflict} if on_conflict else {}
        multipart = size > self.multipart_threshold
        ticket = self.api("POST", "/uploads", json=body | _sha256_of(path, not multipart))
        if "upload_url" in ticket and multipart:
            # This deployment takes files this big in one request: declare it again, with the
            # file's SHA-256 (the form is signed with what was declared), and drop the first.
            self.delete(ticket["upload"]["id"])
            ticket = self.api("POST", "/uploads", json=body | _sha256_of(path, True))
        upload = ticket["upload"]
        try:
            if "upload_url" in ticket:
                self._post(path, ticket["upload_url"], size)
                return upload
            return self._parts(path, upload["id"], ticket["multipart"])
        except KeyboardInterrupt:
            # The upload is pending on the server: say which, so it can be resumed or aborted.
            raise UploadInterrupted(
                str(path), upload["id"], resumable="upload_url" not in ticket
            ) from None

    def resume(self, path: Path, upload_id: str) -> Any:
        upload = self.api("GET", f"/uploads/{upload_id}")
        if upload["status"] != "pending":
            raise ClientError(f"upload {upload_id} is {upload['status']}, nothing to resume")
        if path.stat().st_size != upload["size"]:
            raise ClientError(f"{path} has {path.stat().st_size} bytes; the upload declared "
                              f"{upload['size']}")  # fmt: skip
        part_size = _part_size_of(self, upload_id)
        plan = {"part_size": part_size, "part_count": max(1, math.ceil(upload["size"] / part_size))}
        try:
            return self._parts(path, upload_id, plan)
        except KeyboardInterrupt:
            raise UploadInterrupted(str(path), upload_id, resumable=True) from None

    def _post(self, path: Path, form: dict[str, Any], size: int) -> None:
        bar = Progress(path.name, size, enabled=self.progress)
        try:
            with path.open("rb") as file:
                reader = _CountingReader(file, bar)
                response = self.storage.post(
                    form["url"],
                    data=form["fields"],
                    files={"file": (path.name, reader)},  # type: ignore[dict-item]
                )
        except httpx.HTTPError as error:
            raise Unreachable(f"upload failed: {error}") from error
        finally:
            bar.close()
        if response.status_code >= 400:
            raise ClientError(f"storage refused the upload: {_message(response)}")

    def _parts(self, path: Path, upload_id: str, plan: dict[str, Any]) -> Any:
        """Send the parts that have not arrived, `PARALLEL_PARTS` at a time, then complete.

        Each part is read once: hashed in memory (hashlib lets go of the GIL, so parts hash on
        every core while others are on the wire), its URL signed with that SHA-256, and sent.
        Twice as many workers as parts on the wire: while `PARALLEL_PARTS` are sent, as many
        more are read, hashed and signed, ready to go as soon as one finishes (at most
        2 x `PARALLEL_PARTS` parts in memory). Parts that arrived before (a resumed upload) are
        hashed from the file too: completion checks them against what storage received, so a
        file changed since is caught.
        """
        part_size, part_count = int(plan["part_size"]), int(plan["part_count"])
        arrived = {
            p["part_number"]: p["etag"]
            for p in self.api("GET", f"/uploads/{upload_id}/parts")["parts"]
        }
        total = path.stat().st_size
        bar = Progress(path.name, total, enabled=self.progress)
        bar.add(sum(_part_length(n, part_size, total) for n in arrived))
        etags, sha256s = dict(arrived), {}
        wire = threading.Semaphore(PARALLEL_PARTS)
        try:
            with concurrent.futures.ThreadPoolExecutor(2 * PARALLEL_PARTS) as pool:
                futures = {
                    pool.submit(self._send_part, path, upload_id, n, part_size, total, bar,
                                send=n not in arrived, wire=wire): n
                    for n in range(1, part_count + 1)
                }  # fmt: skip
                try:
                    for future in concurrent.futures.as_completed(futures):
                        sha256s[futures[future]], etag = future.result()
                        etags.setdefault(futures[future], etag)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        except ClientError as error:
            raise type(error)(f"{error} (resume with: filestore upload {path} --resume "
                              f"{upload_id})", status=error.status) from error  # fmt: skip
        finally:
            bar.close()
        parts = [
            {"part_number": n, "etag": etags[n], "sha256": sha256s[n]}
            for n in range(1, part_count + 1)
        ]
        return self.api("POST", f"/uploads/{upload_id}/complete", json={"parts": parts})

    def _send_part(
        self,
        path: Path,
        upload_id: str,
        number: int,
        part_size: int,
        total: int,
        bar: Progress,
        *,
        send: bool,
        wire: threading.Semaphore,
    ) -> tuple[str, str]:
        """Read part `number`, hash it and (if `send`) send it once `wire` lets it; its SHA-256
        (hex) and ETag ("" when not sent)."""
        length = _part_length(number, part_size, total)
        with path.open("rb") as file:
            file.seek((number - 1) * part_size)
            data = file.read(length)
        sha256 = hashlib.sha256(data).hexdigest()
        if not send:
            return sha256, ""
        signing = {"part_numbers": [number], "sha256": [sha256]}
        url = self.api("POST", f"/uploads/{upload_id}/parts", json=signing)["parts"][0]["url"]
        headers = {"x-amz-checksum-sha256": header_value(sha256)}
        try:
            with wire:
                response = self.storage.put(url, content=data, headers=headers)
        except httpx.HTTPError as error:
            raise Unreachable(f"part {number} failed: {error}") from error
        if response.status_code == 400 and "BadDigest" in response.text:
            raise ClientError(
                f"part {number} arrived corrupted (its SHA-256 does not match the bytes "
                f"storage received; did {path} change while it was uploading?)"
            )
        if response.status_code >= 400:
            raise ClientError(f"part {number} refused: {_message(response)}")
        bar.add(length)
        return sha256, str(response.headers["etag"])


def _part_size_of(client: Client, upload_id: str) -> int:
    """The part size of a pending multipart upload: the rule the API used to plan it."""
    from filestore.domain.rules import part_size_for

    upload = client.api("GET", f"/uploads/{upload_id}")
    return part_size_for(int(upload["size"]))


def _sha256_of(path: Path, wanted: bool) -> dict[str, str]:
    """The `sha256` field of an upload's declaration, if `wanted`."""
    return {"sha256": file_sha256(path)} if wanted else {}


def _part_length(number: int, part_size: int, total: int) -> int:
    return max(0, min(part_size, total - (number - 1) * part_size))


class _CountingReader:
    """A file object that reports progress as httpx streams it."""

    def __init__(self, file: Any, bar: Progress) -> None:
        self._file, self._bar = file, bar

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._file.read(size)
        self._bar.add(len(data))
        return data


def _message(response: httpx.Response) -> str:
    """The API's `message`, or S3's `<Message>`, or the status line."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return f"{body['message']} (HTTP {response.status_code})"
    except ValueError:
        pass
    text = response.text
    if "<Message>" in text:
        message = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
        return f"{message} (HTTP {response.status_code})"
    return f"HTTP {response.status_code} {response.reason_phrase}"
