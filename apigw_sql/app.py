"""The application core every front end (cli, shell, demo) stands on: connection options, opening a
connection, starting the sandbox, describing a table, and which front end runs a command. No argument
parsing here: a front end parses what the user typed, this module acts on the parsed values.

Front ends never import one another: a front end that hands the process to another (``apigw-sql shell``,
``apigw-sql demo``) looks it up in FRONT_ENDS by dotted name, so the dependency always points down to
this layer, and a build without a front end's extra dependencies only fails when that one is asked for.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .accounts import account_selection, split_list
from .connection_options import ConnectionOptions
from .errors import UserError

if TYPE_CHECKING:
    from .catalog import TableSpec

__all__ = ["ConnectionOptions", "FRONT_ENDS", "TableDescription", "UsageError", "check_endpoint_url",
           "connection_options", "describe_table", "front_end", "open_connection", "parse_regions", "start_sandbox"]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class UsageError(UserError):
    """Bad input from the user; the message says what to do."""


def parse_regions(text: str | None) -> list[str] | None:
    """Comma-separated region names (else $APIGW_SQL_REGIONS; None for every enabled region).

    >>> parse_regions("us-east-1, eu-west-1")
    ['us-east-1', 'eu-west-1']
    >>> parse_regions("europe")
    Traceback (most recent call last):
    apigw_sql.app.UsageError: 'europe' is not a region name: use names like us-east-1,eu-west-1
    """
    if not text:
        text = os.environ.get("APIGW_SQL_REGIONS") or None
    if not text:
        return None
    regions = [r.strip() for r in text.split(",") if r.strip()]
    bad = [r for r in regions if not _REGION.match(r)]
    if bad:
        raise UsageError(f"{bad[0]!r} is not a region name: use names like us-east-1,eu-west-1")
    return regions


def check_endpoint_url(url: str | None) -> str | None:
    """The endpoint URL (given, else AWS_ENDPOINT_URL), checked: boto3 would fail on it deep in the first call.

    >>> check_endpoint_url("localhost:5000")
    Traceback (most recent call last):
    apigw_sql.app.UsageError: --endpoint-url 'localhost:5000' is not a URL: write it as http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000
    """
    from urllib.parse import urlparse

    given = url or os.environ.get("AWS_ENDPOINT_URL")
    if not given:
        return url
    parsed = urlparse(given)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        source = "--endpoint-url" if url else "AWS_ENDPOINT_URL"
        raise UsageError(f"{source} {given!r} is not a URL: write it as http(s)://HOST[:PORT], "
                         "e.g. http://127.0.0.1:5000")
    return url


def connection_options(args: Any) -> ConnectionOptions:
    """The ConnectionOptions of a front end's parsed connection flags (--profile, --regions, --sandbox, ...),
    checked: a UsageError says which flag is wrong before anything starts."""
    options = ConnectionOptions(
        profile=args.profile, regions=parse_regions(args.regions), endpoint_url=check_endpoint_url(args.endpoint_url),
        sandbox=args.sandbox, ttl=args.ttl, max_attempts=args.max_attempts, max_wait=args.max_wait,
        rate_limit=not args.no_rate_limit, pushdown_enabled=not args.no_pushdown,
        call_cache=not getattr(args, "no_cache", False), refresh=getattr(args, "refresh", False),
        cloudtrail_logs=getattr(args, "cloudtrail_logs", None), access_logs=getattr(args, "access_logs", None),
        snapshot=getattr(args, "snapshot", None),
        profiles=list(split_list(getattr(args, "profiles", None))) or None, role_name=getattr(args, "role_name", None),
        accounts=list(split_list(getattr(args, "accounts", None))) or None,
        external_id=getattr(args, "external_id", None), org=bool(getattr(args, "org", False)))
    account_selection(options)  # a combination that cannot work is an error now, before anything starts
    if options.snapshot:
        _check_snapshot(options)
    for source in options.access_logs or []:
        _check_log_source("--access-logs", source)
    if options.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if not options.max_wait >= 0:
        raise UsageError("--max-wait must be a number of seconds, 0 or more")
    return options


def _check_snapshot(options: ConnectionOptions) -> None:
    """--snapshot reads no AWS: a flag that asks for AWS beside it is a mistake, and the snapshot must exist."""
    if options.sandbox:
        raise UsageError("--snapshot reads the snapshot and makes no AWS call: drop --sandbox")
    if options.profiles or options.role_name or options.accounts or options.org:
        raise UsageError("--snapshot reads the accounts the snapshot holds: drop --profiles, --role-name, "
                         "--accounts and --org (filter with WHERE account_id = ...)")
    text = options.snapshot or ""
    if not text.startswith("s3://") and not os.path.exists(text):
        raise UsageError(f"--snapshot {text}: no such file or folder (write one with 'apigw-sql collect --out {text}')")


def _check_log_source(option: str, text: str) -> None:
    """A folder that does not exist, or a URL that is neither a folder nor s3://, is a usage error."""
    from .cloudtrail.log_files import LogSource, LogSourceError

    try:
        LogSource.parse(text)
    except LogSourceError as exc:
        raise UsageError(f"{option} {exc}: name a folder or s3://BUCKET/PREFIX") from None


@contextmanager
def open_connection(options: ConnectionOptions, registry: list[Any] | None = None) -> Iterator[Any]:
    """A Connection with these options, with a sandbox started for it (and stopped after) when asked.

    While it is open the connection is also in `registry`, so that a Ctrl-C handler can interrupt it.
    """
    from dataclasses import replace

    from .engine import Connection

    sandbox = None
    downloaded = None
    if options.snapshot and options.snapshot.startswith("s3://"):
        from .snapshot import download_snapshot  # a plain S3 read of the user's own snapshot, not an audit call

        downloaded = download_snapshot(options.snapshot, options)
        options = replace(options, snapshot=downloaded)
    if options.sandbox:
        sandbox = start_sandbox()
        # The sandbox is not AWS: its budget is the machine's, not the account's. Its estate is new each
        # time, on a port another sandbox may have had: nothing of it is kept for later runs.
        options = replace(options, sandbox=False, endpoint_url=sandbox.endpoint_url, rate_limit=False,
                          call_cache=False)
    try:
        con = Connection(options)
        warning = con.snapshot.warning() if con.snapshot is not None else None
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        if registry is not None:
            registry.append(con)
        try:
            yield con
        finally:
            if registry is not None:
                registry.remove(con)
            con.close()
    finally:
        if sandbox is not None:
            sandbox.stop()
        if downloaded is not None:
            import shutil

            shutil.rmtree(downloaded, ignore_errors=True)


def start_sandbox(seed: bool = True) -> Any:
    """The local sandbox, started (seeded with the demo estate unless seed is False), with dummy credentials."""
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


@dataclass
class TableDescription:
    """What `apigw-sql inspect` and the shell's `.inspect` show of a table, for each to print its way."""

    heading: list[str]          # "name: description", "source: ..."
    columns: list[str]          # the column table: its header ...
    types: list[str]
    rows: list[tuple[str, ...]]  # ... and one row per column of the table
    examples: list[str]


def describe_table(spec: TableSpec) -> TableDescription:
    """A catalog table described: where its rows come from, its columns with pushdown keys, its examples."""
    source = spec.fetch.operation or spec.fetch.rows
    keys = spec.pushdown_columns
    return TableDescription(
        heading=[f"{spec.name}: {spec.description}",
                 f"source: {spec.service or 'local'} {source}" + (f" per {spec.parent} row" if spec.parent else "")],
        columns=["column", "type", "pushdown", "description"], types=["VARCHAR"] * 4,
        rows=[(c.name, c.type, "yes" if c.name in keys else "", c.description) for c in spec.columns],
        examples=list(spec.examples))


# Every front end, by the dotted name of its entry point (a function of the parsed arguments that returns
# the exit code). `apigw-sql` is the cli's; it hands its `shell` and `demo` commands to theirs.
FRONT_ENDS: dict[str, str] = {
    "cli": "apigw_sql.cli:main",
    "shell": "apigw_sql.shell:run_shell",
    "demo": "apigw_sql.demo:run_demo",
}


def front_end(name: str) -> Callable[[Any], int]:
    """The entry point of a front end of FRONT_ENDS, imported now (ImportError when its extra is missing)."""
    module, _, function = FRONT_ENDS[name].partition(":")
    return getattr(importlib.import_module(module), function)
