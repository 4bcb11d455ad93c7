"""The Data API emulator's rewriting of ``:name`` placeholders (pure: no database)."""

from __future__ import annotations

import pytest

from tests.support.dataapi_emulator import translate_named_parameters


@pytest.mark.parametrize(
    ("sql", "expected_sql", "expected_names"),
    [
        ("SELECT :a, :b_2, :a", "SELECT %s, %s, %s", ("a", "b_2", "a")),
        ("SELECT ':a', 'it''s :a', 'x\\':a'", "SELECT ':a', 'it''s :a', 'x\\':a'", ()),
        ('SELECT ":a", "say ""hi"" :a"', 'SELECT ":a", "say ""hi"" :a"', ()),
        ("SELECT `:a`, `odd``:a`", "SELECT `:a`, `odd``:a`", ()),
        ("SELECT 1 -- :a\n, :b", "SELECT 1 -- :a\n, %s", ("b",)),
        ("SELECT 1 # :a\n, :b", "SELECT 1 # :a\n, %s", ("b",)),
        ("SELECT 1 /* :a\n */ , :b", "SELECT 1 /* :a\n */ , %s", ("b",)),
        ("SELECT 2--:a", "SELECT 2--%s", ("a",)),  # `--` starts a comment only before a space.
        ("SELECT x::int, @v := :b", "SELECT x::int, @v := %s", ("b",)),
        ("SELECT '10%', 5 % :m", "SELECT '10%%', 5 %% %s", ("m",)),
        ("SELECT 'unterminated :a", "SELECT 'unterminated :a", ()),
        ("SELECT :1, : a", "SELECT :1, : a", ()),
    ],
)
def test_placeholders_become_positional_outside_literals_and_comments(
    sql: str, expected_sql: str, expected_names: tuple[str, ...]
) -> None:
    assert translate_named_parameters(sql) == (expected_sql, expected_names)
