"""Where CloudTrail records go once built: a fan-out to sinks, and the in-memory store LookupEvents reads.

`EventRecorder.record(record)` is the one entry point. A sink is anything with `record(record: dict)`;
a second sink (say, one that writes CloudTrail log files into a trail's S3 bucket) is added with
`add_sink` without touching how records are built or looked up.
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Protocol


class EventSink(Protocol):
    def record(self, record: dict[str, Any]) -> None: ...


class EventRecorder:
    """Passes each complete CloudTrail record to every sink."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks: list[EventSink] = list(sinks)

    def add_sink(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def record(self, record: dict[str, Any]) -> None:
        for sink in self._sinks:
            sink.record(record)


def parse_event_time(value: Any) -> datetime:
    """A record's eventTime (ISO 8601 string, datetime or epoch seconds) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(order=True)
class StoredEvent:
    time: datetime
    seq: int
    record: dict[str, Any] = field(compare=False)


class MemoryEventStore:
    """Records per region, kept ordered by event time (planted records may be in the past).

    Bounded per region so that a sandbox left running under load does not grow without limit.
    """

    def __init__(self, max_per_region: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._by_region: dict[str, list[StoredEvent]] = {}
        self._seq = 0
        self._max = max_per_region
        # Events planted by tests (the control endpoint): every account's LookupEvents shows them, as
        # before the sandbox served several accounts; recorded calls are their account's alone.
        self._planted: set[str] = set()

    def mark_planted(self, event_id: str) -> None:
        with self._lock:
            self._planted.add(event_id)

    def is_planted(self, event_id: str | None) -> bool:
        return event_id in self._planted

    def record(self, record: dict[str, Any]) -> None:
        region = record.get("awsRegion") or "us-east-1"
        with self._lock:
            self._seq += 1
            events = self._by_region.setdefault(region, [])
            bisect.insort(events, StoredEvent(parse_event_time(record["eventTime"]), self._seq, record))
            if len(events) > self._max:
                del events[: len(events) - self._max]

    def newest_first(self, region: str) -> Iterator[StoredEvent]:
        """A snapshot of the region's events, newest first."""
        with self._lock:
            snapshot = list(self._by_region.get(region, ()))
        return reversed(snapshot)

    def clear(self) -> None:
        with self._lock:
            self._by_region.clear()
            self._planted.clear()
