"""The web app's release for S3 and CloudFront: the page's rewrite and policy, the cache headers,
the release id, config.json, and what a publish keeps and deletes (in-memory bucket and CDN)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from filestore import web_release
from filestore.web_release import (
    IMMUTABLE,
    NO_CACHE,
    Deployment,
    ReleaseError,
    SiteObject,
    StoredObject,
    app_config,
    app_files,
    build_release,
    content_security_policy,
    empty,
    publish,
    release_id,
)

DEPLOYMENT = Deployment(
    web_url="https://d111111abcdef8.cloudfront.net",
    api_url="https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    websocket_url="wss://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/dev",
    uploads_origins=(
        "https://filestore-dev-uploads-0123456789ab.s3.eu-west-1.amazonaws.com",
        "https://filestore-dev-uploads-0123456789ab.s3.amazonaws.com",
    ),
    cognito_domain="https://filestore-dev-0123456789ab.auth.eu-west-1.amazoncognito.com",
    client_id="1a2b3c4d5e6f7g8h9i0j1k2l3m",
)
INDEX = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body><p>Files in /assets/ are the app's.</p></body>
</html>
"""
FILES = {
    "index.html": INDEX,
    "assets/app.js": b"import { api } from './api.js';\n",
    "assets/api.js": b"export const api = 1;\n",
    "assets/app.css": b"body { margin: 0 }\n",
    "assets/vendor/lib-1.0.0/lib.js": b"export default 2;\n",
    "assets/vendor/lib-1.0.0/LICENSE": b"MIT\n",
}


def objects(files: dict[str, bytes] | None = None) -> dict[str, SiteObject]:
    release = build_release(DEPLOYMENT, FILES if files is None else files)
    return {o.key: o for o in release.objects}


def policy_of(page: bytes) -> dict[str, list[str]]:
    match = re.search(rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert match is not None
    directives = [d.strip().split() for d in match[1].decode().split(";")]
    return {d[0]: d[1:] for d in directives}


# --- the page ------------------------------------------------------------------------------


def test_the_page_names_the_assets_of_its_own_release() -> None:
    release = release_id(FILES)
    page = objects()["index.html"].body
    assert f'href="/assets/{release}/app.css"'.encode() in page
    assert f'src="/assets/{release}/app.js"'.encode() in page
    # Only attribute values that start with "/assets/ are paths; prose is left alone.
    assert b"Files in /assets/ are the app's." in page
    assert b'"/assets/app' not in page


def test_every_asset_the_page_names_is_published() -> None:
    published = objects()
    for path in re.findall(rb'"/(assets/[^"]+)"', published["index.html"].body):
        assert path.decode() in published


def test_the_policy_comes_right_after_head_and_before_anything_it_governs() -> None:
    page = objects()["index.html"].body
    head = page.index(b"<head>") + len(b"<head>")
    assert page[head:].lstrip().startswith(b'<meta http-equiv="Content-Security-Policy"')
    assert page.index(b"Content-Security-Policy") < page.index(b"<script")


def test_head_with_attributes_and_any_case_takes_the_policy() -> None:
    files = {**FILES, "index.html": b'<html><HEAD data-x="1"><title>t</title></HEAD></html>'}
    page = objects(files)["index.html"].body
    assert page.startswith(b'<html><HEAD data-x="1">\n<meta http-equiv="Content-Security-Policy"')


def test_a_page_without_head_is_refused() -> None:
    with pytest.raises(ReleaseError, match="<head>"):
        build_release(DEPLOYMENT, {**FILES, "index.html": b"<html><body></body></html>"})


def test_an_app_without_a_page_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"index\.html"):
        build_release(DEPLOYMENT, {"assets/app.js": b""})
    with pytest.raises(ReleaseError, match=r"index\.html"):
        app_files(tmp_path)


# --- the content security policy -----------------------------------------------------------


def test_the_policy_lets_the_page_connect_to_exactly_its_services() -> None:
    policy = policy_of(objects()["index.html"].body)
    assert policy["connect-src"] == [
        "'self'",
        "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
        "wss://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com",
        "https://filestore-dev-uploads-0123456789ab.s3.eu-west-1.amazonaws.com",
        "https://filestore-dev-uploads-0123456789ab.s3.amazonaws.com",
        "https://filestore-dev-0123456789ab.auth.eu-west-1.amazoncognito.com",
    ]
    # Everything else from the app's own origin only.
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    # A <meta> policy may not carry frame-ancestors (the CDN sends X-Frame-Options instead).
    assert "frame-ancestors" not in policy
    sources = {s for values in policy.values() for s in values}
    assert not {"*", "'unsafe-inline'", "'unsafe-eval'", "https:", "http:"} & sources


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_url", "http://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"),
        ("websocket_url", "https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/dev"),
        ("cognito_domain", 'https://x.example"><script>'),
        ("api_url", "https://a.example; script-src *"),
        ("uploads_origins", ("https://",)),
    ],
)
def test_anything_but_an_origin_of_the_right_scheme_is_refused(field: str, value: object) -> None:
    deployment = Deployment(**{**DEPLOYMENT.__dict__, field: value})
    with pytest.raises(ReleaseError):
        content_security_policy(deployment)


# --- cache headers and types -----------------------------------------------------------------


def test_assets_are_immutable_under_the_release_and_the_page_and_config_are_not_cached() -> None:
    release = release_id(FILES)
    published = objects()
    assets = {k for k in published if k.startswith("assets/")}
    assert assets == {f"assets/{release}/{name.removeprefix('assets/')}" for name in FILES} - {
        f"assets/{release}/index.html"
    }
    for key in assets:
        assert published[key].cache_control == IMMUTABLE == "public, max-age=31536000, immutable"
    assert published["index.html"].cache_control == NO_CACHE == "no-cache"
    assert published["config.json"].cache_control == "no-cache"


def test_each_object_has_the_type_a_browser_needs() -> None:
    release = release_id(FILES)
    published = objects()
    assert published["index.html"].content_type == "text/html; charset=utf-8"
    assert published["config.json"].content_type == "application/json"
    # ES modules are refused by a browser unless served as JavaScript.
    assert published[f"assets/{release}/app.js"].content_type == "text/javascript; charset=utf-8"
    assert published[f"assets/{release}/app.css"].content_type == "text/css; charset=utf-8"


def test_the_page_is_written_last() -> None:
    keys = [o.key for o in build_release(DEPLOYMENT, FILES).objects]
    assert keys[-1] == "index.html"
    assert keys[-2] == "config.json"


# --- the release id --------------------------------------------------------------------------


def test_the_release_id_is_stable_and_changes_with_any_file() -> None:
    same = dict(reversed(list(FILES.items())))
    assert release_id(same) == release_id(FILES)
    assert re.fullmatch(r"[0-9a-f]{16}", release_id(FILES))
    changed_byte = {**FILES, "assets/api.js": b"export const api = 2;\n"}
    renamed = {**{k: v for k, v in FILES.items() if k != "assets/api.js"}}
    renamed["assets/api2.js"] = FILES["assets/api.js"]
    added = {**FILES, "assets/new.js": b""}
    # A name and bytes that run together the same way are still another app.
    shifted = {**FILES, "assets/a": b"b", "assets/ab": b""}
    shifted_back = {**FILES, "assets/ab": b"b", "assets/a": b""}
    ids = {release_id(f) for f in (FILES, changed_byte, renamed, added, shifted, shifted_back)}
    assert len(ids) == 6


def test_the_release_id_does_not_depend_on_the_deployment() -> None:
    other = Deployment(**{**DEPLOYMENT.__dict__, "client_id": "another"})
    assert build_release(other, FILES).id == build_release(DEPLOYMENT, FILES).id


def test_app_files_reads_a_folder_without_its_litter(tmp_path: Path) -> None:
    (tmp_path / "assets" / "vendor").mkdir(parents=True)
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "app.js").write_bytes(b"1")
    (tmp_path / "assets" / "vendor" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "assets" / "__pycache__").mkdir()
    (tmp_path / "assets" / "__pycache__" / "x.pyc").write_bytes(b"x")
    assert app_files(tmp_path) == {"index.html": INDEX, "assets/app.js": b"1"}


def test_the_packaged_app_makes_a_release_whose_page_names_only_published_assets() -> None:
    files = app_files()
    release = build_release(DEPLOYMENT, files)
    published = {o.key for o in release.objects}
    page = next(o for o in release.objects if o.key == "index.html").body
    assert b"Content-Security-Policy" in page
    for path in re.findall(rb'"/(assets/[^"]+)"', page):
        assert path.decode() in published, path


# --- config.json ---------------------------------------------------------------------------


def test_config_tells_the_app_its_api_websocket_and_cognito_sign_in() -> None:
    config = json.loads(objects()["config.json"].body)
    assert config == {
        "api_url": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
        "ws_url": "wss://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/dev",
        "auth": {
            "kind": "cognito",
            "client_id": "1a2b3c4d5e6f7g8h9i0j1k2l3m",
            "authorize_url": (
                "https://filestore-dev-0123456789ab.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
            ),
            "token_url": (
                "https://filestore-dev-0123456789ab.auth.eu-west-1.amazoncognito.com/oauth2/token"
            ),
            "logout_url": "https://filestore-dev-0123456789ab.auth.eu-west-1.amazoncognito.com/logout",
            "scopes": ["openid", "email", "profile"],
            "cli_redirect_uri": "http://localhost:53682/callback",
            "redirect_uri": "https://d111111abcdef8.cloudfront.net/",
            "logout_redirect_uri": "https://d111111abcdef8.cloudfront.net/",
        },
    }
    assert app_config(DEPLOYMENT) == config


# --- publishing --------------------------------------------------------------------------------


class MemoryBucket:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[SiteObject, datetime]] = {}
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.deleted: list[str] = []

    def tick(self) -> None:
        self.now += timedelta(minutes=1)

    def put(self, item: SiteObject) -> None:
        self.objects[item.key] = (item, self.now)

    def list(self, prefix: str = "") -> list[StoredObject]:
        return [StoredObject(k, t) for k, (_, t) in self.objects.items() if k.startswith(prefix)]

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)
        self.deleted += keys

    def releases(self) -> set[str]:
        return {k.split("/")[1] for k in self.objects if k.startswith("assets/")}


class MemoryCdn:
    def __init__(self) -> None:
        self.invalidations: list[tuple[tuple[str, ...], str]] = []

    def invalidate(self, paths: Sequence[str], reference: str) -> str:
        self.invalidations.append((tuple(paths), reference))
        return f"I{len(self.invalidations)}"


def version(n: int) -> dict[str, bytes]:
    return {**FILES, "assets/app.js": f"// version {n}\n".encode()}


def test_a_publish_writes_the_release_and_invalidates_the_page_and_config() -> None:
    bucket, cdn = MemoryBucket(), MemoryCdn()
    release = build_release(DEPLOYMENT, FILES)
    published = publish(release, bucket, cdn, "request-1")
    assert set(bucket.objects) == {o.key for o in release.objects}
    assert cdn.invalidations == [(("/index.html", "/config.json", "/"), "request-1")]
    assert published.invalidation == "I1"
    assert published.kept == (release.id,)
    assert published.deleted == ()


def test_a_publish_keeps_the_release_it_replaces_and_deletes_older_ones() -> None:
    bucket, cdn = MemoryBucket(), MemoryCdn()
    ids = []
    for n in range(1, 5):
        bucket.tick()
        published = publish(build_release(DEPLOYMENT, version(n)), bucket, cdn, f"r{n}")
        ids.append(published.release)
    assert len(set(ids)) == 4
    # The live release and the one before it: pages opened before the last publish still work.
    assert bucket.releases() == {ids[3], ids[2]}
    assert published.kept == (ids[3], ids[2])
    assert published.deleted == (ids[1],)  # ids[0] went with the publish before
    assert all(
        k.startswith(f"assets/{ids[0]}/") or k.startswith(f"assets/{ids[1]}/")
        for k in bucket.deleted
    )


def test_publishing_the_same_app_again_keeps_the_previous_release() -> None:
    bucket, cdn = MemoryBucket(), MemoryCdn()
    first = publish(build_release(DEPLOYMENT, version(1)), bucket, cdn, "r1").release
    bucket.tick()
    second = publish(build_release(DEPLOYMENT, version(2)), bucket, cdn, "r2").release
    bucket.tick()
    again = publish(build_release(DEPLOYMENT, version(2)), bucket, cdn, "r3")
    assert again.release == second
    assert bucket.releases() == {first, second}
    assert again.kept == (second, first)


def test_other_keys_under_assets_are_never_taken_for_a_release() -> None:
    bucket, cdn = MemoryBucket(), MemoryCdn()
    bucket.put(SiteObject("assets/readme.txt", b"", "text/plain", NO_CACHE))
    for n in range(1, 4):
        bucket.tick()
        publish(build_release(DEPLOYMENT, version(n)), bucket, cdn, f"r{n}")
    assert "assets/readme.txt" in bucket.objects


def test_empty_deletes_everything() -> None:
    bucket, cdn = MemoryBucket(), MemoryCdn()
    publish(build_release(DEPLOYMENT, FILES), bucket, cdn, "r1")
    count = len(bucket.objects)
    assert empty(bucket) == count
    assert bucket.objects == {}
    assert empty(bucket) == 0


def test_the_module_imports_no_aws_library() -> None:
    source = Path(web_release.__file__).read_text()
    assert not re.search(r"^\s*(import|from)\s+(boto3|botocore|filestore\.adapters)", source, re.M)


def test_the_published_policy_keeps_the_local_servers_directives() -> None:
    """The page is tested under the local server's policy: the published one may differ only
    in the origins it connects to (and leaves frame-ancestors to the CDN's X-Frame-Options)."""
    from filestore.entrypoints.local.web import content_security_policy as local_policy

    def directives(policy: str) -> dict[str, str]:
        return dict(d.split(" ", 1) for d in policy.split("; "))

    local = directives(local_policy("127.0.0.1:8000"))
    published = directives(web_release.content_security_policy(DEPLOYMENT))
    assert local.pop("frame-ancestors") == "'none'"
    assert local.pop("connect-src").startswith("'self' ")
    assert published.pop("connect-src").startswith("'self' ")
    assert published == local
