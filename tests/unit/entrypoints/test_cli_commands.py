"""`filestore` as a whole, in-process: every command's help has a description and examples, the
main help lists the exit statuses, files are found by the start of their id (an ambiguous one
lists the candidates), and Ctrl-C during an upload says how to resume or abort it."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from filestore.entrypoints import cli, client
from tests.support.fake_api import FakeApi
from tests.unit.entrypoints.test_client_uploads import STORAGE, FakeDeployment


def _commands(parser: argparse.ArgumentParser, path: str = "filestore") -> Iterator[
    tuple[str, argparse.ArgumentParser]
]:  # fmt: skip
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{path} {name}", sub
                yield from _commands(sub, f"{path} {name}")


def test_every_command_has_a_description_and_examples() -> None:
    commands = dict(_commands(cli.parser()))
    assert {"filestore upload", "filestore cat", "filestore share", "filestore notify",
            "filestore trash restore", "filestore completion", "filestore db upgrade"} <= set(
        commands
    )  # fmt: skip
    for name, command in commands.items():
        assert command.description, name
        assert command.epilog and command.epilog.startswith("examples:\n  "), name
        examples = command.epilog.splitlines()[1:]
        assert any(name.split()[-1] in line for line in examples), name
        assert "--json" in command.format_help() or name.split()[1] in {
            "serve", "token", "db", "completion"
        }, name  # fmt: skip


def test_the_main_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for code in ("0", "1", "2", "3", "4", "5", "6", "7", "130"):
        assert f"\n  {code} " in out


def test_completion_prints_the_shells_code(capsys: pytest.CaptureFixture[str]) -> None:
    for shell, marker in (("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")):
        assert cli.main(["completion", shell]) == 0
        out = capsys.readouterr().out
        assert marker in out and "filestore" in out and "_ARGCOMPLETE" in out
    assert cli.main(["completion", "tcsh"]) == 2


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--token", "t", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _file_with_id(api: FakeApi, name: str, upload_id: str, folder_id: str | None = None) -> None:
    made = api.add_file(name, folder_id)
    api.uploads[upload_id] = {**api.uploads.pop(made["id"]), "id": upload_id}


def test_a_file_is_found_by_the_start_of_its_id(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = api.add_folder("docs")
    _file_with_id(api, "a.txt", "0190c3d2-aaaa-7000-8000-000000000001", docs["id"])
    _file_with_id(api, "b.txt", "0190c3d2-bbbb-7000-8000-000000000002")
    _file_with_id(api, "c.txt", "0190ffff-cccc-7000-8000-000000000003")

    code, out, _ = _run(capsys, "mv", "0190C3D2-A", "docs/first.txt", "--json")
    assert code == 0 and json.loads(out)["path"] == "docs/first.txt"
    code, _, err = _run(capsys, "rm", "0190c3d2")
    assert code == 2
    assert err == (
        "filestore: '0190c3d2' is the start of 2 files' ids: "
        "0190c3d2-aaaa-7000-8000-000000000001 docs/first.txt; "
        "0190c3d2-bbbb-7000-8000-000000000002 b.txt (give more of the id, or the path)\n"
    )
    code, out, _ = _run(capsys, "rm", "0190f")
    assert code == 0 and out.startswith("moved to the trash: c.txt")
    code, _, err = _run(capsys, "rm", "0190e")
    assert code == 4 and "no file or folder '0190e'" in err
    code, _, err = _run(capsys, "rm", "019")  # too short to be taken for an id
    assert code == 4


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> FakeDeployment:
    fake = FakeDeployment()
    with_fake = functools.partial(
        client.Client, progress=False, transport=httpx.MockTransport(fake.handle)
    )
    monkeypatch.setattr(client, "Client", with_fake)
    return fake


def test_ctrl_c_during_a_multipart_upload_says_how_to_resume_or_abort_it(
    deployment: FakeDeployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    storage = deployment._storage

    def interrupted(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("partNumber") == "3":
            raise KeyboardInterrupt
        return storage(request)

    monkeypatch.setattr(deployment, "_storage", interrupted)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    code, out, err = _run(capsys, "upload", str(big))
    assert code == 130
    assert out == ""
    assert err.splitlines() == [
        f"filestore: interrupted; upload up-1 of {big} is unfinished.",
        f"  resume it: filestore upload {big} --resume up-1",
        "  abort it:  filestore rm up-1",
    ]
    # Several files: those that went up before the interrupted one are named with their ids.
    small = tmp_path / "a-small.bin"
    small.write_bytes(b"y" * 900)  # one part
    code, _, err = _run(capsys, "upload", str(small), str(big))
    assert code == 130
    assert err.splitlines()[0] == f"filestore: interrupted; upload up-3 of {big} is unfinished."
    assert err.splitlines()[-1] == "  uploaded before it: a-small.bin (up-2)"


def test_ctrl_c_during_a_small_upload_says_how_to_abort_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = FakeDeployment(single_request=True)

    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(STORAGE):
            raise KeyboardInterrupt
        return fake.handle(request)

    with_fake = functools.partial(
        client.Client, progress=False, transport=httpx.MockTransport(handle)
    )
    monkeypatch.setattr(client, "Client", with_fake)
    small = tmp_path / "small.txt"
    small.write_text("small")
    code, _, err = _run(capsys, "upload", str(small))
    assert code == 130
    assert "abort it:  filestore rm up-1" in err
    assert f"then send it again: filestore upload {small}" in err
    assert "--resume" not in err


@pytest.mark.parametrize("endpoint", ["http://[::1", "http://127.0.0.1:1:2/"])
def test_an_endpoint_that_is_not_a_url_is_a_usage_error(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "ls", "--endpoint", endpoint)
    assert code == 2
    # Named as given, without a trailing slash (the client's base URL has none).
    assert err.startswith(f"filestore: the endpoint {endpoint.rstrip('/')!r} is not a URL: ")
    assert len(err.splitlines()) == 1
