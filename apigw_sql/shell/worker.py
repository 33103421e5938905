"""Run a statement in a worker thread so Ctrl-C in the main thread can cancel it.

On Ctrl-C the connection is interrupted (the fetch raises Cancelled, DuckDB stops its query) and the
worker gets a moment to wind down; a call already on the wire may outlive that moment, so the prompt
comes back anyway and the next statement waits for the worker first.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, TypeVar

from ..ratelimit import Cancelled
from .progress import ProgressLine

T = TypeVar("T")
GRACE = 0.5  # seconds a cancelled worker gets before the prompt returns without it


class CancelToken:
    """Checked by the work between steps (after the connection opens, between a script's statements)."""

    def __init__(self) -> None:
        self.cancelled = False

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled()


class Worker:
    """A thread running one piece of work, and an event that says it ended.

    The main thread waits on the event, not with Thread.join: a Ctrl-C that interrupts join() can
    leave the thread marked as stopped while it still runs (CPython bpo-45274).
    """

    def __init__(self, work: Callable[[CancelToken], Any]):
        self.token = CancelToken()
        self.outcome: dict[str, Any] = {}
        self._work = work
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="apigw-sql-statement", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.outcome["value"] = self._work(self.token)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            self.outcome["error"] = exc
        finally:
            self._done.set()

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)


def run_cancellable(session: Any, work: Callable[[CancelToken], T], line: ProgressLine) -> T:
    """Run work(token) in a worker thread, `line` showing progress; raise Cancelled on Ctrl-C."""
    wait_for_previous(session, line)
    worker = Worker(work)
    session.busy = worker
    worker.start()
    try:
        while not worker.wait(0.05):
            pass
    except KeyboardInterrupt:
        worker.token.cancelled = True
        _wind_down(session, worker, GRACE)
        raise Cancelled() from None
    if "error" in worker.outcome:
        raise worker.outcome["error"]
    return worker.outcome["value"]


def wait_for_previous(session: Any, line: ProgressLine) -> None:
    """Wait for a cancelled statement that is still finishing its last call."""
    worker = session.busy
    if worker is None or not worker.is_alive():
        return
    line.status = "waiting for the cancelled statement to stop"
    try:
        _wind_down(session, worker, None)
    except KeyboardInterrupt:
        raise Cancelled() from None
    finally:
        line.status = None


def _wind_down(session: Any, worker: Worker, grace: float | None) -> None:
    deadline = None if grace is None else time.monotonic() + grace
    while worker.is_alive() and (deadline is None or time.monotonic() < deadline):
        # Interrupt again and again: a statement that had not yet reached the engine when Ctrl-C came
        # would otherwise clear the flag and run on.
        session.interrupt()
        try:
            worker.wait(0.1)
        except KeyboardInterrupt:
            if grace is None:
                raise
