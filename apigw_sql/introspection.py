"""Rows of the introspection tables: the catalogue itself and the session's fetch log."""
from __future__ import annotations

from typing import Any, Iterator


def tables(ctx: Any) -> Iterator[dict[str, Any]]:
    for name in ctx.fetcher.catalog:
        spec = ctx.fetcher.catalog[name]
        yield {"name": spec.name, "description": spec.description, "service": spec.service,
               "operation": spec.fetch.operation or spec.fetch.rows, "parent": spec.parent,
               "pushdown_keys": sorted(spec.pushdown_columns), "column_count": len(spec.columns),
               "file": spec.file, "examples": list(spec.examples)}


def columns(ctx: Any) -> Iterator[dict[str, Any]]:
    for name in ctx.fetcher.catalog:
        spec = ctx.fetcher.catalog[name]
        pushable = spec.pushdown_columns
        for position, col in enumerate(spec.columns, start=1):
            yield {"table_name": spec.name, "name": col.name, "type": col.type, "description": col.description,
                   "position": position, "pushdown": col.name in pushable,
                   "source": col.template or col.path}


def fetch_log(ctx: Any) -> Iterator[dict[str, Any]]:
    for seq, record in enumerate(list(ctx.fetcher.log), start=1):
        row = dict(vars(record))  # plain values: asdict's deep copy of each was most of the build
        row["table_name"] = row.pop("table")
        yield {"seq": seq, **row}
