"""aws_cloudtrail_event: the one CloudTrail table the activity controls read, whatever serves it.

Where log sources are configured (--cloudtrail-logs or the config file) the log files serve it, as
aws_cloudtrail_log does; else LookupEvents does, as aws_cloudtrail_lookup_event does, whose
CloudTrailEvent field holds the full record. Either way every column comes from the CloudTrail
record by the same SQL (record_sql), so a control sees the same columns and values, and `origin`
says which served the row ('log' or 'lookup'). The query's filters pass through to the source:
account, region and event_time narrow the folders and files read; region, event_time and the
lookup attributes (event_id, access_key_id, event_name, event_source, read_only) narrow LookupEvents.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import ColumnSpec
from .log_files import LogFilesView, Problems, collect_log_files, sources_or_report
from .record_sql import empty_select, records_select, replace_relation

LOOKUP_TABLE = "aws_cloudtrail_lookup_event"
_STAGING = "__apigw_sql_cloudtrail_lookup"


@dataclass
class LookupRecordsTable:
    """A provider: the records LookupEvents returned, turned into the table's columns by DuckDB."""

    columns: tuple[ColumnSpec, ...]
    rows: list[dict[str, Any]]

    def to_duckdb(self, con: Any, name: str) -> None:
        if not self.rows:
            replace_relation(con, name, "TABLE", empty_select(self.columns))
            return
        import pyarrow as pa

        staged = pa.table({"account_id": [r.get("account_id") for r in self.rows],
                           "region": [r.get("region") for r in self.rows],
                           "record": [r.get("cloud_trail_event") for r in self.rows]})
        source = f"(SELECT account_id, region, CAST(record AS JSON) AS j FROM {_STAGING} WHERE record IS NOT NULL)"
        context = {"$item": "j", "$account_id": "account_id", "$region": "region", "$log_file": "NULL",
                   "$origin": "'lookup'"}
        con.register(_STAGING, staged)
        try:
            replace_relation(con, name, "TABLE", records_select(self.columns, source, context))
        finally:
            con.unregister(_STAGING)


def lookup_pushdown(ctx: Any) -> tuple[dict[str, set[str]], dict[str, Any]]:
    """The query's constraints and bounds that aws_cloudtrail_lookup_event can push to LookupEvents."""
    keys = ctx.fetcher.catalog[LOOKUP_TABLE].pushdown_columns
    constraints = {c: v for c, v in ctx.constraints.items() if c in keys}
    bounds = {c: b for c, b in ctx.bounds.items() if c in keys}
    return constraints, bounds


def event_rows(ctx: Any) -> Any:
    """Rows function of aws_cloudtrail_event: a provider over the log files, or over LookupEvents."""
    sources = sources_or_report(ctx)
    if sources is None:
        return LogFilesView(ctx.spec.columns, [])
    if sources:
        return LogFilesView(ctx.spec.columns, collect_log_files(ctx, sources), origin="log", on_skip=Problems(ctx))
    constraints, bounds = lookup_pushdown(ctx)
    rows = ctx.fetcher.table_rows(LOOKUP_TABLE, constraints, ctx.query, bounds)
    return LookupRecordsTable(ctx.spec.columns, rows)
