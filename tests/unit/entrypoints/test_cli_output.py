"""What `filestore` prints for people (`--json` prints the API's answers as they are): sizes,
times, columns, the progress line at any width, and the account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from filestore.entrypoints.cli_output import human_size, quiet_lines, table, when
from filestore.entrypoints.cli_progress import layout, stats_text
from filestore.entrypoints.cli_shares import duration, share_token, show_me

ME = {
    "id": "0189a000-0000-7000-8000-000000000001",
    "email": "alice@example.com",
    "notify_email": True,
    "quota_bytes": 10 * 1024**3,
    "used_bytes": 157286400,
    "created_at": "2026-01-01T12:00:00Z",
}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (157286400, "150.0 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**4, "3.0 TiB"),
        (None, "-"),
    ],
)
def test_sizes_are_in_powers_of_1024(count: int | None, shown: str) -> None:
    assert human_size(count) == shown


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        ("2026-03-01T11:59:50Z", "just now"),
        ("2026-03-01T11:58:00Z", "2 min ago"),
        ("2026-03-01T09:00:00.123456+00:00", "3 h ago"),
        ("2026-03-01T13:00:00Z", "in 1 h"),
        ("2026-03-01T18:00:00Z", "in 6 h"),
        ("2026-02-20T08:30:00Z", "2026-02-20 08:30 UTC"),  # older than a day: the local date
        ("2026-03-08T12:00:00Z", "2026-03-08 12:00 UTC"),
        (None, "-"),
        ("not a time", "-"),
    ],
)
def test_times_are_relative_near_now_else_local_with_their_zone(
    moment: str | None, shown: str, utc_zone: None
) -> None:
    assert when(moment, now=NOW) == shown


def test_local_times_are_in_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert when("2026-02-20T08:30:00Z", now=NOW) == "2026-02-20 09:30 CET"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_columns_align_and_the_last_one_is_not_padded() -> None:
    rows = [["ID", "SIZE", "NAME"], ["a", "1.0 KiB", "x.txt"], ["bbb", "2 B", "long name.txt"]]
    assert table(rows, right=(1,)) == [
        "ID      SIZE  NAME",
        "a    1.0 KiB  x.txt",
        "bbb      2 B  long name.txt",
    ]


def test_quiet_prints_ids_or_a_links_url() -> None:
    assert quiet_lines([{"id": "a", "name": "x"}, {"path": "skipped"}, {"id": "b"}]) == ["a", "b"]
    assert quiet_lines({"url": "https://x/s/t", "expires_at": "…"}) == ["https://x/s/t"]
    assert quiet_lines({"path": "copy.txt"}) == []


@pytest.mark.parametrize("width", [120, 80, 60, 45, 40, 30])
def test_the_progress_line_keeps_total_speed_and_time_left_at_any_width(width: int) -> None:
    bar_format, label = layout("a-rather-long-file-name.iso", 70_000_000, 157286400, 45e6, width)
    line = bar_format.replace("{bar}", "#" * 6).format(desc=label, percentage=44.5)
    assert "150.0 MiB" in line  # the total
    assert "42.9 MiB/s" in line  # the speed
    assert "00:01" in line  # the time left
    if width >= 40:
        assert len(line) <= width, line
    if width >= 80:
        assert line.startswith("a-rather-long-fil")
        assert "ETA 00:01" in line


def test_the_progress_line_keeps_its_layout_as_the_numbers_change() -> None:
    """The label and the bar do not jump about from one redraw to the next."""
    starts = {
        layout("report.pdf", done, 150 * 1024**2, rate, 100)
        for done, rate in ((0, None), (1000, 999.0), (70_000_000, 45e6), (150 * 1024**2, 9e8))
    }
    assert len({(len(bar_format), label) for bar_format, label in starts}) == 1


def test_the_progress_numbers_before_the_speed_is_known() -> None:
    assert stats_text(0, 2048, None) == "0 B/2.0 KiB, ? B/s, ETA --:--"
    assert stats_text(1024, 2048, 1024.0, compact=True) == "1.0/2.0 KiB 1.0 KiB/s 00:01"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("7d", 604800),
        ("1w", 604800),
    ],
)
def test_share_lifetimes_include_weeks(text: str, seconds: int) -> None:
    assert duration(text) == seconds


def test_a_share_is_named_by_its_token_or_its_link() -> None:
    assert share_token("AbC-123") == "AbC-123"
    assert share_token("http://127.0.0.1:8000/s/AbC-123") == "AbC-123"
    assert share_token("https://api.example.com/shares/AbC-123/") == "AbC-123"


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("ok", None),
        ("bounced", "  no e-mail is sent: mail to this address bounced"),
        ("complained", "  no e-mail is sent: one of our e-mails was marked as spam"),
    ],
)
def test_whoami_shows_sizes_and_says_when_no_e_mail_is_sent(
    status: str, why: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    show_me({**ME, "email_status": status})
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"alice@example.com  (id {ME['id']})",
        "  storage: 150.0 MiB of 10.0 GiB used",
        "  e-mail notifications: on",
    ]
    assert lines[3:] == ([why] if why else [])
