"""docs/websocket.md says what the socket really sends: the message types the realtime
consumer forwards, each example in the shape it has on the wire, and ping/pong."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from filestore.domain.events import FolderData, UploadData
from filestore.domain.notifications import REALTIME_EVENT_TYPES
from filestore.entrypoints.websocket_api import _message

DOC = Path(__file__).parents[3] / "docs" / "websocket.md"
# A message's heading (### `type`), then its example in the first ```json block after it.
_MESSAGE = re.compile(r"^### `([a-z.]+)`\n.*?```json\n(.*?)\n```", re.DOTALL | re.MULTILINE)


def documented() -> dict[str, Any]:
    found = {kind: json.loads(example) for kind, example in _MESSAGE.findall(DOC.read_text())}
    assert found, "no messages found in docs/websocket.md"
    return found


def test_the_documented_types_are_the_ones_the_realtime_consumer_forwards() -> None:
    assert set(documented()) == set(REALTIME_EVENT_TYPES) | {"pong", "error"}


def test_each_change_is_documented_as_the_socket_sends_it() -> None:
    for kind, example in documented().items():
        if kind in ("pong", "error"):
            continue
        assert example["type"] == kind
        # `realtime_message`: the type and the item as the HTTP API shows it, no envelope.
        (item,) = set(example) - {"type"}
        model = {"upload": UploadData, "folder": FolderData}[item]
        assert model.model_validate(example[item]).model_dump(mode="json") == example[item], kind


def test_ping_and_anything_else_are_answered_as_documented() -> None:
    messages = documented()
    assert _message('{"action":"ping"}') == messages["pong"]
    assert _message('{"action":"subscribe"}') == messages["error"]
