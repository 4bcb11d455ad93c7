"""`filestore ls|find|mkdir|mv|rm|trash` and `upload -r`, run as a user runs them, over a fake of
the API: what they ask the API, what they print, and how a refusal reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from filestore.entrypoints import cli
from tests.support.fake_api import FakeApi, matching

pytestmark = pytest.mark.usefixtures("utc_zone")  # times show in the local zone


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str, status: int = 0) -> str:
        """Runs `filestore --token t ARGV…`; its stdout (stderr when it should fail)."""
        code = cli.main(["--token", "t", *argv])
        out, err = self.capsys.readouterr()
        assert code == status, err
        return out if status == 0 else err

    def json(self, *argv: str) -> Any:
        return json.loads(self(*argv, "--json"))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


# ls and find


def test_ls_shows_folders_first_then_files_in_the_order_asked(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    api.add_folder("Archive")
    api.add_file("b.txt", size=30)
    api.add_file("A.txt", size=10)
    api.add_file("c.txt", size=20)
    api.add_file("inside.txt", docs["id"])

    def names(*argv: str) -> list[str]:
        return [item["name"] for item in run.json("ls", *argv)]

    assert names() == ["Archive", "docs", "c.txt", "A.txt", "b.txt"]  # newest first
    assert names("--sort", "name") == ["Archive", "docs", "A.txt", "b.txt", "c.txt"]
    assert names("--sort", "name", "--desc") == ["docs", "Archive", "c.txt", "b.txt", "A.txt"]
    assert names("--sort", "size") == ["Archive", "docs", "b.txt", "c.txt", "A.txt"]
    assert names("--sort", "size", "--asc") == ["Archive", "docs", "A.txt", "c.txt", "b.txt"]
    assert names("DOCS") == ["inside.txt"]
    assert names("docs/inside.txt") == ["inside.txt"]
    assert [i["kind"] for i in run.json("ls")] == 2 * ["folder"] + 3 * ["upload"]
    assert "GET /uploads?folder_id=root&sort=name&order=desc" in api.requests

    lines = run("ls", "--sort", "name").splitlines()
    assert lines[0].split() == ["ID", "STATUS", "SIZE", "CREATED", "NAME"]
    assert lines[1].endswith("  Archive/") and " folder " in lines[1]
    assert lines[3].endswith("  A.txt") and " stored " in lines[3] and " 10 B " in lines[3]


def test_ls_reads_every_page_and_all_lists_every_folder_with_paths(api: FakeApi, run: Run) -> None:
    api.page_size = 2
    docs = api.add_folder("docs")
    for number in range(5):
        api.add_file(f"{number}.txt")
    api.add_file("deep.txt", api.add_folder("2026", docs["id"])["id"])
    assert len(run.json("ls")) == 6
    assert len(matching(api.requests, r"^GET /uploads\?folder_id=root")) == 3
    everything = run.json("ls", "--all", "--sort", "name")
    assert [i["path"] for i in everything] == [f"{n}.txt" for n in range(5)] + [
        "docs/2026/deep.txt"
    ]
    assert "give it no PATH" in run("ls", "docs", "--all", status=2)


def test_find_searches_every_folder_and_shows_where_each_file_is(api: FakeApi, run: Run) -> None:
    cv = api.add_folder("CV")
    api.add_file("Résumé.pdf", cv["id"], size=7)
    api.add_file("resume-2025.pdf")
    api.add_file("notes.txt")
    lines = run("find", "resume", "--sort", "name").splitlines()
    assert [line.split("  ")[-1] for line in lines[1:]] == ["resume-2025.pdf", "CV/Résumé.pdf"]
    assert "GET /uploads?sort=name&order=asc&q=resume" in api.requests
    assert run("find", "nothing-like-it") == "nothing here\n"


# folders


def test_mkdir_needs_the_parent_unless_asked_to_make_it(api: FakeApi, run: Run) -> None:
    err = run("mkdir", "docs/2026", status=4)
    assert "no folder 'docs'" in err
    made = run.json("mkdir", "-p", "docs/2026", "docs/2027")
    assert [(f["name"], f["path"]) for f in made] == [("2026", "docs/2026"), ("2027", "docs/2027")]
    assert len(matching(api.requests, "^POST /folders")) == 3  # docs once
    assert run("mkdir", "docs/2028").endswith("  docs/2028/\n")
    again = run("mkdir", "DOCS/2026", status=5)
    assert again == (
        "filestore: cannot create folder 'DOCS/2026': A folder named \"2026\" is already "
        "there; choose another name. (HTTP 409)\n"
    )
    before = len(api.requests)
    run("mkdir", "-p", "docs/2026")  # there already: fine, nothing created
    assert matching(api.requests[before:], "^POST") == []


def test_mv_into_a_folder_keeps_the_name(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    report = api.add_file("report.pdf")
    moved = run.json("mv", "report.pdf", "Docs")
    assert (moved["folder_id"], moved["name"], moved["path"]) == (
        docs["id"], "report.pdf", "docs/report.pdf",
    )  # fmt: skip
    # Found by walking from the root; moved in one request; its path known without asking.
    assert api.requests == [
        "GET /folders?parent_id=root",
        "GET /uploads?folder_id=root&q=report.pdf",
        f"PATCH /uploads/{report['id']}",
    ]
    assert run("mv", "docs/report.pdf", "/") == f"{report['id']}  report.pdf\n"
    assert api.uploads[report["id"]]["folder_id"] is None


def test_mv_to_a_path_renames_and_moves_in_one_request(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    year = api.add_folder("2026", docs["id"])
    report = api.add_file("report.pdf", docs["id"])
    patches: list[Any] = []
    original = api._patch

    def spy(item: Any, body: Any, parent_field: str) -> Any:
        patches.append(body)
        return original(item, body, parent_field)

    api._patch = spy  # type: ignore[method-assign]
    assert run("mv", "docs/report.pdf", "docs/final.pdf").endswith("  docs/final.pdf\n")
    run("mv", report["id"], "docs/2026/Q1.pdf")
    run("mv", "docs/2026/q1.pdf", "docs/2026/Q1.PDF")  # case only
    assert patches == [
        {"name": "final.pdf"},
        {"name": "Q1.pdf", "folder_id": year["id"]},
        {"name": "Q1.PDF"},
    ]
    err = run("mv", "docs/2026/Q1.PDF", "docs/nope/Q1.pdf", status=4)
    assert "no folder 'docs/nope' (there is no folder 'nope' in docs)" in err


def test_mv_renames_and_moves_folders(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("Docs")
    inner = api.add_folder("inner", docs["id"])
    api.add_folder("archive")
    run("mv", "Docs", "docs")  # the folder `docs` finds is Docs itself: a rename
    assert api.folders[docs["id"]]["name"] == "docs"
    moved = run.json("mv", "docs", "archive")
    assert moved["path"] == "archive/docs" and moved["kind"] == "folder"
    err = run("mv", "archive", "archive/docs/inner", status=5)
    assert err == (
        "filestore: cannot move 'archive' to 'archive/docs/inner': A folder cannot be moved "
        "into itself or a folder inside it. (HTTP 409)\n"
    )
    assert api.folders[inner["id"]]["parent_id"] == docs["id"]


def test_a_clash_shows_the_servers_message(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    api.add_file("Report.pdf", docs["id"])
    api.add_file("report.pdf")
    err = run("mv", "report.pdf", "docs", status=5)
    assert err == (
        "filestore: cannot move 'report.pdf' to 'docs': A file named \"Report.pdf\" is "
        "already there; choose another name. (HTTP 409)\n"
    )
    assert "Traceback" not in err
    err = run("mv", "missing.pdf", "docs", status=4)
    assert err == "filestore: no file or folder 'missing.pdf'\n"


# the trash


def test_rm_moves_files_and_folders_to_the_trash(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    inside = api.add_file("inside.txt", docs["id"])
    notes = api.add_file("notes.txt")
    out = run("rm", "docs", "notes.txt")
    assert out.splitlines() == [
        f"moved to the trash: docs/  ({docs['id']})",
        f"moved to the trash: notes.txt  ({notes['id']})",
    ]
    assert run.json("ls") == []
    assert inside["id"] in api.trashed


def test_rm_finds_everything_before_deleting_anything(api: FakeApi, run: Run) -> None:
    api.add_file("a.txt")
    err = run("rm", "a.txt", "b.txt", status=4)
    assert "no file or folder 'b.txt'" in err
    assert not api.trashed


def test_the_trash_lists_restores_and_deletes_forever_by_name_or_id(api: FakeApi, run: Run) -> None:
    docs = api.add_folder("docs")
    api.add_file("a.txt", docs["id"])
    first = api.add_file("notes.txt")
    run("rm", "notes.txt", "docs")
    second = api.add_file("notes.txt")
    run("rm", "notes.txt")

    listing = run("trash", "ls").splitlines()
    assert listing[0].split() == ["ID", "SIZE", "DELETED", "KEPT", "UNTIL", "NAME"]
    assert any(line.endswith("2026-03-03 00:00 UTC  notes.txt") for line in listing)
    listed = run.json("trash", "ls")
    assert sorted(i["name"] for i in listed) == ["docs", "notes.txt", "notes.txt"]
    assert "deleted 2026-02-01T00:00:00" in run("trash", "restore", "NOTES.TXT", status=2)
    restored = run.json("trash", "restore", second["id"])
    assert (restored["id"], restored["path"]) == (second["id"], "notes.txt")
    assert run("trash", "rm", "notes.txt") == f"deleted forever: notes.txt  ({first['id']})\n"
    assert first["id"] not in api.uploads
    assert run("trash", "restore", "Docs") == f"restored: docs/  ({docs['id']})\n"
    assert [i["name"] for i in run.json("ls", "docs")] == ["a.txt"]
    assert "nothing named 'docs' in the trash" in run("trash", "restore", "docs", status=4)

    run("rm", "docs")
    assert run("trash", "empty") == "the trash is empty\n"
    assert run("trash", "ls") == "the trash is empty\n"
    assert api.folders == {}


# uploads into folders


def test_upload_r_recreates_the_folders_reusing_those_that_exist(
    api: FakeApi, run: Run, tmp_path: Path
) -> None:
    tree = tmp_path / "photos"
    (tree / "2025" / "summer").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "a.jpg").write_bytes(b"a")
    (tree / "2025" / "b.jpg").write_bytes(b"bb")
    (tree / "2025" / "summer" / "c.jpg").write_bytes(b"ccc")
    backup = api.add_folder("Backup")
    existing = api.add_folder("photos", backup["id"])
    api.add_file("a.jpg", existing["id"])

    sent = run.json("upload", "-r", str(tree), "--to", "backup")
    assert [s["path"] for s in sent] == [
        "Backup/photos/2025/b.jpg",
        "Backup/photos/2025/summer/c.jpg",
        "Backup/photos/a.jpg",
    ]
    # The file whose name was taken was kept as `a (2).jpg` when it was stored.
    assert [f["name"] for f in run.json("ls", "backup/photos")] == [
        "empty", "2025", "a (2).jpg", "a.jpg",
    ]  # fmt: skip
    assert [f["name"] for f in run.json("ls", "backup/photos/2025/summer")] == ["c.jpg"]
    # 2025, summer and empty were made; Backup and photos were found and reused.
    assert [b["name"] for b in api.bodies if "parent_id" in b] == ["2025", "summer", "empty"]


def test_upload_to_a_new_folder_and_what_is_refused(api: FakeApi, run: Run, tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF")
    assert run("upload", str(source), "--to", "docs/2026").split()[-1] == "docs/2026/report.pdf"
    err = run("upload", str(tmp_path), status=2)
    assert "is a folder (upload it with -r)" in err
    err = run("upload", str(source), "--to", "docs/2026", "--on-conflict", "fail", status=5)
    assert err == (
        f'filestore: cannot upload {source}: A file named "report.pdf" is already there; '
        "choose another name. (HTTP 409)\n"
    )
    plain = run.json("upload", str(source))
    assert plain[0]["path"] == "report.pdf"
    declared = [b for b in api.bodies if "size" in b]
    assert declared[0]["folder_id"] == api.folders[declared[0]["folder_id"]]["id"]
    assert "folder_id" not in declared[-1] and "on_conflict" not in declared[-1]
    assert declared[1]["on_conflict"] == "fail"


def test_upload_r_with_skip_sends_only_what_is_not_there_yet(
    api: FakeApi, run: Run, tmp_path: Path
) -> None:
    tree = tmp_path / "photos"
    tree.mkdir()
    (tree / "a.jpg").write_bytes(b"a")
    run("upload", "-r", str(tree))
    (tree / "b.jpg").write_bytes(b"b")  # the run was interrupted before b.jpg: run it again

    out = run("upload", "-r", str(tree), "--on-conflict", "skip").splitlines()
    assert out[0].split() == ["ID", "STATUS", "SIZE", "PATH"]
    assert out[1].endswith("  photos/b.jpg")
    assert out[2] == (
        'skipped: photos/a.jpg (A file named "a.jpg" is already there; choose another name. '
        "(HTTP 409))"
    )
    assert [b.get("on_conflict") for b in api.bodies if "size" in b] == [None, "fail", "fail"]
    assert sorted(f["name"] for f in run.json("ls", "photos")) == ["a.jpg", "b.jpg"]


def test_a_failed_upload_of_several_files_names_those_that_went_up(
    api: FakeApi, run: Run, tmp_path: Path
) -> None:
    api.add_file("b.txt")
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    paths = [str(tmp_path / name) for name in ("a.txt", "b.txt", "c.txt")]
    err = run("upload", *paths, "--on-conflict", "fail", status=5)
    sent = next(u for u in api.uploads.values() if u["name"] == "a.txt")
    assert err.startswith(f"filestore: cannot upload {paths[1]}: ")
    assert err.endswith(f"; uploaded before it: a.txt ({sent['id']})\n")
    assert not [u for u in api.uploads.values() if u["name"] == "c.txt"]
