"""aws_api_gateway_access_log and aws_api_gateway_access_log_source: API Gateway access logs in SQL.

Each REST and v2 stage (stages.stage_sources) is read where its records are:

1. files the user names (``--access-logs`` or ``access_logs = [...]`` in the config file), when some
   hold the stage's records (log_files); DuckDB reads them itself, one line a record;
2. else the CloudWatch Logs group its ``accessLogSettings.destinationArn`` names: FilterLogEvents,
   10,000 events a page (the calls are the pages needed: no call per stream or per record), with
   the query's ``request_time`` range as startTime/endTime (widened by TIME_MARGIN: the event's
   timestamp is when the record was written, not when the request came) and its equality or IN
   filters on ``status`` or ``source_ip`` as a filter pattern in the stage's own key names. A pattern
   only ever reads less: DuckDB applies the whole WHERE (and some servers ignore JSON patterns).

Records are mapped to columns by each stage's own format (record_sql.stage_select). CloudWatch
events are loaded into DuckDB once per query; records that do not parse are counted in the fetch
log (ParseAccessLogs, error UnparsedRecords), per stage: from the loaded events, and for files by a
read of the parse alone while they are small (COUNT_FILE_BYTES; above it the entry says NotCounted). aws_api_gateway_access_log_source says,
per stage, where its records are read from and why they cannot be (no access logging, a missing
log group, a Firehose stream without files): the usage controls skip those stages.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..catalog import ColumnSpec
from ..cloudtrail.layout import parse_time
from ..cloudtrail.log_files import LogSourceError, report_problem
from ..private_files import cache_root as log_cache_root
from ..cloudtrail.log_files import configured_sources as log_sources
from ..cloudtrail.record_sql import empty_select, replace_relation, sql_string
from ..fetch import CallFailed, CallRecord, CredentialsError, ExpectedError
from .formats import FormatSpec
from .log_files import RequestWindow, StageFile, collect_stage_files, lines_sql
from .record_sql import StageConstants, stage_select
from .stages import StageSource, stage_sources

PAGE_SIZE = 10_000
# The answers that say a log group cannot be read at all (it is gone, or the caller may not read it): a
# stage logging there is skipped with the reason, not an error. Throttling and server errors stay errors.
UNREADABLE = frozenset({"AccessDeniedException", "AccessDenied", "ResourceNotFoundException"})
TIME_MARGIN = timedelta(minutes=15)
# The files of a stage whose records that do not parse are counted ahead of the query, at most (on disk):
# the count is a second read of the parse, worth it while it takes well under a second.
COUNT_FILE_BYTES = 4 * 1024 * 1024
_CLOUDWATCH = "__apigw_sql_access_log_cloudwatch"
_STAGED = "__apigw_sql_access_log_events"


# ---- sources -----------------------------------------------------------------------------------

def cache_root() -> Any:
    """Where downloaded access-log objects are cached (beside the CloudTrail logs')."""
    return log_cache_root("access-logs")


def configured_sources(config: Any) -> list[str]:
    """The access-log file sources: the connection's option, else the config file's access_logs (else none)."""
    return log_sources(config, "access_logs")


def _unparsed(unparsed: int, total: int) -> dict[str, str | None]:
    """The error columns of a ParseAccessLogs fetch-log entry: set when some records do not parse."""
    if not unparsed:
        return {"error_code": None, "error_message": None}
    return {"error_code": "UnparsedRecords",
            "error_message": f"{unparsed} of {total} records do not parse by the stage's access-log format"}


def _problem(ctx: Any, code: str, message: str) -> None:
    report_problem(ctx, code, message, "ReadAccessLogFiles")


def stage_files(ctx: Any, stages: list[StageSource]) -> dict[str, list[StageFile]] | None:
    """Stage ARN -> its files in the configured sources that can hold the query's request_time range (Firehose
    deliveries are narrowed by their time: log_files.RequestWindow); None when no source is configured."""
    try:
        sources = configured_sources(ctx.fetcher.config)
    except LogSourceError as problem:
        _problem(ctx, problem.code, str(problem))
        return None
    if not sources:
        return None
    found: dict[str, list[StageFile]] = {}
    window = request_window(ctx.bounds, ctx.constraints)
    for text in sources:
        started_at, started = datetime.now(timezone.utc).replace(tzinfo=None), time.monotonic()
        try:
            files, unmatched, outside = collect_stage_files(ctx, text, stages, cache_root(), window)
        except LogSourceError as problem:
            _problem(ctx, problem.code, str(problem))
            continue
        except CredentialsError as problem:
            _problem(ctx, "LogSourceCredentials", f"{text}: {problem}")
            continue
        except CallFailed:
            continue  # an S3 listing failed: the executor reported it
        for f in files:
            found.setdefault(f.stage_arn, []).append(f)
        params = json.dumps({"source": text, "files_of_no_stage": unmatched, "files_outside_window": outside,
                             **window.describe()})
        ctx.fetcher.note(CallRecord(table=ctx.spec.name, service="s3" if text.startswith("s3://") else "local",
                                    operation="ReadAccessLogFiles", account_id="", region="", params=params,
                                    started_at=started_at, duration_ms=(time.monotonic() - started) * 1000,
                                    items=len(files), throttled_retries=0))
    return found


# ---- pushdown ----------------------------------------------------------------------------------

def request_window(bounds: dict[str, Any], constraints: dict[str, set[str]]) -> RequestWindow:
    """The request times the query's request_time filters keep (low > high when none).

    >>> from apigw_sql.pushdown import Bounds
    >>> request_window({"request_time": Bounds("2026-11-30 10:00:00", True, None, False)}, {}).describe()
    {'from': '2026-11-30T10:00:00+00:00', 'to': None}
    """
    start = end = None
    window = bounds.get("request_time")
    if window is not None:
        start, end = parse_time(window.low), parse_time(window.high)
    equal = [t for t in (parse_time(v) for v in constraints.get("request_time", ())) if t is not None]
    if equal and len(equal) == len(constraints["request_time"]):
        start = max(filter(None, (start, min(equal))))
        end = min(filter(None, (end, max(equal))))
    return RequestWindow(start, end)


def time_range(bounds: dict[str, Any], constraints: dict[str, set[str]]) -> tuple[int | None, int | None] | None:
    """FilterLogEvents' (startTime, endTime) in epoch ms from request_time filters; None when nothing can match.

    >>> from apigw_sql.pushdown import Bounds
    >>> time_range({"request_time": Bounds("2026-11-30 10:00:00", True, "2026-11-30 11:00:00", False)}, {})  # 09:45 to 11:15
    (1796031900000, 1796037300000)
    >>> time_range({}, {}) == (None, None)
    True
    """
    window = request_window(bounds, constraints)
    start, end = window.low, window.high
    if start is not None and end is not None and start > end:
        return None
    return ((int((start - TIME_MARGIN).timestamp() * 1000) if start else None),
            (int((end + TIME_MARGIN).timestamp() * 1000) if end else None))


def _json_term(path: tuple[str, ...], value: str, quoted: bool) -> str:
    selector = "$." + ".".join(path)
    if not quoted and value.lstrip("-").isdigit():
        return f"{selector} = {value}"
    return f"{selector} = {json.dumps(value)}"


def filter_pattern(spec: FormatSpec, constraints: dict[str, set[str]]) -> str | None:
    """A FilterLogEvents pattern for the status and source_ip filters, in the stage's own key names.

    It may keep more events than the WHERE (DuckDB still filters), never fewer.

    >>> from apigw_sql.usage.formats import parse_format
    >>> json_format = parse_format('{"ip": "$context.identity.sourceIp", "status": "$context.status"}')
    >>> filter_pattern(json_format, {"status": {"403", "401"}, "source_ip": {"10.0.0.1"}})
    '{ ($.status = "401" || $.status = "403") && ($.ip = "10.0.0.1") }'
    >>> clf = parse_format('$context.identity.sourceIp [$context.requestTime] $context.status')
    >>> filter_pattern(clf, {"status": {"403", "401"}})
    '?"401" ?"403"'
    >>> filter_pattern(clf, {"status": {"403"}, "source_ip": {"10.0.0.1"}})
    '"10.0.0.1"'
    """
    wanted = [(c, sorted(str(v) for v in constraints[c])) for c in ("status", "source_ip")
              if constraints.get(c) and spec.variable_for(c)]
    if not wanted or spec.kind == "unparseable":
        return None
    if spec.kind == "json":
        clauses = []
        for column, values in wanted:
            variable = spec.variable_for(column)[0]
            path = spec.fields[variable]
            assert isinstance(path, tuple)
            terms = [_json_term(path, v, spec.quoted.get(variable, True)) for v in values]
            clauses.append("(" + " || ".join(terms) + ")")
        return "{ " + " && ".join(clauses) + " }"
    # Text: terms match anywhere in the record, so one column is enough (the most selective: the IP).
    column, values = wanted[-1]
    if any('"' in v for v in values):
        return None
    if len(values) == 1:
        return json.dumps(values[0])
    return " ".join("?" + json.dumps(v) for v in values)


# ---- CloudWatch Logs ---------------------------------------------------------------------------

@dataclass
class GroupRead:
    """One log group read for the stages that write to it."""

    account_id: str
    region: str
    name: str
    stages: list[StageSource] = field(default_factory=list)


def _groups(stages: list[StageSource]) -> list[GroupRead]:
    groups: dict[tuple[str, str, str], GroupRead] = {}
    for stage in stages:
        if stage.log_group is None:
            continue
        key = (stage.account_id, stage.destination_region or stage.region, stage.log_group)
        groups.setdefault(key, GroupRead(*key)).stages.append(stage)
    return list(groups.values())


def read_group(ctx: Any, group: GroupRead, window: tuple[int | None, int | None]) -> list[dict[str, Any]]:
    """The events of a log group in the window (every page), or [] when the group does not exist."""
    targets = {t.account_id: t for t in ctx.fetcher.targets()}
    target = targets.get(group.account_id)
    if target is None:
        return []
    params: dict[str, Any] = {"logGroupName": group.name, "limit": PAGE_SIZE}
    start, end = window
    if start is not None:
        params["startTime"] = max(start, 0)
    if end is not None:
        params["endTime"] = max(end, 0)
    patterns = {filter_pattern(s.format, ctx.constraints) for s in group.stages}
    if len(patterns) == 1 and None not in patterns:
        params["filterPattern"] = patterns.pop()
    try:
        pages = ctx.fetcher.call(ctx.spec.name, target, "logs", group.region, "FilterLogEvents", params, ctx.query,
                                 UNREADABLE)
    except ExpectedError as denied:
        # The group does not exist or may not be read: aws_api_gateway_access_log_source says so (and the
        # usage controls skip its stages); the failed call is in the fetch log.
        if denied.code != "ResourceNotFoundException":
            print(f"warning: {ctx.spec.name}: log group {group.name} ({group.region}) cannot be read "
                  f"({denied.code}: {denied.message}): its stages have no records here", file=sys.stderr, flush=True)
        return []
    except CallFailed:
        return []  # reported by the executor: throttled past the wait, a server error...
    return [e for page in pages for e in page.get("events") or []]


def _warn_format(ctx: Any, stage: StageSource) -> None:
    print(f"warning: {ctx.spec.name}: the access-log format of stage {stage.stage} of API {stage.api_id} "
          f"({stage.region}) cannot be parsed ({stage.format.problem}): its records are kept as raw text, "
          "with parse_error set", file=sys.stderr, flush=True)


@dataclass
class AccessLogRecords:
    """A provider: CloudWatch events staged in DuckDB, files read by DuckDB, mapped by each stage's format."""

    columns: tuple[ColumnSpec, ...]
    events: list[tuple[str, str, datetime | None, str]] = field(default_factory=list)  # key, message, time, group
    event_stages: list[tuple[StageSource, str, bool]] = field(default_factory=list)  # stage, key, shared group
    files: list[tuple[StageSource, list[StageFile]]] = field(default_factory=list)
    note: Any = None  # callable(CallRecord) that adds to the fetch log
    table: str = "aws_api_gateway_access_log"

    def _cloudwatch(self, con: Any) -> str | None:
        if not self.events or not self.event_stages:
            return None
        import pyarrow as pa

        staged = pa.table({"key": [e[0] for e in self.events], "message": [e[1] for e in self.events],
                           "event_time": pa.array([e[2] for e in self.events], type=pa.timestamp("ms")),
                           "source": [e[3] for e in self.events]})
        selects = []
        for stage, key, shared in self.event_stages:
            source = f"(SELECT message, event_time, source FROM {_STAGED} WHERE key = {sql_string(key)})"
            selects.append(stage_select(stage.format, _constants(stage), source, self.columns, shared))
        con.register(_STAGED, staged)
        try:
            replace_relation(con, _CLOUDWATCH, "TABLE", " UNION ALL ".join(selects))
        finally:
            con.unregister(_STAGED)
        self._count_unparsed(con)
        return _CLOUDWATCH

    def _count_unparsed(self, con: Any) -> None:
        if self.note is None:
            return
        rows = con.execute(f"SELECT account_id, region, api_id, stage, count(*), count(parse_error) "
                           f"FROM {_CLOUDWATCH} GROUP BY ALL ORDER BY ALL").fetchall()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for account, region, api_id, stage, total, unparsed in rows:
            self.note(CallRecord(table=self.table, service="logs", operation="ParseAccessLogs", account_id=account,
                                 region=region, params=json.dumps({"api_id": api_id, "stage": stage,
                                                                   "unparsed": unparsed}),
                                 started_at=now, duration_ms=0.0, items=total, throttled_retries=0,
                                 **_unparsed(unparsed, total)))

    def _count_unparsed_files(self, con: Any, stage: StageSource, files: list[StageFile], selects: list[str]) -> None:
        """A ParseAccessLogs fetch-log entry for a stage's files: how many of their records do not parse.

        The files are a view DuckDB reads when a query does, and a view cannot report what it read; so
        the count is a read of its own, of the parse alone (DuckDB computes only parse_error), made
        while the files are at most COUNT_FILE_BYTES on disk. Above that the entry says they were not
        counted, and how to count them: the query's own scan is not read twice.
        """
        if self.note is None or not selects:
            return
        started_at, started = datetime.now(timezone.utc).replace(tzinfo=None), time.monotonic()
        size = sum(_file_size(f.path) for f in files)
        params = json.dumps({"api_id": stage.api_id, "stage": stage.stage, "files": len(files), "bytes": size})
        service = "s3" if all(f.path.startswith(cache_root().as_posix() + "/") for f in files) else "local"

        def note(items: int, error_code: str | None, error_message: str | None) -> None:
            self.note(CallRecord(table=self.table, service=service, operation="ParseAccessLogs",
                                 account_id=stage.account_id, region=stage.region, params=params, started_at=started_at,
                                 duration_ms=(time.monotonic() - started) * 1000, items=items, throttled_retries=0,
                                 error_code=error_code, error_message=error_message))

        if size > COUNT_FILE_BYTES:
            note(0, "NotCounted", f"{len(files)} files of {size} bytes: records that do not parse are not counted "
                                  f"ahead of the query (above {COUNT_FILE_BYTES} bytes); count them with "
                                  f"SELECT count(*) FROM {self.table} WHERE parse_error IS NOT NULL")
            return
        import duckdb

        try:
            total, unparsed = con.execute(f"SELECT count(*), count(parse_error) FROM "
                                          f"({' UNION ALL '.join(selects)})").fetchone()
        except duckdb.Error as problem:  # an unreadable file: the query says so when it reads the view
            note(0, "NotCounted", " ".join(str(problem).split())[:300])
            return
        note(total, **_unparsed(unparsed, total))

    def to_duckdb(self, con: Any, name: str) -> None:
        selects = []
        staged = self._cloudwatch(con)
        if staged is not None:
            selects.append(f"SELECT * FROM {staged}")
        for stage, files in self.files:
            mine = []
            for layout in ("firehose", "export"):
                paths = [f.path for f in files if f.layout == layout]
                if paths:
                    mine.append(stage_select(stage.format, _constants(stage), lines_sql(paths, layout),
                                             self.columns))
            self._count_unparsed_files(con, stage, files, mine)
            selects += mine
        sql = " UNION ALL ".join(selects) if selects else empty_select(self.columns)
        replace_relation(con, name, "VIEW", sql)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _constants(stage: StageSource) -> StageConstants:
    return StageConstants(stage.account_id, stage.region, stage.api_id, stage.stage)


def access_log_rows(ctx: Any) -> AccessLogRecords:
    """Rows function of aws_api_gateway_access_log: a provider over the stages' records."""
    provider = AccessLogRecords(ctx.spec.columns, note=ctx.fetcher.note, table=ctx.spec.name)
    stages = stage_sources(ctx)
    for stage in stages:
        if stage.destination_arn and stage.format.kind == "unparseable":
            _warn_format(ctx, stage)
    files = stage_files(ctx, stages) or {}
    for stage in stages:
        if files.get(stage.arn):
            provider.files.append((stage, files[stage.arn]))
    window = time_range(ctx.bounds, ctx.constraints)
    if window is None:
        return provider
    from_logs = [s for s in stages if s.log_group and not files.get(s.arn)]
    for group in _groups(from_logs):
        events = read_group(ctx, group, window)
        if not events:
            continue
        key = f"{group.account_id}|{group.region}|{group.name}"
        provider.events += [(key, e.get("message") or "", _event_time(e.get("timestamp")), group.name)
                            for e in events if (e.get("message") or "").strip()]
        shared = len(group.stages) > 1
        own = [s for s in group.stages if {"api_id", "stage"} <= set(s.format.columns())]
        if shared and len(own) < len(group.stages):
            # Records that do not name their API and stage cannot be told apart: the first stage takes them.
            print(f"warning: {ctx.spec.name}: log group {group.name} ({group.region}) is written by "
                  f"{len(group.stages)} stages whose formats lack $context.apiId or $context.stage; its records "
                  f"are shown once, as stage {group.stages[0].stage} of API {group.stages[0].api_id}",
                  file=sys.stderr, flush=True)
            provider.event_stages.append((group.stages[0], key, False))
        else:
            provider.event_stages += [(s, key, shared) for s in group.stages]
    return provider


def _event_time(ms: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# ---- aws_api_gateway_access_log_source ---------------------------------------------------------

def _group_state(ctx: Any, stage: StageSource) -> tuple[bool, str]:
    """(readable, why) of a stage's CloudWatch Logs group: one DescribeLogGroups per group, cached."""
    targets = {t.account_id: t for t in ctx.fetcher.targets()}
    target = targets.get(stage.account_id)
    group, region = stage.log_group or "", stage.destination_region or stage.region
    if target is None:
        return False, f"its log group {group} is in account {stage.account_id}, which this session does not read"
    try:
        pages = ctx.fetcher.call(ctx.spec.name, target, "logs", region, "DescribeLogGroups",
                                 {"logGroupNamePrefix": group}, ctx.query, UNREADABLE)
    except ExpectedError as denied:
        return False, f"its log group {group} cannot be read ({denied.code}: {denied.message})"
    except CallFailed as failed:
        return False, f"its log group {group} cannot be read ({failed})"
    names = {g.get("logGroupName") for page in pages for g in page.get("logGroups") or []}
    if group not in names:
        return False, f"its log group {group} does not exist in {region}"
    # Seeing a group is not reading it (logs:DescribeLogGroups and logs:FilterLogEvents are separate
    # permissions): one FilterLogEvents over a millisecond of 1970, which holds no event, asks (not
    # millisecond 0, which some servers read as no bound).
    try:
        ctx.fetcher.call(ctx.spec.name, target, "logs", region, "FilterLogEvents",
                         {"logGroupName": group, "startTime": 1, "endTime": 1, "limit": 1}, ctx.query, UNREADABLE)
    except ExpectedError as denied:
        return False, f"its log group {group} cannot be read (FilterLogEvents: {denied.code}: {denied.message})"
    except CallFailed as failed:
        # Throttled past the wait, a server error: the executor reports it, so the controls show an error;
        # the stage is not called readable either, lest it pass as read with no finding.
        return False, f"its log group {group} could not be read this time (FilterLogEvents: {failed})"
    return True, f"its records are read from CloudWatch Logs group {group} ({region})"


def source_rows(ctx: Any) -> list[dict[str, Any]]:
    """Rows function of aws_api_gateway_access_log_source: one row per stage, where its records are read."""
    stages = stage_sources(ctx)
    files = stage_files(ctx, stages)
    rows = []
    for stage in stages:
        mine = (files or {}).get(stage.arn) or []
        if not stage.destination_arn:
            source, readable, why = None, False, "it has no access logging"
        elif mine:
            source, readable, why = "files", True, f"its records are read from {len(mine)} files of --access-logs"
        elif stage.log_group:
            source = "cloudwatch"
            readable, why = _group_state(ctx, stage)
        elif stage.firehose_stream:
            source, readable = ("files" if files is not None else None), False
            why = (f"its access logs go to Kinesis Data Firehose stream {stage.firehose_stream}, and no file of "
                   "--access-logs holds them" if files is not None else
                   f"its access logs go to Kinesis Data Firehose stream {stage.firehose_stream}: name the "
                   "delivered files with --access-logs")
        else:
            source, readable = None, False
            why = f"its access-log destination {stage.destination_arn} is neither a log group nor a Firehose stream"
        rows.append({"account_id": stage.account_id, "region": stage.region, "api_id": stage.api_id,
                     "api_type": stage.api_type, "stage": stage.stage, "stage_arn": stage.arn,
                     "destination_arn": stage.destination_arn, "log_group": stage.log_group,
                     "firehose_stream": stage.firehose_stream, "source": source, "readable": readable,
                     "reason": why, "format": stage.format.template or None,
                     "format_kind": stage.format.kind if stage.destination_arn else None,
                     "format_problem": stage.format.problem if stage.destination_arn else None,
                     "columns": stage.format.columns() if stage.destination_arn else []})
    return rows
