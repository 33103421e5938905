"""Table specs: one TOML file per table under ``tables/``, validated on load.

A spec is data: the engine reads a table's calls, parent and columns from it and never
hard-codes a table name. Any mistake is reported with the file and the field at fault.
"""
from __future__ import annotations

import importlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import UserError
from .readonly import READ_OPERATION, READ_PREFIXES
from .types import COLUMN_TYPES

PUSHDOWN_KINDS = {"filter", "parent", "param", "provider"}
SCOPES = {"region", "global", "local"}  # global: once per account (IAM), region NULL
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]*$")

# Columns every AWS table has; the engine fills them from the fetch context.
COMMON_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("account_id", "VARCHAR", "$account_id", "The AWS account ID the row was fetched from."),
    ("region", "VARCHAR", "$region", "The AWS region the row was fetched from."),
    ("partition", "VARCHAR", "$partition", "The AWS partition (aws, aws-cn, aws-us-gov)."),
)


class SpecError(UserError, ValueError):
    """A table file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    description: str
    path: str | None = None
    template: str | None = None
    transform: str | None = None
    default: Any = None
    pushdown: str | None = None
    pushdown_target: str | None = None  # parent column (kind parent) or API parameter (kind param)


@dataclass(frozen=True)
class FetchSpec:
    operation: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    items: str | None = None
    explode: str | None = None
    rows: str | None = None  # "module:function" escape hatch


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    service: str | None
    scope: str
    fetch: FetchSpec
    columns: tuple[ColumnSpec, ...]
    parent: str | None = None
    file: str = ""
    examples: tuple[str, ...] = ()
    # Error codes of the table's operation that mean "gone" (a parent deleted mid-crawl): no rows, no failure.
    ignore_errors: frozenset[str] = frozenset()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    @property
    def pushdown_columns(self) -> dict[str, ColumnSpec]:
        keys = {c.name: c for c in self.columns if c.pushdown}
        if self.scope == "region":
            keys.setdefault("region", self.column("region"))  # type: ignore[arg-type]
        if self.scope != "local":  # only the accounts asked for are assumed into and called
            keys.setdefault("account_id", self.column("account_id"))  # type: ignore[arg-type]
        return keys

    def rows_function(self) -> Callable[..., Any]:
        assert self.fetch.rows
        module, _, func = self.fetch.rows.partition(":")
        return getattr(importlib.import_module(module), func)


class Catalog:
    """The set of tables, by name."""

    def __init__(self, tables: dict[str, TableSpec]):
        self.tables = tables

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> TableSpec:
        return self.tables[name]

    def __iter__(self):
        return iter(sorted(self.tables))

    def get(self, name: str) -> TableSpec | None:
        return self.tables.get(name)


def default_tables_dir() -> Path:
    """$APIGW_SQL_TABLES, else the table files shipped with apigw-sql (resources.shipped_dir)."""
    override = os.environ.get("APIGW_SQL_TABLES")
    if override:
        return Path(override)
    from .resources import shipped_dir

    return shipped_dir("tables")


def load_catalog(directory: Path | str | None = None) -> Catalog:
    directory = Path(directory) if directory else default_tables_dir()
    if not directory.is_dir():
        raise SpecError(f"table directory {directory} not found: set APIGW_SQL_TABLES to the tables/ folder")
    tables: dict[str, TableSpec] = {}
    for path in sorted(directory.glob("*.toml")):
        spec = load_table(path)
        if spec.name in tables:
            raise SpecError(f"{path}: name: table {spec.name} is also defined in {tables[spec.name].file}")
        tables[spec.name] = spec
    for spec in tables.values():
        if spec.parent and spec.parent not in tables:
            raise SpecError(f"{spec.file}: parent: unknown table {spec.parent!r}")
        for col in spec.columns:
            if col.pushdown == "parent":
                parent = tables.get(spec.parent or "")
                if parent is None or parent.column(col.pushdown_target or "") is None:
                    raise SpecError(f"{spec.file}: columns.{col.name}.pushdown: parent column "
                                    f"{col.pushdown_target!r} not found in {spec.parent}")
    return Catalog(tables)


def _need(data: dict, key: str, kind: type, where: str, file: Path) -> Any:
    if key not in data:
        raise SpecError(f"{file}: {where}{key}: missing")
    value = data[key]
    if not isinstance(value, kind):
        raise SpecError(f"{file}: {where}{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def load_table(path: Path) -> TableSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text: save the table file as UTF-8") from None
    allowed = {"name", "description", "service", "scope", "parent", "fetch", "columns", "examples", "ignore_errors"}
    for key in data:
        if key not in allowed:
            raise SpecError(f"{path}: {key}: unknown field (allowed: {', '.join(sorted(allowed))})")
    name = _need(data, "name", str, "", path)
    if not _NAME.match(name) or name != path.stem:
        raise SpecError(f"{path}: name: {name!r} must be lower_snake_case and equal the file name {path.stem!r}")
    description = _need(data, "description", str, "", path)
    if not description.endswith("."):
        raise SpecError(f"{path}: description: must be a sentence ending with a period")
    scope = data.get("scope", "region")
    if scope not in SCOPES:
        raise SpecError(f"{path}: scope: {scope!r} is not one of {sorted(SCOPES)}")
    service = data.get("service")
    if scope != "local" and not isinstance(service, str):
        raise SpecError(f"{path}: service: missing (the boto3 service name, e.g. apigateway)")
    fetch_data = _need(data, "fetch", dict, "", path)
    fetch = _load_fetch(fetch_data, path)
    columns: list[ColumnSpec] = []
    if scope != "local":
        columns += [ColumnSpec(n, t, d, path=p) for n, t, p, d in COMMON_COLUMNS]
    raw_columns = _need(data, "columns", list, "", path)
    seen = {c.name for c in columns}
    for i, raw in enumerate(raw_columns):
        col = _load_column(raw, f"columns[{i}].", path)
        if col.name in seen:
            raise SpecError(f"{path}: columns[{i}].name: duplicate column {col.name!r}")
        seen.add(col.name)
        columns.append(col)
    arn = next((c for c in columns if c.name == "arn"), None)
    if arn is not None and "akas" not in seen:
        columns.append(ColumnSpec("akas", "JSON", "Array of globally unique identifiers of the resource (its ARN).",
                                  template=arn.template, path=arn.path, transform="akas"))
    examples = tuple(data.get("examples", ()))
    ignore_errors = _load_ignore_errors(data.get("ignore_errors", []), fetch, path)
    return TableSpec(name=name, description=description, service=service, scope=scope, fetch=fetch,
                     columns=tuple(columns), parent=data.get("parent"), file=str(path), examples=examples,
                     ignore_errors=ignore_errors)


def _load_ignore_errors(value: Any, fetch: FetchSpec, path: Path) -> frozenset[str]:
    """The error codes that mean the resource is gone, e.g. ["NotFoundException"]."""
    if not isinstance(value, list) or not all(isinstance(v, str) and _ERROR_CODE.match(v) for v in value):
        raise SpecError(f"{path}: ignore_errors: expected a list of AWS error codes, e.g. [\"NotFoundException\"]")
    if value and not fetch.operation:
        raise SpecError(f"{path}: ignore_errors: only a table with fetch.operation can ignore errors "
                        "(a rows function passes expected_errors to ctx.call itself)")
    return frozenset(value)


def _load_fetch(data: dict, path: Path) -> FetchSpec:
    allowed = {"operation", "params", "items", "explode", "rows"}
    for key in data:
        if key not in allowed:
            raise SpecError(f"{path}: fetch.{key}: unknown field (allowed: {', '.join(sorted(allowed))})")
    if bool(data.get("operation")) == bool(data.get("rows")):
        raise SpecError(f"{path}: fetch: give exactly one of operation (an API call) or rows (module:function)")
    rows = data.get("rows")
    if rows is not None:
        module, _, func = rows.partition(":")
        try:
            if not callable(getattr(importlib.import_module(module), func)):
                raise AttributeError(func)
        except (ImportError, AttributeError):
            raise SpecError(f"{path}: fetch.rows: {rows!r} is not an importable function (module:function)") from None
    op = data.get("operation")
    if op is not None and not READ_OPERATION.match(op):
        raise SpecError(f"{path}: fetch.operation: {op!r} is not a read-only API name ({READ_PREFIXES})")
    return FetchSpec(operation=op, params=dict(data.get("params", {})), items=data.get("items"),
                     explode=data.get("explode"), rows=rows)


def _load_column(raw: Any, where: str, path: Path) -> ColumnSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: {where[:-1]}: expected a table ([[columns]])")
    allowed = {"name", "type", "description", "path", "template", "transform", "default", "pushdown"}
    for key in raw:
        if key not in allowed:
            raise SpecError(f"{path}: {where}{key}: unknown field (allowed: {', '.join(sorted(allowed))})")
    name = _need(raw, "name", str, where, path)
    if not _NAME.match(name):
        raise SpecError(f"{path}: {where}name: {name!r} must be lower_snake_case")
    ctype = _need(raw, "type", str, where, path).upper()
    if ctype not in COLUMN_TYPES:
        raise SpecError(f"{path}: {where}type: {ctype!r} is not one of {sorted(COLUMN_TYPES)}")
    description = _need(raw, "description", str, where, path)
    if not description.endswith("."):
        raise SpecError(f"{path}: {where}description: must be a sentence ending with a period")
    if bool(raw.get("path")) == bool(raw.get("template")):
        raise SpecError(f"{path}: {where}: give exactly one of path or template")
    transform = raw.get("transform")
    if transform is not None:
        from .transforms import TRANSFORMS

        if transform not in TRANSFORMS:
            raise SpecError(f"{path}: {where}transform: {transform!r} is not one of {sorted(TRANSFORMS)}")
    pushdown = raw.get("pushdown")
    kind = target = None
    if pushdown is not None:
        kind, _, target = str(pushdown).partition(":")
        if kind not in PUSHDOWN_KINDS or (kind in ("parent", "param") and not target):
            raise SpecError(f"{path}: {where}pushdown: {pushdown!r} must be filter, provider, parent:COLUMN or param:NAME")
    return ColumnSpec(name=name, type=ctype, description=description, path=raw.get("path"),
                      template=raw.get("template"), transform=transform, default=raw.get("default"),
                      pushdown=kind, pushdown_target=target or None)
