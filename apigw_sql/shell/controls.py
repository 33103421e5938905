"""The controls the shell can run: `queries/<benchmark>/<control_id>.sql` files with a header of
`-- key: value` lines; parameters as `-- parameters: name TYPE = default; ...` (or `-- parameter: name = default`).

`apigw_sql.controls.load_controls()` is used when it imports; otherwise the files are read here,
leniently (unknown header keys are kept, a file without an id is named after itself).

>>> c = parse_control("-- id: x\\n-- severity: high\\n-- parameters: days BIGINT = 90; env VARCHAR = 'prod'\\nSELECT 1",
...                   "x", "cis")
>>> c.id, c.severity, c.benchmarks, c.parameters
('x', 'high', ('cis',), {'days': '90', 'env': "'prod'"})
>>> sql_literal("90"), sql_literal("prod"), sql_literal("'prod'"), sql_literal(["a", 1])
('90', "'prod'", "'prod'", "['a', 1]")
"""
from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HEADER = re.compile(r"^--\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_PARAMETER = re.compile(r"^([A-Za-z_]\w*)(?:\s+[A-Za-z][\w\[\]]*)?\s*(?:=\s*(.*?))?\s*$")
_LITERAL = re.compile(r"""^(?:[-+]?\d+(?:\.\d+)?|true|false|null|'(?:[^']|'')*'|\[.*\]|\(.*\)|\{.*\})$""",
                      re.I | re.S)


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    sql: str
    benchmarks: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)  # name -> SQL literal of the default
    file: str = ""
    aliases: tuple[str, ...] = ()


class ControlsError(ValueError):
    """The control files cannot be read; the message names the file."""


def queries_dir() -> Path:
    override = os.environ.get("APIGW_SQL_QUERIES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent.parent / "queries"


def load_controls() -> list[Control]:
    """Every control, sorted by id. Raises ControlsError with a one-line message."""
    project = _project_loader()
    try:
        if project is not None:
            return sorted((_adapt(c) for c in project()), key=lambda c: c.id)
        directory = queries_dir()
        if not directory.is_dir():
            return []
        found = []
        for path in sorted(directory.rglob("*.sql")):
            benchmark = path.parent.name if path.parent != directory else ""
            found.append(parse_control(path.read_text(encoding="utf-8"), path.stem, benchmark, str(path)))
    except (OSError, ValueError) as exc:
        raise ControlsError(str(exc)) from None
    return sorted(found, key=lambda c: c.id)


def _project_loader() -> Any:
    if importlib.util.find_spec("apigw_sql.controls") is None:
        return None
    try:
        from apigw_sql import controls as project
    except ImportError:  # the package is half there: read the files here
        return None
    return getattr(project, "load_controls", None)


def parse_control(text: str, stem: str, benchmark: str = "", file: str = "") -> Control:
    header: dict[str, str] = {}
    parameters: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        m = _HEADER.match(stripped)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2)
        if key in ("parameter", "parameters", "param", "params"):
            for entry in value.split(";"):
                p = _PARAMETER.match(entry.strip())
                if p:
                    parameters[p.group(1)] = sql_literal(p.group(2) or "NULL")
        else:
            header.setdefault(key, value)
    benchmarks = [benchmark] if benchmark else []
    for key in ("benchmark", "benchmarks"):
        benchmarks += [b.strip() for b in header.get(key, "").split(",") if b.strip()]
    aliases = tuple(a.strip() for a in header.get("aliases", "").split(",") if a.strip())
    return Control(id=header.get("id", stem), title=header.get("title", ""), severity=header.get("severity", ""),
                   sql=text, benchmarks=tuple(dict.fromkeys(benchmarks)), parameters=parameters, file=file,
                   aliases=aliases)


def sql_literal(value: Any) -> str:
    """A default as DuckDB SQL: numbers, booleans, quoted strings and lists stay as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]"
    text = str(value).strip()
    if _LITERAL.match(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _adapt(obj: Any) -> Control:
    """A Control from whatever apigw_sql.controls returns (an object or a mapping)."""
    def get(*names: str, default: Any = None) -> Any:
        for name in names:
            value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
            if value not in (None, "", (), []):
                return value
        return default

    raw_params = get("parameters", "params", default={})
    parameters: dict[str, str] = {}
    if isinstance(raw_params, dict):
        for name, value in raw_params.items():
            default = value.get("default") if isinstance(value, dict) else getattr(value, "default", value)
            parameters[name] = sql_literal(default)
    else:
        for p in raw_params:
            name = p.get("name") if isinstance(p, dict) else getattr(p, "name", None)
            default = p.get("default") if isinstance(p, dict) else getattr(p, "default", None)
            if name:
                parameters[name] = sql_literal(default)
    benchmarks = get("benchmarks", "benchmark", default=())
    if isinstance(benchmarks, str):
        benchmarks = [b.strip() for b in benchmarks.split(",") if b.strip()]
    file = str(get("file", "path", default=""))
    if file and not benchmarks:
        benchmarks = [Path(file).parent.name]
    return Control(id=str(get("id")), title=str(get("title", default="")), severity=str(get("severity", default="")),
                   sql=str(get("sql", "query", default="")), benchmarks=tuple(benchmarks), parameters=parameters,
                   file=file, aliases=tuple(get("aliases", default=())))
