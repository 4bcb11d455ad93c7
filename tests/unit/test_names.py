"""How names compare, sort, match a search and get numbered (`filestore.domain.names`)."""

from __future__ import annotations

import unicodedata

import pytest

from filestore.domain import events
from filestore.domain.names import free_name, name_key, numbered_name, search_key, split_extension
from filestore.domain.notifications import realtime_message
from filestore.domain.rules import MAX_NAME_LENGTH
from tests.factories import T0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Report.pdf", "report.PDF"),
        ("Straße", "STRASSE"),
        (unicodedata.normalize("NFD", "Café"), "CAFÉ"),
        ("ǅ", "ǆ"),  # title case folds too
        ("ﬁle", "FILE"),  # full case folding expands the ligature
    ],
)
def test_names_that_clash(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("résumé", "resume"), ("a.txt", "a.txt "), ("Øre", "ore")])
def test_names_that_do_not_clash(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize(
    ("name", "query"),
    [("Résumé.pdf", "resume"), ("RESUME.pdf", "résumé"), ("ﬁle.txt", "FILE"), ("\uff21.txt", "a")],
)
def test_search_ignores_case_accents_and_compatibility_forms(name: str, query: str) -> None:
    assert search_key(query) in search_key(name)


def test_a_search_key_keeps_what_is_not_a_mark() -> None:
    assert search_key("100%_x.txt") == "100%_x.txt"
    assert search_key("Øre") == "øre"  # a letter of its own, not o with a mark


@pytest.mark.parametrize(
    ("name", "is_file", "parts"),
    [
        ("report.pdf", True, ("report", ".pdf")),
        ("archive.tar.gz", True, ("archive.tar", ".gz")),
        (".bashrc", True, (".bashrc", "")),
        ("README", True, ("README", "")),
        ("v1.2", False, ("v1.2", "")),
    ],
)
def test_the_extension_is_from_the_last_dot_of_a_file(
    name: str, is_file: bool, parts: tuple[str, str]
) -> None:
    assert split_extension(name, is_file=is_file) == parts


def test_copies_are_numbered_before_the_extension_and_stay_within_the_limit() -> None:
    assert numbered_name("report.pdf", 2) == "report (2).pdf"
    assert numbered_name("Photos 2026.01", 3, is_file=False) == "Photos 2026.01 (3)"
    long = "x" * 250 + ".pdf"
    copy = numbered_name(long, 12)
    assert len(copy) == MAX_NAME_LENGTH and copy.endswith(" (12).pdf")


def test_the_first_free_number_is_taken() -> None:
    taken = {name_key(n) for n in ("Report.pdf", "report (2).pdf", "REPORT (4).PDF")}
    assert free_name("report.pdf", taken) == "report (3).pdf"
    assert free_name("other.pdf", taken) == "other.pdf"


def test_folder_events_reach_websockets_as_folder_messages() -> None:
    folder = events.FolderData(id="f", name="Docs", parent_id=None, created_at=T0)
    event = events.FolderMoved(occurred_at=T0, user_id="u", folder=folder, old_parent_id="p")
    assert realtime_message(event) == {
        "type": "folder.moved",
        "folder": {
            "id": "f",
            "name": "Docs",
            "parent_id": None,
            "created_at": "2026-01-01T12:00:00.123456Z",
        },
    }
