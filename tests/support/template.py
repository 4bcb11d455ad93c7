"""What `template.yaml` gives a function: its environment, as Lambda would see it.

Intrinsic functions (`!Ref`, `!GetAtt`, `!Sub`, …) have no value before a deploy; they come back
as `Intrinsic`, so a test can tell which variables the stack fills in and supply stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@dataclass(frozen=True)
class Intrinsic:
    """A CloudFormation intrinsic function, unevaluated (`!GetAtt X.Y` → tag "GetAtt")."""

    tag: str
    value: Any


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader: _Loader, suffix: str, node: yaml.Node) -> Intrinsic:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic(suffix, value)


_Loader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_Loader)  # a SafeLoader
    return document


def function_environment(logical_id: str) -> dict[str, Any]:
    """The environment variables of function `logical_id`: the Globals', then its own."""
    template = load_template()
    variables: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    function = template["Resources"][logical_id]
    own = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    variables.update(own)
    return variables
