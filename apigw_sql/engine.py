"""The engine: SQL in, rows out. Parses each statement, fetches only the catalog tables it reads
(narrowed by pushdown), loads them into DuckDB and runs the statement there unchanged.

>>> import apigw_sql
>>> con = apigw_sql.connect(regions=["us-east-1"])   # doctest: +SKIP
>>> con.sql("SELECT name FROM aws_api_gateway_rest_api").rows   # doctest: +SKIP
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import pushdown
from .catalog import Catalog, TableSpec, load_catalog
from .accounts import account_selection
from .connection_options import ConnectionOptions
from .fetch import CredentialsError, FetchConfig, FetchError, Fetcher, Progress, QueryFetch, ReadOnlyViolation
from .ratelimit import Cancelled
from .readonly import ReadOnlyViolation
from .errors import UserError, unknown_table
from .rowbuild import arrow_table
from .snapshot_files import OpenedSnapshot, open_snapshot
from .types import COLUMN_TYPES

# sqlglot logs "Falling back to parsing as a 'Command'" for statements it does not model (LOAD, CALL):
# the engine then reads them by tokens (_analyze_by_tokens), so the line is noise on a user's stderr.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_FILE_LIKE = re.compile(r"[./\\*]")
_EXPORT_DATABASE = re.compile(r"\s*EXPORT\s+DATABASE\b", re.IGNORECASE)
# Statements that only read: after anything else, the tables it names are rebuilt on next use.
_READING_STATEMENTS = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE", "EXPLAIN",
                       "PRAGMA", "SET", "RESET", "ATTACH", "DETACH", "USE", "EXPORT"}
# Statement types DuckDB answers with rows only (used when its Python API lacks expected_result_type).
_QUERY_STATEMENTS = {"SELECT", "PRAGMA", "CALL", "EXPLAIN", "RELATION", "LOGICAL_PLAN"}


class QueryError(UserError):
    """A statement failed for a reason the user can fix; the message is one line."""


@dataclass
class Result:
    columns: list[str]
    types: list[str]
    table: Any  # pyarrow.Table
    errors: list[FetchError] = field(default_factory=list)
    elapsed: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    throttled: int = 0
    statement_type: str = "SELECT"
    # False for statements that change something (CREATE, INSERT, COPY, SET, LOAD): DuckDB answers
    # them with a row count or nothing, which a run of several statements does not print.
    returns_rows: bool = True
    reads: int = 0  # answered calls, cache hits and log sources read for this statement

    @property
    def nothing_read(self) -> bool:
        """True when the statement needed AWS (or log sources) and every read of it failed."""
        return bool(self.errors) and self.reads == 0

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        if self.table is None:
            return []
        cols = [c.to_pylist() for c in self.table.columns]
        return list(zip(*cols)) if cols else []

    def arrow(self) -> Any:
        return self.table

    def dicts(self) -> list[dict[str, Any]]:
        return [] if self.table is None else self.table.to_pylist()

    def __len__(self) -> int:
        return 0 if self.table is None else self.table.num_rows


class Connection:
    """A session: one DuckDB database, one fetcher and its cache, one catalog."""

    def __init__(self, options: ConnectionOptions | None = None, *, catalog: Catalog | None = None,
                 **keywords: Any):
        """Open a session with ``options``, or with the fields of ConnectionOptions as keywords
        (``Connection(regions=["eu-west-1"], ttl=60)``); ``catalog`` replaces the shipped tables."""
        import duckdb

        if options is None:
            options = ConnectionOptions(**keywords)  # an unknown keyword is a TypeError naming it
        elif keywords:
            raise TypeError(f"give either options or keywords, not both ({', '.join(keywords)})")
        if options.sandbox:
            raise ValueError("a Connection does not start the sandbox: use apigw_sql.app.open_connection")
        self.options = options
        self.catalog = catalog or load_catalog()
        self.config = FetchConfig(profile=options.profile, regions=options.regions,
                                  endpoint_url=options.endpoint_url, ttl=options.ttl,
                                  persistent_cache=options.call_cache, refresh=options.refresh,
                                  max_attempts=options.max_attempts, max_wait=options.max_wait,
                                  rate_limit=options.rate_limit, workers=options.workers,
                                  cloudtrail_logs=None if options.cloudtrail_logs is None
                                  else list(options.cloudtrail_logs),
                                  access_logs=None if options.access_logs is None else list(options.access_logs),
                                  accounts=account_selection(options))
        self.fetcher = Fetcher(self.catalog, self.config)
        self.duck = duckdb.connect(options.database)
        self.duck.execute("SET TimeZone = 'UTC'")
        # On a snapshot every AWS and log table is a view over it: none is fetched, no AWS call is made.
        self.snapshot: OpenedSnapshot | None = None
        if options.snapshot:
            try:
                self.snapshot = open_snapshot(self.duck, options.snapshot, self.catalog)
            except BaseException:
                self.duck.close()
                raise
        self.pushdown_enabled = options.pushdown_enabled
        # Reentrant: a fetch's on_loaded callback may run statements on the tables loaded so far.
        self._lock = threading.RLock()
        self.last_errors: list[FetchError] = []
        self._loaded: dict[str, frozenset] = {}  # table -> the cached calls its DuckDB copy was built from
        self._providers: dict[str, Any] = {}  # table -> the provider that made its DuckDB relation
        self._plans = _plan_cache(self.catalog, options)  # analyses kept on disk (plan_cache.py); None when off
        self._declare_catalog()

    # ---- public API ------------------------------------------------------------------------
    def sql(self, text: str, on_progress: Callable[[Progress], None] | None = None, fetch: bool = True) -> Result:
        """Run one or more statements; return the result of the last one, carrying the fetch errors of
        every statement (a failure while an earlier statement built a table is a gap in the last one too).

        With ``fetch=False`` the statements run on the tables as loaded (after ``fetch`` of a plan); a catalog
        table that was not fetched reads as empty.
        """
        errors: list[FetchError] = []
        result: Result | None = None
        for result in self.sql_each(text, on_progress, fetch):
            errors += [e for e in result.errors if e not in errors]
        assert result is not None
        result.errors = errors
        return result

    def sql_each(self, text: str, on_progress: Callable[[Progress], None] | None = None,
                 fetch: bool = True) -> Iterator[Result]:
        """Run one or more statements, yielding each one's Result as soon as it has run.

        A failing statement raises QueryError after the results of the statements before it were yielded.
        """
        statements = self._statements(text)
        if not statements:
            raise QueryError("empty query: give a SQL statement, e.g. SELECT * FROM apigw_sql_tables")
        for statement, is_query in statements:
            result = self._run(statement, on_progress, fetch)
            # INSERT ... RETURNING is not a query to DuckDB but returns rows of its own, not a count.
            result.returns_rows = is_query or result.columns not in ([], ["Count"], ["Success"])
            yield result

    def statements(self, text: str) -> list[str]:
        """The statements of a text, as ``sql_each`` runs them (raises QueryError on a syntax error)."""
        return self._split(text)

    def uses(self, text: str) -> dict[str, pushdown.TableUse]:
        """The catalog tables a query reads and the pushdown constraints on each (no fetch)."""
        uses: dict[str, pushdown.TableUse] = {}
        for statement in self._split(text):
            for use in self._analyze(statement).values():
                _merge(uses, use)
        return self._resolve(uses)

    def fetch(self, tables: list[str] | dict[str, pushdown.TableUse],
              on_progress: Callable[[Progress], None] | None = None,
              on_loaded: Callable[[str, QueryFetch], None] | None = None) -> QueryFetch:
        """Fetch and load tables: whole ones (a list of names), or as narrowed by merged ``uses``.

        Runners that plan many queries fetch the union once, then run each with ``fetch=False``.
        With ``on_loaded``, each remote table is loaded as soon as its fetch ends and
        ``on_loaded(name, query)`` is called in this thread (it may run statements on the tables
        loaded so far, while the others are still fetched); local tables are loaded last, as always.
        """
        uses = tables if isinstance(tables, dict) else {n: pushdown.TableUse(n) for n in tables}
        with self._lock:
            self.fetcher.cancel_event.clear()
            return self._fetch_and_load(uses, on_progress, on_loaded)

    def prefetch(self, use: pushdown.TableUse) -> None:
        """Starts fetching a remote table in the background, into the call cache only (nothing is loaded).

        A runner still planning calls it for a table read whole (a use without constraints stays
        whole in any merged plan), so that the calls start at once; ``fetch`` of the plan then finds
        them made or in flight. Its errors are reported by that ``fetch``, which retries failed calls.
        """
        if use.constraints or use.bounds or self.catalog[use.name].scope == "local" or self._from_snapshot(use.name):
            return

        def run() -> None:
            try:
                self.fetcher.table_rows(use.name, {}, QueryFetch(), {})
            except Exception:  # noqa: BLE001 - the plan's own fetch meets and reports the same failure
                pass

        threading.Thread(target=run, name=f"apigw-sql-prefetch-{use.name}", daemon=True).start()

    def prefetch_targets(self) -> None:
        """Starts resolving the accounts to read (credentials, STS) in the background (not on a snapshot)."""
        if self.snapshot is not None:
            return
        def run() -> None:
            try:
                self.fetcher.targets()
            except Exception:  # noqa: BLE001 - the fetch that needs them meets and reports the same failure
                pass

        threading.Thread(target=run, name="apigw-sql-prefetch-targets", daemon=True).start()

    @staticmethod
    def merge_uses(into: dict[str, pushdown.TableUse], uses: dict[str, pushdown.TableUse]) -> None:
        """Add a query's table uses to a plan: per column the union, which stays a superset."""
        for use in uses.values():
            _merge(into, use)

    def refresh(self, table: str | None = None) -> None:
        if table is not None and table not in self.catalog:
            raise QueryError(self._unknown_table_message(table))
        self.fetcher.clear_cache(table)

    def interrupt(self) -> None:
        """Cancel the running fetch or query (from another thread, e.g. on Ctrl-C)."""
        self.fetcher.cancel_event.set()
        try:
            self.duck.interrupt()
        except Exception:  # noqa: BLE001 - nothing running is fine
            pass

    def close(self) -> None:
        self.fetcher.close()
        self.duck.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def fetch_log(self) -> list:
        return list(self.fetcher.log)

    # ---- internals -------------------------------------------------------------------------
    def _from_snapshot(self, name: str) -> bool:
        """Whether the table is read from the session's snapshot (never fetched)."""
        return self.snapshot is not None and name in self.snapshot.served

    def _declare_catalog(self) -> None:
        """Every catalog table as an empty, typed and described DuckDB table, so that SHOW TABLES,
        information_schema and duckdb_tables() list the catalogue (as BI tools discover tables) before
        anything is fetched.

        The placeholders change nothing for queries: the analysis looks a name up in the catalog before
        DuckDB's relations, so a statement that reads a catalog table still fetches it and the load replaces
        the placeholder; one that only reads metadata (information_schema.columns) fetches nothing.
        EXPORT DATABASE fetches the placeholders still left (``_placeholders``) before DuckDB writes them.
        """
        present = self._relations()  # a database file may hold them already (or a log-files view)
        statements = []
        self._placeholders: set[str] = set()  # catalog tables declared empty and not loaded since
        for name in self.catalog:
            if name in present:
                continue
            self._placeholders.add(name)
            spec = self.catalog[name]
            columns = ", ".join(f'"{c.name}" {COLUMN_TYPES[c.type].duckdb}' for c in spec.columns)
            statements.append(f'CREATE TABLE "{name}" ({columns})')
            statements.append(_comment_sql("TABLE", name, spec.description))
        if statements:
            self.duck.execute("BEGIN TRANSACTION; " + "; ".join(statements) + "; COMMIT")

    def _split(self, text: str) -> list[str]:
        return [statement for statement, _ in self._statements(text)]

    def _statements(self, text: str) -> list[tuple[str, bool]]:
        """(statement, is a query) for each statement of the text; a query is what DuckDB answers with rows
        only (SELECT, SHOW, DESCRIBE, PRAGMA, CALL, EXPLAIN), not with a changed-row count or nothing."""
        import duckdb

        try:
            parsed = self.duck.extract_statements(text)
        except duckdb.Error as exc:
            raise QueryError(_duck_message(exc)) from None
        statements = []
        for s in parsed:
            query = s.query.strip().rstrip(";").strip()
            if query:
                kinds = {k.name for k in getattr(s, "expected_result_type", ())}
                is_query = kinds == {"QUERY_RESULT"} if kinds else s.type.name in _QUERY_STATEMENTS
                statements.append((query, is_query))
        return statements

    def _relations(self) -> dict[str, str | None]:
        rows = self.duck.execute(
            "SELECT table_name, NULL FROM duckdb_tables() WHERE NOT internal "
            "UNION ALL SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
        return {name: sql for name, sql in rows}

    def _analyze(self, statement: str, depth: int = 0) -> dict[str, pushdown.TableUse]:
        plans = self._plans if depth == 0 and self.pushdown_enabled else None
        kept = plans.get(statement) if plans is not None else None
        if kept is not None:
            return kept
        try:
            trees = pushdown.parse(statement)
        except pushdown.SQLSyntaxError:
            return self._analyze_by_tokens(statement)
        uses: dict[str, pushdown.TableUse] = {}
        relations = self._relations()
        catalog_only = True  # names nothing but catalog tables: the analysis holds whatever the session has
        for tree in trees:
            found = pushdown.analyze_statement(tree, self.catalog)
            if not self.pushdown_enabled:
                found = {n: pushdown.TableUse(n) for n in found}
            for ref in pushdown.table_refs(tree):
                name = ref.name
                if name in self.catalog:
                    continue
                catalog_only = False
                if name in relations:
                    view_sql = relations[name]
                    if view_sql and depth < 8 and name not in self.catalog:
                        for vname, vuse in self._analyze(view_sql, depth + 1).items():
                            _merge(found, vuse)
                    continue
                if _FILE_LIKE.search(name) or ref.args.get("db"):
                    continue
                if _creates(tree, name):
                    continue
                raise QueryError(self._unknown_table_message(name))
            for use in found.values():
                _merge(uses, use)
        if plans is not None and catalog_only:
            plans.put(statement, uses)
        return uses

    def _resolve(self, uses: dict[str, pushdown.TableUse]) -> dict[str, pushdown.TableUse]:
        """Evaluate constant expressions in pushed filters; drop a filter DuckDB cannot evaluate."""
        import duckdb

        memo: dict[pushdown.Pending, str | None] = {}

        def value(v: Any) -> str | None:
            if not isinstance(v, pushdown.Pending):
                return v
            if v not in memo:
                try:
                    rows = self.duck.execute(f"SELECT CAST(({v.sql}) AS VARCHAR)").fetchall()
                    memo[v] = rows[0][0] if rows else None
                except duckdb.Error:
                    memo[v] = None
            return memo[v]

        for use in uses.values():
            constraints = {}
            for col, values in use.constraints.items():
                resolved = {value(v) for v in values}
                if None not in resolved:
                    constraints[col] = resolved
            use.constraints = constraints
            for col, b in list(use.bounds.items()):
                use.bounds[col] = pushdown.Bounds(value(b.low), b.low_inclusive, value(b.high), b.high_inclusive)
        return uses

    def _analyze_by_tokens(self, statement: str) -> dict[str, pushdown.TableUse]:
        # sqlglot cannot parse every DuckDB statement; read every catalog name it mentions, whole.
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", statement))
        return {n: pushdown.TableUse(n) for n in words if n in self.catalog}

    def _unknown_table_message(self, name: str) -> str:
        return unknown_table(name, [*self.catalog, *self._relations()]) + " ('apigw-sql tables' lists them)"

    def _run(self, statement: str, on_progress: Callable[[Progress], None] | None, fetch: bool = True) -> Result:
        import duckdb

        started = time.monotonic()
        with self._lock:
            self.fetcher.cancel_event.clear()
            log_start = len(self.fetcher.log)
            if fetch:
                uses = self._resolve(self._analyze(statement))
                if _EXPORT_DATABASE.match(statement):  # the export holds the catalogue's data, not placeholders
                    for name in sorted(self._placeholders):
                        _merge(uses, pushdown.TableUse(name))
                query = self._fetch_and_load(uses, on_progress)
            else:
                uses, query = {}, QueryFetch(on_progress)
            while True:
                try:
                    rel = self.duck.sql(statement)
                    table = rel.to_arrow_table() if rel is not None else None
                    columns = list(rel.columns) if rel is not None else []
                    types = [str(t) for t in rel.types] if rel is not None else []
                    break
                except duckdb.InterruptException:
                    raise Cancelled() from None
                except duckdb.Error as exc:
                    if not self._recover(uses, exc):
                        raise QueryError(_duck_message(exc)) from None
            # What this statement read: calls that answered and log sources listed, beside cache hits;
            # the session's own calls (who am I, which regions) read no table.
            reads = sum(1 for rec in self.fetcher.log[log_start:]
                        if rec.error_code is None and not rec.table.startswith("("))
        self.last_errors = query.errors
        kind = statement.split(None, 1)[0].upper() if statement else ""
        if kind not in _READING_STATEMENTS:
            for name in uses:  # the statement may have changed a loaded table: rebuild it next time
                self._loaded.pop(name, None)
        p = query.progress
        return Result(columns, types, table, query.errors, time.monotonic() - started, p.calls, p.cache_hits,
                      p.throttled, kind, reads=reads + p.cache_hits)

    def _fetch_and_load(self, uses: dict[str, pushdown.TableUse],
                        on_progress: Callable[[Progress], None] | None,
                        on_loaded: Callable[[str, QueryFetch], None] | None = None) -> QueryFetch:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        query = QueryFetch(on_progress)
        if on_progress is not None:  # hand the live counters over now: the first call may take a while
            on_progress(query.progress)
        if self.snapshot is not None:  # the snapshot's tables are loaded already (views over it)
            served = [name for name in uses if self._from_snapshot(name)]
            uses = {name: use for name, use in uses.items() if name not in served}
            if on_loaded is not None:
                for name in served:
                    on_loaded(name, query)
        remote = [u for u in uses.values() if self.catalog[u.name].scope != "local"]
        local = [u for u in uses.values() if self.catalog[u.name].scope == "local"]
        rows: dict[str, Any] = {}
        if remote:
            # Every table of the plan at once: their calls all wait in the scheduler, which keeps each
            # quota busy (a table waiting on GetResources' 2.5/s leaves the account's 10/s to the others).
            with ThreadPoolExecutor(max_workers=len(remote), thread_name_prefix="apigw-sql-table") as pool:
                futures = {pool.submit(self.fetcher.table_rows, u.name, u.constraints, query, u.bounds): u.name
                           for u in remote}
                for fut in as_completed(futures) if on_loaded is not None else futures:
                    name = futures[fut]
                    try:
                        rows[name] = fut.result()
                    except CredentialsError as exc:  # the query cannot be answered as asked
                        self.fetcher.cancel_event.set()
                        raise QueryError(str(exc)) from None
                    except ReadOnlyViolation as exc:  # a table file asks for a call the guard refuses
                        self.fetcher.cancel_event.set()
                        raise QueryError(f"{name}: {exc}; fix or remove the table file "
                                         f"{self.catalog[name].file or name}") from None
                    if on_loaded is not None:
                        if self.fetcher.cancel_event.is_set():
                            raise Cancelled()
                        self._load_if_changed(name, rows.pop(name), query, self._relations(), uses[name])
                        on_loaded(name, query)
        if self.fetcher.cancel_event.is_set():
            raise Cancelled()
        for use in local:  # after the remote fetch, so the fetch log includes this query's calls
            rows[use.name] = self.fetcher.table_rows(use.name, use.constraints, query, use.bounds)
        existing = self._relations() if rows else {}
        for name, table_rows in rows.items():
            self._load_if_changed(name, table_rows, query, existing, uses[name])
            if on_loaded is not None:
                on_loaded(name, query)
        return query

    def _load_if_changed(self, name: str, table_rows: Any, query: QueryFetch, existing: dict[str, Any],
                         use: pushdown.TableUse) -> None:
        signature = self._signature(name, query)
        if signature is not None:
            # With the filters: under a pushed filter the same cached calls can give fewer rows (a child
            # keeps only the matching parents), and a parent's calls are touched for its children too.
            signature |= {("filters", repr(sorted((c, sorted(map(str, v))) for c, v in use.constraints.items())),
                           repr(sorted(use.bounds.items())))}
        if signature is not None and self._loaded.get(name) == signature and name in existing:
            return  # built from the very same cached calls: the rows are the same
        self._load(self.catalog[name], table_rows)
        if signature is not None:
            self._loaded[name] = signature
        else:
            self._loaded.pop(name, None)

    def _signature(self, name: str, query: QueryFetch) -> frozenset | None:
        """The cached calls a remote table's rows came from, its parents' included; None for local tables."""
        spec = self.catalog[name]
        if spec.scope == "local":
            return None
        calls: set = set()
        table: str | None = name
        while table is not None:
            calls |= query.touched.get(table, set())
            table = self.catalog[table].parent
        return frozenset(calls)

    def _recover(self, uses: dict[str, pushdown.TableUse], error: Exception) -> bool:
        """After a failed statement: whether a provider it read repaired its relation (run it again, then).

        A provider over files (log files) can leave out those DuckDB cannot read; each time one
        does, it has fewer files, so the statement is run again a bounded number of times.
        """
        import duckdb

        if isinstance(error, (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)):
            return False  # the statement itself is wrong: no file was read
        repaired = False
        for name in uses:
            provider = self._providers.get(name)
            if provider is not None and hasattr(provider, "recover"):
                repaired = provider.recover(self.duck, name, error) or repaired
        return repaired

    def _load(self, spec: TableSpec, rows: Any) -> None:
        self._placeholders.discard(spec.name)
        if hasattr(rows, "to_duckdb"):  # a provider that hands DuckDB a relation of its own
            rows.to_duckdb(self.duck, spec.name)
            self._providers[spec.name] = rows
            kind = "VIEW" if spec.name in {n for n, sql in self._relations().items() if sql} else "TABLE"
            self.duck.execute(_comment_sql(kind, spec.name, spec.description))
            return
        self._providers.pop(spec.name, None)
        arrow = arrow_table(spec, rows)  # row dicts, or the Arrow table of Columnar rows as it is
        select = ", ".join(f'CAST("{c.name}" AS {COLUMN_TYPES[c.type].duckdb}) AS "{c.name}"' for c in spec.columns)
        self.duck.register("__apigw_sql_load", arrow)
        try:
            self.duck.execute(f'CREATE OR REPLACE TABLE "{spec.name}" AS SELECT {select} FROM __apigw_sql_load; '
                              + _comment_sql("TABLE", spec.name, spec.description))
        finally:
            self.duck.unregister("__apigw_sql_load")


def _plan_cache(catalog: Catalog, options: ConnectionOptions) -> Any:
    """The analyses kept on disk (plan_cache.PlanCache), or None when nothing is kept on disk."""
    from .call_cache import disabled_by_environment
    from .plan_cache import PlanCache

    if not options.call_cache or disabled_by_environment():
        return None
    return PlanCache(catalog)


def _merge(into: dict[str, pushdown.TableUse], use: pushdown.TableUse) -> None:
    if use.name in into:
        into[use.name].merge(use.constraints, use.bounds)
    else:
        into[use.name] = pushdown.TableUse(use.name, dict(use.constraints), dict(use.bounds))


def _creates(tree: Any, name: str) -> bool:
    from sqlglot import exp

    if isinstance(tree, (exp.Create, exp.Drop, exp.Insert)):
        target = tree.this
        while target is not None and not isinstance(target, exp.Table):
            target = target.this if hasattr(target, "this") else None
        return target is not None and target.name == name and (isinstance(tree, (exp.Create, exp.Drop))
                                                                 or False)
    return False


def _comment_sql(kind: str, name: str, text: str) -> str:
    """COMMENT ON a table or view: its description, as duckdb_tables() and information_schema show it."""
    return f"""COMMENT ON {kind} "{name}" IS '{text.replace("'", "''")}'"""


def _extension_message(text: str) -> str | None:
    """One whole sentence for DuckDB's multi-line extension errors (offline install, not installed).

    >>> _extension_message('An error occurred while trying to automatically install the required extension '
    ...     "'httpfs:\\nFailed to download extension \\"httpfs\\" at URL \\"http://x\\"\\n\\nFor more info, visit "
    ...     'https://duckdb.org/docs (ERROR Could not establish connection)')[:96]
    'cannot install the DuckDB extension httpfs: the download failed (Could not establish connection)'
    """
    download = re.search(r'Failed to download extension "([^"]+)"', text)
    if download:
        reason = re.search(r"\(ERROR ([^)]*)\)\s*$", text)
        return (f"cannot install the DuckDB extension {download.group(1)}: the download failed "
                f"({reason.group(1) if reason else 'no network?'}); on a machine without internet access, copy "
                f"{download.group(1)}.duckdb_extension into DuckDB's extension directory "
                "(https://duckdb.org/docs/current/extensions/troubleshooting)")
    missing = re.search(r'Extension "[^"]*?([\w]+)\.duckdb_extension" not found', text)
    install = re.search(r'Install it first using "([^"]+)"', text)
    if missing and install:
        return f"the DuckDB extension {missing.group(1)} is not installed: run {install.group(1)} first"
    return None


def _duck_message(exc: Exception) -> str:
    text = str(exc).strip()
    extension = _extension_message(text)
    if extension is not None:
        return extension
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head = lines[0] if lines else type(exc).__name__
    suggestion = next((ln.strip() for ln in lines[1:] if ln.strip().startswith("Did you mean")), "")
    position = ""
    for i, ln in enumerate(lines):
        m = re.match(r"LINE (\d+):(.*)", ln)
        if m and i + 1 < len(lines):
            caret = lines[i + 1].find("^")
            if caret >= 0:
                col = caret - len(f"LINE {m.group(1)}: ") + 1
                position = f" (line {m.group(1)}, column {max(col, 1)})"
    return f"{head}{position}" + (f" {suggestion}" if suggestion else "")
