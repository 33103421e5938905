"""The one executor behind every table: accounts, regions, parents, pagination, retries,
rate limits, the read-only guard, the call cache and the fetch log.

A table names its calls; this module decides how many to make. Work is split into units
(one account x region x parent row); units run in a thread pool, so regions and parents are
fetched in parallel under the shared rate limiter. A unit that fails is reported and the
others are still answered.
"""
from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from .catalog import Catalog, TableSpec
from .ratelimit import Cancelled, RateLimiter
from .rowbuild import build_rows, get_path

# Filter: CloudWatch Logs FilterLogEvents, which only reads.
READ_ONLY = re.compile(r"^(Get|List|Describe|Lookup|Filter)[A-Z]")
# Parameters that would make a read-only call return a secret.
SECRET_PARAMS = {"includeValue", "includeValues", "WithDecryption"}
# Fields some read-only calls return anyway (GetUsagePlanKeys lists each key's value): dropped from
# every page before it is cached, so no secret is ever held, loaded or shown.
SECRET_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("apigateway", "GetUsagePlanKeys"): ("items", "value"),
    ("apigateway", "GetApiKeys"): ("items", "value"),
    ("apigateway", "GetUsagePlanKey"): ("", "value"),
    ("apigateway", "GetApiKey"): ("", "value"),
}
# Tokens of list calls that botocore has no paginator for (apigatewayv2 GetApiMappings, GetVpcLinks,
# wafv2 ListWebACLs).
_NEXT_TOKENS = (("NextToken", "NextToken"), ("nextToken", "nextToken"), ("position", "position"),
                ("Marker", "NextMarker"))


class ReadOnlyViolation(RuntimeError):
    """An operation that could change or reveal something was about to be sent."""


class CredentialsError(RuntimeError):
    """No usable AWS credentials."""


@dataclass
class FetchConfig:
    profile: str | None = None
    regions: list[str] | None = None       # None: every region enabled for the account
    endpoint_url: str | None = None        # None: boto3's own resolution, which honours AWS_ENDPOINT_URL
    max_attempts: int = 5                  # attempts per call, the first included (botocore standard mode)
    rate_limit: bool = True
    ttl: float = 300.0
    workers: int = 16
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # CloudTrail log files: local folders and s3://bucket/prefix URLs; None: the config file's, if any
    cloudtrail_logs: list[str] | None = None
    # API Gateway access-log files: local folders and s3://bucket/prefix URLs; None: the config file's, if any
    access_logs: list[str] | None = None


@dataclass
class CallRecord:
    table: str
    service: str
    operation: str
    account_id: str
    region: str
    params: str
    started_at: datetime
    duration_ms: float
    items: int
    throttled_retries: int
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class FetchError:
    table: str
    account_id: str
    region: str
    operation: str
    code: str
    message: str

    @property
    def hint(self) -> str:
        code = self.code
        if "AccessDenied" in code or code in ("UnauthorizedOperation", "UnrecognizedClientException"):
            return "grant the read-only permission or narrow the regions with --regions"
        if "Throttl" in code or code in ("TooManyRequestsException", "RequestLimitExceeded"):
            return "throttled past the retries: retry later, or narrow the query with WHERE region/API id"
        if code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
            return "the endpoint is unreachable: check the network, the region, or AWS_ENDPOINT_URL"
        if code == "OptInRequired" or code == "InvalidClientTokenId":
            return "the region is not enabled for this account: leave it out with --regions"
        if code.startswith("LogSource"):
            return "name CloudTrail log folders or s3:// prefixes with --cloudtrail-logs or in the config file"
        return "see the error message; the other regions were answered"

    def line(self) -> str:
        where = f" in {self.account_id}/{self.region}" if self.account_id.strip("-") else ""  # local files: nowhere
        return f"warning: {self.table}: {self.operation} failed{where}: {self.code}: {self.message} ({self.hint})"


class ExpectedError(Exception):
    """A call answered with an error its caller expects (NoSuchBucketPolicy: the bucket has no policy)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Target:
    """One account the session reads: how to reach it and who it is."""

    session: Any
    account_id: str
    partition: str
    home_region: str


@dataclass
class Progress:
    calls: int = 0
    cache_hits: int = 0
    throttled: int = 0
    failed: int = 0
    tables: set[str] = field(default_factory=set)


class QueryFetch:
    """The errors and progress of one query's fetch."""

    def __init__(self, on_progress: Callable[[Progress], None] | None = None):
        self.errors: list[FetchError] = []
        self.progress = Progress()
        self.on_progress = on_progress
        self._lock = threading.Lock()
        # table -> the cached calls (key, fetched at) its rows came from: equal sets mean equal rows
        self.touched: dict[str, set[tuple[tuple, float]]] = {}

    def touch(self, table: str, key: tuple, fetched_at: float) -> None:
        with self._lock:
            self.touched.setdefault(table, set()).add((key, fetched_at))

    def error(self, err: FetchError) -> None:
        with self._lock:
            self.errors.append(err)
            self.progress.failed += 1

    def tick(self, calls: int = 0, cache_hits: int = 0, throttled: int = 0) -> None:
        with self._lock:
            self.progress.calls += calls
            self.progress.cache_hits += cache_hits
            self.progress.throttled += throttled
        if self.on_progress is not None:
            self.on_progress(self.progress)


class UnitContext:
    """What a Python rows function (the escape hatch named in a table file) may use."""

    def __init__(self, fetcher: Fetcher, spec: TableSpec, target: Target | None, region: str | None,
                 parent: dict[str, Any] | None, query: QueryFetch, constraints: dict[str, set[str]],
                 bounds: dict[str, Any] | None = None, siblings: list[dict[str, Any]] | None = None):
        self.fetcher = fetcher
        self.spec = spec
        self.target = target
        self.region = region
        self.parent = parent
        self.query = query
        self.constraints = constraints
        self.bounds = bounds or {}  # column -> pushdown.Bounds (ranges on provider columns)
        # Every parent row this fetch fans out over, this unit's included: lets the units of several
        # parents that name one resource (trails naming one bucket) agree on which one reports it.
        self.siblings = siblings or []
        self.last_error: ExpectedError | None = None

    @property
    def account_id(self) -> str | None:
        return self.target.account_id if self.target else None

    def call(self, operation: str, region: str | None = None, expected_errors: Iterable[str] = (),
             **params: Any) -> list[dict[str, Any]] | None:
        """Make a read-only call for this table (paginated, cached, logged); returns the pages.

        An error whose code is in `expected_errors` is an answer, not a failure: the call returns None,
        `last_error` holds the code and message, and no warning is shown.
        """
        assert self.target is not None and self.spec.service is not None
        try:
            return self.fetcher.call(self.spec.name, self.target, self.spec.service, region or self.region or "",
                                     operation, params, self.query, frozenset(expected_errors))
        except ExpectedError as answer:
            self.last_error = answer
            return None

    def parent_rows(self, constraints: dict[str, set[str]] | None = None) -> list[dict[str, Any]]:
        assert self.spec.parent
        return self.fetcher.table_rows(self.spec.parent, constraints or {}, self.query)


class Fetcher:
    def __init__(self, catalog: Catalog, config: FetchConfig | None = None):
        self.catalog = catalog
        self.config = config or FetchConfig()
        self.limiter = RateLimiter(enabled=self.config.rate_limit)
        self.log: list[CallRecord] = []
        self.cancel_event = threading.Event()
        self._targets: list[Target] | None = None
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._regions: dict[tuple[str, str], list[str]] = {}
        self._cache: dict[tuple, tuple[float, list[dict[str, Any]] | ExpectedError]] = {}
        self._cache_tables: dict[tuple, set[str]] = {}  # which tables read each cached call
        self._inflight: dict[tuple, threading.Lock] = {}
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="apigw-sql-fetch")

    # ---- accounts, regions, clients -------------------------------------------------------
    def targets(self) -> list[Target]:
        with self._lock:
            if self._targets is None:
                self._targets = [self._resolve_target()]
            return self._targets

    def _resolve_target(self) -> Target:
        import boto3
        import botocore.exceptions as bx

        try:
            session = boto3.Session(profile_name=self.config.profile)
        except bx.ProfileNotFound:
            raise CredentialsError(f"AWS profile {self.config.profile!r} not found: check ~/.aws/config "
                                   "or run 'aws configure --profile NAME'") from None
        home = session.region_name or "us-east-1"
        sts = self._make_client(session, "sts", home)
        started = time.monotonic()
        try:
            identity = sts.get_caller_identity()
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise CredentialsError("no AWS credentials found: configure a profile (aws configure), set "
                                   "AWS_PROFILE or AWS_ACCESS_KEY_ID, or try the sandbox with --sandbox") from None
        except bx.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise CredentialsError(f"the AWS credentials were refused ({code}): refresh them "
                                   "(aws sso login, new keys) or pick another --profile") from None
        except bx.BotoCoreError as exc:
            raise CredentialsError(f"cannot reach AWS STS ({exc}): check the network or AWS_ENDPOINT_URL") from None
        arn = identity.get("Arn", "arn:aws:")
        partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
        target = Target(session=session, account_id=identity["Account"], partition=partition, home_region=home)
        self._record(CallRecord("(session)", "sts", "GetCallerIdentity", target.account_id, home, "{}",
                                _now(), (time.monotonic() - started) * 1000, 1, 0))
        return target

    def _make_client(self, session: Any, service: str, region: str) -> Any:
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "total_max_attempts": self.config.max_attempts},
                        connect_timeout=self.config.connect_timeout, read_timeout=self.config.read_timeout,
                        max_pool_connections=self.config.workers, user_agent_extra="apigw-sql")
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        with self._lock:  # creating clients from one session is not thread-safe
            client = session.client(service, **kwargs)
        client.meta.events.register("before-parameter-build", _read_only_guard)
        return client

    def client(self, target: Target, service: str, region: str) -> Any:
        key = (target.account_id, service, region)
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = self._make_client(target.session, service, region)
            with self._lock:
                client = self._clients.setdefault(key, client)
        return client

    def regions(self, target: Target, service: str, query: QueryFetch) -> list[str]:
        if self.config.regions:
            return list(self.config.regions)
        key = (target.account_id, service)
        with self._lock:
            if key in self._regions:
                return self._regions[key]
        try:
            pages = self.call("(regions)", target, "ec2", target.home_region, "DescribeRegions",
                              {"AllRegions": False}, query)
            found = sorted(r["RegionName"] for page in pages for r in page.get("Regions", [])
                           if r.get("OptInStatus") in (None, "opt-in-not-required", "opted-in"))
        except CallFailed:
            found = []
        if not found:  # DescribeRegions denied: fall back to the regions botocore knows for the service
            found = sorted(target.session.get_available_regions(service, partition_name=target.partition))
        with self._lock:
            self._regions[key] = found
        return found

    # ---- calls ------------------------------------------------------------------------------
    def call(self, table: str, target: Target, service: str, region: str, operation: str,
             params: dict[str, Any], query: QueryFetch,
             expected_errors: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """All pages of one read-only call, from the cache when fresh.

        Raises CallFailed, or ExpectedError when the answer is an error in `expected_errors`.
        """
        key = (target.account_id, region, service, operation, json.dumps(params, sort_keys=True, default=str))
        with self._lock:
            gate = self._inflight.setdefault(key, threading.Lock())
        with gate:  # single flight: two tables needing the same call make it once
            with self._lock:
                hit = self._cache.get(key)
                self._cache_tables.setdefault(key, set()).add(table)
            answer = hit[1] if hit is not None and time.monotonic() - hit[0] < self.config.ttl else None
            if isinstance(answer, ExpectedError) and answer.code in expected_errors:
                query.tick(cache_hits=1)
                query.touch(table, key, hit[0])  # type: ignore[index]
                raise ExpectedError(answer.code, answer.message)
            if isinstance(answer, list):
                query.tick(cache_hits=1)
                query.touch(table, key, hit[0])  # type: ignore[index]
                return answer
            try:
                pages = self._call_uncached(table, target, service, region, operation, params, query,
                                            expected_errors)
            except ExpectedError as error:
                stamp = time.monotonic()
                with self._lock:
                    self._cache[key] = (stamp, error)
                query.touch(table, key, stamp)
                raise
            stamp = time.monotonic()
            with self._lock:
                self._cache[key] = (stamp, pages)
            query.touch(table, key, stamp)
            return pages

    def _call_uncached(self, table: str, target: Target, service: str, region: str, operation: str,
                       params: dict[str, Any], query: QueryFetch,
                       expected_errors: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        import botocore.exceptions as bx
        from botocore import xform_name

        client = self.client(target, service, region)
        method = xform_name(operation)
        paginate = client.can_paginate(method)
        pages: list[dict[str, Any]] = []
        param_text = json.dumps(params, sort_keys=True, default=str)
        iterator = iter(client.get_paginator(method).paginate(**params)) if paginate else None
        token_in = _manual_token(client, operation) if not paginate else None
        call_params = dict(params)
        while True:
            if self.cancel_event.is_set():
                raise Cancelled()
            self.limiter.acquire(service, operation, target.account_id, region, self.cancel_event)
            started_at, started = _now(), time.monotonic()
            try:
                if iterator is not None:
                    try:
                        page = next(iterator)
                    except StopIteration:
                        break
                else:
                    page = getattr(client, method)(**call_params)
            except bx.ClientError as exc:
                err = exc.response.get("Error", {})
                retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
                self._failed(table, target, service, region, operation, param_text, started_at, started,
                             err.get("Code") or "ClientError", err.get("Message") or str(exc), retries, query,
                             expected_errors)
            except ReadOnlyViolation:
                raise
            except bx.BotoCoreError as exc:
                code = type(exc).__name__
                self._failed(table, target, service, region, operation, param_text, started_at, started,
                             code, str(exc), 0, query)
            retries = page.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            page.pop("ResponseMetadata", None)
            _scrub(service, operation, page)
            self._record(CallRecord(table, service, operation, target.account_id, region, param_text, started_at,
                                    (time.monotonic() - started) * 1000, _count_items(page), retries))
            query.tick(calls=1, throttled=retries)
            pages.append(page)
            if iterator is None:
                token = page.get(token_in[1]) if token_in else None
                if not token or len(pages) > 10000:
                    break
                call_params[token_in[0]] = token  # type: ignore[index]
        return pages

    def _failed(self, table: str, target: Target, service: str, region: str, operation: str, params: str,
                started_at: datetime, started: float, code: str, message: str, retries: int,
                query: QueryFetch, expected_errors: frozenset[str] = frozenset()) -> None:
        message = " ".join(str(message).split())[:300]
        self._record(CallRecord(table, service, operation, target.account_id, region, params, started_at,
                                (time.monotonic() - started) * 1000, 0, retries, code, message))
        query.tick(calls=1, throttled=retries)
        if code in expected_errors:
            raise ExpectedError(code, message)
        query.error(FetchError(table, target.account_id, region, operation, code, message))
        raise CallFailed(code)

    def _record(self, record: CallRecord) -> None:
        with self._lock:
            self.log.append(record)

    def note(self, record: CallRecord) -> None:
        """Adds work that is not an API call (log files DuckDB reads) to the fetch log."""
        self._record(record)

    # ---- tables -----------------------------------------------------------------------------
    def table_rows(self, name: str, constraints: dict[str, set[str]], query: QueryFetch,
                   bounds: dict[str, Any] | None = None) -> Any:
        """Rows of a table narrowed by pushdown constraints (a superset of what the WHERE keeps).

        A rows function may instead return an object with ``to_duckdb(con, name)`` (a provider
        that lets DuckDB read the data itself, such as log files); it is passed through.
        """
        spec = self.catalog[name]
        query.progress.tables.add(name)
        if spec.scope == "local":
            produced = spec.rows_function()(UnitContext(self, spec, None, None, None, query, constraints, bounds))
            return produced if hasattr(produced, "to_duckdb") else build_rows(spec, produced, {})
        wanted_regions = constraints.get("region")
        units: list[tuple[Target, str, dict[str, Any] | None]] = []
        if spec.parent:
            parent_constraints: dict[str, set[str]] = {}
            if wanted_regions is not None:
                parent_constraints["region"] = wanted_regions
            for col in spec.columns:
                if col.pushdown == "parent" and col.name in constraints:
                    parent_constraints[col.pushdown_target] = constraints[col.name]  # type: ignore[index]
            parents = self.table_rows(spec.parent, parent_constraints, query)
            targets = {t.account_id: t for t in self.targets()}
            for row in parents:
                if all(str(row.get(c)) in vals for c, vals in parent_constraints.items()):
                    units.append((targets[row["account_id"]], row["region"], row))
        else:
            for target in self.targets():
                for region in self.regions(target, spec.service or "", query):
                    if wanted_regions is None or region in wanted_regions:
                        units.append((target, region, None))
        param_values = [(c.pushdown_target, sorted(constraints[c.name])) for c in spec.columns
                        if c.pushdown == "param" and c.name in constraints]
        siblings = [parent for _, _, parent in units if parent is not None]
        futures: list[Future] = []
        for target, region, parent in units:
            for extra in _param_combinations(param_values):
                futures.append(self._pool.submit(self._run_unit, spec, target, region, parent, extra,
                                                 constraints, query, bounds, siblings))
        rows: list[dict[str, Any]] = []
        for fut in futures:
            rows.extend(fut.result())
        return rows

    def _run_unit(self, spec: TableSpec, target: Target, region: str, parent: dict[str, Any] | None,
                  extra_params: dict[str, Any], constraints: dict[str, set[str]],
                  query: QueryFetch, bounds: dict[str, Any] | None = None,
                  siblings: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        context = {"$region": region, "$account_id": target.account_id, "$partition": target.partition,
                   "$parent": parent or {}}
        try:
            if spec.fetch.rows:
                items: Iterable[Any] = spec.rows_function()(
                    UnitContext(self, spec, target, region, parent, query, constraints, bounds, siblings))
            else:
                params = {k: _bind(v, context) for k, v in spec.fetch.params.items()}
                params.update(extra_params)
                pages = self.call(spec.name, target, spec.service or "", region, spec.fetch.operation or "",
                                  params, query)
                items = _items(pages, spec.fetch.items, context)
            return build_rows(spec, items, context)
        except CallFailed:
            return []

    def close(self) -> None:
        self.cancel_event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def clear_cache(self, table: str | None = None) -> None:
        """Forget cached calls: all, or those a table read (a derived table's: its parent's)."""
        with self._lock:
            if table is None:
                self._cache.clear()
                return
            while table is not None:
                keys = [k for k, tables in self._cache_tables.items() if table in tables and k in self._cache]
                for key in keys:
                    del self._cache[key]
                if keys:
                    return
                table = self.catalog[table].parent

    def cache_entries(self) -> list[tuple[str, str, str, str, int, float]]:
        """(service, operation, account, region, pages, age in seconds) for each cached call."""
        now = time.monotonic()
        with self._lock:
            return [(k[2], k[3], k[0], k[1], len(v[1]) if isinstance(v[1], list) else 0, now - v[0])
                    for k, v in self._cache.items()]


class CallFailed(Exception):
    """A call failed and was reported; the unit yields no rows."""


# Public name: a rows function that makes several calls may catch it to keep the rows it has.


def _read_only_guard(model: Any = None, params: dict[str, Any] | None = None, **_: Any) -> None:
    name = getattr(model, "name", "")
    if not READ_ONLY.match(name):
        raise ReadOnlyViolation(f"refused {name}: apigw-sql only reads (Get, List, Describe, Lookup, Filter)")
    for key in SECRET_PARAMS & set(params or {}):
        if params and params[key]:
            raise ReadOnlyViolation(f"refused {name} with {key}=true: apigw-sql never fetches secret values")


def _manual_token(client: Any, operation: str) -> tuple[str, str] | None:
    """(input, output) token names of a list call that botocore cannot paginate, if it has them."""
    model = client.meta.service_model.operation_model(operation)
    inputs = set(model.input_shape.members) if model.input_shape else set()
    outputs = set(model.output_shape.members) if model.output_shape else set()
    for name_in, name_out in _NEXT_TOKENS:
        if name_in in inputs and name_out in outputs:
            return name_in, name_out
    return None


def _scrub(service: str, operation: str, page: dict[str, Any]) -> None:
    where = SECRET_FIELDS.get((service, operation))
    if where is None:
        return
    container, field_name = where
    items = page.get(container, []) if container else [page]
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item.pop(field_name, None)


def _bind(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return get_path(None, value, context)
    if isinstance(value, list):
        return [_bind(v, context) for v in value]
    return value


def _items(pages: list[dict[str, Any]], path: str | None, context: dict[str, Any]) -> list[Any]:
    if not path:
        return pages
    items: list[Any] = []
    for page in pages:
        value = get_path(page, path, context)
        if isinstance(value, list):
            items.extend(value)
        elif value is not None:
            items.append(value)
    return items


def _count_items(page: dict[str, Any]) -> int:
    for value in page.values():
        if isinstance(value, list):
            return len(value)
    return 1


def _param_combinations(values: list[tuple[str | None, list[str]]]) -> list[dict[str, Any]]:
    combos: list[dict[str, Any]] = [{}]
    for name, options in values:
        combos = [{**c, name: v} for c in combos for v in options]
    return combos


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
