"""What `filestore` prints for people (`--json` prints the API's answers as they are)."""

from __future__ import annotations

import pytest

from filestore.entrypoints import cli

ME = {
    "id": "0189a000-0000-7000-8000-000000000001",
    "email": "alice@example.com",
    "notify_email": True,
    "quota_bytes": 100,
    "used_bytes": 5,
    "created_at": "2026-01-01T12:00:00Z",
}


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("ok", None),
        ("bounced", "no e-mail is sent: mail to this address bounced"),
        ("complained", "no e-mail is sent: one of our e-mails was marked as spam"),
    ],
)
def test_whoami_says_when_no_e_mail_is_sent(
    status: str, why: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    cli._print_human("whoami", {**ME, "email_status": status})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("alice@example.com  (id ")
    assert lines[1:] == ([why] if why else [])
