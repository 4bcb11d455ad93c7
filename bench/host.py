"""What machine a benchmark ran on: every benchmark prints it beside its numbers."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def describe() -> str:
    """One line: date, CPU, cores, RAM, OS and Python."""
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpu_model()}; {os.cpu_count()} cores; "
        f"{ram_gib()} RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )
