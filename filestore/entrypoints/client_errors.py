"""The command-line client's errors, apart from the client so that commands can name them without
loading an HTTP library (`filestore serve`, `token` and `db` need none)."""

from __future__ import annotations


class ClientError(Exception):
    """An error to show the user in one line (the API's `message` for HTTP errors).

    `status` is the HTTP status of the API's answer, when there was one (404, 409, …).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Unreachable(ClientError):
    """The deployment (or its storage) could not be reached, or what answered is not its API."""


class UsageError(ClientError):
    """The command line asks for what cannot be done as said (an ambiguous name, a folder where
    a file is needed)."""


class LocalFileExists(ClientError):
    """A download would replace a file that is there already (and `--force` was not given)."""


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C while a file was going up: the pending upload is left for a resume or an abort.

    `resumable` is False for a single-request upload (only a multipart one takes `--resume`).
    """

    def __init__(self, path: str, upload_id: str, *, resumable: bool) -> None:
        super().__init__(upload_id)
        self.path, self.upload_id, self.resumable = path, upload_id, resumable
        self.sent_before: list[str] = []  # `path (id)` of the files that went up before it
