"""Meta-commands: `.tables`, `.inspect`, `.output`, `.run`, `.export`, ... Each is registered with its
usage, a one-line help and what its argument is (for the completer); an error a user can cause is a
ShellError, printed as one line by `dispatch.report`.

>>> sorted(COMMANDS)[:4]
['.cache', '.controls', '.exit', '.export']
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..output import FORMATS, render
from . import display
from .execute import open_for, show_result
from .progress import ProgressLine
from .worker import CancelToken, run_cancellable
from ..errors import UserError, unknown_table

QUIT = object()
EXPORT_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".md": "markdown",
                  ".parquet": "parquet"}


class ShellError(UserError):
    """A meta-command was used wrongly; the message says what to do instead."""


@dataclass(frozen=True)
class MetaCommand:
    name: str
    usage: str
    help: str
    run: Callable[[Any, str], Any]
    argument: str | None = None  # what the completer offers for the argument: table, format, onoff, control, file


COMMANDS: dict[str, MetaCommand] = {}


def command(name: str, usage: str, help: str, argument: str | None = None,
            aliases: tuple[str, ...] = ()) -> Callable[[Callable[[Any, str], Any]], Callable[[Any, str], Any]]:
    def register(run: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
        for each in (name, *aliases):
            COMMANDS[each] = MetaCommand(each, usage, help, run, argument)
        return run
    return register


def _connection(session: Any) -> Any:
    """The connection, waited for in a worker so Ctrl-C works while the sandbox starts."""
    line = ProgressLine(session.err)
    with line:
        return run_cancellable(session, lambda token: open_for(session, line, token), line)


def _matches(name: str, pattern: str) -> bool:
    if not pattern:
        return True
    pattern = pattern.lower().replace("%", "*")
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern)
    return pattern in name.lower()


def _on_off(value: str, current: bool, what: str) -> bool:
    value = value.lower()
    if not value:
        return current
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ShellError(f"{what} takes on or off, not {value!r}")


# ---- the commands --------------------------------------------------------------------------
@command(".help", ".help [COMMAND]", "Show the commands, or one command's help.", "command")
def _help(session: Any, arg: str) -> None:
    if arg:
        name = arg if arg.startswith(".") else "." + arg
        meta = COMMANDS.get(name)
        if meta is None:
            raise ShellError(f"no command {name}: .help lists them")
        print(f"{meta.usage}\n  {meta.help}", file=session.out)
        return
    seen = set()
    lines = ["SQL statements end with ; (Enter on an unfinished statement starts a new line; Alt-Enter runs it).",
             ""]
    for meta in COMMANDS.values():
        if meta.run in seen:
            continue
        seen.add(meta.run)
        lines.append(f"  {meta.usage:<30} {meta.help}" if len(meta.usage) <= 30
                     else f"  {meta.usage}\n  {'':<30} {meta.help}")
    lines += ["", "Tab completes tables, columns, JSON keys and commands; Ctrl-R searches the history;",
              "Ctrl-C cancels a running query (or clears the line); Ctrl-D quits."]
    print("\n".join(lines), file=session.out)


@command(".quit", ".quit (or .exit)", "Leave the shell (Ctrl-D too).", aliases=(".exit",))
def _quit(session: Any, arg: str) -> Any:
    return QUIT


@command(".tables", ".tables [PATTERN]", "List the tables whose name contains PATTERN (or matches a glob).",
         "table")
def _tables(session: Any, arg: str) -> None:
    catalog = session.catalog
    rows = [(n, catalog[n].description) for n in catalog if _matches(n, arg)]
    rows += [(n, "(created in this session)") for n in session.local_relations() if _matches(n, arg)]
    if not rows:
        raise ShellError(f"no table matches {arg!r}: .tables lists them all")
    display.show(session, ["table", "description"], ["VARCHAR", "VARCHAR"], rows)


@command(".inspect", ".inspect TABLE", "Show a table's columns, types, pushdown keys and example queries.",
         "table")
def _inspect(session: Any, arg: str) -> None:
    if not arg:
        raise ShellError("usage: .inspect TABLE (.tables lists them)")
    catalog = session.catalog
    spec = catalog.get(arg)
    out = session.out
    if spec is None:
        local = session.local_relations()
        if arg not in local:
            raise ShellError(unknown_table(arg, [*catalog, *local]) + " (.tables lists them)")
        print(f"{arg}: created in this session", file=out)
        display.show(session, ["column", "type"], ["VARCHAR", "VARCHAR"],
                     [(name, ctype) for name, ctype, _ in session.columns_of(arg)])
        return
    from ..app import describe_table

    described = describe_table(spec)
    print("\n".join(described.heading), file=out)
    display.show(session, described.columns, described.types, described.rows)
    if described.examples:
        print("examples:\n" + "".join(f"  {example}\n" for example in described.examples), end="", file=out)


@command(".output", ".output [FORMAT]", f"Set how results print: {', '.join(FORMATS)}.", "format")
def _output(session: Any, arg: str) -> None:
    if arg:
        if arg.lower() not in FORMATS:
            raise ShellError(f"unknown format {arg!r}: use one of {', '.join(FORMATS)}")
        session.format = arg.lower()
    print(f"output: {session.format}", file=session.err)


@command(".timing", ".timing [on|off]", "After each query, show its time, rows, API calls and cache hits.",
         "onoff")
def _timing(session: Any, arg: str) -> None:
    session.timing = _on_off(arg, session.timing, ".timing")
    print(f"timing: {'on' if session.timing else 'off'}", file=session.err)


@command(".pager", ".pager [on|off]", "Page long or wide results ($PAGER, default less -S).", "onoff")
def _pager(session: Any, arg: str) -> None:
    session.pager = _on_off(arg, session.pager, ".pager")
    print(f"pager: {'on' if session.pager else 'off'}", file=session.err)


@command(".cache", ".cache", "List the cached API calls (reused until their TTL passes; .refresh clears).")
def _cache(session: Any, arg: str) -> None:
    con = session.connection_if_ready()
    entries = con.fetcher.cache_entries() if con is not None else []
    if not entries:
        print("the cache is empty: nothing was fetched yet", file=session.out)
        return
    ttl = con.config.ttl
    rows = [(service, operation, account, region, pages, f"{age:.0f} s", f"{max(ttl - age, 0):.0f} s")
            for service, operation, account, region, pages, age in sorted(entries)]
    display.show(session, ["service", "operation", "account", "region", "pages", "age", "expires in"],
                 ["VARCHAR"] * 4 + ["BIGINT"] + ["VARCHAR"] * 2, rows)


@command(".refresh", ".refresh [TABLE]", "Forget cached calls (of one table, or all) so the next query refetches.",
         "table")
def _refresh(session: Any, arg: str) -> None:
    if arg and arg not in session.catalog:
        raise ShellError(unknown_table(arg, session.catalog) + " (.tables lists them)")
    con = session.connection_if_ready()
    if con is not None:
        con.refresh(arg or None)
    what = f"the cached calls of {arg}" if arg else "the whole cache"
    print(f"cleared {what}: the next query fetches again", file=session.err)


@command(".regions", ".regions [REGION,...|all]", "Show the regions queries read, or change them for this session.")
def _regions(session: Any, arg: str) -> None:
    con = _connection(session)
    if arg:
        from ..app import parse_regions

        con.config.regions = None if arg.strip().lower() == "all" else parse_regions(arg.replace(" ", ""))
    if con.config.regions:
        print(f"regions: {', '.join(con.config.regions)}", file=session.out)
    else:
        print("regions: every region enabled for the account (found with ec2 DescribeRegions on the first query)",
              file=session.out)
    if con.config.endpoint_url:
        print(f"endpoint: {con.config.endpoint_url}", file=session.out)


def session_controls(session: Any) -> list[Any]:
    """The shipped controls and the user's (controls_dirs of config.toml, then --controls-dir)."""
    from ..controls.catalogue import load_controls, user_controls_dirs

    return load_controls(user_dirs=user_controls_dirs(getattr(session.args, "controls_dir", None) or []))


@command(".controls", ".controls [PATTERN|CONTROL]",
         "List the controls (id, severity, benchmarks, title), or show one with its parameters.", "control")
def _controls(session: Any, arg: str) -> None:
    every = session_controls(session)
    named = next((c for c in every if arg in (c.id, *c.aliases)), None)
    if named is not None:
        from ..controls.catalogue import describe_control

        print(describe_control(named, list(session.catalog)), end="", file=session.out)
        return
    controls = [c for c in every if _matches(c.id, arg) or any(_matches(b, arg) for b in c.benchmarks)]
    if not controls:
        raise ShellError(f"no control matches {arg!r}: .controls lists them all")
    display.show(session, ["id", "severity", "benchmarks", "title"], ["VARCHAR"] * 4,
                 [(c.id, c.severity, ", ".join(c.benchmarks), c.title) for c in controls])


@command(".run", ".run CONTROL|BENCHMARK|all [NAME=VALUE ...]",
         "Run controls as 'apigw-sql check' does (one fetch, the same findings); .export saves them.", "control")
def _run(session: Any, arg: str) -> None:
    from ..controls import run_controls, select
    from ..controls.control import STATUSES
    from ..controls.runner import FINDING_COLUMNS, FINDING_TYPES, finding_record
    from .session import Tabular

    words = arg.split()
    if not words:
        raise ShellError("usage: .run CONTROL|BENCHMARK|all [NAME=VALUE ...] (.controls lists them)")
    variables = {}
    for word in words[1:]:
        name, eq, value = word.partition("=")
        if not eq or not name.isidentifier():
            raise ShellError(f"{word!r} is not a parameter: write NAME=VALUE, e.g. max_age_days=30")
        variables[name] = value
    chosen = select(session_controls(session), [words[0]])
    line = ProgressLine(session.err)

    def work(token: CancelToken) -> Any:
        con = open_for(session, line, token)
        return run_controls(con, chosen, variables, on_progress=line.update)

    with line:
        report = run_cancellable(session, work, line)
    for warning in report.warnings:
        print(f"warning: {warning}", file=session.err)
    if len(report.results) == 1:
        shown = ["status", "resource", "reason", "account_id", "region"]
        display.show(session, shown, ["VARCHAR"] * len(shown),
                     [(f.status, f.resource, f.reason, f.account_id, f.region) for f in report.findings])
    else:
        display.show(session, ["control", "severity", *STATUSES, "title"],
                     ["VARCHAR", "VARCHAR", *["BIGINT"] * len(STATUSES), "VARCHAR"],
                     [(r.control.id, r.control.severity, *r.counts().values(), r.control.title)
                      for r in report.results])
    for result in report.results:
        if result.error:
            print(f"error: {result.control.id}: {result.error}", file=session.err)
    session.last = Tabular(list(FINDING_COLUMNS), list(FINDING_TYPES),
                           [tuple(finding_record(f)[c] for c in FINDING_COLUMNS) for f in report.findings])
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items())
    n = len(report.results)
    print(f"{n} control{'' if n == 1 else 's'}: {counts} ({report.elapsed:.1f} s, {report.api_calls} API calls); "
          f".export FILE saves the {len(report.findings)} findings", file=session.err)


@command(".read", ".read FILE", "Run the statements and commands of a SQL file.", "file")
def _read(session: Any, arg: str) -> Any:
    if not arg:
        raise ShellError("usage: .read FILE.sql")
    path = Path(arg).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShellError(f"cannot read {arg}: {exc.strerror or exc}") from None
    from .dispatch import run_script

    outcome = run_script(session, text)
    return outcome if outcome is QUIT else None


@command(".export", ".export FILE", "Save the last result as .csv, .json, .jsonl or .parquet (by extension).",
         "file")
def _export(session: Any, arg: str) -> None:
    if not arg:
        raise ShellError("usage: .export FILE.csv|.json|.jsonl|.parquet")
    last = session.last
    if last is None:
        raise ShellError("nothing to export yet: run a query first")
    path = Path(arg).expanduser()
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ShellError(f"cannot tell the format of {arg!r} from its extension: use .csv, .json, .jsonl or .parquet")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(last.to_arrow(), str(path))
        else:
            text = render(last.columns, last.types, last.rows, fmt)
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ShellError(f"cannot write {arg}: {exc.strerror or exc}") from None
    n = len(last.rows)
    print(f"wrote {n} row{'' if n == 1 else 's'} to {path}", file=session.err)
