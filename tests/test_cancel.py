"""Ctrl-C stops `query` and `check` at once: "cancelled" on stderr, exit 130, no traceback, however long
the call on the wire or the DuckDB statement would still take."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Iterator

import pytest

SLOW = 12.0  # seconds each delayed call takes: far longer than a cancel may


def _start(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "apigw_sql.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt_after(proc: subprocess.Popen, seconds: float) -> tuple[float, str, str]:
    """SIGINT after `seconds`; returns (seconds from the signal to the exit, stdout, stderr)."""
    time.sleep(seconds)
    assert proc.poll() is None, proc.communicate()
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"no exit {SLOW} s after Ctrl-C: {err}")
    return time.monotonic() - sent, out, err


@pytest.fixture()
def slow_rest_apis(sandbox) -> Iterator[None]:
    sandbox.set_delay(SLOW, service="apigateway", operation="GetRestApis")
    yield
    sandbox.clear_delays()


def _aws(sandbox) -> list[str]:
    return ["--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1,eu-west-1", "--max-attempts", "1",
            "--no-rate-limit"]


@pytest.mark.parametrize("command", [
    ["query", "SELECT name FROM aws_api_gateway_rest_api"],
    ["check", "apigateway_rest_api_endpoint_private"],
])
def test_ctrl_c_during_a_slow_fetch_exits_130_at_once(sandbox, slow_rest_apis, command):
    proc = _start(*command, *_aws(sandbox))
    waited, out, err = _interrupt_after(proc, 3.0)  # the calls are on the wire by then
    assert proc.returncode == 130 and err.splitlines()[-1] == "cancelled", err
    assert "Traceback" not in err and out == "" and err.count("cancelled") == 1
    assert waited < 1.5, waited


def test_ctrl_c_during_a_long_duckdb_statement_exits_130_at_once():
    proc = _start("query", "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3")
    waited, out, err = _interrupt_after(proc, 3.0)
    assert proc.returncode == 130 and err.splitlines()[-1] == "cancelled", err
    assert "Traceback" not in err and "Query interrupted" not in err and out == "" and err.count("cancelled") == 1
    assert waited < 1.5, waited


def test_ctrl_c_between_statements_prints_what_ran_and_stops(sandbox, slow_rest_apis):
    proc = _start("query", "SELECT 'done' AS first; SELECT name FROM aws_api_gateway_rest_api", "-o", "csv",
                  *_aws(sandbox))
    waited, out, err = _interrupt_after(proc, 3.0)
    assert proc.returncode == 130 and out == "first\ndone\n" and err.splitlines()[-1] == "cancelled"
    assert waited < 1.5, waited
