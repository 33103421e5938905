"""A one-line status on the terminal while a statement fetches: tables, regions, calls (of those planned,
with the time the quotas need for the rest), throttling.

It is drawn by its own thread (the fetch threads only hand over their counters), redrawn in place with
a carriage return, cleared when the statement ends, and never written when the stream is not a TTY.

>>> from apigw_sql.fetch import Progress
>>> describe(Progress(calls=12, cache_hits=3, throttled=1, tables={"b", "a"}), regions=3, elapsed=1.24)
'fetching a, b · 3 regions · 12 calls · 3 cached · 1 throttling retry · 1.2 s  (Ctrl-C cancels)'
>>> describe(Progress(calls=40, planned_calls=90, rate=2.5, tables={"a"}), regions=None, elapsed=3.0)
'fetching a · 40/90 calls · about 20 s left · 3.0 s  (Ctrl-C cancels)'
"""
from __future__ import annotations

import shutil
import threading
import time
from typing import Any, TextIO


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def describe(progress: Any | None, regions: int | None, elapsed: float, status: str | None = None) -> str:
    parts: list[str] = []
    if status:
        parts.append(status)
    if progress is not None and progress.tables:
        tables = sorted(progress.tables)
        shown = ", ".join(tables[:2]) + (f" +{len(tables) - 2}" if len(tables) > 2 else "")
        parts.append(f"fetching {shown}")
        if regions:
            parts.append(_plural(regions, "region"))
    if progress is not None:
        planned = getattr(progress, "planned_calls", 0)
        if planned > progress.calls:  # the calls known to be needed, and when the quotas let them finish
            parts.append(f"{progress.calls}/{planned} calls")
            rate = getattr(progress, "rate", 0.0)
            if rate > 0:
                parts.append(f"about {(planned - progress.calls) / rate:.0f} s left")
        else:
            parts.append(_plural(progress.calls, "call"))
        if progress.cache_hits:
            parts.append(f"{progress.cache_hits} cached")
        if progress.throttled:
            parts.append(_plural(progress.throttled, "throttling retry", "throttling retries"))
        if progress.failed:
            parts.append(f"{progress.failed} failed")
    if not parts:
        parts.append("running")
    parts.append(f"{elapsed:.1f} s")
    return " · ".join(parts) + "  (Ctrl-C cancels)"


class ProgressLine:
    """Use as a context manager around a statement; pass `update` as the engine's on_progress."""

    def __init__(self, stream: TextIO, delay: float = 0.3, interval: float = 0.2):
        self.stream = stream
        self.enabled = _isatty(stream)
        self.delay = delay
        self.interval = interval
        self.regions: int | None = None
        self.status: str | None = None
        self._progress: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        self._started = 0.0

    def update(self, progress: Any) -> None:
        self._progress = progress

    def __enter__(self) -> ProgressLine:
        self._started = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="apigw-sql-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            self._draw()
            if self._stop.wait(self.interval):
                return

    def _draw(self) -> None:
        width = shutil.get_terminal_size().columns
        text = describe(self._progress, self.regions, time.monotonic() - self._started, self.status)
        if len(text) >= width:
            text = text[: max(width - 2, 1)] + "…"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._drawn = True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
