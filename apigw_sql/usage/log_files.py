"""Access-log files the user names with ``--access-logs``: which stage each file belongs to.

A source is a folder or an ``s3://bucket/prefix`` (as for CloudTrail log files:
cloudtrail.log_files.LogSource), read recursively. Two layouts are understood, gzip or plain,
one record a line:

- Kinesis Data Firehose delivery: objects named ``STREAM-VERSION-YYYY-MM-DD-HH-MM-SS-RANDOM[.gz]``
  (below ``YYYY/MM/DD/HH/``); the stream ``amazon-apigateway-NAME`` names the stage(s) whose
  destination it is, and each line is one record as the stage's format wrote it.
- CloudWatch Logs export (CreateExportTask): ``PREFIX/TASK/STREAM/000000.gz``, each line
  ``TIMESTAMP RECORD``; a file belongs to the stage whose log group's name (without the leading
  ``/``) appears in its path as folders, e.g. ``exports/aws/apigateway/orders-access/TASK/STREAM/000000.gz``.

A file that matches no stage of the query is not read (it is counted in the fetch log).

A ``request_time`` range narrows the Firehose files read (RequestWindow.wants_firehose): a delivery is
named, and foldered, after the arrival of its oldest record, and holds what arrived in the buffer
interval after it; a record reaches Firehose after its request, within a delivery allowance. An S3
object outside the range is not downloaded either. Export files are not narrowed: their path's dates
are the export task's prefix, which the owner chose, and may say when the export ran rather than
which records it holds (a line's own time is still filtered by DuckDB).

>>> from apigw_sql.usage.stages import StageSource
>>> from apigw_sql.usage.formats import parse_format
>>> s = StageSource("1", "r", "a", "REST", "prod", "arn", "x", parse_format(""), "firehose", "r", "amazon-apigateway-shop")
>>> file_layout("/logs/2026/11/30/10/amazon-apigateway-shop-1-2026-11-30-10-00-00-abc.gz", s)
'firehose'
>>> g = StageSource("1", "r", "a", "REST", "prod", "arn", "x", parse_format(""), "logs", "r", "/aws/apigateway/orders")
>>> file_layout("s3://b/exports/aws/apigateway/orders/1a2b/stream/000000.gz", g)
'export'
>>> file_layout("/logs/aws/apigateway/orders-access/1a2b/stream/000000.gz", g) is None
True
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ..cloudtrail.layout import DELIVERY_MARGIN
from ..cloudtrail.log_files import FoundFile, LogSource, LogSourceError, S3Tree, download_objects
from .stages import StageSource

# Firehose buffers records at most 900 s (its largest buffering interval) from the oldest one's arrival,
# the time a delivery's name and its YYYY/MM/DD/HH/ folder carry.
FIREHOSE_BUFFER = timedelta(seconds=900)
# How long after its request a record may reach Firehose: API Gateway documents no bound, so the
# allowance CloudTrail's files get (layout.DELIVERY_MARGIN). A delivery named this long after a range's
# upper bound is not read.
DELIVERY_ALLOWANCE = DELIVERY_MARGIN
# STREAM-VERSION-YYYY-MM-DD-HH-MM-SS-RANDOM (below the stream name); and the YYYY/MM/DD/HH/ folders.
_FIREHOSE_STAMP = re.compile(r"^\d+-(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)(?:[-.]|$)")
_HOUR_FOLDERS = re.compile(r"(?:^|/)(\d{4})/(\d\d)/(\d\d)/(\d\d)/[^/]+$")

# An export line starts with the event's time (RE2, for DuckDB).
_EXPORT_LINE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z "


@dataclass(frozen=True)
class StageFile:
    """A local copy of a file, the stage it belongs to, and its layout (firehose or export)."""

    path: str
    stage_arn: str
    layout: str


def file_layout(path: str, stage: StageSource) -> str | None:
    """'firehose' or 'export' when the file at `path` holds `stage`'s records, else None."""
    name = path.rsplit("/", 1)[-1]
    stream = stage.firehose_stream
    if stream and name.startswith(stream + "-"):
        return "firehose"
    group = (stage.log_group or "").strip("/")
    if group and f"/{group}/" in "/" + path.replace("\\", "/"):
        return "export"
    return None


def firehose_arrival(path: str, stream: str) -> tuple[datetime, timedelta] | None:
    """(first, span): a Firehose delivery's oldest record arrived in [first, first + span]; None if unknown.

    The name gives the second; without it, the YYYY/MM/DD/HH/ folder gives the hour.

    >>> firehose_arrival("/l/2026/11/30/10/amazon-apigateway-shop-1-2026-11-30-10-17-05-4b1e-9a.gz", "amazon-apigateway-shop")
    (datetime.datetime(2026, 11, 30, 10, 17, 5, tzinfo=datetime.timezone.utc), datetime.timedelta(0))
    >>> firehose_arrival("/l/2026/11/30/10/amazon-apigateway-shop-renamed.gz", "amazon-apigateway-shop")[0].hour
    10
    >>> firehose_arrival("/l/amazon-apigateway-shop-copy.gz", "amazon-apigateway-shop") is None
    True
    """
    path = path.replace("\\", "/")
    name = path.rsplit("/", 1)[-1]
    stamp = _FIREHOSE_STAMP.match(name[len(stream) + 1:]) if name.startswith(stream + "-") else None
    try:
        if stamp:
            return datetime(*map(int, stamp.groups()), tzinfo=timezone.utc), timedelta(0)  # type: ignore[misc]
        folders = _HOUR_FOLDERS.search(path)
        if folders:
            return datetime(*map(int, folders.groups()), tzinfo=timezone.utc), timedelta(hours=1)  # type: ignore[misc]
    except ValueError:  # 2026/13/45: not a time, so no narrowing
        return None
    return None


@dataclass(frozen=True)
class RequestWindow:
    """The request times a query keeps: [low, high], either side open (both inclusive: a superset is fine)."""

    low: datetime | None = None
    high: datetime | None = None

    def wants_firehose(self, path: str, stream: str) -> bool:
        """False only when no record of the Firehose delivery at `path` can have a request time in the window.

        >>> from datetime import datetime, timezone
        >>> w = RequestWindow(datetime(2026, 11, 30, 10, tzinfo=timezone.utc), datetime(2026, 11, 30, 11, tzinfo=timezone.utc))
        >>> def at(folder, stamp):
        ...     return w.wants_firehose(f"l/2026/11/30/{folder}/amazon-apigateway-s-1-2026-11-30-{stamp}-x.gz", "amazon-apigateway-s")
        >>> [at("09", "09-44-59"), at("09", "09-45-00"), at("13", "13-00-00"), at("13", "13-00-01")]  # buffer, allowance
        [False, True, True, False]
        """
        if self.low is not None and self.high is not None and self.low > self.high:
            return False  # the query keeps no time at all
        arrival = firehose_arrival(path, stream)
        if arrival is None:
            return True
        first, span = arrival
        if self.low is not None and first + span + FIREHOSE_BUFFER < self.low:
            return False  # every record arrived, so was requested, before the window
        if self.high is not None and first > self.high + DELIVERY_ALLOWANCE:
            return False  # its oldest record arrived later than a request of the window can have
        return True

    def describe(self) -> dict[str, str | None]:
        """The narrowing, for the fetch log."""
        return {"from": self.low.isoformat() if self.low else None, "to": self.high.isoformat() if self.high else None}


def _local_files(source: LogSource) -> list[FoundFile]:
    found = []
    for folder, dirs, files in os.walk(source.path):
        dirs.sort()
        found += [FoundFile(os.path.join(folder, f)) for f in sorted(files) if not f.startswith(".")]
    return found


def match_files(files: list[FoundFile], stages: list[StageSource], display: Callable[[FoundFile], str]) -> \
        tuple[list[tuple[FoundFile, StageSource, str]], int]:
    """(file, stage, layout) for each file that holds a stage's records, and how many files hold none."""
    matched, unmatched = [], 0
    for file in files:
        hit = next(((s, layout) for s in stages if (layout := file_layout(display(file), s))), None)
        if hit is None:
            unmatched += 1
        else:
            matched.append((file, *hit))
    return matched, unmatched


def in_window(matched: list[tuple[FoundFile, StageSource, str]], window: RequestWindow,
              display: Callable[[FoundFile], str]) -> tuple[list[tuple[FoundFile, StageSource, str]], int]:
    """The matched files that can hold records of the window, and how many cannot (Firehose deliveries only)."""
    kept = [(f, s, layout) for f, s, layout in matched
            if layout != "firehose" or window.wants_firehose(display(f), s.firehose_stream or "")]
    return kept, len(matched) - len(kept)


def collect_stage_files(ctx: Any, text: str, stages: list[StageSource], cache: Any,
                        window: RequestWindow = RequestWindow()) -> tuple[list[StageFile], int, int]:
    """The files of one source that hold the stages' records in `window`, as local paths, the number of files
    that hold no stage's, and the number left out by the window (never downloaded).

    Raises LogSourceError when the source is unusable (CallFailed when an S3 listing fails).
    """
    source = LogSource.parse(text)
    if source.bucket is None:
        matched, unmatched = match_files(_local_files(source), stages, lambda f: f.path)
        matched, outside = in_window(matched, window, lambda f: f.path)
        return [StageFile(f.path, s.arn, layout) for f, s, layout in matched], unmatched, outside
    target = ctx.fetcher.targets()[0]
    bucket = source.bucket

    def call(operation: str, **params: Any) -> list[dict[str, Any]]:
        return ctx.fetcher.call(ctx.spec.name, target, "s3", target.home_region, operation, params, ctx.query)

    listed = S3Tree(bucket, call).files(source.path)
    matched, unmatched = match_files(listed, stages, lambda f: f"s3://{bucket}/{f.path}")
    matched, outside = in_window(matched, window, lambda f: f.path)
    local = download_objects(bucket, [f for f, _, _ in matched], call, cache)
    by_key = {f.path: (s, layout) for f, s, layout in matched}
    result = []
    for path in local:
        key = next((k for k in by_key if path.endswith("/" + k)), None)
        if key is not None:
            stage, layout = by_key[key]
            result.append(StageFile(path, stage.arn, layout))
    return result, unmatched, outside


def lines_sql(paths: list[str], layout: str) -> str:
    """A relation (message, event_time, source) of the lines of `paths`, gzip or plain, read by DuckDB."""
    from ..cloudtrail.record_sql import sql_string

    from .access_log import cache_root

    files = "[" + ", ".join(sql_string(p) for p in paths) + "]"
    root = cache_root().as_posix() + "/"
    # A cached S3 object is ROOT/ETAG/BUCKET/KEY: show it as s3://BUCKET/KEY.
    source = (f"CASE WHEN starts_with(filename, {sql_string(root)}) THEN 's3://' || "
              f"regexp_replace(substr(filename, {len(root) + 1}), '^[^/]+/', '') ELSE filename END")
    # One VARCHAR column a line: a delimiter no log line holds, no quoting, no type detection.
    read = (f"read_csv({files}, columns={{'line': 'VARCHAR'}}, header=false, delim={sql_string(chr(1))}, "
            "quote='', escape='', auto_detect=false, filename=true, compression='auto', "
            "max_line_size=4194304, strict_mode=false)")
    if layout == "export":
        return (f"(SELECT CASE WHEN regexp_matches(line, {sql_string(_EXPORT_LINE)}) THEN "
                f"substr(line, strpos(line, ' ') + 1) ELSE line END AS message, "
                f"CASE WHEN regexp_matches(line, {sql_string(_EXPORT_LINE)}) THEN "
                f"CAST(TRY_CAST(split_part(line, ' ', 1) AS TIMESTAMPTZ) AS TIMESTAMP) END AS event_time, "
                f"{source} AS source FROM {read} WHERE line <> '')")
    return (f"(SELECT line AS message, CAST(NULL AS TIMESTAMP) AS event_time, {source} AS source "
            f"FROM {read} WHERE line <> '')")


__all__ = ["LogSourceError", "RequestWindow", "StageFile", "collect_stage_files", "file_layout", "firehose_arrival",
           "lines_sql", "match_files"]
