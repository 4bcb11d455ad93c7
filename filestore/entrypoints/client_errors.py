"""The command-line client's error, apart from the client so that commands can name it without
loading an HTTP library (`filestore serve`, `token` and `db` need none)."""

from __future__ import annotations


class ClientError(Exception):
    """An error to show the user in one line (the API's `message` for HTTP errors).

    `status` is the HTTP status of the API's answer, when there was one (404, 409, …).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
