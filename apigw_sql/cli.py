"""The command line: a thin layer over the engine and the output module.

Every command prints one clear line on stderr for anything a user can get wrong, and exits
with 3 on usage or runtime errors, like `apigw-sql check` will.
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

EXIT_USAGE = 3

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
    "benchmarks": ("List the benchmarks 'apigw-sql check' runs, with their titles.", "apigw-sql benchmarks"),
    "controls": ("List the controls (all, or those of a benchmark or pattern) with severity and benchmarks.",
                 "apigw-sql controls fsbp\n  apigw-sql controls 'apigateway_stage_*' --output csv"),
}


class UsageError(Exception):
    """Bad input on the command line; the message says what to do."""


def _connection_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("AWS connection")
    g.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    g.add_argument("--regions", help="comma-separated regions to read (default: every region enabled for the account)")
    g.add_argument("--endpoint-url", help="send every AWS call to this endpoint (AWS_ENDPOINT_URL is honoured too)")
    g.add_argument("--sandbox", action="store_true",
                   help="start the local sandbox (seeded demo estate) for this command and query it")
    g.add_argument("--ttl", type=float, default=300.0, help="seconds a fetched table is reused (default 300)")
    g.add_argument("--max-attempts", type=int, default=5, help="botocore attempts per call, retries included (default 5)")
    g.add_argument("--no-rate-limit", action="store_true",
                   help="do not pace calls at AWS's published rates (the sandbox does not need it)")
    g.add_argument("--no-pushdown", action="store_true", help="fetch whole tables, ignoring WHERE (for comparison)")
    g.add_argument("--cloudtrail-logs", action="append", metavar="FOLDER|s3://BUCKET/PREFIX",
                   help="CloudTrail log files (the AWSLogs/... delivery layout) that aws_cloudtrail_log and "
                        "aws_cloudtrail_event read; repeatable (default: cloudtrail_logs in "
                        "$XDG_CONFIG_HOME/apigw-sql/config.toml, else aws_cloudtrail_event reads LookupEvents)")
    g.add_argument("--access-logs", action="append", metavar="FOLDER|s3://BUCKET/PREFIX",
                   help="API Gateway access-log files (Firehose delivery or CloudWatch Logs export layout, gzip or "
                        "plain) that aws_api_gateway_access_log reads; repeatable (default: access_logs in "
                        "$XDG_CONFIG_HOME/apigw-sql/config.toml, else the stages' CloudWatch Logs groups)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("-o", "--output", default="table", choices=[f for f in FORMATS if f != "line"],
                   help="output format (default table)")
    _connection_options(p)

    p = add("tables")
    p.add_argument("pattern", nargs="?", help="show only tables whose name contains this")

    p = add("inspect")
    p.add_argument("table", help="the table to describe")

    p = add("sandbox")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--empty", action="store_true", help="start without the demo estate")

    p = add("demo")
    p.add_argument("-o", "--output", default="table", choices=["table", "markdown", "csv", "json", "jsonl"])
    p.add_argument("--regions", help=argparse.SUPPRESS)

    p = add("shell")
    _connection_options(p)

    from .controls.control import SEVERITIES
    from .controls.render import CHECK_FORMATS

    p = add("check")
    p.add_argument("names", nargs="*", metavar="BENCHMARK|CONTROL",
                   help="benchmarks (fsbp, cis_v5, apigateway, cloudtrail_activity, usage, all), control ids, aliases "
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
    _connection_options(p)

    p = add("benchmarks")
    p.add_argument("-o", "--output", default="table", choices=["table", "csv", "json", "jsonl", "markdown"])

    p = add("controls")
    p.add_argument("names", nargs="*", metavar="BENCHMARK|CONTROL", help="benchmarks, ids, aliases or patterns")
    p.add_argument("-o", "--output", default="table", choices=["table", "csv", "json", "jsonl", "markdown"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["shell", *argv]  # no command: the shell, with whatever options were given (--sandbox)
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `apigw-sql query ... | head` closed the pipe: not an error
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    from .catalog import SpecError

    try:
        if args.command == "query":
            return cmd_query(args)
        if args.command == "tables":
            return cmd_tables(args)
        if args.command == "inspect":
            return cmd_inspect(args)
        if args.command == "sandbox":
            return cmd_sandbox(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "shell":
            return cmd_shell(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "benchmarks":
            return cmd_benchmarks(args)
        if args.command == "controls":
            return cmd_controls(args)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    raise UsageError(f"unknown command {args.command!r}: see apigw-sql --help")


def _read_sql(args: argparse.Namespace) -> str:
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    if args.sql and args.sql != "-":
        return args.sql
    if sys.stdin.isatty():
        raise UsageError("no SQL given: pass it as an argument, with -f FILE, or on standard input")
    return sys.stdin.read()


def _regions(text: str | None) -> list[str] | None:
    if not text:
        env = os.environ.get("APIGW_SQL_REGIONS")
        text = env or None
    if not text:
        return None
    regions = [r.strip() for r in text.split(",") if r.strip()]
    import re

    bad = [r for r in regions if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", r)]
    if bad:
        raise UsageError(f"{bad[0]!r} is not a region name: use names like us-east-1,eu-west-1")
    return regions


@contextmanager
def open_connection(args: argparse.Namespace) -> Iterator[Any]:
    """A Connection built from the command line, with a sandbox started for it when asked."""
    import apigw_sql

    sandbox = None
    endpoint_url = args.endpoint_url
    rate_limit = not args.no_rate_limit
    if args.sandbox:
        sandbox = start_sandbox()
        endpoint_url = sandbox.endpoint_url
        rate_limit = False  # the sandbox is not AWS: its budget is the machine's, not the account's
    if args.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    access_logs = getattr(args, "access_logs", None)
    for source in access_logs or []:
        _check_log_source("--access-logs", source)
    try:
        con = apigw_sql.connect(profile=args.profile, regions=_regions(args.regions), endpoint_url=endpoint_url,
                                ttl=args.ttl, max_attempts=args.max_attempts, rate_limit=rate_limit,
                                pushdown_enabled=not args.no_pushdown,
                                cloudtrail_logs=getattr(args, "cloudtrail_logs", None), access_logs=access_logs)
        try:
            yield con
        finally:
            con.close()
    finally:
        if sandbox is not None:
            sandbox.stop()


def _check_log_source(option: str, text: str) -> None:
    """A folder that does not exist, or a URL that is neither a folder nor s3://, is a usage error."""
    from .cloudtrail.log_files import LogSource, LogSourceError

    try:
        LogSource.parse(text)
    except LogSourceError as exc:
        raise UsageError(f"{option} {exc}: name a folder or s3://BUCKET/PREFIX") from None


def start_sandbox(seed: bool = True) -> Any:
    try:
        from .sandbox import Sandbox
    except ImportError:
        raise UsageError("the sandbox needs moto: pip install 'apigw-sql[sandbox]'") from None
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ[key] = value  # the sandbox accepts any key; never send real ones to it
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    print("starting the sandbox (a local AWS-compatible server with a demo estate)...", file=sys.stderr)
    return Sandbox(seed=seed).start()


def run_and_print(con: Any, sql: str, fmt: str, out: Any = None) -> int:
    from .engine import QueryError
    from .output import render
    from .ratelimit import Cancelled

    out = out or sys.stdout
    try:
        result = con.sql(sql)
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    except Cancelled:
        raise KeyboardInterrupt() from None
    for err in result.errors:
        print(err.line(), file=sys.stderr)
    if result.columns:
        text = render(result.columns, result.types, result.rows, fmt)
        out.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    sql = _read_sql(args)
    with open_connection(args) as con:
        return run_and_print(con, sql, args.output)


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
    from .catalog import load_catalog
    from .output import render

    catalog = load_catalog()
    spec = catalog.get(args.table)
    if spec is None:
        close = catalog.closest(args.table)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown table {args.table!r}{hint}")
    print(f"{spec.name}: {spec.description}")
    source = spec.fetch.operation or spec.fetch.rows
    print(f"source: {spec.service or 'local'} {source}" + (f" per {spec.parent} row" if spec.parent else ""))
    keys = spec.pushdown_columns
    rows = [(c.name, c.type, "yes" if c.name in keys else "", c.description) for c in spec.columns]
    print(render(["column", "type", "pushdown", "description"], ["VARCHAR"] * 4, rows, "table"))
    if spec.examples:
        print("examples:")
        for example in spec.examples:
            print(f"  {example}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    try:
        from .sandbox import serve
    except ImportError:
        raise UsageError("the sandbox needs moto: pip install 'apigw-sql[sandbox]'") from None
    serve(port=args.port, empty=args.empty)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_shell(args: argparse.Namespace) -> int:
    try:
        from .shell import run_shell
    except ImportError:
        raise UsageError("the interactive shell is not available in this build: use 'apigw-sql query'") from None
    return run_shell(args)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate everything first (no AWS call), then run, render, export; the exit code follows --fail-on."""
    from .controls import (CheckOptions, ControlError, MutelistError, ParameterError, SelectionError, format_for,
                           prepare_check, render_report, run_check)
    from .controls.render import use_color
    from .engine import QueryError
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
    severities = [s.strip().lower() for s in args.severity.split(",") if s.strip()] if args.severity else None
    options = CheckOptions(names=args.names, severities=severities, where=args.where, variables=variables,
                           mutelist=args.mutelist)
    try:
        prepared = prepare_check(options)
        with open_connection(args) as con:
            report = run_check(con, prepared)
    except (SelectionError, ParameterError, MutelistError, ControlError, QueryError) as exc:
        raise UsageError(str(exc)) from None
    except Cancelled:
        raise KeyboardInterrupt() from None
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    sys.stdout.write(render_report(report, args.output, color=use_color(sys.stdout, args.color), fail_on=args.fail_on))
    for path, fmt in exports:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(render_report(report, fmt or "text", fail_on=args.fail_on))
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
        print(f"wrote {path} ({fmt})", file=sys.stderr)
    return report.exit_code(args.fail_on)


def cmd_benchmarks(args: argparse.Namespace) -> int:
    from .controls import BENCHMARKS, load_controls
    from .output import render

    controls = load_controls()
    rows = [(name, sum(1 for c in controls if name in c.benchmarks), title) for name, title in BENCHMARKS.items()]
    print(render(["benchmark", "controls", "title"], ["VARCHAR", "BIGINT", "VARCHAR"], rows, args.output))
    return 0


def cmd_controls(args: argparse.Namespace) -> int:
    from .controls import SelectionError, load_controls, select
    from .output import render

    try:
        chosen = select(load_controls(), args.names)
    except SelectionError as exc:
        raise UsageError(str(exc)) from None
    chosen.sort(key=lambda c: (c.severity_rank, c.id))
    rows = [(c.id, c.severity, ", ".join(c.benchmarks), c.title) for c in chosen]
    print(render(["control", "severity", "benchmarks", "title"], ["VARCHAR"] * 4, rows,
                 args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
