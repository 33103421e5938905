"""`load_controls`: every control file under ``queries/<home benchmark>/``, validated."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .benchmarks import BENCHMARKS, HOME_BENCHMARKS, with_memberships
from .control import Control, ControlError, parse_control


def default_queries_dir() -> Path:
    """$APIGW_SQL_QUERIES, else the controls shipped with apigw-sql (resources.shipped_dir)."""
    override = os.environ.get("APIGW_SQL_QUERIES")
    if override:
        return Path(override)
    from ..resources import shipped_dir

    return shipped_dir("queries")


def configured_controls_dirs() -> list[Path]:
    """The folders of ``controls_dirs`` in the user's config.toml (relative ones from the file's folder)."""
    from ..userconfig import config_file, read_config

    try:
        value = read_config().get("controls_dirs", [])
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlError(f"{config_file()}: controls_dirs must be a list of folders")
    return [config_file().parent / Path(v).expanduser() for v in value if v.strip()]


def user_controls_dirs(extra: Sequence[Path | str] = ()) -> list[Path]:
    """The user's folders of controls: controls_dirs of config.toml, then ``extra`` (--controls-dir)."""
    return [*configured_controls_dirs(), *(Path(d).expanduser() for d in extra)]


def load_controls(directory: Path | str | None = None,
                  user_dirs: Sequence[Path | str] | None = None) -> list[Control]:
    """Every control, sorted by id; raises ControlError naming the file and key of the first mistake.

    ``directory`` holds the shipped controls (default: default_queries_dir()); ``user_dirs`` are the
    user's own folders of controls (default: controls_dirs of config.toml), laid out like ``queries/``:
    a control in ``DIR/NAME/`` has the home benchmark NAME (a new benchmark unless NAME is one of
    BENCHMARKS), a control directly in ``DIR`` has the folder's own name.
    """
    directory = Path(directory) if directory else default_queries_dir()
    if not directory.is_dir():
        raise ControlError(f"control directory {directory} not found: set APIGW_SQL_QUERIES to the queries/ folder")
    files: list[tuple[Path, str]] = []
    for path in sorted(directory.rglob("*.sql")):
        relative = path.relative_to(directory)
        if len(relative.parts) != 2 or relative.parts[0] not in HOME_BENCHMARKS:
            raise ControlError(f"{path}: a control lives in queries/<home benchmark>/, one of "
                               f"{', '.join(HOME_BENCHMARKS)}")
        files.append((path, relative.parts[0]))
    for user_dir in (configured_controls_dirs() if user_dirs is None else user_dirs):
        files += _user_files(Path(user_dir))
    controls: dict[str, Control] = {}
    names: dict[str, str] = {}  # id or alias -> the file that claims it
    for path, home in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ControlError(f"{path}: not UTF-8 text: save the control as UTF-8") from None
        except OSError as exc:
            raise ControlError(f"{path}: cannot read the file ({exc.strerror})") from None
        control = with_memberships(parse_control(text, str(path), home))
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


def _user_files(directory: Path) -> list[tuple[Path, str]]:
    """(file, home benchmark) of each control in a user's folder."""
    if not directory.is_dir():
        raise ControlError(f"controls folder {directory} not found: --controls-dir and controls_dirs name folders "
                           "of .sql controls")
    files = []
    for path in sorted(directory.rglob("*.sql")):
        relative = path.relative_to(directory)
        if len(relative.parts) > 2:
            raise ControlError(f"{path}: a control lives in {directory}/ or one folder below it (the folder names "
                               "its benchmark)")
        folder = directory.resolve().name if len(relative.parts) == 1 else relative.parts[0]
        home = re.sub(r"[^a-z0-9_]+", "_", folder.lower()).strip("_")
        if not re.match(r"^[a-z][a-z0-9_]*$", home):
            raise ControlError(f"{path}: the folder name {folder!r} names the control's benchmark: start it with "
                               "a letter")
        files.append((path, home))
    return files


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


def describe_control(c: Control, table_names: Iterable[str] = ()) -> str:
    """A control's metadata in detail, with its parameters and their defaults (``apigw-sql controls ID``)."""
    from ..output import render

    record = control_record(c, table_names)
    lines = [f"{c.id}: {c.title}",
             f"severity: {c.severity} · resource type: {c.resource_type} · benchmarks: {', '.join(c.benchmarks)}",
             f"file: {c.file}"]
    for label, values in (("aliases", record["aliases"]), ("frameworks", record["frameworks"]),
                          ("tables", record["tables"])):
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    lines += ["description:", *(f"  {line}" for line in c.description.splitlines()),
              "remediation:", *(f"  {line}" for line in c.remediation.splitlines())]
    if c.parameters:
        lines.append("parameters (override with --var NAME=VALUE, or NAME=VALUE after .run in the shell):")
        lines.append(render(["parameter", "type", "default"], ["VARCHAR"] * 3,
                            [(p.name, p.type, p.default) for p in c.parameters], "table"))
        example = " ".join(f"--var {shlex.quote(f'{p.name}={_unquoted(p.default)}')}" for p in c.parameters)
        lines.append(f"example: apigw-sql check {c.id} {example}")
    else:
        lines.append("parameters: none")
    return "\n".join(lines) + "\n"


def _unquoted(default: str) -> str:
    """A parameter default as --var takes it: 90, PRIVATE, TLS_1_2,SecurityPolicy_* (no SQL quotes or brackets).

    >>> _unquoted("90"), _unquoted("'PRIVATE'"), _unquoted("['TLS_1_2', 'SecurityPolicy_*']")
    ('90', 'PRIVATE', 'TLS_1_2,SecurityPolicy_*')
    """
    text = default.strip()
    if text.startswith("[") and text.endswith("]"):
        return ",".join(_unquoted(v) for v in text[1:-1].split(",") if v.strip())
    return text[1:-1].replace("''", "'") if len(text) >= 2 and text[0] == text[-1] == "'" else text


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
