"""The one executor behind every table: accounts, regions, parents, pagination, retries,
rate limits, the read-only guard, the call cache and the fetch log.

A table names its calls; this module decides how many to make. Work is split into units
(one account x region x parent row); units run in a thread pool, so regions, parents and the
tables of one plan are fetched at once. Every page of every call, retries included, is sent
through the session's one scheduler (``scheduler.py``), which paces it at AWS's quotas at send
time and retries throttled calls until ``max_wait``. A unit that fails is reported and the others
are still answered.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, NamedTuple

from .catalog import Catalog, TableSpec
from .cloudtrail.scrub import scrub_lookup_page
from .ratelimit import Cancelled
from .readonly import ReadOnlyViolation
from .readonly import guard as _read_only_guard
from .rowbuild import Columnar, arrow_table, build_rows, build_table, get_path, row_dicts
from .accounts import ACCOUNTS_TABLE, AccountSelection, TargetResolver, configured_selection
from .scheduler import Scheduler
from .table_cache import Recording
from .errors import ApigwSqlError, UserError

# Fields some read-only calls return anyway (GetUsagePlanKeys lists each key's value): dropped from
# every page before it is cached, so no secret is ever held, loaded or shown.
SECRET_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("apigateway", "GetUsagePlanKeys"): ("items", "value"),
    ("apigateway", "GetApiKeys"): ("items", "value"),
    ("apigateway", "GetUsagePlanKey"): ("", "value"),
    ("apigateway", "GetApiKey"): ("", "value"),
}
# Most combinations of pushed `param` values one unit sends as separate calls (IN lists on
# customer_id): above it the unit makes the one unfiltered call and DuckDB filters. 10 calls are one
# second at API Gateway's steady 10 requests/s, and as many pages as the unfiltered GetApiKeys takes
# for 250 keys at its default page size of 25: a short IN list on a large estate still saves calls, a
# long one costs no more than a full listing of a mid-sized estate (2,000 values were 4,000 calls).
MAX_PARAM_COMBINATIONS = 10
# Tokens of list calls that botocore has no paginator for (apigatewayv2 GetApiMappings, GetVpcLinks,
# wafv2 ListWebACLs).
_NEXT_TOKENS = (("NextToken", "NextToken"), ("nextToken", "nextToken"), ("position", "position"),
                ("Marker", "NextMarker"))
# Units waiting for their calls hold a thread each: enough that every table of a plan has calls
# waiting in the scheduler at once (UnitPool shares them between tables; each thread costs memory).
UNIT_THREADS = 64


class CredentialsError(UserError, RuntimeError):
    """No usable AWS credentials."""


class ProfileNotFoundError(CredentialsError):
    """A named AWS profile is in no config file."""


@dataclass
class FetchConfig:
    profile: str | None = None
    regions: list[str] | None = None       # None: every region enabled for the account
    endpoint_url: str | None = None        # None: boto3's own resolution, which honours AWS_ENDPOINT_URL
    max_attempts: int = 5                  # attempts per call after a server error, the first included
    max_wait: float = 180.0                # seconds a throttled call is retried before it is reported failed
    rate_limit: bool = True                # pace calls at AWS's quotas (throttled calls are retried either way)
    ttl: float = 300.0
    persistent_cache: bool = True          # keep answers on disk for later runs (call_cache.py)
    refresh: bool = False                  # do not reuse answers kept on disk by earlier runs (they are replaced)
    workers: int = 16
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # CloudTrail log files: local folders and s3://bucket/prefix URLs; None: the config file's, if any
    cloudtrail_logs: list[str] | None = None
    # API Gateway access-log files: local folders and s3://bucket/prefix URLs; None: the config file's, if any
    access_logs: list[str] | None = None
    # The accounts to read (accounts.py); None: the config file's, else the one of `profile`
    accounts: AccountSelection | None = None


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
    cached: bool = False  # answered from the disk cache: no call made; started_at is when it was fetched


class CallKey(NamedTuple):
    """What makes two calls the same call: the cache and single-flight key."""

    account_id: str
    region: str
    service: str
    operation: str
    params: str  # the parameters as JSON with sorted keys

    @classmethod
    def of(cls, account_id: str, region: str, service: str, operation: str, params: dict[str, Any]) -> CallKey:
        return cls(account_id, region, service, operation, json.dumps(params, sort_keys=True, default=str))


class CacheEntry(NamedTuple):
    """A cached answer: every page of a call, or the expected error it answered with."""

    stored_at: float  # time.monotonic() when it was stored
    answer: list[dict[str, Any]] | ExpectedError


@dataclass
class FetchError:
    table: str
    account_id: str
    region: str
    operation: str
    code: str
    message: str
    advice: str = ""  # what to do, when the caller knows better than the code (a failed AssumeRole)

    @property
    def hint(self) -> str:
        if self.advice:
            return self.advice
        code = self.code
        if "AccessDenied" in code or code in ("UnauthorizedOperation", "UnrecognizedClientException"):
            return "grant the read-only permission or narrow the regions with --regions"
        if "Throttl" in code or code in ("TooManyRequestsException", "RequestLimitExceeded"):
            return ("throttled for longer than --max-wait: retry later, raise --max-wait, or narrow the query "
                    "with WHERE region/API id")
        if code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
            return "the endpoint is unreachable: check the network, the region, or AWS_ENDPOINT_URL"
        if code in ("ConnectionClosedError", "IncompleteReadError", "ResponseParserError"):
            return "the connection or the answer broke on the way: run the query again (nothing of it was kept)"
        if code == "OptInRequired" or code == "InvalidClientTokenId":
            return "the region is not enabled for this account: leave it out with --regions"
        if code.startswith("LogSource"):
            return "name CloudTrail log folders or s3:// prefixes with --cloudtrail-logs or in the config file"
        if code in ("NoSuchBucket", "NoSuchKey", "PermanentRedirect", "AllAccessDisabled"):
            return "check the bucket and prefix given with --cloudtrail-logs or in the config file"
        return "see the error message; the answer lacks what this call would have returned"

    def line(self) -> str:
        if self.table == ACCOUNTS_TABLE:  # the account itself could not be reached: nothing of it was read
            return f"warning: account {self.account_id}: {self.operation} failed: {self.code}: {self.message} ({self.hint})"
        where = f" in {self.account_id}/{self.region}" if self.account_id.strip("-") else ""  # local files: nowhere
        return f"warning: {self.table}: {self.operation} failed{where}: {self.code}: {self.message} ({self.hint})"


class ExpectedError(ApigwSqlError):
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


@dataclass(frozen=True)
class Call:
    """One read-only call being made, for a table: what its log records and its failure report name."""

    table: str
    target: Target
    service: str
    region: str
    operation: str
    params: str  # the parameters as JSON with sorted keys

    def record(self, *, started_at: datetime, duration_ms: float, items: int, throttled_retries: int,
               error_code: str | None = None, error_message: str | None = None) -> CallRecord:
        """The fetch-log record of one page of this call."""
        return CallRecord(table=self.table, service=self.service, operation=self.operation,
                          account_id=self.target.account_id, region=self.region, params=self.params,
                          started_at=started_at, duration_ms=duration_ms, items=items,
                          throttled_retries=throttled_retries, error_code=error_code, error_message=error_message)


@dataclass
class Progress:
    calls: int = 0
    cache_hits: int = 0
    throttled: int = 0
    failed: int = 0
    tables: set[str] = field(default_factory=set)
    planned_calls: int = 0   # calls known to be needed so far, those made included (never below calls)
    rate: float = 0.0        # calls/s the quotas allow now for the calls waiting: ETA = (planned - calls) / rate


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

    def account_errors(self, errors: Iterable[FetchError]) -> None:
        """Reports accounts that cannot be read (a failed AssumeRole), each once per query."""
        with self._lock:
            new = [e for e in errors if e not in self.errors]
            self.errors.extend(new)
            self.progress.failed += len(new)

    def tick(self, calls: int = 0, cache_hits: int = 0, throttled: int = 0) -> None:
        with self._lock:
            self.progress.calls += calls
            self.progress.cache_hits += cache_hits
            self.progress.throttled += throttled
            self.progress.planned_calls = max(self.progress.planned_calls, self.progress.calls)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def plan(self, calls: int) -> None:
        """`calls` more calls are known to be needed (negative: fewer than announced)."""
        with self._lock:
            self.progress.planned_calls = max(self.progress.calls, self.progress.planned_calls + calls)

    def set_rate(self, rate: float) -> None:
        self.progress.rate = rate


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
        return row_dicts(self.fetcher.table_rows(self.spec.parent, constraints or {}, self.query))


class Fetcher:
    def __init__(self, catalog: Catalog, config: FetchConfig | None = None):
        self.catalog = catalog
        self.config = config or FetchConfig()
        self.scheduler = Scheduler(enabled=self.config.rate_limit, max_inflight=self.config.workers,
                                   max_wait=self.config.max_wait, max_attempts=self.config.max_attempts)
        self.log: list[CallRecord] = []
        self.cancel_event = threading.Event()
        self._resolver: TargetResolver | None = None
        self._targets: list[Target] | None = None  # set: exactly these accounts, resolved (relabelled by tests)
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._regions: dict[tuple[str, str], list[str]] = {}
        self._cache: dict[CallKey, CacheEntry] = {}
        self._disk = _disk_cache(self.config)  # answers of earlier runs; None when turned off
        # call -> (stamp of its memory entry, time.time() it was fetched, its file's identity) for the answers
        # that are those of a call-cache file: a table built only from such answers can be kept (table_cache.py)
        self._disk_stamps: dict[CallKey, tuple[float, float, list[int]]] = {}
        self._replayed: set[CallKey] = set()  # calls whose log records a kept table added (table_cache.py)
        self._tables = _table_cache(self._disk)  # built tables on disk; None when the call cache is off
        self._unlogged: dict[CallKey, list[CallRecord]] = {}  # read from disk to plan a call, not used yet
        self._cache_tables: dict[CallKey, set[str]] = {}  # which tables read each cached call
        self._inflight: dict[CallKey, threading.Lock] = {}
        self._lock = threading.RLock()
        self._pool = UnitPool(max(self.config.workers, UNIT_THREADS))
        self._depths: dict[str, int] = {}
        self._unit = threading.local()  # the planned call of the unit this thread runs, not yet made

    # ---- accounts, regions, clients -------------------------------------------------------
    def targets(self, accounts: Iterable[str] | None = None) -> list[Target]:
        """The accounts to read that can be reached, among ``accounts`` (ids; None: every one), resolved
        on first use (accounts.py); raises CredentialsError when the current credentials fail."""
        if self._targets is not None:
            return [t for t in self._targets if accounts is None or t.account_id in set(accounts)]
        return self.resolver().targets(accounts)

    def known_targets(self) -> list[Target]:
        """The accounts resolved so far, without asking STS: a run that read only local data has none."""
        with self._lock:
            resolver, given = self._resolver, self._targets
        if given is not None:
            return list(given)
        return resolver.known() if resolver is not None else []

    def account_failures(self, accounts: Iterable[str] | None = None) -> list[FetchError]:
        """Why accounts among ``accounts`` (None: all) could not be reached, one FetchError each."""
        with self._lock:
            resolver = self._resolver
        return resolver.failures(accounts) if resolver is not None and self._targets is None else []

    def resolver(self) -> TargetResolver:
        """The session's accounts (the config file's when the connection names none)."""
        with self._lock:
            if self._resolver is None:
                self._resolver = TargetResolver(self, configured_selection(self.config.accounts,
                                                                           self.config.profile))
            return self._resolver

    def caller_target(self, profile: str | None = None) -> Target:
        """The account of a profile's credentials (None: the standard chain), from STS GetCallerIdentity."""
        import boto3
        import botocore.exceptions as bx
        from botocore.parsers import ResponseParserError

        try:
            session = boto3.Session(profile_name=profile)
        except bx.ProfileNotFound:
            raise ProfileNotFoundError(f"AWS profile {profile!r} not found: check ~/.aws/config "
                                       "or run 'aws configure --profile NAME'") from None
        home = session.region_name or "us-east-1"
        try:
            sts = self.make_client(session, "sts", home)
        except ValueError as exc:  # "Invalid endpoint: ..." from an endpoint that is not a URL
            raise CredentialsError(f"{exc}: give the endpoint as a URL, e.g. http://127.0.0.1:5000") from None
        started = time.monotonic()
        identity_key = self._identity_key(session, home)
        kept = self._from_disk(identity_key, "(session)") if identity_key is not None else None  # an earlier run's
        try:
            if kept is not None and isinstance(kept.answer, list) and kept.answer and "Account" in kept.answer[0]:
                identity = kept.answer[0]
            else:
                kept = None
                outcome = self.scheduler.send("sts", "GetCallerIdentity", "", home, sts.get_caller_identity,
                                              self.cancel_event)
                if outcome.error is not None:
                    raise outcome.error
                identity = outcome.value
                if identity_key is not None and self._disk is not None and "Account" in identity:
                    self._disk.put(identity_key, [{k: identity[k] for k in ("Account", "Arn", "UserId")
                                                   if k in identity}], "(session)")
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise CredentialsError("no AWS credentials found: configure a profile (aws configure), set "
                                   "AWS_PROFILE or AWS_ACCESS_KEY_ID, or try the sandbox with --sandbox") from None
        except bx.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise CredentialsError(f"the AWS credentials{f' of profile {profile}' if profile else ''} were refused "
                                   f"({code}): refresh them (aws sso login, new keys) or pick another --profile") from None
        except bx.BotoCoreError as exc:
            raise CredentialsError(f"cannot reach AWS STS ({exc}): check the network or AWS_ENDPOINT_URL") from None
        except (ResponseParserError, KeyError):  # an HTML page or other non-AWS answer: botocore cannot parse it
            raise CredentialsError("the endpoint did not answer like AWS STS (the response could not be parsed): "
                                   "check --endpoint-url or AWS_ENDPOINT_URL") from None
        arn = identity.get("Arn", "arn:aws:")
        partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
        target = Target(session=session, account_id=identity["Account"], partition=partition, home_region=home)
        if kept is None:
            self._record(CallRecord(table="(session)", service="sts", operation="GetCallerIdentity",
                                    account_id=target.account_id, region=home, params="{}", started_at=_now(),
                                    duration_ms=(time.monotonic() - started) * 1000, items=1, throttled_retries=0))
        return target

    def _identity_key(self, session: Any, home: str) -> CallKey | None:
        """The call-cache key of who the session's credentials are: a digest of their access key id (an
        identifier, never the secret), so a warm run needs no STS call; None when nothing is kept on disk."""
        if self._disk is None:
            return None
        try:
            credentials = session.get_credentials()
            access_key = credentials.access_key if credentials is not None else None
        except Exception:  # noqa: BLE001 - the STS call meets the same problem and reports it
            return None
        if not access_key:
            return None
        digest = hashlib.sha256(str(access_key).encode()).hexdigest()
        return CallKey.of("", home, "sts", "GetCallerIdentity", {"access_key_id_sha256": digest})

    def make_client(self, session: Any, service: str, region: str) -> Any:
        """A client of `session` as every call of the session needs it: no botocore retries, the
        read-only guard, broken answers refused (accounts.py makes AssumeRole's STS clients with it)."""
        from botocore.config import Config

        # No botocore retries: they would bypass the scheduler's buckets; it retries every call itself.
        config = Config(retries={"mode": "standard", "total_max_attempts": 1},
                        connect_timeout=self.config.connect_timeout, read_timeout=self.config.read_timeout,
                        max_pool_connections=self.config.workers, user_agent_extra="apigw-sql")
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        with self._lock:  # creating clients from one session is not thread-safe
            client = session.client(service, **kwargs)
        client.meta.events.register("before-parameter-build", _read_only_guard)
        client.meta.events.register("before-parse", _refuse_broken_body)
        return client

    def client(self, target: Target, service: str, region: str) -> Any:
        key = (target.account_id, service, region)
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = self.make_client(target.session, service, region)
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
        key = CallKey.of(target.account_id, region, service, operation, params)
        with self._lock:
            gate = self._inflight.setdefault(key, threading.Lock())
        with gate:  # single flight: two tables needing the same call make it once
            with self._lock:
                hit = self._cache.get(key)
                self._cache_tables.setdefault(key, set()).add(table)
                self.log.extend(self._unlogged.pop(key, ()))  # read from disk to plan, used now
            fresh = hit is not None and time.monotonic() - hit.stored_at < self.config.ttl
            if not fresh:
                hit = self._from_disk(key, table) or hit
                fresh = hit is not None and time.monotonic() - hit.stored_at < self.config.ttl
            answer = hit.answer if hit is not None and fresh else None
            if isinstance(answer, ExpectedError) and answer.code in expected_errors:
                query.tick(cache_hits=1)
                query.touch(table, key, hit.stored_at)  # type: ignore[union-attr]
                raise ExpectedError(answer.code, answer.message)
            if isinstance(answer, list):
                query.tick(cache_hits=1)
                query.touch(table, key, hit.stored_at)  # type: ignore[union-attr]
                return answer
            try:
                pages = self._call_uncached(table, target, service, region, operation, params, query,
                                            expected_errors)
            except ExpectedError as error:
                stamp = time.monotonic()
                with self._lock:
                    self._cache[key] = CacheEntry(stored_at=stamp, answer=error)
                if self._disk is not None:
                    self._kept(key, stamp, self._disk.put(key, ("error", error.code, error.message), table))
                query.touch(table, key, stamp)
                raise
            stamp = time.monotonic()
            with self._lock:
                self._cache[key] = CacheEntry(stored_at=stamp, answer=pages)
            if self._disk is not None:
                self._kept(key, stamp, self._disk.put(key, pages, table))
            query.touch(table, key, stamp)
            return pages

    def _from_disk(self, key: CallKey, table: str, log: bool = True) -> CacheEntry | None:
        """The answer an earlier run kept on disk for this call when younger than the TTL (now in the
        memory cache too), else None.

        The fetch log gets the records the call made, marked cached, with the time it was fetched: the
        log says what the session's answers are, and the controls that read it (which regions' trails
        were listed) judge a warm run as they judged the cold one. With ``log=False`` (an answer looked at
        to plan, maybe never used) the records wait until ``call`` uses the answer.
        """
        if self._disk is None:
            return None
        stored = self._disk.get(key)
        if stored is None:
            return None
        answer = stored.answer
        fetched_at = datetime.fromtimestamp(stored.fetched_at, tz=timezone.utc).replace(tzinfo=None)
        record = dict(table=table, service=key.service, operation=key.operation, account_id=key.account_id,
                      region=key.region, params=key.params, started_at=fetched_at, duration_ms=0.0,
                      throttled_retries=0, cached=True)
        if isinstance(answer, tuple):  # ("error", code, message)
            answer = ExpectedError(answer[1], answer[2])
            records = [CallRecord(**record, items=0, error_code=answer.code, error_message=answer.message)]
        else:
            records = [CallRecord(**record, items=count_items(page)) for page in answer]
        entry = CacheEntry(stored_at=time.monotonic() - (time.time() - stored.fetched_at), answer=answer)
        with self._lock:
            self._cache[key] = entry
            if stored.file is not None:
                self._disk_stamps[key] = (entry.stored_at, stored.fetched_at, stored.file)
            if key in self._replayed:
                pass  # a kept table put its records in the log already
            elif log:
                self.log.extend(records)
            else:
                self._unlogged[key] = records
        return entry

    def _kept(self, key: CallKey, stamp: float, written: Any) -> None:
        """Notes that the answer stored in memory at `stamp` is the one the call cache wrote (a Stored, or None)."""
        if written is not None:
            with self._lock:
                self._disk_stamps[key] = (stamp, written.fetched_at, written.file)

    def _call_uncached(self, table: str, target: Target, service: str, region: str, operation: str,
                       params: dict[str, Any], query: QueryFetch,
                       expected_errors: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Every page of the call, one scheduled request each: a page is a token, the last one too."""
        import botocore.exceptions as bx
        from botocore import xform_name
        from botocore.parsers import ResponseParserError

        client = self.client(target, service, region)
        method = getattr(client, xform_name(operation))
        pager = _Pager(client, xform_name(operation), operation)
        pages: list[dict[str, Any]] = []
        call = Call(table=table, target=target, service=service, region=region, operation=operation,
                    params=json.dumps(params, sort_keys=True, default=str))
        call_params = dict(params)
        priority = self._depth(table)
        while True:
            if self.cancel_event.is_set():
                raise Cancelled()
            self._take_planned_call(query)
            queued_at, queued = _now(), time.monotonic()
            outcome = self.scheduler.send(service, operation, target.account_id, region,
                                          lambda: method(**call_params), self.cancel_event, priority)
            # The log shows when the call was sent and how long AWS took, not how long it queued.
            started = outcome.sent_at or queued
            started_at = queued_at + timedelta(seconds=started - queued)
            query.set_rate(self.scheduler.rate())
            error = outcome.error
            if isinstance(error, bx.ClientError):
                err = error.response.get("Error", {})
                self._failed(call, started_at=started_at, started=started, code=err.get("Code") or "ClientError",
                             message=err.get("Message") or str(error), outcome=outcome, query=query,
                             expected_errors=expected_errors)
            elif isinstance(error, ReadOnlyViolation):
                raise error
            elif isinstance(error, (bx.BotoCoreError, ResponseParserError)):  # the latter: an answer that does not parse
                self._failed(call, started_at=started_at, started=started, code=type(error).__name__,
                             message=str(error), outcome=outcome, query=query)
            elif error is not None:
                raise error
            page = outcome.value
            assert page is not None
            page.pop("ResponseMetadata", None)
            _scrub(service, operation, page)
            self._record(call.record(started_at=started_at, duration_ms=(time.monotonic() - started) * 1000,
                                     items=count_items(page), throttled_retries=outcome.attempts - 1))
            query.tick(calls=1, throttled=outcome.throttled)
            pages.append(page)
            following = pager.next_params(call_params, page)
            if following is None or len(pages) > 10000:
                break
            call_params = following
            query.plan(1)  # the next page is known to be needed now
            self._unit.planned = getattr(self._unit, "planned", 0) + 1
        return pages

    def _take_planned_call(self, query: QueryFetch) -> None:
        """Counts a call about to be made against its unit's plan, or adds it to the plan."""
        if getattr(self._unit, "planned", 0) > 0:
            self._unit.planned -= 1
        else:
            query.plan(1)

    def _depth(self, table: str) -> int:
        """How many parents a table has: the scheduler sends parents' calls first."""
        depth = self._depths.get(table)
        if depth is None:
            depth, name = 0, self.catalog[table].parent if table in self.catalog else None
            while name is not None and depth < 16:
                depth += 1
                name = self.catalog[name].parent if name in self.catalog else None
            self._depths[table] = depth
        return depth
    def _failed(self, call: Call, *, started_at: datetime, started: float, code: str, message: str,
                outcome: Any, query: QueryFetch, expected_errors: frozenset[str] = frozenset()) -> None:
        """Logs a call that failed; raises ExpectedError when the caller expects the code, else reports it
        and raises CallFailed. ``started`` is the monotonic clock when it was sent; ``outcome`` the
        scheduler's account of its attempts."""
        message = " ".join(str(message).split())[:300]
        self._record(call.record(started_at=started_at, duration_ms=(time.monotonic() - started) * 1000, items=0,
                                 throttled_retries=outcome.attempts - 1, error_code=code, error_message=message))
        query.tick(calls=1, throttled=outcome.throttled)
        if code in expected_errors:
            raise ExpectedError(code, message)
        query.error(FetchError(table=call.table, account_id=call.target.account_id, region=call.region,
                               operation=call.operation, code=code, message=message))
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
        that lets DuckDB read the data itself, such as log files); it is passed through. One that
        returns ``Columnar(items)`` has its rows built column-wise: they come as one Arrow table of the
        spec's columns (``row_dicts`` reads them as dicts).
        """
        spec = self.catalog[name]
        query.progress.tables.add(name)
        if spec.scope == "local":
            produced = spec.rows_function()(UnitContext(self, spec, None, None, None, query, constraints, bounds))
            if isinstance(produced, Columnar):
                return build_table(spec, produced.items, {})
            return produced if hasattr(produced, "to_duckdb") else build_rows(spec, produced, {})
        kept, recording = None, None
        if self._tables is not None and self._tables.cacheable(self, spec, constraints):
            kept = self._tables.key(self, spec, constraints, bounds, query)
            stored = self._tables.load(self, kept, query)
            if stored is not None:
                return stored
            query = recording = Recording(query)  # type: ignore[assignment]
        wanted_regions = constraints.get("region")
        wanted_accounts = constraints.get("account_id")  # other accounts are neither assumed into nor called
        targets = self.targets(wanted_accounts)
        query.account_errors(self.account_failures(wanted_accounts))
        units: list[tuple[Target, str, dict[str, Any] | None]] = []
        if spec.parent:
            parent_constraints: dict[str, set[str]] = {}
            if wanted_regions is not None:
                parent_constraints["region"] = wanted_regions
            if wanted_accounts is not None:
                parent_constraints["account_id"] = wanted_accounts
            for col in spec.columns:
                if col.pushdown == "parent" and col.name in constraints:
                    parent_constraints[col.pushdown_target] = constraints[col.name]  # type: ignore[index]
            parents = row_dicts(self.table_rows(spec.parent, parent_constraints, query))
            by_account = {t.account_id: t for t in targets}
            for row in parents:
                if all(str(row.get(c)) in vals for c, vals in parent_constraints.items()) \
                        and row["account_id"] in by_account:
                    units.append((by_account[row["account_id"]], row["region"], row))
        elif spec.scope == "global":  # IAM answers the same in every region: one unit per account
            units = [(target, target.home_region, None) for target in targets]
        else:
            for target in targets:
                for region in self.regions(target, spec.service or "", query):
                    if wanted_regions is None or region in wanted_regions:
                        units.append((target, region, None))
        param_values = [(c.pushdown_target, sorted(constraints[c.name])) for c in spec.columns
                        if c.pushdown == "param" and c.name in constraints]
        siblings = [parent for _, _, parent in units if parent is not None]
        futures: list[Future] = []
        for target, region, parent in units:
            for extra in self._param_calls(spec, target, region, parent, param_values):
                query.plan(1)  # at least one call per unit (it is taken back if the cache answers)
                if self._answered(spec, target, region, parent, extra):
                    # No call to wait for: building its rows here costs less than a thread's hand-over
                    # (a warm run of 1,000 APIs has thousands of such units).
                    futures.append(_done(self._run_unit(spec, target, region, parent, extra, constraints, query,
                                                        bounds, siblings)))
                    continue
                futures.append(self._pool.submit(spec.name, self._run_unit, spec, target, region, parent, extra,
                                                 constraints, query, bounds, siblings))
        parts = [fut.result() for fut in futures]
        if any(not isinstance(part, list) for part in parts):  # Columnar rows: Arrow tables, in unit order
            import pyarrow as pa

            return pa.concat_tables([arrow_table(spec, part) for part in parts])
        rows = [row for part in parts for row in part]
        if kept is not None and recording is not None:
            self._tables.store(self, spec, kept, recording, rows)  # type: ignore[union-attr]
        return rows

    def _param_calls(self, spec: TableSpec, target: Target, region: str, parent: dict[str, Any] | None,
                     param_values: list[tuple[str | None, list[str]]]) -> list[dict[str, Any]]:
        """The extra parameters of one unit's calls: one set per combination of pushed `param` values,
        or the single unfiltered call ([{}]) when that costs no more.

        DuckDB applies the whole WHERE either way, so this only decides what the unit costs. The
        combinations are sent while there are at most MAX_PARAM_COMBINATIONS of them and, when the
        unfiltered call was made before, while they cost fewer calls than its pages did (a fresh
        cached answer costs none; cached combinations cost none either).
        """
        if not param_values or spec.fetch.rows:  # a rows function reads ctx.constraints itself
            return [{}]
        combos = _param_combinations(param_values)
        if len(combos) > MAX_PARAM_COMBINATIONS:
            return [{}]
        context = {"$region": region, "$account_id": target.account_id, "$partition": target.partition,
                   "$parent": parent or {}}
        params = {k: _bind(v, context) for k, v in spec.fetch.params.items()}

        def cost(extra: dict[str, Any]) -> int | None:
            """Calls the answer would take: 0 when fresh in the cache, its pages when stale, None if never made."""
            key = CallKey.of(target.account_id, region, spec.service or "", spec.fetch.operation or "",
                             {**params, **extra})
            with self._lock:
                hit = self._cache.get(key)
            if hit is None or time.monotonic() - hit.stored_at >= self.config.ttl:
                hit = self._from_disk(key, spec.name, log=False) or hit
            if hit is None or not isinstance(hit.answer, list):
                return None
            return 0 if time.monotonic() - hit.stored_at < self.config.ttl else len(hit.answer)

        unfiltered = cost({})
        if unfiltered is None:
            return combos
        per_value = sum(1 if known is None else known for known in map(cost, combos))  # a new call: 1 page at least
        return [{}] if per_value >= unfiltered else combos

    def _answered(self, spec: TableSpec, target: Target, region: str, parent: dict[str, Any] | None,
                  extra_params: dict[str, Any]) -> bool:
        """Whether the unit's one call is answered by the cache (memory or disk) without a call: a table
        with a rows function may make any calls, so it never is."""
        if spec.fetch.rows:
            return False
        context = {"$region": None if spec.scope == "global" else region, "$account_id": target.account_id,
                   "$partition": target.partition, "$parent": parent or {}}
        params = {k: _bind(v, context) for k, v in spec.fetch.params.items()}
        params.update(extra_params)
        key = CallKey.of(target.account_id, region, spec.service or "", spec.fetch.operation or "", params)
        with self._lock:
            hit = self._cache.get(key)
        if hit is None or time.monotonic() - hit.stored_at >= self.config.ttl:
            hit = self._from_disk(key, spec.name)
        if hit is None:
            return False
        return isinstance(hit.answer, list) or hit.answer.code in spec.ignore_errors

    def _run_unit(self, spec: TableSpec, target: Target, region: str, parent: dict[str, Any] | None,
                  extra_params: dict[str, Any], constraints: dict[str, set[str]],
                  query: QueryFetch, bounds: dict[str, Any] | None = None,
                  siblings: list[dict[str, Any]] | None = None) -> Any:
        """The unit's rows: a list of row dicts, or an Arrow table when the rows function returned Columnar."""
        context = {"$region": None if spec.scope == "global" else region, "$account_id": target.account_id, "$partition": target.partition,
                   "$parent": parent or {}}
        self._unit.planned = 1
        try:
            if spec.fetch.rows:
                items: Iterable[Any] = spec.rows_function()(
                    UnitContext(self, spec, target, region, parent, query, constraints, bounds, siblings))
            else:
                params = {k: _bind(v, context) for k, v in spec.fetch.params.items()}
                params.update(extra_params)
                pages = self.call(spec.name, target, spec.service or "", region, spec.fetch.operation or "",
                                  params, query, spec.ignore_errors)
                items = _items(pages, spec.fetch.items, context)
            if isinstance(items, Columnar):
                return build_table(spec, items.items, context)
            return build_rows(spec, items, context)
        except (CallFailed, ExpectedError):  # ExpectedError: one of the table's ignore_errors, the resource is gone
            return []
        finally:
            if self._unit.planned:  # announced but not made (answered from the cache, or failed early)
                query.plan(-self._unit.planned)
            self._unit.planned = 0

    def close(self) -> None:
        self.cancel_event.set()
        self.scheduler.close()
        self._pool.shutdown()
        if self._resolver is not None:
            self._resolver.close()

    def clear_cache(self, table: str | None = None) -> None:
        """Forget cached calls, in memory and on disk: all, or those a table read (a derived table's: its
        parent's)."""
        with self._lock:
            if table is None:
                self._cache.clear()
                if self._disk is not None:
                    self._disk.drop_all()
                return
            while table is not None:
                keys = [k for k, tables in self._cache_tables.items() if table in tables and k in self._cache]
                for key in keys:
                    del self._cache[key]
                dropped = bool(keys)
                if self._disk is not None:  # this run's reads of it, and what earlier runs recorded
                    self._disk.drop(keys)
                    dropped = self._disk.drop_table(table) > 0 or dropped
                if dropped:
                    return
                table = self.catalog[table].parent

    def cache_entries(self) -> list[tuple[str, str, str, str, int, float]]:
        """(service, operation, account, region, pages, age in seconds) for each cached call."""
        now = time.monotonic()
        with self._lock:
            return [(k.service, k.operation, k.account_id, k.region,
                     len(entry.answer) if isinstance(entry.answer, list) else 0, now - entry.stored_at)
                    for k, entry in self._cache.items()]


def _done(value: Any) -> Future:
    """A future that already holds `value`."""
    future: Future = Future()
    future.set_result(value)
    return future


def _table_cache(disk: Any) -> Any:
    """The built tables kept beside the call cache (table_cache.TableCache), or None without a call cache."""
    from .table_cache import TableCache

    return None if disk is None else TableCache(disk)


def _disk_cache(config: FetchConfig) -> Any:
    """The session's call cache on disk (call_cache.CallCache), or None when it is turned off."""
    from .call_cache import CallCache, calls_root, disabled_by_environment, scope_of

    if not config.persistent_cache or disabled_by_environment():
        return None
    return CallCache(calls_root(), scope_of(config.endpoint_url, config.profile), config.ttl, config.refresh)


class UnitPool:
    """Threads for units, shared fairly between tables: the next free thread takes the oldest unit of
    the next table in turn, so that a table of many units waiting on a slow quota (GetResources at
    2.5/s) cannot hold every thread while the calls of other tables could go out."""

    def __init__(self, max_threads: int):
        self.max_threads = max_threads
        self._queues: dict[str, deque[tuple[Future, Callable[..., Any], tuple[Any, ...]]]] = {}
        self._turn: deque[str] = deque()  # tables with queued units, in the order they take turns
        self._cond = threading.Condition()
        self._threads = 0
        self._idle = 0
        self._shutdown = False

    def submit(self, table: str, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("the fetcher is closed")
            queue = self._queues.setdefault(table, deque())
            if not queue:
                self._turn.append(table)
            queue.append((future, fn, args))
            if self._idle == 0 and self._threads < self.max_threads:
                self._threads += 1
                threading.Thread(target=self._work, name=f"apigw-sql-fetch-{self._threads}", daemon=True).start()
            else:
                self._cond.notify()
        return future

    def _next(self) -> tuple[Future, Callable[..., Any], tuple[Any, ...]] | None:
        with self._cond:
            while not self._turn:
                if self._shutdown:
                    return None
                self._idle += 1
                self._cond.wait()
                self._idle -= 1
            table = self._turn.popleft()
            queue = self._queues[table]
            item = queue.popleft()
            if queue:
                self._turn.append(table)
            return item

    def _work(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(error)

    def shutdown(self) -> None:
        """Cancels the units not started; running ones end on the fetcher's cancel event."""
        with self._cond:
            self._shutdown = True
            for queue in self._queues.values():
                for future, _, _ in queue:
                    future.cancel()
                queue.clear()
            self._turn.clear()
            self._cond.notify_all()


class CallFailed(ApigwSqlError):
    """A call failed and was reported; the unit yields no rows."""


# Public name: a rows function that makes several calls may catch it to keep the rows it has.


def _refuse_broken_body(operation_model: Any = None, response_dict: dict[str, Any] | None = None,
                        **_: Any) -> None:
    """botocore's before-parse handler: a successful answer that is cut off or not JSON is a failure.

    botocore reads a body shorter than its Content-Length without complaint (it turns urllib3's check
    off) and parses JSON it cannot decode as {"message": body}: a broken answer would become an empty
    page, cached and shown as the truth. Raising here makes it a failed call (IncompleteReadError,
    ResponseParserError).
    """
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    if not response_dict or response_dict.get("status_code", 500) >= 300:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes) or (operation_model is not None and operation_model.http.get("method") == "HEAD"):
        return  # a stream (S3 GetObject: botocore checks its length as it is read), or no body by design
    headers = response_dict.get("headers") or {}
    length = str(headers.get("content-length") or "")
    if length.isdigit() and int(length) != len(body):
        raise bx.IncompleteReadError(actual_bytes=len(body), expected_bytes=int(length))
    protocol = operation_model.metadata.get("protocol") if operation_model is not None else None
    if body.strip() and protocol in ("json", "rest-json") and not headers.get("content-encoding"):
        try:
            json.loads(body)
        except ValueError:
            raise ResponseParserError("the answer is not valid JSON") from None


class _Pager:
    """Which parameters ask for the page after a given one: botocore's pagination model when the call
    has one, else the token pair the call's input and output shapes share (see _NEXT_TOKENS).

    Pages are requested one by one (not through botocore's paginator) so that each is one scheduled
    request: the scheduler can pace it, retry it when throttled, and no token is spent to learn that
    there is no next page.
    """

    def __init__(self, client: Any, method: str, operation: str):
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.more_results: str | None = None
        if client.can_paginate(method):
            config = getattr(client.get_paginator(method), "_pagination_cfg", None) or {}
            self.inputs = _as_list(config.get("input_token"))
            self.outputs = _as_list(config.get("output_token"))
            self.more_results = config.get("more_results")
        if not self.inputs:
            pair = _manual_token(client, operation)
            if pair:
                self.inputs, self.outputs = [pair[0]], [pair[1]]

    def next_params(self, params: dict[str, Any], page: dict[str, Any]) -> dict[str, Any] | None:
        """The parameters of the next page, or None after the last one."""
        import jmespath

        if not self.inputs:
            return None
        if self.more_results and not jmespath.search(self.more_results, page):
            return None
        tokens = [jmespath.search(expression, page) for expression in self.outputs]
        if all(token is None or token == "" for token in tokens):
            return None
        following = dict(params)
        for name, token in zip(self.inputs, tokens):
            if token is None or token == "":
                following.pop(name, None)
            else:
                following[name] = token
        if following == params:  # the same token again: the service would answer the same page forever
            return None
        return following


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


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
    if (service, operation) == ("cloudtrail", "LookupEvents"):
        scrub_lookup_page(page)  # the records of API key operations hold the key values
        return
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


def count_items(page: dict[str, Any]) -> int:
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
