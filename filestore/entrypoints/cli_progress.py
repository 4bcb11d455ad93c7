"""The transfer progress bar: size done of the total, speed and time left, on one line of stderr
redrawn in place (tqdm) and cut to the terminal's width as it is now (a narrow terminal drops
the label, then the bar, never the numbers); silent unless stdout and stderr are terminals.

    report.pdf  45%|█████▌      | 67.5 MiB/150.0 MiB, 45.2 MiB/s, ETA 00:01
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from tqdm import tqdm

from filestore.entrypoints.cli_output import human_size

MIN_BAR = 6  # a bar narrower than this says nothing: the numbers alone are shown
MIN_LABEL = 8


def stats_text(done: int, total: int, rate: float | None, *, compact: bool = False) -> str:
    """`67.5 MiB/150.0 MiB, 45.2 MiB/s, ETA 00:01` (compact: `67.5/150.0 MiB 45.2 MiB/s 00:01`)."""
    speed = f"{human_size(int(rate))}/s" if rate else "? B/s"
    eta = tqdm.format_interval((total - done) / rate) if rate and total else "--:--"
    return _stats(human_size(done), human_size(total), speed, eta, compact=compact)


def _stats(done: str, total: str, speed: str, eta: str, *, compact: bool) -> str:
    if not compact:
        return f"{done}/{total}, {speed}, ETA {eta}"
    number, unit = done.split(" ")
    if total.endswith(f" {unit}"):
        done = number
    return f"{done}/{total} {speed} {eta}"


def _widest(total: int) -> int:
    """The most columns the full numbers of a transfer of `total` bytes take (an hour or more
    left), so that the label and the bar keep their width from one redraw to the next."""
    widest = "1023.9 KiB"
    return len(_stats(widest, human_size(total), f"{widest}/s", "0:00:00", compact=False))


def layout(label: str, done: int, total: int, rate: float | None, width: int) -> tuple[str, str]:
    """The `bar_format` and label (`desc`) that fit `width` columns, most informative first:
    label, bar and full numbers; then a shorter label; then compact numbers; then no bar."""
    percent = "{percentage:3.0f}%"
    for compact in (False, True):
        stats = stats_text(done, total, rate, compact=compact)
        # The full numbers keep one width; the compact ones, for narrow terminals, do not.
        stats = _escaped(stats if compact else stats.ljust(_widest(total)))
        fixed = len("100%|") + len("| ") + len(stats)
        room = width - fixed - MIN_BAR
        if room >= MIN_LABEL + 2:
            shown = label if len(label) + 2 <= room else label[: room - 3] + "…"
            return "{desc}  " + percent + "|{bar}| " + stats, shown
        if room >= 0:
            return percent + "|{bar}| " + stats, ""
    return percent + " " + _escaped(stats_text(done, total, rate, compact=True)), ""


def _escaped(text: str) -> str:
    """Text kept as it is in a `bar_format` (a format string)."""
    return text.replace("{", "{{").replace("}", "}}")


class _Line(tqdm):  # type: ignore[misc]  # tqdm is untyped
    """tqdm, laid out afresh for the terminal's width at each redraw."""

    def __init__(self, label: str, **options: Any) -> None:
        self._label = label  # before tqdm's own init, which draws the first line
        super().__init__(**options)

    @property
    def format_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = super().format_dict
        width = int(values.get("ncols") or 80) - 1  # the last column would wrap some terminals
        done, elapsed = int(values["n"]), float(values["elapsed"] or 0)
        # The smoothed speed, or the average one before there is any (a transfer done at once).
        rate = values["rate"] or (
            (done - int(values["initial"] or 0)) / elapsed if elapsed else None
        )
        bar_format, label = layout(self._label, done, int(values["total"] or 0), rate, width)
        values.update(bar_format=bar_format, prefix=label)
        return values


class Progress:
    """A transfer's progress, safe to add to from several threads (parts go up in parallel).

    `enabled` None: shown only when both stdout and stderr are terminals.
    """

    def __init__(self, label: str, total: int, *, enabled: bool | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 0), 0
        if enabled is None:
            enabled = sys.stderr.isatty() and sys.stdout.isatty()
        self.enabled = enabled
        self._lock = threading.Lock()
        self._line: _Line | None = None
        if enabled:
            self._line = _Line(
                label, total=self.total, file=sys.stderr, dynamic_ncols=True, mininterval=0.1
            )

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            if self._line is not None:
                self._line.update(count)

    def close(self) -> None:
        with self._lock:
            if self._line is not None:
                self._line.close()
                self._line = None
