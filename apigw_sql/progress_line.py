"""A one-line status while a statement or a check fetches: tables, regions, calls done of those planned,
throttling, elapsed time and, when the rate limiter paces the calls, the time left.

The shell and the command line both draw it. It is drawn by its own thread (the fetch threads only hand
over their counters). On a terminal it is redrawn in place with a carriage return and cleared when the
work ends; elsewhere (a log file, CI) it is written only when asked (``force``), as a plain line every
few seconds, without escape sequences.

>>> from apigw_sql.fetch import Progress
>>> describe(Progress(calls=12, cache_hits=3, throttled=1, tables={"b", "a"}), regions=3, elapsed=1.24)
'fetching a, b · 3 regions · 12 calls · 3 cached · 1 throttling retry · 1.2 s  (Ctrl-C cancels)'
>>> describe(Progress(calls=30, planned_calls=130, rate=10.0, tables={"a"}), regions=None, elapsed=3.0)
'fetching a · 30/130 calls · 3.0 s · about 10 s left  (Ctrl-C cancels)'
"""
from __future__ import annotations

import shutil
import threading
import time
from typing import Any, TextIO


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _duration(seconds: float) -> str:
    """
    >>> _duration(4.2), _duration(75), _duration(3725)
    ('5 s', '1 min 15 s', '1 h 2 min')
    """
    seconds = int(seconds + 0.999)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def remaining_seconds(progress: Any) -> float | None:
    """Seconds the calls still planned take at the rate limiter's pace; None when either is unknown."""
    planned, rate = getattr(progress, "planned_calls", 0), getattr(progress, "rate", 0.0)
    if not planned or not rate or planned <= progress.calls:
        return None
    return (planned - progress.calls) / rate


def describe(progress: Any | None, regions: int | None, elapsed: float, status: str | None = None) -> str:
    """The status line's text (without cursor movement)."""
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
        if planned:
            parts.append(f"{progress.calls}/{planned} call{'' if planned == 1 else 's'}")
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
    left = remaining_seconds(progress) if progress is not None else None
    if left is not None:
        parts.append(f"about {_duration(left)} left")
    return " · ".join(parts) + "  (Ctrl-C cancels)"


class ProgressLine:
    """Use as a context manager around the work; pass `update` as the engine's on_progress.

    Drawn when ``stream`` is a terminal, or always with ``force`` (``--progress``).
    """

    def __init__(self, stream: TextIO, delay: float = 0.3, interval: float = 0.2, force: bool = False,
                 plain_interval: float = 5.0):
        self.stream = stream
        self.in_place = _isatty(stream)
        self.enabled = self.in_place or force
        self.delay = delay
        # Plain lines pile up in a log: fewer of them.
        self.interval = interval if self.in_place else plain_interval
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
        # Entered again for each statement of a script: a fresh line each time.
        self._started = time.monotonic()
        self._stop.clear()
        self._drawn = False
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="apigw-sql-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._drawn and self.in_place:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            if self.in_place or self._has_news():
                self._draw()
                wait = self.interval
            else:  # a plain line is kept: wait until there is something to say (the tables) before writing one
                wait = 0.1
            if self._stop.wait(wait):
                return

    def _has_news(self) -> bool:
        progress = self._progress
        return bool(self.status or (progress is not None and (progress.tables or progress.calls)))

    def _draw(self) -> None:
        text = describe(self._progress, self.regions, time.monotonic() - self._started, self.status)
        if not self.in_place:
            self.stream.write(text.removesuffix("  (Ctrl-C cancels)") + "\n")
            self.stream.flush()
            self._drawn = True
            return
        width = shutil.get_terminal_size().columns
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
