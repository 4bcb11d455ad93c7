"""Paths resolved by the CLI (`filestore.entrypoints.cli_paths`), over a fake of the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from filestore.entrypoints.cli_paths import ROOT_FOLDER, NotFound, PathResolver, split_path
from filestore.entrypoints.client import Client, ClientError
from tests.support.fake_api import FakeApi, matching


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(api: FakeApi) -> Iterator[Client]:
    client = Client("http://api.test", "a-token", progress=False, transport=api.transport())
    yield client
    client.close()


@pytest.fixture
def resolver(client: Client) -> PathResolver:
    return PathResolver(client)


def test_a_path_is_walked_from_the_root_comparing_names_as_the_server_does(
    api: FakeApi, resolver: PathResolver
) -> None:
    docs = api.add_folder("Docs")
    summer = api.add_folder("Été", docs["id"])  # stored precomposed (NFC)
    report = api.add_file("Report.pdf", summer["id"])
    api.add_file("Report.pdf.bak", summer["id"])

    # Another case, a decomposed é (as macOS spells it), a leading slash: the same file.
    found = resolver.entry("/docs/E\u0301TE\u0301/REPORT.PDF")
    assert (found.kind, found.id, found.parent_id) == ("upload", report["id"], summer["id"])
    assert resolver.entry("docs/été/").id == summer["id"]
    assert resolver.entry("") == resolver.entry("/") == ROOT_FOLDER
    assert resolver.path_of(found) == "Docs/Été/Report.pdf"


def test_an_id_is_accepted_for_a_file_or_a_folder(api: FakeApi, resolver: PathResolver) -> None:
    folder = api.add_folder("docs")
    upload = api.add_file("a.txt", folder["id"])
    assert resolver.entry(upload["id"]).kind == "upload"
    assert resolver.entry(folder["id"]).kind == "folder"
    assert resolver.folder(folder["id"]).name == "docs"
    # A file's id is no folder.
    with pytest.raises(NotFound):
        resolver.folder(upload["id"])


def test_what_is_missing_is_named(api: FakeApi, resolver: PathResolver) -> None:
    api.add_folder("docs")
    with pytest.raises(NotFound, match=r"'docs/2026/x.pdf' \(there is no folder '2026' in docs\)"):
        resolver.entry("docs/2026/x.pdf")
    with pytest.raises(NotFound, match=r"no file or folder 'docs/x.pdf'$"):
        resolver.entry("docs/x.pdf")
    with pytest.raises(NotFound, match="there is no folder 'nope' in the root"):
        resolver.folder("nope/deeper")


def test_a_trailing_slash_names_a_folder_only(api: FakeApi, resolver: PathResolver) -> None:
    api.add_file("notes")
    assert resolver.find("notes") is not None
    assert resolver.find("notes/") is None


def test_each_folder_is_listed_once_per_command_and_every_page_is_read(
    api: FakeApi, resolver: PathResolver
) -> None:
    api.page_size = 2
    docs = api.add_folder("docs")
    for name in "abcde":
        api.add_folder(name, docs["id"])
    assert resolver.folder("docs/e").name == "e"
    assert resolver.folder("docs/d").name == "d"
    listings = matching(api.requests, r"^GET /folders\?")
    # The root (one page) and docs (three pages of two), each once.
    assert listings == ["GET /folders?parent_id=root"] + 3 * [
        f"GET /folders?parent_id={docs['id']}"
    ]


def test_a_file_is_found_with_a_search_in_its_folder(api: FakeApi, resolver: PathResolver) -> None:
    docs = api.add_folder("docs")
    api.add_file("résumé.pdf", docs["id"])
    assert resolver.entry("docs/Résumé.pdf").name == "résumé.pdf"
    assert matching(api.requests, "^GET /uploads") == [
        f"GET /uploads?folder_id={docs['id']}&q=Résumé.pdf"
    ]


def test_ensure_folder_reuses_what_exists_and_creates_the_rest(
    api: FakeApi, resolver: PathResolver
) -> None:
    docs = api.add_folder("docs")
    made = resolver.ensure_folder("Docs/2026/q1")
    assert resolver.path_of(made) == "docs/2026/q1"
    assert made.parent_id == resolver.folder("docs/2026").id
    assert len(matching(api.requests, "^POST /folders")) == 2
    # The new folders are known to be empty: no listing asked for them.
    assert matching(api.requests, r"^GET /folders\?") == [
        "GET /folders?parent_id=root",
        f"GET /folders?parent_id={docs['id']}",
    ]


def test_a_folder_created_meanwhile_is_reused_and_a_file_in_the_way_is_reported(
    api: FakeApi, resolver: PathResolver
) -> None:
    assert resolver.subfolders(ROOT_FOLDER) == []  # listed (and cached) before anyone else acts
    theirs = api.add_folder("shared")
    assert resolver.ensure_subfolder(ROOT_FOLDER, "shared").id == theirs["id"]

    api.add_file("notes")
    with pytest.raises(ClientError, match=r'A file named "notes" is already there.* \(HTTP 409\)'):
        resolver.ensure_folder("notes/2026")


@pytest.mark.parametrize("path", ["a//b", "a/ /b"])
def test_an_empty_name_in_a_path_is_refused(path: str) -> None:
    with pytest.raises(ClientError, match="a name between each '/'"):
        split_path(path)
