"""`filestore.domain` loads its names on first use: every name it lists is there, from its home."""

from __future__ import annotations

import importlib

import pytest

import filestore.domain as domain


def test_every_listed_name_resolves_to_its_home_module() -> None:
    assert set(domain._HOMES) == set(domain.__all__)
    for name, home in domain._HOMES.items():
        module = importlib.import_module(f"filestore.domain.{home}")
        assert getattr(domain, name) is getattr(module, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        domain.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
