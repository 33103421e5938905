"""What every front end (cli, shell, demo) does with the connection options a user typed: check the
regions, start the sandbox when asked, and open a Connection. No argument parsing here: the front ends
parse, this module acts on the parsed values, so no front end needs another's code.
"""
from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import Any, Iterator

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class UsageError(Exception):
    """Bad input from the user; the message says what to do."""


def parse_regions(text: str | None) -> list[str] | None:
    """Comma-separated region names (else $APIGW_SQL_REGIONS; None for every enabled region).

    >>> parse_regions("us-east-1, eu-west-1")
    ['us-east-1', 'eu-west-1']
    >>> parse_regions("europe")
    Traceback (most recent call last):
    apigw_sql.options.UsageError: 'europe' is not a region name: use names like us-east-1,eu-west-1
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
    apigw_sql.options.UsageError: --endpoint-url 'localhost:5000' is not a URL: write it as http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000
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


@contextmanager
def open_connection(args: Any, registry: list[Any] | None = None) -> Iterator[Any]:
    """A Connection built from parsed connection options, with a sandbox started for it when asked.

    While it is open the connection is also in `registry`, so that a Ctrl-C handler can interrupt it.
    """
    import apigw_sql

    sandbox = None
    endpoint_url = check_endpoint_url(args.endpoint_url)
    rate_limit = not args.no_rate_limit
    if args.sandbox:
        sandbox = start_sandbox()
        endpoint_url = sandbox.endpoint_url
        rate_limit = False  # the sandbox is not AWS: its budget is the machine's, not the account's
    if args.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if not args.max_wait >= 0:
        raise UsageError("--max-wait must be a number of seconds, 0 or more")
    access_logs = getattr(args, "access_logs", None)
    for source in access_logs or []:
        _check_log_source("--access-logs", source)
    try:
        con = apigw_sql.connect(profile=args.profile, regions=parse_regions(args.regions), endpoint_url=endpoint_url,
                                ttl=args.ttl, max_attempts=args.max_attempts, max_wait=args.max_wait,
                                rate_limit=rate_limit,
                                pushdown_enabled=not args.no_pushdown,
                                cloudtrail_logs=getattr(args, "cloudtrail_logs", None), access_logs=access_logs)
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


def _check_log_source(option: str, text: str) -> None:
    """A folder that does not exist, or a URL that is neither a folder nor s3://, is a usage error."""
    from .cloudtrail.log_files import LogSource, LogSourceError

    try:
        LogSource.parse(text)
    except LogSourceError as exc:
        raise UsageError(f"{option} {exc}: name a folder or s3://BUCKET/PREFIX") from None


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
