"""The S3 delivery layout of CloudTrail log files, and which files a query's filters can skip.

CloudTrail writes ``AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`` +
``ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_RANDOM.json.gz``: one gzipped ``{"Records": [...]}`` per
file, in the folder of the day it was delivered, named after the minute it was delivered. Every
record in a file happened before the file was delivered, and CloudTrail delivers within minutes;
so a record of time t sits in a file delivered in [t, t + DELIVERY_MARGIN], which is what lets a
time filter skip whole day folders and files. Digest files (``CloudTrail-Digest/``) and Insights
files (``CloudTrail-Insight/``) are not management-event records and never match.

>>> key = log_file_key("123456789012", "eu-west-1", datetime(2024, 3, 5, 23, 58, 41, tzinfo=timezone.utc), "Ab12")
>>> key.split("/")
['AWSLogs', '123456789012', 'CloudTrail', 'eu-west-1', '2024', '03', '05', '123456789012_CloudTrail_eu-west-1_20240305T2358Z_Ab12.json.gz']
>>> found = parse_log_key("s3-mirror/" + key)
>>> found.account_id, found.region, found.day.isoformat(), found.delivered.isoformat()
('123456789012', 'eu-west-1', '2024-03-05', '2024-03-05T23:58:00+00:00')
>>> parse_log_key("AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2024/03/05/x.json.gz") is None
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

# How late CloudTrail may deliver a record after it happened (AWS: "about 5 minutes on average, not
# guaranteed"). A file delivered more than this after a query's upper time bound is skipped.
DELIVERY_MARGIN = timedelta(hours=2)
# A time window longer than this is listed as one recursive listing rather than day by day.
MAX_DAY_LISTINGS = 62

_KEY = re.compile(r"(?:^|/)AWSLogs/(?:(o-[a-z0-9]+)/)?(\d{12})/CloudTrail/([a-z0-9-]+)/"
                  r"(\d{4})/(\d{2})/(\d{2})/([^/]+\.json\.gz)$")
# The same below a known AWSLogs/ folder, anchored at both ends: nothing may come between the two.
_BELOW_ANCHOR = re.compile(r"(?:(o-[a-z0-9]+)/)?(\d{12})/CloudTrail/([a-z0-9-]+)/"
                           r"(\d{4})/(\d{2})/(\d{2})/([^/]+\.json\.gz)")
_DELIVERED = re.compile(r"_(\d{8}T\d{4}Z)_")
ACCOUNT = re.compile(r"^\d{12}$")
ORG = re.compile(r"^o-[a-z0-9]+$")
# The same, for DuckDB: the account and region of a file from its path.
SQL_PATH_PATTERN = r"/AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/"


@dataclass(frozen=True)
class LogKey:
    account_id: str
    region: str
    day: date
    delivered: datetime | None  # the minute in the file name; None when the name does not carry it
    org_id: str | None = None


def log_file_key(account_id: str, region: str, delivered: datetime, suffix: str, org_id: str | None = None) -> str:
    """The key CloudTrail gives a log file delivered at `delivered` (UTC), below the trail's prefix."""
    delivered = delivered.astimezone(timezone.utc)
    org = f"{org_id}/" if org_id else ""
    stamp = delivered.strftime("%Y%m%dT%H%MZ")
    return (f"AWSLogs/{org}{account_id}/CloudTrail/{region}/{delivered:%Y/%m/%d}/"
            f"{account_id}_CloudTrail_{region}_{stamp}_{suffix}.json.gz")


def unsafe_key(key: str) -> str | None:
    """Why an object key cannot be a file below the cache (None when it can).

    A key is not a path: S3 keeps ``a/../b`` as it is written, and joined to a folder it would
    point elsewhere. So a key with an empty, ``.`` or ``..`` segment, a leading ``/``, a backslash
    or a NUL is refused.

    >>> unsafe_key("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/30/x.json.gz") is None
    True
    >>> unsafe_key("AWSLogs/1/CloudTrail/us-east-1/2026/11/30/../../../tmp/x.json.gz")
    "a '..' segment"
    >>> unsafe_key("/etc/x.json.gz"), unsafe_key("a//b.json.gz")
    ('an empty segment (a leading, doubled or trailing /)', 'an empty segment (a leading, doubled or trailing /)')
    """
    if "\\" in key or "\0" in key:
        return "a backslash or NUL"
    for segment in key.split("/"):
        if segment in (".", ".."):
            return f"a {segment!r} segment"
        if not segment:
            return "an empty segment (a leading, doubled or trailing /)"
    return None


def parse_log_key(path: str, anchor: str | None = None) -> LogKey | None:
    """Account, region, day folder and delivery minute of a log file path; None if not a log file.

    With `anchor` (an ``AWSLogs/`` prefix the path was listed below) the path must be exactly
    ``anchor`` + the delivery layout; without it, the layout is searched for in the path.

    >>> key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/30/x.json.gz"
    >>> parse_log_key("m/" + key, anchor="m/AWSLogs/").region
    'us-east-1'
    >>> parse_log_key("m/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/30/y/" + key, anchor="m/AWSLogs/") is None
    True
    """
    if anchor is not None:
        if not path.startswith(anchor):
            return None
        match = _BELOW_ANCHOR.fullmatch(path[len(anchor):])
    else:
        match = _KEY.search(path.replace("\\", "/"))
    if match is None:
        return None
    org, account, region, year, month, day, name = match.groups()
    try:
        folder = date(int(year), int(month), int(day))
    except ValueError:
        return None
    delivered = None
    stamp = _DELIVERED.search(name)
    if stamp:  # YYYYMMDDTHHMMZ, parsed by hand: strptime costs more than the rest of a listing
        s = stamp.group(1)
        try:
            delivered = datetime(int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[9:11]), int(s[11:13]),
                                 tzinfo=timezone.utc)
        except ValueError:
            delivered = None
    return LogKey(account, region, folder, delivered, org)


def parse_time(value: Any) -> datetime | None:
    """A bound as DuckDB evaluated it ('2024-03-05', '2026-11-21 10:00:00+00') as aware UTC; None if unreadable.

    >>> parse_time("2026-11-21 10:00:00.5+00")
    datetime.datetime(2026, 11, 21, 10, 0, 0, 500000, tzinfo=datetime.timezone.utc)
    >>> parse_time("2024-03-05")
    datetime.datetime(2024, 3, 5, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_time("yesterday") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class TimeWindow:
    """Event times a query can keep: [low, high], either side open; both inclusive (a superset is fine)."""

    low: datetime | None = None
    high: datetime | None = None

    @classmethod
    def from_bounds(cls, bounds: Any) -> TimeWindow:
        """From a pushdown.Bounds on event_time (or None)."""
        if bounds is None:
            return cls()
        return cls(parse_time(bounds.low), parse_time(bounds.high))

    @property
    def empty(self) -> bool:
        return self.low is not None and self.high is not None and self.low > self.high

    def days(self) -> list[date] | None:
        """The day folders that can hold the window's records, or None when the window is open or long.

        >>> w = TimeWindow(datetime(2024, 3, 5, tzinfo=timezone.utc), datetime(2024, 3, 5, 23, 59, tzinfo=timezone.utc))
        >>> [d.isoformat() for d in w.days()]
        ['2024-03-05', '2024-03-06']
        """
        if self.low is None or self.high is None:
            return None
        if self.empty:
            return []
        first, last = self.low.date(), (self.high + DELIVERY_MARGIN).date()
        count = (last - first).days + 1
        if count > MAX_DAY_LISTINGS:
            return None
        return [first + timedelta(days=i) for i in range(count)]

    def wants_day(self, day: date) -> bool:
        if self.empty:
            return False
        if self.low is not None and day < self.low.date():
            return False
        if self.high is not None and day > (self.high + DELIVERY_MARGIN).date():
            return False
        return True

    def wants_days(self, first: date, last: date) -> bool:
        """Whether any day folder from `first` to `last` can hold the window's records."""
        if self.empty:
            return False
        if self.low is not None and last < self.low.date():
            return False
        if self.high is not None and first > (self.high + DELIVERY_MARGIN).date():
            return False
        return True

    def wants_file(self, key: LogKey) -> bool:
        """False only when no record of the file can fall in the window.

        >>> def at(hh, mm):
        ...     return datetime(2024, 3, 5, hh, mm, tzinfo=timezone.utc)
        >>> window = TimeWindow(at(10, 0), at(11, 0))
        >>> files = [parse_log_key(log_file_key("123456789012", "us-east-1", at(*t), "x"))
        ...          for t in ((9, 58), (9, 59), (10, 0), (11, 0), (13, 0), (13, 1))]
        >>> [window.wants_file(f) for f in files]  # 09:59 ends before 10:00; 13:00 is 11:00 + the margin
        [False, False, True, True, True, False]
        """
        if not self.wants_day(key.day):
            return False
        if key.delivered is None:
            return True
        # The name has minute precision: the file holds records from before the end of that minute.
        if self.low is not None and key.delivered + timedelta(minutes=1) <= self.low:
            return False
        if self.high is not None and key.delivered > self.high + DELIVERY_MARGIN:
            return False
        return True

    def start_after(self) -> str | None:
        """The day-folder suffix (YYYY/MM/DD/) a listing can start after, or None."""
        if self.low is None:
            return None
        return (self.low.date() - timedelta(days=1)).strftime("%Y/%m/%d/~")


@dataclass(frozen=True)
class LogFilter:
    """Which accounts, regions and times a query keeps (None: all)."""

    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    window: TimeWindow = TimeWindow()

    @classmethod
    def from_pushdown(cls, constraints: dict[str, set[str]], bounds: dict[str, Any]) -> LogFilter:
        def values(column: str) -> frozenset[str] | None:
            found = constraints.get(column)
            return frozenset(str(v) for v in found) if found is not None else None

        window = TimeWindow.from_bounds(bounds.get("event_time"))
        equal = [parse_time(v) for v in constraints.get("event_time", ())]
        if equal and all(e is not None for e in equal):  # event_time = x / IN (...): a window too
            low = max(t for t in (window.low, min(equal)) if t is not None)  # type: ignore[type-var]
            high = min(t for t in (window.high, max(equal)) if t is not None)  # type: ignore[type-var]
            window = TimeWindow(low, high)
        return cls(values("account_id"), values("region"), window)

    def wants_account(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts

    def wants_region(self, region: str) -> bool:
        return self.regions is None or region in self.regions

    def wants(self, key: LogKey) -> bool:
        return self.wants_account(key.account_id) and self.wants_region(key.region) and self.window.wants_file(key)

    def describe(self) -> dict[str, Any]:
        """The narrowing, for the fetch log."""
        w = self.window
        return {"accounts": sorted(self.accounts) if self.accounts is not None else None,
                "regions": sorted(self.regions) if self.regions is not None else None,
                "from": w.low.isoformat() if w.low else None, "to": w.high.isoformat() if w.high else None}
