"""boto3 clients, made once per process and shared by the AWS adapters.

A Lambda execution environment (or a `filestore serve` process) keeps one boto3 session and one
client per service and endpoint: creating them costs tens of milliseconds and their connection
pools only help when reused. boto3 clients are thread-safe, so the adapters call them from worker
threads (`asyncio.to_thread`) to keep blocking network calls off the event loop.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode: bounded exponential back-off with jitter for throttling and 5xx answers.
RETRIES = {"mode": "standard", "max_attempts": 3}

_lock = threading.Lock()


@functools.cache
def session(region: str | None = None) -> boto3.Session:
    """The process's boto3 session for `region` (None: the environment's default region)."""
    return boto3.Session(region_name=region)


def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_pool_connections: int = 10,
) -> Any:
    """The process's client for `service` at `endpoint_url` (None: AWS's own endpoint).

    With an endpoint URL (LocalStack, moto) S3 is addressed path-style, since those emulators
    answer on one host; on AWS it is virtual-hosted, as S3 prefers.
    """
    return _client(service, region, endpoint_url, max_pool_connections)


@functools.cache
def _client(
    service: str, region: str | None, endpoint_url: str | None, max_pool_connections: int
) -> Any:
    config = Config(
        retries=RETRIES,
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=max_pool_connections,
        signature_version="s3v4" if service == "s3" else None,
        s3={"addressing_style": "path" if endpoint_url else "virtual"},
    )
    # Sessions are not thread-safe; creating clients from one must not race.
    with _lock:
        return session(region).client(service, endpoint_url=endpoint_url, config=config)
