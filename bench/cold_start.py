"""Cold start and warm request benchmark of the Lambda entrypoints.

Prints, in one run:
- each function's cold import: a fresh interpreter per measurement imports the handler module
  with the template's environment (no network), repeated; the median;
- cold init + first request of each function on in-memory adapters (fresh interpreter: import,
  build the container, handle one real-shaped event), beside the minimal Powertools handler
  (`bench/minimal_handler.py`: Logger, Tracer, Metrics, validating resolver, S3 client, one
  presigned POST) doing the same;
- the warm per-request time of the HTTP handler on in-memory adapters (median, p99) beside the
  minimal handler's bare resolver on the same routes;
and the machine it ran on. Run: `.venv/bin/python bench/cold_start.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from host import describe  # bench/ is the script's directory

ROOT = Path(__file__).resolve().parent.parent

# What template.yaml sets (adapters by name; no call is made at import), plus offline AWS.
TEMPLATE_ENV = {
    "FILESTORE_DATABASE": "dataapi",
    "FILESTORE_BLOB_STORE": "s3",
    "FILESTORE_EVENTS": "sns",
    "FILESTORE_EMAIL": "ses",
    "FILESTORE_REALTIME": "apigateway",
    "FILESTORE_PUBLIC_URL": "https://files.example.com",
    "FILESTORE_COGNITO_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
    "FILESTORE_COGNITO_CLIENT_ID": "exampleclientid",
    "POWERTOOLS_SERVICE_NAME": "filestore",
    "POWERTOOLS_METRICS_NAMESPACE": "filestore",
    "LOG_LEVEL": "WARNING",
    # Outside Lambda there is no X-Ray daemon: the Tracer is off for both sides alike.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}
MEMORY_ENV = {k: v for k, v in TEMPLATE_ENV.items() if not k.startswith("FILESTORE_")} | {
    "FILESTORE_NOTIFY_IN_PROCESS": "false"
}

FUNCTIONS = {
    "http_api.handler": "filestore.entrypoints.http_api",
    "websocket_api.handler/authorizer": "filestore.entrypoints.websocket_api",
    "s3_events.handler": "filestore.entrypoints.s3_events",
    "notifications.*_handler": "filestore.entrypoints.notifications",
    "cognito.post_confirmation": "filestore.entrypoints.cognito",
    "migrations.handler": "filestore.entrypoints.migrations",
    "schedules.*_handler": "filestore.entrypoints.schedules",
    "minimal (bench/minimal_handler.py)": "minimal_handler",
}

IMPORT = """
import time
t = time.perf_counter()
import {module}
print(time.perf_counter() - t)
"""

# The event comes on stdin as JSON and the context is a plain class, so the clock measures the
# handler's own imports and its first request, not the test helpers that build the events (which
# import pytest).
FIRST_REQUEST = """
import json, sys, time
event = json.loads(sys.stdin.read())
class Context:
    function_name = "filestore-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:filestore-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/filestore-test"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
    def get_remaining_time_in_millis(self):
        return 30000
t = time.perf_counter()
import {module} as m
m.{function}(event, Context())
print(time.perf_counter() - t)
"""

FIRST = {
    "http_api.handler": ("filestore.entrypoints.http_api", "handler", "post_upload"),
    "websocket_api.handler": ("filestore.entrypoints.websocket_api", "handler", "ws_connect"),
    "s3_events.handler": ("filestore.entrypoints.s3_events", "handler", "s3_batch"),
    "notifications.email_handler": (
        "filestore.entrypoints.notifications",
        "email_handler",
        "notification_batch",
    ),
    "cognito.post_confirmation": (
        "filestore.entrypoints.cognito",
        "post_confirmation",
        "post_confirmation",
    ),
    "schedules.sweep_handler": ("filestore.entrypoints.schedules", "sweep_handler", "scheduled"),
    "minimal (bench/minimal_handler.py)": ("minimal_handler", "handler", "post_upload"),
}


def _fresh(code: str, env: dict[str, str], stdin: str = "") -> float:
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    full_env |= env
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def machine() -> str:
    return describe()


def warm(requests: int) -> None:
    for key, value in MEMORY_ENV.items():
        os.environ[key] = value
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import minimal_handler

    from bench import events
    from filestore.domain.commands import Actor, GetMe, RequestUpload
    from filestore.entrypoints import http_api
    from filestore.entrypoints.runtime import runtime
    from tests.support.lambda_events import LambdaContext

    warnings.simplefilter("ignore")  # Powertools: "No application metrics to publish"

    context = LambdaContext()
    actor = Actor(sub=events.CLAIMS["sub"], email=events.CLAIMS["email"])
    routes = {
        "GET /me": (events.get_me, lambda: GetMe(actor)),
        "POST /uploads": (
            events.post_upload,
            lambda: RequestUpload(actor, "notes.txt", 1234, "text/plain"),
        ),
    }

    def timed(make: Callable[[], Any], call: Callable[[Any], object]) -> tuple[float, float]:
        for _ in range(50):
            call(make())
        times = []
        for _ in range(requests):
            argument = make()  # built outside the timing
            start = time.perf_counter()
            call(argument)
            times.append(time.perf_counter() - start)
        times.sort()
        return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6

    print(f"\nwarm requests ({requests} each, after 50 warm-up), median / p99 in µs:")
    print(
        f"  {'route':14} {'filestore':>16} {'bare resolver':>16} {'ratio':>6}"
        f" {'use case alone':>16} {'ratio without it':>17}"
    )
    for name, (make, command) in routes.items():
        # A fresh in-memory system per series: the memory adapters slow down as they fill.
        runtime.set_bus(None)
        ours, ours99 = timed(make, lambda event: http_api.handler(event, context))
        bare, bare99 = timed(make, lambda event: minimal_handler.handler(event, context))
        runtime.set_bus(None)
        bus = runtime.bus()
        alone, alone99 = timed(command, lambda cmd, bus=bus: runtime.run(bus.handle(cmd)))
        print(
            f"  {name:14} {ours:7.0f} / {ours99:6.0f} {bare:7.0f} / {bare99:6.0f} "
            f"{ours / bare:5.2f}x {alone:7.0f} / {alone99:6.0f} {(ours - alone) / bare:16.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="fresh interpreters per figure")
    parser.add_argument("--requests", type=int, default=2000, help="warm requests per route")
    args = parser.parse_args()
    print(f"machine: {machine()}")

    print(f"\ncold import (fresh interpreter, template environment), median of {args.repeat}:")
    imports = {}
    for name, module in FUNCTIONS.items():
        samples = [_fresh(IMPORT.format(module=module), TEMPLATE_ENV) for _ in range(args.repeat)]
        imports[name] = _median_ms(samples)
    baseline = imports["minimal (bench/minimal_handler.py)"]
    for name, ms in imports.items():
        print(f"  {name:36} {ms:7.1f} ms  {ms / baseline:5.2f}x minimal")

    print(f"\ncold init + first request (in-memory adapters), median of {args.repeat}:")
    sys.path.insert(0, str(ROOT))
    from bench import events

    firsts = {}
    for name, (module, function, event) in FIRST.items():
        code = FIRST_REQUEST.format(module=module, function=function)
        payload = json.dumps(getattr(events, event)())
        samples = [_fresh(code, MEMORY_ENV, payload) for _ in range(args.repeat)]
        firsts[name] = _median_ms(samples)
    baseline = firsts["minimal (bench/minimal_handler.py)"]
    for name, ms in firsts.items():
        print(f"  {name:36} {ms:7.1f} ms  {ms / baseline:5.2f}x minimal")

    warm(args.requests)


if __name__ == "__main__":
    main()
