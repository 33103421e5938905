"""The progress line of `query` and `check`: on a terminal by default, elsewhere only with --progress, and
the same text the shell draws."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Iterator

import pexpect
import pytest

from apigw_sql.fetch import Progress
from apigw_sql.progress_line import describe, remaining_seconds

REGION = "us-east-1"
XRAY = "apigateway_stage_xray_tracing_enabled"


@pytest.fixture()
def slow_sandbox(sandbox) -> Iterator[object]:
    """The sandbox with GetRestApis and GetStages slowed down, so that a fetch outlasts the line's delay."""
    sandbox.set_delay(1.2, service="apigateway", operation="GetRestApis")
    sandbox.set_delay(1.2, service="apigateway", operation="GetStages")
    try:
        yield sandbox
    finally:
        sandbox.clear_delays()


def _argv(sandbox, *argv: str) -> list[str]:
    return [sys.executable, "-m", "apigw_sql.cli", *argv, "--endpoint-url", sandbox.endpoint_url,
            "--regions", REGION, "--max-attempts", "1", "--no-rate-limit"]


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "160", "TERM": "xterm", "NO_COLOR": "1"}


def _on_terminal(sandbox, *argv: str) -> str:
    argv_ = _argv(sandbox, *argv)
    child = pexpect.spawn(argv_[0], argv_[1:], env=_env(), encoding="utf-8", timeout=60, dimensions=(40, 160))
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def test_query_on_a_terminal_shows_progress_on_stderr_then_clears_it(slow_sandbox):
    screen = _on_terminal(slow_sandbox, "query", "SELECT count(*) AS n FROM aws_api_gateway_rest_api")
    drawn = [part for part in screen.split("\r\x1b[K") if "(Ctrl-C cancels)" in part]
    assert any(re.match(r"fetching aws_api_gateway_rest_api · 1 region · \d+ calls? · ", part) for part in drawn), screen
    # The line is cleared before the result is printed: the table follows the clearing sequence.
    assert screen.rindex("\r\x1b[K") < screen.index("╭")


def test_check_on_a_terminal_shows_progress(slow_sandbox):
    screen = _on_terminal(slow_sandbox, "check", XRAY)
    drawn = [part for part in screen.split("\r\x1b[K") if "(Ctrl-C cancels)" in part]
    assert drawn and any("aws_api_gateway_stage" in part or "aws_api_gateway_rest_api" in part for part in drawn)
    assert "apigw-sql check: 1 controls" in screen


@pytest.mark.parametrize("command", [["query", "SELECT count(*) AS n FROM aws_api_gateway_rest_api"], ["check", XRAY]])
def test_nothing_on_a_non_terminal_unless_asked(slow_sandbox, command):
    quiet = subprocess.run(_argv(slow_sandbox, *command), capture_output=True, text=True, env=_env(), timeout=60)
    assert quiet.returncode in (0, 1), quiet.stderr
    assert "calls" not in quiet.stderr and "fetching" not in quiet.stderr

    asked = subprocess.run(_argv(slow_sandbox, *command, "--progress"), capture_output=True, text=True, env=_env(),
                           timeout=60)
    assert asked.returncode == quiet.returncode, asked.stderr
    lines = [line for line in asked.stderr.splitlines() if line.startswith("fetching aws_api_gateway_")]
    assert lines and all(" calls" in line or " call " in line for line in lines)
    assert "\x1b" not in asked.stderr and "\r" not in asked.stderr  # plain lines for a log, no redrawing
    assert asked.stdout == quiet.stdout or command[0] == "check"  # check's summary carries its timing


@pytest.mark.parametrize("progress, expected", [
    (Progress(calls=5), "5 calls · 2.0 s  (Ctrl-C cancels)"),
    (Progress(calls=5, planned_calls=20), "5/20 calls · 2.0 s  (Ctrl-C cancels)"),
    (Progress(calls=5, planned_calls=20, rate=5.0), "5/20 calls · 2.0 s · about 3 s left  (Ctrl-C cancels)"),
    (Progress(calls=5, rate=5.0), "5 calls · 2.0 s  (Ctrl-C cancels)"),  # nothing planned: no time left shown
    (Progress(calls=400, planned_calls=1000, rate=2.0, throttled=2, tables={"t"}),
     "fetching t · 400/1000 calls · 2 throttling retries · 2.0 s · about 5 min 0 s left  (Ctrl-C cancels)"),
])
def test_the_line_shows_calls_of_planned_and_the_time_left_at_the_rate_limiters_pace(progress, expected):
    assert describe(progress, regions=None, elapsed=2.0) == expected


def test_no_time_left_once_the_planned_calls_are_done():
    assert remaining_seconds(Progress(calls=20, planned_calls=20, rate=5.0)) is None


def test_the_shell_draws_the_same_line():
    from apigw_sql.progress_line import ProgressLine
    from apigw_sql.shell import progress

    assert progress.ProgressLine is ProgressLine and progress.describe is describe
