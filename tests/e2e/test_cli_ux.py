"""The `filestore` command as a person uses it, against a real `filestore serve`: options
anywhere on the line, files named by path or by the start of their id, downloads to stdout and
never over a file without --force, links listed and revoked, notifications switched, unfinished
uploads found and aborted, the exit status of each class of failure, and the progress line in a
real (pseudo-)terminal 40 columns wide."""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.journeys import wait_for
from tests.support.local_server import LocalServerProcess, filestore, free_port

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerProcess]:
    # Multipart from 1 MiB (a few parts for the progress line); a quota of 20 MiB (to be over).
    server = LocalServerProcess(
        tmp_path_factory.mktemp("serve-ux") / "data",
        env={
            "FILESTORE_MULTIPART_THRESHOLD": str(MiB),
            "FILESTORE_DEFAULT_QUOTA_BYTES": str(20 * MiB),
        },
    )
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


class User:
    """`filestore …` for one user, with the endpoint and token in the environment."""

    def __init__(self, server: LocalServerProcess, email: str) -> None:
        self.server = server
        self.token = server.token(email)
        self.env = {"FILESTORE_ENDPOINT": server.url, "FILESTORE_TOKEN": self.token}

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = filestore(*args, env={**self.env, **(env or {})})
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def __call__(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def fails(self, *args: str, status: int, env: dict[str, str] | None = None) -> str:
        done = self.run(*args, env=env)
        assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) >= 1
        return done.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def stored(self, upload_id: str) -> None:
        def listed() -> bool:
            return any(f["id"] == upload_id for f in self.json("ls", "--all"))

        wait_for(listed, "the upload to be stored")


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_global_options_go_anywhere_and_a_token_is_never_echoed(
    server: LocalServerProcess, tmp_path: Path
) -> None:
    me = User(server, "gloria@example.com")
    bare = {"FILESTORE_ENDPOINT": "", "FILESTORE_TOKEN": ""}
    where = ["--endpoint", server.url, "--token", me.token]
    after = me.run("ls", *where, "--json", env=bare)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == []
    before = me.run(*where, "--json", "whoami", env=bare)
    assert json.loads(before.stdout)["email"] == "gloria@example.com"
    inside = me.run("trash", *where, "ls", "--json", env=bare)
    assert json.loads(inside.stdout) == []

    # Misplaced, mistyped or refused, the token is not printed back.
    for argv in (["serve", "--token", "s3cr3t-t0ken"], ["ls", "--bogus", "--token=s3cr3t-t0ken"],
                 ["--token", "s3cr3t-t0ken", "s3cr3t-t0ken"]):  # fmt: skip
        err = me.fails(*argv, status=2)
        assert "s3cr3t-t0ken" not in err
    refused = me.fails("ls", "--token", "s3cr3t-t0ken", status=3)
    assert "s3cr3t-t0ken" not in refused
    unsigned = me.fails("ls", status=3, env={"FILESTORE_TOKEN": ""})
    assert unsigned.startswith("filestore: ") and "token" in unsigned

    assert me("--version").startswith("filestore ")
    ids = me("upload", "-q", str(_file(tmp_path, "q.txt", b"quiet")))
    assert len(ids.split()) == 1 and len(ids.strip()) == 36


def test_files_by_path_name_or_id_prefix_and_downloads_that_never_overwrite(
    server: LocalServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = User(server, "hugo@example.com")
    notes = _file(tmp_path, "notes.txt", b"line one\nline two\n")
    first = me.json("upload", str(notes), "--to", "docs")[0]
    second = me.json("upload", str(_file(tmp_path, "other.txt", b"other")))[0]
    me.stored(first["id"])
    me.stored(second["id"])

    # Listing for people: a status column, sizes, times relative to now.
    listing = me("ls", "docs").splitlines()
    assert listing[0].split() == ["ID", "STATUS", "SIZE", "CREATED", "NAME"]
    assert " stored " in listing[1] and " 18 B " in listing[1]
    assert " ago " in listing[1] or " just now " in listing[1]

    # To stdout, by path, by unique prefix of the id, by the exact id.
    assert me("cat", "docs/notes.txt") == "line one\nline two\n"
    assert me("download", first["id"][:-2], "-o", "-") == "line one\nline two\n"
    assert me("cat", "/other.txt") == "other"
    # Ids are time-ordered: two made within seconds begin alike (the first 4 characters
    # change every 49 days, the first 8 every 65 seconds).
    same = next(i for i, (a, b) in enumerate(zip(first["id"], second["id"], strict=True)) if a != b)
    assert same >= 4
    ambiguous = me.fails("cat", first["id"][: min(same, 8)], status=2)
    assert first["id"] in ambiguous and second["id"] in ambiguous
    assert "docs/notes.txt" in ambiguous

    # A download never replaces a file without --force.
    out = tmp_path / "out"
    out.mkdir()
    assert me("download", "docs/notes.txt", "-o", str(out)).strip() == str(out / "notes.txt")
    (out / "notes.txt").write_text("mine")
    err = me.fails("download", "docs/notes.txt", "-o", str(out), status=5)
    assert "--force" in err
    assert (out / "notes.txt").read_text() == "mine"
    me("download", "docs/notes.txt", "-o", str(out), "--force")
    assert (out / "notes.txt").read_bytes() == notes.read_bytes()
    missing_dir = me.fails("download", "docs/notes.txt", "-o", str(tmp_path / "no" / "x"), status=1)
    assert "no such folder" in missing_dir
    assert me.fails("download", "docs", status=2) == "filestore: 'docs' is a folder, not a file\n"
    assert "no file or folder 'docs/nope.txt'" in me.fails("cat", "docs/nope.txt", status=4)


def test_links_are_made_listed_and_revoked(server: LocalServerProcess, tmp_path: Path) -> None:
    me = User(server, "ines@example.com")
    sent = me.json("upload", str(_file(tmp_path, "share-me.txt", b"shared")))[0]
    me.stored(sent["id"])
    made = me.json("share", "share-me.txt", "--expires", "1w")
    public = f"{server.url}/shares/{made['token']}"  # what programs read; `url` is the web page
    assert httpx.get(public).status_code == 200
    shown = me("share", "share-me.txt", "--expires", "2h").splitlines()
    assert shown[0].startswith("http") and shown[1] == "  expires in 2 h"
    listed = me.json("share", "ls", "share-me.txt")
    assert made["url"] in [s["url"] for s in listed] and len(listed) == 2
    assert made["url"] in me("share", "ls", sent["id"])
    assert me("share", "rm", made["url"]) == f"revoked: {made['token']}\n"
    assert httpx.get(public).status_code == 404
    assert [s["url"] for s in me.json("share", "ls", "share-me.txt")] != [made["url"]]
    assert made["url"] not in me("share", "ls", "share-me.txt")
    me.fails("share", "share-me.txt", "--expires", "2w", status=2)  # over 7 days: refused
    me.fails("share", "share-me.txt", "--expires", "soon", status=2)
    me.fails("share", "rm", "no-such-token", status=4)


def test_notifications_are_switched_from_the_command_line(server: LocalServerProcess) -> None:
    me = User(server, "jon@example.com")
    assert "e-mail notifications: off" in me("notify", "off")
    assert me.json("whoami")["notify_email"] is False
    assert me.json("notify", "on")["notify_email"] is True
    assert "storage: 0 B of 20.0 MiB used" in me("whoami")


def test_unfinished_uploads_are_listed_resumed_and_aborted(
    server: LocalServerProcess, tmp_path: Path
) -> None:
    me = User(server, "kim@example.com")
    api = httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {me.token}"})
    body = {"name": "half.bin", "size": 3 * MiB, "content_type": "application/octet-stream"}
    pending = api.post("/uploads", json=body).json()["upload"]
    shown = me("ls", "--pending")
    assert pending["id"] in shown and "half.bin" in shown and "3.0 MiB" in shown
    assert "--resume ID" in shown and "filestore rm ID" in shown
    assert [u["id"] for u in me.json("ls", "--pending")] == [pending["id"]]
    assert me("rm", pending["id"]).startswith("aborted the upload of half.bin")
    assert me("ls", "--pending") == "no unfinished uploads\n"

    # Resumed by the start of its id (a multipart upload of which nothing arrived yet).
    data = os.urandom(3 * MiB)
    source = _file(tmp_path, "later.bin", data)
    later = api.post("/uploads", json={**body, "name": "later.bin"}).json()["upload"]
    resumed = me.json("upload", str(source), "--resume", later["id"][:-3])
    assert resumed[0]["id"] == later["id"]
    me.stored(later["id"])
    assert me.fails("upload", str(source), "--resume", later["id"][:-3], status=4)


def test_each_class_of_failure_has_its_exit_status(
    server: LocalServerProcess, tmp_path: Path
) -> None:
    me = User(server, "lea@example.com")
    assert me.fails("ls", "--sort", "colour", status=2)
    assert me.fails("ls", "--token", "not-a-jwt", status=3)
    assert me.fails("download", "nothing.txt", status=4)
    me("mkdir", "docs")
    assert "(HTTP 409)" in me.fails("mkdir", "docs", status=5)
    big = tmp_path / "big.bin"
    with big.open("wb") as file:
        file.truncate(21 * MiB)  # over the 20 MiB quota
    assert "(HTTP 413)" in me.fails("upload", str(big), status=6)
    gone = f"http://127.0.0.1:{free_port()}"
    err = me.fails("ls", "--endpoint", gone, status=7)
    assert err.startswith(f"filestore: cannot reach {gone}") and len(err.splitlines()) == 1
    with _html_server() as html:
        err = me.fails("ls", "--endpoint", html, status=7)
        assert "not JSON" in err and len(err.splitlines()) == 1
    with _html_server(b'{"some": "other API"}') as other:
        err = me.fails("ls", "--endpoint", other, status=7)
        assert "is it a filestore API?" in err and len(err.splitlines()) == 1
    assert me.fails("upload", str(tmp_path / "absent.txt"), status=4)


@contextlib.contextmanager
def _html_server(body: bytes = b"<html>a web page, not an API</html>") -> Iterator[str]:
    """A web server that is not filestore's API: every answer is `body`, with status 200."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            kind = "application/json" if body.startswith(b"{") else "text/html"
            self.send_header("content-type", kind)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _in_terminal(argv: list[str], env: dict[str, str], columns: int) -> tuple[int, str]:
    """Runs the command with stdin, stdout and stderr on a pseudo-terminal `columns` wide."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "filestore.entrypoints.cli", *argv],
        stdin=follower, stdout=follower, stderr=follower, close_fds=True,
        env={**os.environ, **env, "COLUMNS": str(columns), "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_the_progress_line_shows_total_speed_and_time_left_within_40_columns(
    server: LocalServerProcess, tmp_path: Path
) -> None:
    me = User(server, "max@example.com")
    big = _file(tmp_path, "a-file-with-a-long-name.bin", os.urandom(6 * MiB))
    code, output = _in_terminal(["upload", str(big)], me.env, 40)
    assert code == 0, output
    assert "Traceback" not in output
    # Redrawn in place: carriage returns between states, no line wider than the terminal.
    drawn = [segment for line in output.split("\n") for segment in line.split("\r")]
    progress = [s for s in drawn if "B/s" in s]
    assert progress, output
    assert output.count("\r") >= 2
    assert all(len(s) <= 40 for s in progress), progress
    final = progress[-1]
    assert "100%" in final and "6.0 MiB" in final  # the total
    assert re.search(r" \d+(\.\d)? (B|KiB|MiB|GiB)/s ", final), final  # the speed
    assert re.search(r"/s (ETA )?\d\d:\d\d", final), final  # the time left
    # Piped (not a terminal), the same upload draws nothing.
    quiet = me.run("upload", str(big))
    assert quiet.returncode == 0 and "MiB/s" not in quiet.stderr and quiet.stderr == ""


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("filestore sh", ["share"]),
        ("filestore trash r", ["restore", "rm"]),
        ("filestore share --ex", ["--expires"]),
        ("filestore ls --pen", ["--pending"]),
    ],
)
def test_the_shell_completes_commands_and_options(
    line: str, offered: list[str], tmp_path: Path
) -> None:
    """As the code `filestore completion bash` installs asks it: `_ARGCOMPLETE` and the line."""
    answer = tmp_path / "completions"
    env = {"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "_ARGCOMPLETE_STDOUT_FILENAME": str(answer)}  # fmt: skip
    done = filestore(env=env)
    assert done.returncode == 0, done.stderr
    words = answer.read_text().replace("\x0b", " ").split()
    assert words == offered


def test_cat_into_a_reader_that_stops_early_ends_quietly(
    server: LocalServerProcess, tmp_path: Path
) -> None:
    """`filestore cat big.txt | head -1`: no error when head has had enough."""
    me = User(server, "nina@example.com")
    lines = b"".join(b"line %d\n" % n for n in range(300_000))  # well over a pipe's buffer
    sent = me.json("upload", str(_file(tmp_path, "long.txt", lines)))[0]
    me.stored(sent["id"])
    reader = subprocess.Popen(
        [sys.executable, "-m", "filestore.entrypoints.cli", "cat", "long.txt"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **me.env},
    )  # fmt: skip
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline() == b"line 0\n"
    reader.stdout.close()  # as head does once it has its line
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""
