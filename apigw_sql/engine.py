"""The engine: SQL in, rows out. Parses each statement, fetches only the catalog tables it reads
(narrowed by pushdown), loads them into DuckDB and runs the statement there unchanged.

>>> import apigw_sql
>>> con = apigw_sql.connect(regions=["us-east-1"])   # doctest: +SKIP
>>> con.sql("SELECT name FROM aws_api_gateway_rest_api").rows   # doctest: +SKIP
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import pushdown
from .catalog import Catalog, TableSpec, load_catalog
from .fetch import CredentialsError, FetchConfig, FetchError, Fetcher, Progress, QueryFetch
from .ratelimit import Cancelled

_FILE_LIKE = re.compile(r"[./\\*]")
# Statements that only read: after anything else, the tables it names are rebuilt on next use.
_READING_STATEMENTS = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE", "EXPLAIN",
                       "PRAGMA", "SET", "RESET", "ATTACH", "DETACH", "USE", "EXPORT"}
_DUCK_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN",
               "TIMESTAMP": "TIMESTAMP", "JSON": "JSON", "VARCHAR[]": "VARCHAR[]"}


class QueryError(Exception):
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

    def __init__(self, *, profile: str | None = None, regions: list[str] | None = None,
                 endpoint_url: str | None = None, ttl: float = 300.0, max_attempts: int = 5,
                 rate_limit: bool = True, database: str = ":memory:", catalog: Catalog | None = None,
                 pushdown_enabled: bool = True, workers: int = 16, cloudtrail_logs: list[str] | None = None,
                 access_logs: list[str] | None = None):
        import duckdb

        self.catalog = catalog or load_catalog()
        self.config = FetchConfig(profile=profile, regions=regions, endpoint_url=endpoint_url, ttl=ttl,
                                  max_attempts=max_attempts, rate_limit=rate_limit, workers=workers,
                                  cloudtrail_logs=list(cloudtrail_logs) if cloudtrail_logs is not None else None,
                                  access_logs=list(access_logs) if access_logs is not None else None)
        self.fetcher = Fetcher(self.catalog, self.config)
        self.duck = duckdb.connect(database)
        self.duck.execute("SET TimeZone = 'UTC'")
        self.pushdown_enabled = pushdown_enabled
        self._lock = threading.Lock()
        self.last_errors: list[FetchError] = []
        self._loaded: dict[str, frozenset] = {}  # table -> the cached calls its DuckDB copy was built from

    # ---- public API ------------------------------------------------------------------------
    def sql(self, text: str, on_progress: Callable[[Progress], None] | None = None, fetch: bool = True) -> Result:
        """Run one or more statements; return the result of the last one.

        With ``fetch=False`` the statements run on the tables as loaded (after ``fetch`` of a plan).
        """
        statements = self._split(text)
        if not statements:
            raise QueryError("empty query: give a SQL statement, e.g. SELECT * FROM apigw_sql_tables")
        result: Result | None = None
        for statement in statements:
            result = self._run(statement, on_progress, fetch)
        assert result is not None
        return result

    def uses(self, text: str) -> dict[str, pushdown.TableUse]:
        """The catalog tables a query reads and the pushdown constraints on each (no fetch)."""
        uses: dict[str, pushdown.TableUse] = {}
        for statement in self._split(text):
            for use in self._analyze(statement).values():
                _merge(uses, use)
        return self._resolve(uses)

    def fetch(self, tables: list[str] | dict[str, pushdown.TableUse],
              on_progress: Callable[[Progress], None] | None = None) -> QueryFetch:
        """Fetch and load tables: whole ones (a list of names), or as narrowed by merged ``uses``.

        Runners that plan many queries fetch the union once, then run each with ``fetch=False``.
        """
        uses = tables if isinstance(tables, dict) else {n: pushdown.TableUse(n) for n in tables}
        with self._lock:
            self.fetcher.cancel_event.clear()
            return self._fetch_and_load(uses, on_progress)

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
    def _split(self, text: str) -> list[str]:
        import duckdb

        try:
            return [s.query.strip().rstrip(";").strip() for s in self.duck.extract_statements(text)
                    if s.query.strip().rstrip(";").strip()]
        except duckdb.Error as exc:
            raise QueryError(_duck_message(exc)) from None

    def _relations(self) -> dict[str, str | None]:
        rows = self.duck.execute(
            "SELECT table_name, NULL FROM duckdb_tables() WHERE NOT internal "
            "UNION ALL SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
        return {name: sql for name, sql in rows}

    def _analyze(self, statement: str, depth: int = 0) -> dict[str, pushdown.TableUse]:
        try:
            trees = pushdown.parse(statement)
        except pushdown.SQLSyntaxError:
            return self._analyze_by_tokens(statement)
        uses: dict[str, pushdown.TableUse] = {}
        relations = self._relations()
        for tree in trees:
            found = pushdown.analyze_statement(tree, self.catalog)
            if not self.pushdown_enabled:
                found = {n: pushdown.TableUse(n) for n in found}
            for ref in pushdown.table_refs(tree):
                name = ref.name
                if name in self.catalog:
                    continue
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
        close = self.catalog.closest(name, extra=[r for r in self._relations() if r not in self.catalog])
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"unknown table {name!r}{hint} ('apigw-sql tables' lists them)"

    def _run(self, statement: str, on_progress: Callable[[Progress], None] | None, fetch: bool = True) -> Result:
        import duckdb

        started = time.monotonic()
        with self._lock:
            self.fetcher.cancel_event.clear()
            if fetch:
                uses = self._resolve(self._analyze(statement))
                query = self._fetch_and_load(uses, on_progress)
            else:
                uses, query = {}, QueryFetch(on_progress)
            try:
                rel = self.duck.sql(statement)
                table = rel.to_arrow_table() if rel is not None else None
                columns = list(rel.columns) if rel is not None else []
                types = [str(t) for t in rel.types] if rel is not None else []
            except duckdb.InterruptException:
                raise Cancelled() from None
            except duckdb.Error as exc:
                raise QueryError(_duck_message(exc)) from None
        self.last_errors = query.errors
        kind = statement.split(None, 1)[0].upper() if statement else ""
        if kind not in _READING_STATEMENTS:
            for name in uses:  # the statement may have changed a loaded table: rebuild it next time
                self._loaded.pop(name, None)
        p = query.progress
        return Result(columns, types, table, query.errors, time.monotonic() - started, p.calls, p.cache_hits,
                      p.throttled, kind)

    def _fetch_and_load(self, uses: dict[str, pushdown.TableUse],
                        on_progress: Callable[[Progress], None] | None) -> QueryFetch:
        from concurrent.futures import ThreadPoolExecutor

        query = QueryFetch(on_progress)
        remote = [u for u in uses.values() if self.catalog[u.name].scope != "local"]
        local = [u for u in uses.values() if self.catalog[u.name].scope == "local"]
        rows: dict[str, Any] = {}
        if remote:
            with ThreadPoolExecutor(max_workers=min(8, len(remote)), thread_name_prefix="apigw-sql-table") as pool:
                futures = {u.name: pool.submit(self.fetcher.table_rows, u.name, u.constraints, query, u.bounds)
                           for u in remote}
                for name, fut in futures.items():
                    try:
                        rows[name] = fut.result()
                    except CredentialsError as exc:
                        self.fetcher.cancel_event.set()
                        raise QueryError(str(exc)) from None
        if self.fetcher.cancel_event.is_set():
            raise Cancelled()
        for use in local:  # after the remote fetch, so the fetch log includes this query's calls
            rows[use.name] = self.fetcher.table_rows(use.name, use.constraints, query, use.bounds)
        existing = self._relations() if rows else {}
        for name, table_rows in rows.items():
            signature = self._signature(name, query)
            if signature is not None and self._loaded.get(name) == signature and name in existing:
                continue  # built from the very same cached calls: the rows are the same
            self._load(self.catalog[name], table_rows)
            if signature is not None:
                self._loaded[name] = signature
            else:
                self._loaded.pop(name, None)
        return query

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

    def _load(self, spec: TableSpec, rows: Any) -> None:
        if hasattr(rows, "to_duckdb"):  # a provider that hands DuckDB a relation of its own
            rows.to_duckdb(self.duck, spec.name)
            return
        import pyarrow as pa

        arrow = pa.table({c.name: pa.array([r.get(c.name) for r in rows], type=_arrow_type(c.type))
                          for c in spec.columns})
        select = ", ".join(f'CAST("{c.name}" AS {_DUCK_TYPES[c.type]}) AS "{c.name}"' for c in spec.columns)
        self.duck.register("__apigw_sql_load", arrow)
        try:
            self.duck.execute(f'CREATE OR REPLACE TABLE "{spec.name}" AS SELECT {select} FROM __apigw_sql_load')
        finally:
            self.duck.unregister("__apigw_sql_load")


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


def _arrow_type(ctype: str) -> Any:
    import pyarrow as pa

    return {"VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
            "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"), "VARCHAR[]": pa.list_(pa.string())}[ctype]


def _duck_message(exc: Exception) -> str:
    text = str(exc).strip()
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
