"""The browser app's static files, served by `filestore serve` on the API's origin.

`GET /` and `GET /s/{token}` answer the one page (`filestore/web/index.html`: the app reads
`location.pathname`); `GET /assets/...` answers the files under `filestore/web/assets/`. Every
answer carries a validator (ETag) and `Cache-Control: no-cache`, so an edited file shows at
once and an unchanged one costs a 304; the page's content security policy allows only this
origin and its WebSocket. On AWS the same files are published to S3 behind CloudFront instead.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
ASSETS = WEB_ROOT / "assets"
# Types the platform's table may lack or get wrong (ES modules must be served as JavaScript).
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg")


def content_security_policy(host: str) -> str:
    """Only this origin (and its WebSocket, `ws://<host>`) for everything the page loads."""
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]{1,255}", host):
        host = "127.0.0.1"  # a Host header that is no host name must not write the policy
    return "; ".join(
        (
            "default-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def web_routes() -> list[BaseRoute]:
    """The routes to mount before the API's catch-all (no API route uses these paths)."""
    from starlette.routing import Route

    return [
        Route("/", _page, methods=["GET", "HEAD"]),
        Route("/s/{token}", _page, methods=["GET", "HEAD"]),
        Route("/assets/{path:path}", _asset, methods=["GET", "HEAD"]),
    ]


async def _page(request: Request) -> Response:
    return _file(request, WEB_ROOT / "index.html")


async def _asset(request: Request) -> Response:
    wanted = (ASSETS / request.path_params["path"]).resolve()
    # Nothing outside the assets folder, however the path is spelled.
    if not wanted.is_relative_to(ASSETS) or not wanted.is_file():
        from starlette.responses import JSONResponse

        return JSONResponse({"message": "Not Found"}, status_code=404)
    return _file(request, wanted)


@lru_cache(maxsize=256)
def _load(path: Path, mtime_ns: int, size: int) -> tuple[bytes, bytes, str]:
    """A file's bytes, gzipped bytes and ETag; cached until the file changes."""
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    return data, gzip.compress(data, 6, mtime=0), etag


def _file(request: Request, path: Path) -> Response:
    from starlette.responses import Response

    stat = path.stat()
    data, zipped, etag = _load(path, stat.st_mtime_ns, stat.st_size)
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if path.suffix == ".html":
        headers["Content-Security-Policy"] = content_security_policy(
            request.headers.get("host", "127.0.0.1")
        )
    kind = (
        TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = data
    if path.suffix in COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = zipped, "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=kind)
    return Response(body, headers=headers, media_type=kind)
