"""One function's cold start, as Lambda does it, in an interpreter that sees only what ships.

Run by scripts/artifacts/check.py, one process per function:

    python -I -S cold_start.py HANDLER ARTIFACT_DIR LAYER_DIR...

`-I` ignores PYTHON* variables and the user's site-packages, `-S` leaves out the interpreter's
own site-packages: the path is the standard library, then what is put in front of it here, the
function's artifact (Lambda's /var/task) and its layers (/opt/python), nothing of the machine
it runs on. The environment is the one the caller gives (the template's variables and Lambda's
own). Sockets refuse to connect: a cold start must not reach the network.

Then, as a first invocation would: the handler's module is imported and the handler looked up,
and the execution environment's state is built (`runtime.settings()`, `runtime.bus()` with
every adapter the settings choose, and the token verifier where a Cognito issuer is set). The
result is one JSON line on stdout: {"ok": bool, "error": str, "import_s", "container_s",
"layer_distributions": [...]}.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
import time
import traceback
from typing import Any, NoReturn


def _refuse_network() -> None:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise OSError(f"network call during a cold start: {args[1:] or args!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.getaddrinfo = refuse
    socket.create_connection = refuse


def _cold_start(handler: str) -> dict[str, float]:
    started = time.perf_counter()
    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise AttributeError(f"{module_name} has no callable {attribute!r}")
    imported = time.perf_counter()

    from filestore.entrypoints.runtime import runtime

    settings = runtime.settings()
    runtime.bus()
    if settings.cognito_issuer or settings.cognito_client_id:
        runtime.token_verifier()
    built = time.perf_counter()
    return {"import_s": imported - started, "container_s": built - imported}


def _loaded_from(directories: list[str]) -> list[str]:
    """Top-level modules loaded from `directories` (what the cold start took from a layer)."""
    names = set()
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if any(origin.startswith(d.rstrip("/") + "/") for d in directories):
            names.add(name.partition(".")[0])
    return sorted(names)


def main() -> int:
    handler, artifact, *layers = sys.argv[1:]
    sys.path[:0] = [artifact, *layers]
    _refuse_network()
    result: dict[str, Any] = {"ok": True, "error": ""}
    try:
        result.update(_cold_start(handler))
    except BaseException as error:  # report whatever stops a cold start, SystemExit included
        result["ok"] = False
        tail = traceback.format_exception(error)[-4:]
        result["error"] = f"{type(error).__name__}: {error}\n" + "".join(tail)
    result["layer_modules"] = _loaded_from(layers)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
