"""The command line: a thin layer over the engine and the output module.

Every command prints one clear line on stderr for anything a user can get wrong, and exits
with 3 on usage or runtime errors (argparse's own mistakes included: 2 means control errors for
`check`). `query` and `check` run in a worker thread, so that Ctrl-C stops them at once: the
connection is interrupted, pending calls are abandoned, "cancelled" goes to stderr, exit 130.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, Callable, NoReturn, Sequence

from .atomic_file import remove_partial  # imported now: Ctrl-C must not wait on an import
from .app import UsageError, connection_options, open_connection
from .accounts import DEFAULT_ORG_ROLE
from .errors import UserError

EXIT_USAGE = 3
EXIT_CANCELLED = 130
CANCEL_GRACE = 0.5  # seconds the interrupted work gets to wind down before the process leaves without it

COMMANDS_HELP = {
    "query": ("Run SQL over API Gateway, CloudTrail and your own files.",
              "apigw-sql query \"SELECT name, endpoint_configuration_types FROM aws_api_gateway_rest_api "
              "WHERE region = 'eu-west-1'\"\n  apigw-sql query -f audit.sql --output csv\n"
              "  echo 'SELECT * FROM apigw_sql_tables' | apigw-sql query -"),
    "tables": ("List the tables, with a description each.", "apigw-sql tables stage"),
    "inspect": ("Show a table's columns, pushdown keys and example queries.", "apigw-sql inspect aws_api_gateway_stage"),
    "sandbox": ("Run the local AWS-compatible sandbox in the foreground (seeded with the demo estate).",
                "apigw-sql sandbox --port 5000\n  apigw-sql sandbox --empty"),
    "demo": ("Start the sandbox and print the answers to a few telling audit queries.", "apigw-sql demo"),
    "shell": ("Open the interactive SQL shell (the default with no command).", "apigw-sql shell --sandbox"),
    "check": ("Run audit controls (benchmarks, control ids or aliases) and report the findings; exit 1 on alarms.",
              "apigw-sql check fsbp --regions eu-west-1,us-east-1\n"
              "  apigw-sql check apigateway --sandbox --export report.html\n"
              "  apigw-sql check apigateway_restapi_logging_enabled --output sarif > findings.sarif\n"
              "  apigw-sql check all --severity high,critical --mutelist mutes.toml --var max_age_days=30"),
    "collect": ("Fetch every table (or those named) once and write a snapshot: a DuckDB file, a Parquet folder "
                "partitioned by account and region, or an s3:// prefix.",
                "apigw-sql collect --out audit.duckdb\n  apigw-sql collect --out snapshots/2026-11-30 --regions "
                "eu-west-1\n  apigw-sql collect aws_api_gateway_stage aws_iam_role --out s3://audit-bucket/apigw-sql"),
    "diff": ("Compare two snapshots: per table the resources added, removed and changed; exit 1 when they differ.",
             "apigw-sql diff old.duckdb new.duckdb\n"
             "  apigw-sql diff snapshots/2026-11-01 snapshots/2026-11-30 -o json"),
    "benchmarks": ("List the benchmarks 'apigw-sql check' runs, with their titles.", "apigw-sql benchmarks"),
    "controls": ("List the controls (all, or those of a benchmark or pattern) with severity and benchmarks.",
                 "apigw-sql controls fsbp\n  apigw-sql controls 'apigateway_stage_*' --output csv"),
}



class _Parser(argparse.ArgumentParser):
    """argparse with the project's exit code for usage errors (3), and a pointer to --help."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def _connection_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("AWS connection")
    g.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    g.add_argument("--profiles", metavar="A,B,...", help="read several accounts: one per AWS profile")
    g.add_argument("--role-name", metavar="ROLE",
                   help="with --accounts or --org: assume this role in each account, from the current credentials "
                        f"(default with --org: {DEFAULT_ORG_ROLE})")
    g.add_argument("--accounts", metavar="ID,ID,...", help="with --role-name: the 12-digit accounts to read")
    g.add_argument("--external-id", metavar="ID", help="the external id the role's trust policy asks for")
    g.add_argument("--org", action="store_true",
                   help="read every ACTIVE account of the organization (Organizations ListAccounts from the "
                        "management or a delegated administrator account), assuming --role-name in each")
    g.add_argument("--regions", help="comma-separated regions to read (default: every region enabled for the account)")
    g.add_argument("--endpoint-url", help="send every AWS call to this endpoint (AWS_ENDPOINT_URL is honoured too)")
    g.add_argument("--sandbox", action="store_true",
                   help="start the local sandbox (seeded demo estate) for this command and query it")
    g.add_argument("--ttl", type=float, default=300.0,
                   help="seconds a fetched call is reused, by this run and later ones (default 300)")
    g.add_argument("--refresh", action="store_true",
                   help="make every call again, replacing the answers earlier runs kept in $XDG_CACHE_HOME/apigw-sql")
    g.add_argument("--no-cache", action="store_true",
                   help="keep no answer on disk and reuse none of earlier runs (also: APIGW_SQL_NO_CACHE=1)")
    g.add_argument("--max-attempts", type=int, default=5,
                   help="attempts per call after server errors (5xx, lost connections), the first included "
                        "(default 5); throttled calls are retried until --max-wait instead")
    g.add_argument("--max-wait", type=float, default=180.0, metavar="SECONDS",
                   help="seconds a throttled call is retried before it is reported failed (default 180)")
    g.add_argument("--no-rate-limit", action="store_true",
                   help="do not pace calls at AWS's published rates (the sandbox does not need it); "
                        "throttled calls are still retried")
    g.add_argument("--no-pushdown", action="store_true", help="fetch whole tables, ignoring WHERE (for comparison)")
    g.add_argument("--cloudtrail-logs", action="append", metavar="FOLDER|s3://BUCKET/PREFIX",
                   help="CloudTrail log files (the AWSLogs/... delivery layout) that aws_cloudtrail_log and "
                        "aws_cloudtrail_event read; repeatable (default: cloudtrail_logs in "
                        "$XDG_CONFIG_HOME/apigw-sql/config.toml, else aws_cloudtrail_event reads LookupEvents)")
    g.add_argument("--access-logs", action="append", metavar="FOLDER|s3://BUCKET/PREFIX",
                   help="API Gateway access-log files (Firehose delivery or CloudWatch Logs export layout, gzip or "
                        "plain) that aws_api_gateway_access_log reads; repeatable (default: access_logs in "
                        "$XDG_CONFIG_HOME/apigw-sql/config.toml, else the stages' CloudWatch Logs groups)")


def _snapshot_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", metavar="PATH|s3://BUCKET/PREFIX",
                        help="read every table from a snapshot written by 'apigw-sql collect' (a DuckDB file, a "
                             "Parquet folder or an s3:// prefix) instead of AWS: no AWS call at all")


def _controls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--controls-dir", action="append", default=[], metavar="DIR",
                        help="also read your own controls from DIR (one folder per benchmark, or .sql files in DIR "
                             "itself: a new folder name is a new benchmark); repeatable, added to controls_dirs "
                             "in $XDG_CONFIG_HOME/apigw-sql/config.toml")


def _engine_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("engine")
    g.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"],
                   help="where the controls run (default duckdb); spark runs them transpiled to Spark SQL over a "
                        "Parquet snapshot (--snapshot), in local mode unless --spark-master or SPARK_REMOTE is set; "
                        "needs pip install 'apigw-sql[spark]'")
    g.add_argument("--spark-master", metavar="URL",
                   help="with --engine spark: the Spark master (spark://host:7077, yarn, local[4]) or a Spark "
                        "Connect address (sc://host:15002); default local[2]")


def _load_controls(args: argparse.Namespace) -> list[Any]:
    from .controls.catalogue import load_controls, user_controls_dirs

    return load_controls(user_dirs=user_controls_dirs(args.controls_dir))


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action="store_true",
                        help="report progress on stderr even when it is not a terminal (on a terminal it always is)")


def progress_line(args: argparse.Namespace) -> Any:
    """The progress line on stderr: on a terminal, or anywhere with --progress."""
    from .progress_line import ProgressLine

    return ProgressLine(sys.stderr, force=getattr(args, "progress", False))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="apigw-sql", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Audit AWS API Gateway (REST, HTTP, WebSocket) and CloudTrail with plain SQL.",
        epilog="Start here:\n  apigw-sql demo\n  apigw-sql query --sandbox \"SELECT * FROM aws_api_gateway_rest_api\"")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"apigw-sql {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str) -> argparse.ArgumentParser:
        summary, example = COMMANDS_HELP[name]
        return sub.add_parser(name, help=summary, description=summary, epilog=f"Example:\n  {example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    from .output import FORMATS

    p = add("query")
    p.add_argument("sql", nargs="?", help="the SQL; '-' or nothing reads standard input")
    p.add_argument("-f", "--file", help="read the SQL from this file")
    p.add_argument("-o", "--output", default="table", choices=FORMATS,
                   help="output format (default table; line: one 'column = value' line per column, a blank "
                        "line between rows). Several statements print one result each, in order "
                        "(CREATE, INSERT, COPY, SET print nothing): a blank line between two in table, markdown "
                        "and csv; json prints one array per result, one document after the other; jsonl prints "
                        "every result's rows one after another")
    _progress_option(p)
    _snapshot_option(p)
    _connection_options(p)

    p = add("tables")
    p.add_argument("pattern", nargs="?", help="show only tables whose name contains this")

    p = add("inspect")
    p.add_argument("table", help="the table to describe")

    p = add("sandbox")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--empty", action="store_true", help="start without the demo estate")
    p.add_argument("--aws-quotas", action="store_true",
                   help="refuse requests beyond AWS's request quotas as AWS does (API Gateway 10/s burst 40, "
                        "GetResources 5 per 2 s, LookupEvents 2/s and FilterLogEvents 5/s per region)")
    p.add_argument("--quota-share", type=float, default=0.0, metavar="F",
                   help="with --aws-quotas: a simulated second client uses this share (0 to <1) of each quota")

    p = add("demo")
    p.add_argument("-o", "--output", default="table", choices=["table", "markdown", "csv", "json", "jsonl"])
    p.add_argument("--regions", help=argparse.SUPPRESS)

    p = add("shell")
    _snapshot_option(p)
    _connection_options(p)
    _controls_options(p)

    from .controls.control import SEVERITIES
    from .controls.render import CHECK_FORMATS

    p = add("check")
    p.add_argument("names", nargs="*", metavar="BENCHMARK|CONTROL",
                   help="benchmarks (fsbp, cis_v5, cis_v6, apigateway, cloudtrail, cloudtrail_activity, "
                        "least_privilege, usage, all, your own), control ids, aliases "
                        "or patterns such as 'apigateway_stage_*' (default: all)")
    p.add_argument("--severity", help="keep only controls of these severities (comma-separated: "
                                      f"{', '.join(SEVERITIES)})")
    p.add_argument("--where", help="keep only controls whose metadata matches this SQL condition over the columns "
                                   "of apigw_sql_controls, e.g. \"list_contains(benchmarks, 'fsbp')\"")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="override a control parameter (repeatable), e.g. --var max_age_days=30")
    p.add_argument("--mutelist", metavar="FILE", help="TOML file of suppressions ([[mute]] entries)")
    p.add_argument("--fail-on", default="low", choices=[*SEVERITIES, "none"],
                   help="exit 1 when an unmuted alarm has this severity or higher (default low)")
    p.add_argument("-o", "--output", default="text", choices=CHECK_FORMATS,
                   help="output format on standard output (default text: a summary for people)")
    p.add_argument("--export", action="append", default=[], metavar="FILE",
                   help="also write the report to FILE, in the format its extension names (.html, .sarif, .json, "
                        ".jsonl, .csv, .md, .xml for JUnit, .ocsf.json); repeatable")
    p.add_argument("--color", default="auto", choices=["auto", "always", "never"],
                   help="colour the text summary (default: when writing to a terminal)")
    p.add_argument("--baseline", metavar="REPORT.json|SNAPSHOT",
                   help="mark each finding new or unchanged against a previous 'check -o json' report or a "
                        "snapshot (checked the same way), and list the alarms resolved since")
    p.add_argument("--fail-on-new", action="store_true",
                   help="with --baseline: only new alarms (at or above --fail-on) fail the run")
    _controls_options(p)
    _progress_option(p)
    _snapshot_option(p)
    _connection_options(p)
    _engine_options(p)

    p = add("collect")
    p.add_argument("tables", nargs="*", metavar="TABLE",
                   help="the tables to collect, with their parent tables (default: every AWS and log table of the "
                        "catalogue)")
    p.add_argument("--out", required=True, metavar="PATH|s3://BUCKET/PREFIX",
                   help="where to write: a file named *.duckdb, *.db or *.ddb (or an existing DuckDB file) is a "
                        "DuckDB database, replaced whole; any other path is a Parquet folder in which only the "
                        "account_id=<id> folders of the accounts read are replaced (one collect per account can "
                        "fill one folder); s3://BUCKET/PREFIX is that folder uploaded with your credentials (the "
                        "one write apigw-sql makes, with a plain S3 client, not the audit's read-only one)")
    _progress_option(p)
    _connection_options(p)

    p = add("diff")
    p.add_argument("old", metavar="OLD", help="the earlier snapshot (DuckDB file, Parquet folder or s3:// prefix)")
    p.add_argument("new", metavar="NEW", help="the later snapshot")
    p.add_argument("-o", "--output", default="table", choices=["table", "csv", "json", "jsonl", "markdown"])
    p.add_argument("--profile", help="AWS profile for s3:// snapshots (default: the standard credential chain)")
    p.add_argument("--endpoint-url", help="S3 endpoint for s3:// snapshots (AWS_ENDPOINT_URL is honoured too)")

    p = add("benchmarks")
    p.add_argument("-o", "--output", default="table", choices=["table", "csv", "json", "jsonl", "markdown"])
    _controls_options(p)

    p = add("controls")
    p.add_argument("names", nargs="*", metavar="BENCHMARK|CONTROL", help="benchmarks, ids, aliases or patterns")
    p.add_argument("-o", "--output", default="table", choices=["table", "csv", "json", "jsonl", "markdown"])
    p.add_argument("--emit-sql", nargs=2, metavar=("DIALECT", "DIR"),
                   help="write each control's SQL transpiled to spark, trino or athena into DIR/<benchmark>/<id>.sql "
                        "(parameters bound to their defaults; DuckDB-only controls as a comment saying why)")
    _controls_options(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["shell", *argv]  # no command: the shell, with whatever options were given (--sandbox)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's own parser, so the usage line shown is the command's
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command in ("query", "check", "collect"):
        return _interruptible(lambda: _guarded(args))
    return _guarded(args)


def _guarded(args: argparse.Namespace) -> int:
    """Run the command; a UserError (bad input, a wrong table or control file, a failing statement)
    becomes one line on stderr and exit 3."""
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # `apigw-sql query ... | head` closed the pipe: not an error
        return 0


# Connections the running command opened: Ctrl-C interrupts them (the fetch and DuckDB alike).
_OPEN: list[Any] = []


def _interruptible(work: Callable[[], int]) -> int:
    """Run work() in a worker thread; on Ctrl-C interrupt it and leave within about CANCEL_GRACE seconds.

    The main thread only waits, so a SIGINT always reaches it, however long a call or a DuckDB
    statement takes. A call still on the wire after the grace is abandoned: the process exits without
    waiting for it (nothing it would bring is cached: the call cache lives in this process).
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["code"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="apigw-sql-command", daemon=True).start()
    try:
        while not done.wait(0.05):  # waiting on an event, not join(): Ctrl-C interrupts it at once
            pass
    except KeyboardInterrupt:
        _cancel(done, outcome)
    if "error" in outcome:
        raise outcome["error"]
    return int(outcome["code"])


def _cancel(done: threading.Event, outcome: dict[str, Any]) -> NoReturn:
    deadline = time.monotonic() + CANCEL_GRACE
    try:
        while not done.is_set() and time.monotonic() < deadline:
            for con in list(_OPEN):  # again and again: a statement that had not started yet clears the flag
                con.interrupt()
            done.wait(0.05)
    except KeyboardInterrupt:  # a second Ctrl-C: leave now
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    remove_partial()  # an export being written: the previous report stays as it was
    if outcome.get("code") != EXIT_CANCELLED:  # else the work, cancelled in time, has said so
        os.write(2, b"cancelled\n")
    # Fetch threads may still wait on the network; a normal exit would join them. The sandbox child,
    # if one was started, watches our stdin and stops with us.
    os._exit(EXIT_CANCELLED)


def _dispatch(args: argparse.Namespace) -> int:
    command = _COMMANDS.get(args.command)
    if command is not None:
        return command(args)
    raise UsageError(f"unknown command {args.command!r}: see apigw-sql --help")


def _read_sql(args: argparse.Namespace) -> str:
    if args.file:
        try:
            with open(args.file, "rb") as fh:
                return _utf8(fh.read(), args.file)
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    if args.sql and args.sql != "-":
        return args.sql
    if sys.stdin.isatty():
        raise UsageError("no SQL given: pass it as an argument, with -f FILE, or on standard input")
    stdin = getattr(sys.stdin, "buffer", None)
    return _utf8(stdin.read(), "standard input") if stdin is not None else sys.stdin.read()


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")  # a UTF-8 byte order mark (Windows editors) is not SQL
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start}): save it as UTF-8, e.g. "
                         "iconv -f UTF-16 -t UTF-8") from None


def run_and_print(con: Any, sql: str, fmt: str, out: Any = None, progress: Any = None) -> int:
    """Run every statement, printing each one's warnings and result as it ends.

    A single statement prints its result whatever it is; in a run of several, statements that change
    something (CREATE, INSERT, COPY, SET, ...) print nothing, as in the duckdb CLI, and the results
    follow one another (see output.separator). A statement whose every read failed stops the run
    with exit 3: an empty table would look like an answer. ``progress`` (a ProgressLine) shows each
    statement's fetch while it runs, and is cleared before its result is printed.
    """
    from contextlib import nullcontext

    from .output import render, separator
    from .ratelimit import Cancelled

    out = out or sys.stdout
    printed = 0
    try:
        several = len(con.statements(sql)) > 1
        results = con.sql_each(sql, on_progress=progress.update if progress is not None else None)
        while True:
            with progress if progress is not None else nullcontext():
                result = next(results, None)
            if result is None:
                break
            for err in result.errors:
                print(err.line(), file=sys.stderr)
            if result.nothing_read:
                raise UsageError(f"nothing could be read: every read {'of this statement ' if several else ''}"
                                 "failed, so an empty result would mislead; the warnings above say what to fix")
            if result.columns and (result.returns_rows or not several):
                if printed:
                    out.write(separator(fmt))
                text = render(result.columns, result.types, result.rows, fmt)
                out.write(text if text.endswith("\n") else text + "\n")
                out.flush()
                printed += 1
    except Cancelled:
        raise KeyboardInterrupt() from None
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    sql = _read_sql(args)
    with open_connection(connection_options(args), registry=_OPEN) as con:
        return run_and_print(con, sql, args.output, progress=_with_regions(progress_line(args), con))


def _with_regions(line: Any, con: Any) -> Any:
    line.regions = len(con.config.regions) if con.config.regions else None
    return line


def cmd_tables(args: argparse.Namespace) -> int:
    from .catalog import load_catalog
    from .output import render

    catalog = load_catalog()
    rows = [(n, catalog[n].description) for n in catalog if not args.pattern or args.pattern in n]
    if not rows:
        raise UsageError(f"no table matches {args.pattern!r}: run 'apigw-sql tables' for the whole list")
    print(render(["table", "description"], ["VARCHAR", "VARCHAR"], rows, "table"))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .app import describe_table
    from .catalog import load_catalog
    from .errors import unknown_table
    from .output import render

    catalog = load_catalog()
    spec = catalog.get(args.table)
    if spec is None:
        raise UsageError(unknown_table(args.table, catalog))
    described = describe_table(spec)
    print("\n".join(described.heading))
    print(render(described.columns, described.types, described.rows, "table"))
    if described.examples:
        print("examples:")
        for example in described.examples:
            print(f"  {example}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    try:
        from .sandbox import serve
    except ImportError:
        raise UsageError("the sandbox needs moto: pip install 'apigw-sql[sandbox]'") from None
    if not 0.0 <= args.quota_share < 1.0:
        raise UsageError("--quota-share must be at least 0 and below 1, e.g. 0.5 for half of each quota")
    if args.quota_share and not args.aws_quotas:
        raise UsageError("--quota-share needs --aws-quotas")
    serve(port=args.port, empty=args.empty, aws_quotas=args.aws_quotas, quota_share=args.quota_share)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .app import front_end

    return front_end("demo")(args)


def cmd_shell(args: argparse.Namespace) -> int:
    from .app import front_end

    try:
        run_shell = front_end("shell")
    except ImportError:
        raise UsageError("the interactive shell is not available in this build: use 'apigw-sql query'") from None
    return run_shell(args)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate everything first (no AWS call), then run, render, export; the exit code follows --fail-on."""
    from .controls import CheckOptions, format_for, prepare_check, render_report, run_check
    from .atomic_file import writable_problem, write_replacing
    from .controls.render import use_color
    from .ratelimit import Cancelled

    variables = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {item!r}: write NAME=VALUE, e.g. --var max_age_days=30")
        variables[name.strip()] = value
    exports = [(path, format_for(path)) for path in args.export]
    for path, fmt in exports:
        if fmt is None:
            raise UsageError(f"--export {path}: name the format with the extension (.html, .sarif, .json, .jsonl, "
                             ".csv, .md, .xml, .ocsf.json, .txt)")
        problem = writable_problem(path)  # before the run, not after minutes of fetching
        if problem:
            raise UsageError(f"--export {path}: {problem}")
    if args.fail_on_new and not args.baseline:
        raise UsageError("--fail-on-new compares with a previous run: give it with --baseline REPORT.json|SNAPSHOT")
    if args.baseline and not args.baseline.startswith("s3://") and not os.path.exists(args.baseline):
        raise UsageError(f"--baseline {args.baseline}: no such file or folder (a 'check -o json' report or a "
                         "snapshot written by 'apigw-sql collect')")
    severities = [s.strip().lower() for s in args.severity.split(",") if s.strip()] if args.severity else None
    options = CheckOptions(names=args.names, severities=severities, where=args.where, variables=variables,
                           mutelist=args.mutelist, controls_dirs=args.controls_dir)
    _check_engine_arguments(args)
    try:
        prepared = prepare_check(options)
        from .controls.baseline import apply_baseline, baseline_records, is_snapshot

        # A JSON report is read before the run (a mistake fails fast); a snapshot is checked after it.
        previous = baseline_records(args.baseline, prepared) \
            if args.baseline and not is_snapshot(args.baseline) else None
        if args.engine == "spark":
            from .engines.spark import SparkEngine

            report = run_check(None, prepared, engine=SparkEngine(args.snapshot, args.spark_master))
        else:
            with open_connection(connection_options(args), registry=_OPEN) as con:
                line = _with_regions(progress_line(args), con)
                with line:
                    report = run_check(con, prepared, on_progress=line.update)
        if args.baseline:
            if previous is None:
                previous = baseline_records(args.baseline, prepared)
            apply_baseline(report, previous, args.baseline)
            report.fail_on_new = args.fail_on_new
    except Cancelled:
        raise KeyboardInterrupt() from None
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    sys.stdout.write(render_report(report, args.output, color=use_color(sys.stdout, args.color), fail_on=args.fail_on))
    for path, fmt in exports:
        try:
            write_replacing(path, render_report(report, fmt or "text", fail_on=args.fail_on))
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}; a previous {os.path.basename(path)} "
                             "is left as it was") from None
        print(f"wrote {path} ({fmt})", file=sys.stderr)
    return report.exit_code(args.fail_on)


def _check_engine_arguments(args: argparse.Namespace) -> None:
    """--engine spark needs a snapshot and pyspark; --spark-master needs --engine spark (before any work)."""
    if args.spark_master and args.engine != "spark":
        raise UsageError("--spark-master needs --engine spark")
    if args.engine != "spark":
        return
    if not getattr(args, "snapshot", None):
        raise UsageError("--engine spark runs the controls over a Parquet snapshot: add --snapshot DIR "
                         "(a folder written by 'apigw-sql collect --out DIR')")
    from .engines.spark import require_pyspark

    require_pyspark()


def cmd_collect(args: argparse.Namespace) -> int:
    """Fetch and write a snapshot; exit 0 when every call answered, 1 when it was written with fetch errors
    (listed on stderr and in apigw_sql_snapshot.errors), 3 when nothing was written."""
    from .ratelimit import Cancelled
    from .snapshot import check_destination, collect

    options = connection_options(args)
    check_destination(args.out)  # before the sandbox starts or any call is made
    try:
        with open_connection(options, registry=_OPEN) as con:
            line = _with_regions(progress_line(args), con)
            with line:
                result = collect(con, args.out, args.tables, on_progress=line.update)
    except Cancelled:
        raise KeyboardInterrupt() from None
    for err in result.errors:
        print(err.line(), file=sys.stderr)
    size = f"{result.bytes / 1e6:.1f} MB" if result.bytes >= 100_000 else f"{result.bytes / 1e3:.1f} kB"
    print(f"wrote {args.out} ({result.kind}): {len(result.tables)} tables, {sum(result.rows.values())} rows, "
          f"account {', '.join(result.accounts) or 'none'}, {', '.join(result.regions) or 'no region'}, {size}"
          + (f"; {len(result.errors)} fetch error(s) recorded in apigw_sql_snapshot.errors" if result.errors else ""),
          file=sys.stderr)
    return 1 if result.errors else 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Per table, the resources added, removed and changed; exit 0 when none, 1 when some, 3 on error."""
    from .diff import DIFF_COLUMNS, DIFF_TYPES, diff_snapshots
    from .output import render

    outcome = diff_snapshots(args.old, args.new, profile=args.profile, endpoint_url=args.endpoint_url)
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    text = render(list(DIFF_COLUMNS), list(DIFF_TYPES), outcome.rows, args.output)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 1 if outcome.rows else 0


def cmd_benchmarks(args: argparse.Namespace) -> int:
    from .controls import BENCHMARKS
    from .controls.benchmarks import benchmark_names
    from .output import render

    controls = _load_controls(args)
    rows = [(name, sum(1 for c in controls if name in c.benchmarks),
             BENCHMARKS.get(name) or f"Your controls in {_folder_of(controls, name)}")
            for name in benchmark_names(controls)]
    print(render(["benchmark", "controls", "title"], ["VARCHAR", "BIGINT", "VARCHAR"], rows, args.output))
    return 0


def _folder_of(controls: list[Any], benchmark: str) -> str:
    import os

    return os.path.dirname(next(c.file for c in controls if c.home == benchmark))


def cmd_controls(args: argparse.Namespace) -> int:
    """The controls named (a table), or one control in detail with its parameters when one id is named."""
    from .controls import select
    from .output import render

    controls = _load_controls(args)
    chosen = select(controls, args.names)
    if args.emit_sql:
        return _emit_sql(chosen, *args.emit_sql)
    by_alias = {a: c for c in controls for a in (c.id, *c.aliases)}
    if len(args.names) == 1 and args.names[0] in by_alias:
        return _control_detail(by_alias[args.names[0]], args.output)
    chosen.sort(key=lambda c: (c.severity_rank, c.id))
    rows = [(c.id, c.severity, ", ".join(c.benchmarks), c.title) for c in chosen]
    print(render(["control", "severity", "benchmarks", "title"], ["VARCHAR"] * 4, rows,
                 args.output))
    return 0


def _emit_sql(controls: list[Any], dialect: str, folder: str) -> int:
    """Write the controls transpiled to ``dialect`` under ``folder``, one file each, atomically."""
    from .transpile import DIALECTS, emit_sql

    if dialect not in DIALECTS:
        raise UsageError(f"--emit-sql {dialect}: name one of {', '.join(DIALECTS)}, e.g. --emit-sql spark out/")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"--emit-sql {dialect} {folder}: is a file: name a folder")
    try:
        written, duckdb_only = emit_sql(controls, dialect, folder)
    except OSError as exc:
        raise UsageError(f"cannot write in {folder}: {exc.strerror}") from None
    print(f"wrote {written} controls in {dialect} SQL to {folder}"
          + (f" ({duckdb_only} DuckDB-only, written as comments saying why)" if duckdb_only else ""), file=sys.stderr)
    return 0


def _control_detail(control: Any, fmt: str) -> int:
    import json

    from .catalog import load_catalog
    from .controls.catalogue import control_record, describe_control
    from .output import render

    tables = list(load_catalog())
    if fmt == "table":
        sys.stdout.write(describe_control(control, tables))
        return 0
    record = {k: v for k, v in control_record(control, tables).items() if k != "sql"}
    record["parameters"] = json.dumps(record["parameters"])
    types = ["VARCHAR[]" if isinstance(v, list) else "JSON" if k == "parameters" else "VARCHAR"
             for k, v in record.items()]
    print(render(list(record), types, [tuple(record.values())], fmt))
    return 0


# Each subcommand and the function that runs it.
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "query": cmd_query, "tables": cmd_tables, "inspect": cmd_inspect, "sandbox": cmd_sandbox, "demo": cmd_demo,
    "shell": cmd_shell, "check": cmd_check, "benchmarks": cmd_benchmarks, "collect": cmd_collect,
    "diff": cmd_diff, "controls": cmd_controls,
}


if __name__ == "__main__":
    sys.exit(main())
