"""What a person does to organize files with the `filestore` command, for any way of running it
(the real command against `filestore serve`, or its `main` against the API in-process)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tests.support.local_server import LocalServerProcess, filestore


class CliUser(Protocol):
    """`filestore …` as one user: `me("ls")` is its output (it must succeed), `me.fails(…,
    status=N)` its error output (it must fail with that exit status), `me.json(…)` its `--json`
    answer, `me.names(…)` what `ls` lists."""

    def __call__(self, *args: str) -> str: ...

    def fails(self, *args: str, status: int) -> str: ...

    def json(self, *args: str) -> Any: ...

    def names(self, *args: str) -> list[str]: ...


class Shell:
    """The real `filestore` command (a subprocess) as one user of one `filestore serve`."""

    def __init__(self, server: LocalServerProcess, email: str) -> None:
        self.env = {"FILESTORE_ENDPOINT": server.url, "FILESTORE_TOKEN": server.token(email)}

    def __call__(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = filestore(*args, env=self.env)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def fails(self, *args: str, status: int) -> str:
        done = self.run(*args)
        assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
        return done.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def names(self, *args: str) -> list[str]:
        return [item["name"] for item in self.json("ls", *args)]


def _tree(root: Path) -> Path:
    photos = root / "photos"
    (photos / "2025" / "summer").mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"a" * 10)
    (photos / "2025" / "b.jpg").write_bytes(b"b" * 30)
    (photos / "2025" / "summer" / "c.jpg").write_bytes(b"c" * 20)
    return photos


def organize(
    me: CliUser, tmp_path: Path, wait_for: Callable[[Callable[[], Any], str], Any]
) -> None:
    """Upload a folder twice, make folders, move, rename, clash, search, sort, trash, restore."""
    photos = _tree(tmp_path)

    sent = me.json("upload", "-r", str(photos), "--to", "Backup")
    assert sorted(s["path"] for s in sent) == [
        "Backup/photos/2025/b.jpg", "Backup/photos/2025/summer/c.jpg", "Backup/photos/a.jpg",
    ]  # fmt: skip
    wait_for(lambda: me.names("backup/photos/2025/summer") == ["c.jpg"], "the upload to land")
    # Again: the folders are reused, the files kept beside the others under new names.
    (photos / "a.jpg").write_bytes(b"a" * 15)
    me("upload", "-r", str(photos), "--to", "backup/")
    wait_for(lambda: len(me.names("backup/photos")) == 3, "the second upload to land")
    assert me.names("BACKUP/Photos", "--sort", "name") == ["2025", "a (2).jpg", "a.jpg"]
    assert me.names("backup") == ["photos"]
    assert me.names("backup/photos", "--sort", "size") == ["2025", "a (2).jpg", "a.jpg"]
    assert me.names("backup/photos", "--sort", "size", "--asc") == ["2025", "a.jpg", "a (2).jpg"]

    # Folders, and moving into them or to a path.
    assert me.fails("mkdir", "docs/2026", status=4).startswith("filestore: no folder 'docs'")
    me("mkdir", "-p", "docs/2026")
    assert "(HTTP 409)" in me.fails("mkdir", "docs/2026", status=5)
    me("mkdir", "-p", "Docs/2026")  # there already: fine
    me("mv", "backup/photos/a.jpg", "docs/2026")
    moved = me.json("mv", "docs/2026/A.JPG", "docs/2026/Été.jpg")
    assert moved["path"] == "docs/2026/Été.jpg"
    clash = me.fails("mv", "backup/photos/a (2).jpg", "docs/2026/ÉTÉ.JPG", status=5)
    assert clash.startswith(
        "filestore: cannot move 'backup/photos/a (2).jpg' to 'docs/2026/ÉTÉ.JPG': "
    )
    assert "(HTTP 409)" in clash
    me("mv", "docs", "backup/photos")
    assert "(HTTP 409)" in me.fails("mv", "backup", "backup/photos/docs", status=5)
    assert me.names("backup/photos/docs/2026") == ["Été.jpg"]

    # Search ignores case and accents, and says where each file is.
    found = me.json("find", "ete")
    assert [f["path"] for f in found] == ["Backup/photos/docs/2026/Été.jpg"]
    assert "Backup/photos/docs/2026/Été.jpg" in me("find", "ÉTÉ")

    # The trash: a folder with everything in it, restored by name, then gone for good.
    me("rm", "backup/photos/docs")
    assert me.names("backup/photos", "--sort", "name") == ["2025", "a (2).jpg"]
    assert [i["name"] for i in me.json("trash", "ls")] == ["docs"]
    assert me("trash", "restore", "DOCS").startswith("restored: Backup/photos/docs/")
    assert me.json("find", "ete")[0]["path"] == "Backup/photos/docs/2026/Été.jpg"
    me("rm", "Backup/photos/docs/2026/Été.jpg", "backup/photos/a (2).jpg")
    assert me("trash", "rm", "été.jpg").startswith("deleted forever: Été.jpg")
    assert [i["name"] for i in me.json("trash", "ls")] == ["a (2).jpg"]
    me("trash", "empty")
    assert me("trash", "ls") == "the trash is empty\n"
    assert me.json("find", "jpg", "--sort", "name") != []
    assert "no file or folder" in me.fails("rm", "backup/photos/a (2).jpg", status=4)

    # Finishing an interrupted folder upload: what is there already is skipped.
    sent = me.json("upload", "-r", str(photos), "--to", "backup", "--on-conflict", "skip")
    assert sorted(s["path"] for s in sent if "skipped" in s) == [
        "Backup/photos/2025/b.jpg", "Backup/photos/2025/summer/c.jpg",
    ]  # fmt: skip
    assert [s["path"] for s in sent if "skipped" not in s] == ["Backup/photos/a.jpg"]
    wait_for(lambda: "a.jpg" in me.names("backup/photos"), "the missing file to land")
