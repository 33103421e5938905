"""`load_controls`: every control file under ``queries/<home benchmark>/``, validated."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from .benchmarks import BENCHMARKS, HOME_BENCHMARKS, with_memberships
from .control import Control, ControlError, parse_control


def default_queries_dir() -> Path:
    override = os.environ.get("APIGW_SQL_QUERIES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "queries"


def load_controls(directory: Path | str | None = None) -> list[Control]:
    """Every control, sorted by id; raises ControlError naming the file and key of the first mistake."""
    directory = Path(directory) if directory else default_queries_dir()
    if not directory.is_dir():
        raise ControlError(f"control directory {directory} not found: set APIGW_SQL_QUERIES to the queries/ folder")
    controls: dict[str, Control] = {}
    names: dict[str, str] = {}  # id or alias -> the file that claims it
    for path in sorted(directory.rglob("*.sql")):
        relative = path.relative_to(directory)
        if len(relative.parts) != 2 or relative.parts[0] not in HOME_BENCHMARKS:
            raise ControlError(f"{path}: a control lives in queries/<home benchmark>/, one of "
                               f"{', '.join(HOME_BENCHMARKS)}")
        control = with_memberships(parse_control(path.read_text(encoding="utf-8"), str(path), relative.parts[0]))
        unknown = [b for b in control.also_in if b not in BENCHMARKS or b == "all"]
        if unknown:
            raise ControlError(f"{path}: also_in: {unknown[0]!r} is not a benchmark (one of "
                               f"{', '.join(b for b in BENCHMARKS if b != 'all')})")
        for name in dict.fromkeys((control.id, *control.aliases)):  # an alias may equal the id
            if name in names:
                raise ControlError(f"{path}: {'id' if name == control.id else 'aliases'}: {name!r} is also "
                                   f"claimed by {names[name]}")
            names[name] = str(path)
        controls[control.id] = control
    return [controls[k] for k in sorted(controls)]


def control_record(c: Control, table_names: Iterable[str] = ()) -> dict[str, Any]:
    """A control's metadata as one row of apigw_sql_controls (and of ``check --where``)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", c.sql))
    return {"id": c.id, "title": c.title, "description": c.description, "severity": c.severity,
            "resource_type": c.resource_type, "remediation": c.remediation,
            "frameworks": c.framework_refs(), "aliases": list(c.aliases),
            "parameters": {p.name: {"type": p.type, "default": p.default} for p in c.parameters},
            "benchmarks": list(c.benchmarks), "home_benchmark": c.home,
            "tables": sorted(w for w in words if w in set(table_names) and not w.startswith("apigw_sql_")),
            "file": c.file, "sql": c.sql}


def control_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """apigw_sql_controls: one row per control, with its metadata and the catalog tables it reads."""
    from ..engine import QueryError

    try:
        controls = load_controls()
    except ControlError as exc:
        raise QueryError(str(exc)) from None
    names = list(ctx.fetcher.catalog)
    for c in controls:
        yield control_record(c, names)
