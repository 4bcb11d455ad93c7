"""A release of the web app for a static host (S3 behind CloudFront): what to write, and where.

The app's files (`filestore/web/`, shipped inside the package) become one release:

- every file under `assets/` goes to `assets/<release>/…`, where `<release>` is a hash of the
  whole app (every file's path and bytes), with `Cache-Control: public, max-age=31536000,
  immutable`: a browser or CDN may keep it for a year, since a change to any file makes a new
  directory;
- `index.html`, with `"/assets/` rewritten to `"/assets/<release>/` and a content security
  policy inserted right after `<head>` as a `<meta http-equiv>` (the policy names the API, whose
  own CORS names the app's origin: in a response header set by the CDN it would close a
  dependency cycle in the template), and `config.json`, both with `Cache-Control: no-cache`.

`publish` writes a release through two small ports (the bucket, the CDN's invalidation), keeps the
release it replaces (pages already open load modules from it) and deletes any older one. Nothing
here imports an AWS library; the adapters are `filestore.adapters.web_site`.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

WEB_ROOT = Path(__file__).resolve().parent / "web"
ASSETS = "assets"
INDEX = "index.html"
CONFIG = "config.json"

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# What the CDN must forget after a publish: everything not under a release's own directory.
INVALIDATED_PATHS = ("/index.html", "/config.json", "/")
RELEASE_LENGTH = 16  # hex digits of the release hash: 64 bits, plenty to tell releases apart

# Types the platform's table may lack or get wrong (ES modules must be served as JavaScript).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".map": "application/json",
}
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_RELEASE_DIRECTORY = re.compile(rf"{ASSETS}/([0-9a-f]{{{RELEASE_LENGTH}}})/")


class ReleaseError(ValueError):
    """The app's files or the deployment's addresses cannot make a release."""


@dataclass(frozen=True)
class SiteObject:
    """One object to write: its key, bytes and the headers it is served with."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class Deployment:
    """Where the app runs and what it talks to (the custom resource's properties)."""

    web_url: str  # the app's origin, https://dxxxx.cloudfront.net
    api_url: str  # the HTTP API's base URL
    websocket_url: str  # wss://…/stage; the app appends ?token=
    uploads_origins: tuple[str, ...]  # the uploads bucket's S3 origins (regional and global)
    cognito_domain: (
        str  # the managed login's base URL, https://prefix.auth.region.amazoncognito.com
    )
    client_id: str  # the public app client (authorization code + PKCE)
    cli_redirect_uri: str = "http://localhost:53682/callback"
    scopes: tuple[str, ...] = ("openid", "email", "profile")

    def origins(self) -> dict[str, str | tuple[str, ...]]:
        """The origins the page may connect to, by role (each checked to be an origin)."""
        return {
            "api": origin_of(self.api_url, schemes=("https",)),
            "websocket": origin_of(self.websocket_url, schemes=("wss",)),
            "uploads": tuple(origin_of(u, schemes=("https",)) for u in self.uploads_origins),
            "cognito": origin_of(self.cognito_domain, schemes=("https",)),
        }


def origin_of(url: str, *, schemes: Sequence[str]) -> str:
    """`scheme://host[:port]` of `url`, refusing anything a policy could be smuggled in with."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in schemes or not re.fullmatch(r"[a-z0-9.-]{1,253}", host):
        raise ReleaseError(f"not an {'/'.join(schemes)} URL with a host name: {url!r}")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(deployment: Deployment) -> str:
    """The page's policy: its own origin for everything, and for `fetch`/WebSocket also exactly
    the API, the WebSocket, the uploads bucket (presigned POST, part PUTs, downloads) and the
    managed login's token endpoint. `frame-ancestors` is left to the CDN's X-Frame-Options: a
    `<meta>` policy may not carry it (browsers ignore it there and log an error)."""
    origins = deployment.origins()
    connect = ["'self'", origins["api"], origins["websocket"], *origins["uploads"]]
    connect.append(origins["cognito"])
    unique = list(dict.fromkeys(str(o) for o in connect))
    return "; ".join(
        (
            "default-src 'self'",
            f"connect-src {' '.join(unique)}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


def app_config(deployment: Deployment) -> dict[str, Any]:
    """`config.json`: the API and WebSocket URLs and how to sign in (the `GET /auth/config`
    object of a Cognito deployment, plus where the managed login sends the browser back)."""
    base = origin_of(deployment.cognito_domain, schemes=("https",))
    web = origin_of(deployment.web_url, schemes=("https",))
    return {
        "api_url": deployment.api_url.rstrip("/"),
        "ws_url": deployment.websocket_url,
        "auth": {
            "kind": "cognito",
            "client_id": deployment.client_id,
            "authorize_url": f"{base}/oauth2/authorize",
            "token_url": f"{base}/oauth2/token",
            "logout_url": f"{base}/logout",
            "scopes": list(deployment.scopes),
            "cli_redirect_uri": deployment.cli_redirect_uri,
            "redirect_uri": f"{web}/",
            "logout_redirect_uri": f"{web}/",
        },
    }


def app_files(root: Path | None = None) -> dict[str, bytes]:
    """Every file of the app by its path under `root` (default: the packaged app's folder):
    `index.html`, `assets/app.js`, …"""
    root = WEB_ROOT if root is None else root
    if not (root / INDEX).is_file():
        raise ReleaseError(f"the web app has no {INDEX} in {root}")
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        # Editor and OS litter, and Python's caches if any, are not part of the app.
        if not path.is_file() or any(
            p.startswith(".") or p == "__pycache__" for p in relative.parts
        ):
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def release_id(files: Mapping[str, bytes]) -> str:
    """A hash of the whole app: the same files give the same id, whatever their order or dates;
    any change to a name or a byte gives another."""
    digest = hashlib.sha256()
    for name in sorted(files):
        body = files[name]
        # Lengths first, so that no two different sets of files run together the same way.
        digest.update(f"{len(name)}:{name}:{len(body)}:".encode())
        digest.update(body)
    return digest.hexdigest()[:RELEASE_LENGTH]


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def page(index: bytes, release: str, policy: str) -> bytes:
    """index.html for `release`: asset paths into its directory, the policy right after
    `<head>`."""
    head = _HEAD.search(index)
    if head is None:
        raise ReleaseError(f"{INDEX} has no <head> to put the content security policy in")
    # Built from checked origins and fixed words, but a quote would end the attribute: refuse.
    if re.search(r'["<>&]', policy):
        raise ReleaseError("the content security policy cannot be written into an attribute")
    meta = f'\n<meta http-equiv="Content-Security-Policy" content="{policy}">'.encode()
    with_policy = index[: head.end()] + meta + index[head.end() :]
    return with_policy.replace(b'"/assets/', f'"/{ASSETS}/{release}/'.encode())


@dataclass(frozen=True)
class Release:
    """What one publish writes: the id and the objects, assets first, the page last."""

    id: str
    objects: tuple[SiteObject, ...] = field(repr=False)

    @property
    def directory(self) -> str:
        return f"{ASSETS}/{self.id}/"


def build_release(deployment: Deployment, files: Mapping[str, bytes] | None = None) -> Release:
    """The release of `files` (default: the packaged app) for `deployment`."""
    files = app_files() if files is None else files
    if INDEX not in files:
        raise ReleaseError(f"the web app has no {INDEX}")
    release = release_id(files)
    assets = [
        SiteObject(
            f"{ASSETS}/{release}/{name.removeprefix(ASSETS + '/')}",
            body,
            content_type(name),
            IMMUTABLE,
        )
        for name, body in sorted(files.items())
        if name.startswith(ASSETS + "/")
    ]
    config = json.dumps(app_config(deployment), indent=2).encode() + b"\n"
    index = page(files[INDEX], release, content_security_policy(deployment))
    # The page goes last: it names the assets, which must be there before anyone loads it.
    return Release(
        release,
        (
            *assets,
            SiteObject(CONFIG, config, content_type(CONFIG), NO_CACHE),
            SiteObject(INDEX, index, content_type(INDEX), NO_CACHE),
        ),
    )


# --- publishing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime


class SiteBucket(Protocol):
    """The bucket the CDN serves the app from."""

    def put(self, item: SiteObject) -> None:
        """Write one object with its content type and cache control."""

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object whose key starts with `prefix`."""

    def delete(self, keys: Sequence[str]) -> None:
        """Delete these objects (those already gone are no error)."""


class Invalidator(Protocol):
    """The CDN in front of the bucket."""

    def invalidate(self, paths: Sequence[str], reference: str) -> str:
        """Make the CDN forget `paths`; `reference` makes a retried request the same one.
        Returns the invalidation's id."""


@dataclass(frozen=True)
class Published:
    release: str
    kept: tuple[str, ...]  # release ids left in the bucket (the new one and the one it replaces)
    deleted: tuple[str, ...]  # release ids removed
    invalidation: str


def releases_in(objects: Iterable[StoredObject]) -> dict[str, datetime]:
    """Each release directory in the bucket, with the time of its newest object."""
    newest: dict[str, datetime] = {}
    for item in objects:
        match = _RELEASE_DIRECTORY.match(item.key)
        if match and (match[1] not in newest or item.last_modified > newest[match[1]]):
            newest[match[1]] = item.last_modified
    return newest


def publish(release: Release, bucket: SiteBucket, cdn: Invalidator, reference: str) -> Published:
    """Write `release`, delete releases older than the one it replaces, invalidate the page.

    The release it replaces stays: a page loaded before the publish (or served by an edge that
    has not yet seen the invalidation) still imports modules from its own directory. A lifecycle
    rule could not do this: it expires by age, so it would also expire a release that is live
    but has not been deployed again for that long.
    """
    for item in release.objects:
        bucket.put(item)
    existing = bucket.list(f"{ASSETS}/")
    by_age = sorted(
        (r for r in releases_in(existing).items() if r[0] != release.id),
        key=lambda r: r[1],
        reverse=True,
    )
    previous = [r for r, _ in by_age[:1]]
    stale = {r for r, _ in by_age[1:]}
    doomed = [o.key for o in existing if (m := _RELEASE_DIRECTORY.match(o.key)) and m[1] in stale]
    if doomed:
        bucket.delete(doomed)
    invalidation = cdn.invalidate(INVALIDATED_PATHS, reference)
    return Published(release.id, (release.id, *previous), tuple(sorted(stale)), invalidation)


def empty(bucket: SiteBucket) -> int:
    """Delete every object (the stack is being deleted: a bucket must be empty to go).
    Returns how many there were."""
    keys = [o.key for o in bucket.list()]
    if keys:
        bucket.delete(keys)
    return len(keys)
