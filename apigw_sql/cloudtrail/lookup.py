"""aws_cloudtrail_lookup_event: CloudTrail's LookupEvents API (management events of the last 90 days).

LookupEvents takes a time window and at most ONE lookup attribute, answers 50 events a page, and
allows 2 requests/s per account and region. So the WHERE's range on event_time becomes
StartTime/EndTime, and of its equality filters the most selective one with a single value becomes
the attribute; DuckDB applies the rest. An IN list is never fanned out into one read per value: a
read filtered on one value returns part of the window's events, so it never takes more pages than
reading the window, whereas k values take at least k calls however quiet the window is (the
87 actions of cloudtrail_event_enumeration_detected made 87 reads per region where its
benchmark, reading the window once, made one or a few). A read without a lower time bound walks the
whole 90 days: past LONG_READ_PAGES pages it says so on stderr (once per query), and it reports its
progress there every PROGRESS_PAGES pages.
"""
from __future__ import annotations

import sys
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from .layout import parse_time

RETENTION = timedelta(days=90)
PAGE_SIZE = 50
LONG_READ_PAGES = 20     # 1,000 events: 10 s at AWS's 2 requests/s
PROGRESS_PAGES = 20

# Column -> LookupAttributes key, most selective first: the first constrained one is sent.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("event_id", "EventId"), ("access_key_id", "AccessKeyId"), ("resource_name", "ResourceName"),
    ("username", "Username"), ("event_name", "EventName"), ("resource_type", "ResourceType"),
    ("event_source", "EventSource"), ("read_only", "ReadOnly"),
)


def choose_attribute(constraints: dict[str, set[str]]) -> tuple[str, str, list[str]] | None:
    """(column, AttributeKey, [value]) of the one lookup attribute to send ([] when no value can match),
    or None to read the window.

    >>> choose_attribute({"event_source": {"apigateway.amazonaws.com"}, "event_name": {"UpdateStage"}})
    ('event_name', 'EventName', ['UpdateStage'])
    >>> choose_attribute({"event_source": {"apigateway.amazonaws.com"}, "event_name": {"UpdateStage", "DeleteStage"}})
    ('event_source', 'EventSource', ['apigateway.amazonaws.com'])
    >>> choose_attribute({"event_name": {"UpdateStage", "DeleteStage"}}) is None
    True
    >>> choose_attribute({"read_only": {"false"}, "region": {"eu-west-1"}})
    ('read_only', 'ReadOnly', ['false'])
    >>> choose_attribute({"read_only": {"maybe"}}) is None
    True
    """
    for column, key in ATTRIBUTES:
        values = constraints.get(column)
        if values is None:
            continue
        found = sorted(str(v) for v in values)
        if column == "read_only":
            found = sorted({v.lower() for v in found})
            if not set(found) <= {"true", "false"}:
                continue  # not a value LookupEvents understands: let DuckDB filter
        if len(found) > 1:
            continue  # an IN list: reading the window once costs no more than reading it per value
        # One value, or none (contradictory filters: no event can match, and nothing is read).
        return column, key, found
    return None


def time_window(constraints: dict[str, set[str]], bounds: dict[str, Any],
                now: datetime | None = None) -> tuple[datetime | None, datetime | None] | None:
    """(StartTime, EndTime) from event_time filters, clipped to the 90 days LookupEvents keeps.

    None when no event can match (the window is empty or older than 90 days). Start is rounded
    down and end up to the second: LookupEvents' times have seconds, and the window may only grow.

    >>> now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    >>> from apigw_sql.pushdown import Bounds
    >>> time_window({}, {"event_time": Bounds("2026-11-21 10:00:00.5+00", True, None, True)}, now)
    (datetime.datetime(2026, 11, 21, 10, 0, tzinfo=datetime.timezone.utc), None)
    >>> time_window({"event_time": {"2026-11-20 08:00:00"}}, {}, now)[1]
    datetime.datetime(2026, 11, 20, 8, 0, tzinfo=datetime.timezone.utc)
    >>> time_window({}, {"event_time": Bounds(None, True, "2020-01-01", True)}, now) is None
    True
    """
    now = now or datetime.now(timezone.utc)
    start: datetime | None = None
    end: datetime | None = None
    window = bounds.get("event_time")
    if window is not None:
        start, end = parse_time(window.low), parse_time(window.high)
    equal = [t for t in (parse_time(v) for v in constraints.get("event_time", ())) if t is not None]
    if equal and len(equal) == len(constraints["event_time"]):
        start = max(filter(None, (start, min(equal))))
        end = min(filter(None, (end, max(equal))))
    if start is not None:
        start = start.replace(microsecond=0)
        start = max(start, now - RETENTION)
    if end is not None:
        end = end.replace(microsecond=0) + (timedelta(seconds=1) if end.microsecond else timedelta())
        if end < now - RETENTION:
            return None
    if start is not None and end is not None and start > end:
        return None
    return start, end


_warned: weakref.WeakSet[Any] = weakref.WeakSet()  # queries already told about a 90-day read
_warned_lock = threading.Lock()


class _PageProgress:
    """Stands in for the query's QueryFetch during one LookupEvents read to report long reads on stderr."""

    def __init__(self, query: Any, label: str, whole_retention: bool):
        self._query = query
        self._label = label
        self._whole = whole_retention
        self._pages = 0
        self._started = time.monotonic()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._query, name)

    def tick(self, calls: int = 0, cache_hits: int = 0, throttled: int = 0) -> None:
        self._query.tick(calls=calls, cache_hits=cache_hits, throttled=throttled)
        if not calls:
            return
        self._pages += calls
        if self._pages == LONG_READ_PAGES and self._whole:
            with _warned_lock:
                first = self._query not in _warned
                _warned.add(self._query)
            if first:
                print("note: aws_cloudtrail_lookup_event has no lower bound on event_time, so LookupEvents reads "
                      "all of its 90 days at 2 requests/s per region (50 events a page); add e.g. "
                      "WHERE event_time > now() - INTERVAL 1 DAY to read less", file=sys.stderr, flush=True)
        if self._pages % PROGRESS_PAGES == 0:
            elapsed = time.monotonic() - self._started
            print(f"aws_cloudtrail_lookup_event: {self._label}: {self._pages} pages "
                  f"(up to {self._pages * PAGE_SIZE} events) in {elapsed:.0f} s...", file=sys.stderr, flush=True)


def lookup_event_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """Rows function of aws_cloudtrail_lookup_event for one account and region."""
    window = time_window(ctx.constraints, ctx.bounds)
    if window is None:
        return
    start, end = window
    chosen = choose_attribute(ctx.constraints)
    values: list[str | None] = list(chosen[2]) if chosen else [None]
    for value in values:
        params: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if start is not None:
            params["StartTime"] = start
        if end is not None:
            params["EndTime"] = end
        label = ctx.region
        if chosen is not None:
            params["LookupAttributes"] = [{"AttributeKey": chosen[1], "AttributeValue": value}]
            label = f"{ctx.region} {chosen[1]}={value}"
        progress = _PageProgress(ctx.query, label, whole_retention=start is None)
        # Through the executor with a stand-in for the query, so that each page can be reported.
        pages = ctx.fetcher.call(ctx.spec.name, ctx.target, ctx.spec.service, ctx.region, "LookupEvents", params,
                                 progress)
        for page in pages:
            yield from page.get("Events") or []
