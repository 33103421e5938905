"""Fault injection: the sandbox breaks calls (apigw_sql/sandbox/faults.py) and the answers must stay true.

Every scenario reads REST APIs and their stages in the two demo regions while one fault is active, and
checks four things:

- every healthy row is returned (exactly the rows the fault does not take away),
- every failure is reported: in Result.errors and in apigw_sql_fetch_log, with its error code,
- nothing wrong is cached: once the fault is cleared, the same connection answers with every row,
- the CLI says so: `query` prints one warning naming the code (its answer is partial, exit 0 as
  documented), `check` of a control over the broken table exits 2 (the audit is incomplete).

Faults that clear within the retries (a throttling burst, one 5xx, one slow answer) must leave no
trace but their retries. A server killed mid-query has a throwaway sandbox of its own.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

import apigw_sql
from apigw_sql.cli import main

US, EU = "us-east-1", "eu-west-1"
SQL = ("SELECT 'api' AS kind, region, api_id AS id FROM aws_api_gateway_rest_api "
       "UNION ALL SELECT 'stage', region, rest_api_id || '/' || name FROM aws_api_gateway_stage")
API_CONTROL = "apigateway_rest_api_endpoint_private"    # reads aws_api_gateway_rest_api
STAGE_CONTROL = "apigateway_stage_cache_enabled"        # reads aws_api_gateway_stage
READ_TIMEOUT = 0.5  # seconds; a delay of DELAY outlasts it
DELAY = 1.5


@dataclass
class Scenario:
    faults: list[dict[str, Any]]                   # Sandbox.add_fault arguments
    code: str | None                               # the error code reported; None: the fault clears in the retries
    lost: Callable[[tuple], bool] = lambda row: False  # the rows (kind, region, id) the fault takes away
    control: str | None = API_CONTROL              # a control over the broken table, for `check`
    delays: list[dict[str, Any]] = field(default_factory=list)  # Sandbox.set_delay arguments
    max_attempts: int = 2
    cli: bool = True  # False: the CLI has no --read-timeout, so a timeout is not one there


def in_eu(row: tuple) -> bool:
    return row[1] == EU


def eu_stage(row: tuple) -> bool:
    return row[0] == "stage" and row[1] == EU


def stage(row: tuple) -> bool:
    return row[0] == "stage"


SCENARIOS = {
    "throttling burst that clears": Scenario(
        [dict(service="apigateway", region=EU, operation="GetRestApis", code="TooManyRequestsException",
              status=429, count=2)], None, max_attempts=3),
    "throttling past the retries": Scenario(
        [dict(service="apigateway", region=EU, operation="GetRestApis", code="TooManyRequestsException",
              status=429)], "TooManyRequestsException", in_eu),
    "5xx once": Scenario(
        [dict(service="apigateway", region=US, operation="GetStages", code="InternalServerError", status=500,
              count=1)], None, control=STAGE_CONTROL),
    "5xx every time": Scenario(
        [dict(service="apigateway", region=EU, operation="GetStages", code="ServiceUnavailableException",
              status=503)], "ServiceUnavailableException", eu_stage, control=STAGE_CONTROL),
    "read timeout once": Scenario(
        [], None, delays=[dict(seconds=DELAY, service="apigateway", region=EU, operation="GetRestApis", count=1)],
        cli=False),
    "read timeout every time": Scenario(
        [], "ReadTimeoutError", in_eu,
        delays=[dict(seconds=DELAY, service="apigateway", region=EU, operation="GetRestApis")], cli=False),
    "connection reset once": Scenario(
        [dict(service="apigateway", region=EU, operation="GetRestApis", kind="reset", count=1)], None),
    "connection reset every time": Scenario(
        [dict(service="apigateway", region=EU, operation="GetRestApis", kind="reset")], "ConnectionClosedError",
        in_eu),
    "truncated body": Scenario(
        [dict(service="apigateway", region=EU, operation="GetRestApis", kind="truncate")], "IncompleteReadError",
        in_eu),
    "malformed body": Scenario(
        [dict(service="apigateway", region=US, operation="GetStages", kind="malformed")], "ResponseParserError",
        lambda row: row[0] == "stage" and row[1] == US, control=STAGE_CONTROL),
    "AccessDenied in one region": Scenario(
        [dict(service="apigateway", region=EU, code="AccessDeniedException", status=403)], "AccessDeniedException",
        in_eu),
    "AccessDenied in one table": Scenario(
        [dict(service="apigateway", operation="GetStages", code="AccessDeniedException", status=403)],
        "AccessDeniedException", stage, control=STAGE_CONTROL),
}


# Throttled calls are retried until this many seconds have passed (then they are failures): short here,
# where a throttling fault never clears by itself.
MAX_WAIT = 1.5


def _connect(sandbox, max_attempts: int = 2) -> apigw_sql.Connection:
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[US, EU], max_attempts=max_attempts,
                            max_wait=MAX_WAIT, rate_limit=False)
    # Clients are made on first use, so the short timeouts apply to every call of this connection.
    con.config.read_timeout = READ_TIMEOUT
    con.config.connect_timeout = READ_TIMEOUT
    return con


@pytest.fixture(scope="module")
def healthy(sandbox):
    """The rows and the `check` exit codes with no fault."""
    con = _connect(sandbox)
    try:
        rows = sorted(con.sql(SQL).rows)
    finally:
        con.close()
    assert {r[0] for r in rows} == {"api", "stage"} and {r[1] for r in rows} == {US, EU}
    codes = {control: _check(sandbox, control, 2)[0] for control in (API_CONTROL, STAGE_CONTROL)}
    return rows, codes


@pytest.fixture()
def faults(sandbox):
    """Injects a scenario's faults (again and again: counted ones wear off); clears them after the test."""
    delayed = []

    def inject(scenario: Scenario) -> None:
        sandbox.clear_faults()
        sandbox.clear_delays()
        for spec in scenario.faults:
            sandbox.add_fault(**spec)
        for spec in scenario.delays:
            sandbox.set_delay(**spec)
            delayed.append(spec["seconds"])

    yield inject
    sandbox.clear_faults()
    sandbox.clear_delays()
    if delayed:  # requests the client gave up on are still asleep in the server: let them end first, or
        time.sleep(max(delayed))  # they would meet (and use up) the next test's counted faults


def _options(sandbox, max_attempts: int) -> list[str]:
    return ["--endpoint-url", sandbox.endpoint_url, "--regions", f"{US},{EU}", "--max-attempts", str(max_attempts),
            "--max-wait", str(MAX_WAIT), "--no-rate-limit"]


def _check(sandbox, control: str, max_attempts: int, capsys=None) -> tuple[int, str]:
    code = main(["check", control, "--output", "json", *_options(sandbox, max_attempts)])
    text = "".join(capsys.readouterr()) if capsys is not None else ""
    return code, text


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_fault_loses_only_what_it_breaks_and_says_so(sandbox, healthy, faults, capsys, name):
    scenario = SCENARIOS[name]
    all_rows, check_codes = healthy
    expected = [r for r in all_rows if not scenario.lost(r)]
    assert scenario.code is None or len(expected) < len(all_rows), "the scenario must break something"
    capsys.readouterr()

    faults(scenario)
    con = _connect(sandbox, scenario.max_attempts)
    try:
        result = con.sql(SQL)
        assert sorted(result.rows) == expected  # every healthy row, nothing else
        failed = con.sql("SELECT operation, region, error_code, throttled_retries FROM apigw_sql_fetch_log "
                         "WHERE error_code IS NOT NULL").rows
        if scenario.code is None:
            assert result.errors == [] and failed == []
            retried = con.sql("SELECT sum(throttled_retries) FROM apigw_sql_fetch_log").rows[0][0]
            assert retried >= (scenario.faults[0].get("count", 1) if scenario.faults else 1)
        else:
            assert result.errors and {e.code for e in result.errors} == {scenario.code}
            assert {row[2] for row in failed} == {scenario.code}
            assert len(failed) == len(result.errors)
            for err in result.errors:
                line = err.line()
                assert "\n" not in line and scenario.code in line and err.region in line
        # The fault clears: the same connection (and its cache) answers with every row.
        faults(Scenario([], None))
        again = con.sql(SQL)
        assert sorted(again.rows) == all_rows and again.errors == []
    finally:
        con.close()

    if not scenario.cli:
        return
    faults(scenario)
    code = main(["query", SQL, "--output", "csv", *_options(sandbox, scenario.max_attempts)])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    assert len(out.strip().splitlines()) == 1 + len(expected)  # the header and the healthy rows
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    if scenario.code is None:
        assert warnings == []
    else:
        assert warnings and all(scenario.code in line for line in warnings)

    faults(scenario)
    code, text = _check(sandbox, scenario.control, scenario.max_attempts, capsys)
    if scenario.code is None:
        assert code == check_codes[scenario.control]
    else:
        assert code == 2 and scenario.code in text  # a control could not be judged everywhere


def test_a_malformed_xml_answer_is_a_reported_failure(sandbox, faults):
    """botocore's XML parser raises an error outside its own hierarchy: it is reported like any other."""
    faults(Scenario([dict(service="ec2", operation="DescribeRegions", kind="malformed")], "ResponseParserError"))
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, max_attempts=1, rate_limit=False)  # every region
    try:
        result = con.sql("SELECT DISTINCT region FROM aws_api_gateway_rest_api")
        assert sorted(result.rows) == [(EU,), (US,)]  # the regions botocore knows for the service were read
        [error] = result.errors
        assert (error.operation, error.code) == ("DescribeRegions", "ResponseParserError")
        assert con.sql("SELECT operation, error_code FROM apigw_sql_fetch_log WHERE error_code IS NOT NULL").rows \
            == [("DescribeRegions", "ResponseParserError")]
    finally:
        con.close()


def test_a_fault_kind_the_sandbox_does_not_know_is_refused(sandbox):
    from apigw_sql.sandbox.sandbox import SandboxError

    with pytest.raises(SandboxError, match="kind must be one of"):
        sandbox.add_fault(service="apigateway", kind="explode")


# ---- a server killed mid-query ------------------------------------------------------------------

@pytest.fixture()
def throwaway():
    """A small sandbox of its own (a child process that can be killed): 2 REST APIs per region."""
    from apigw_sql.sandbox import Sandbox

    sb = Sandbox(seed=False).start()
    try:
        for region in (US, EU):
            client = sb.client("apigateway", region)
            for i in range(2):
                client.create_rest_api(name=f"killed-{region}-{i}")
        yield sb
    finally:
        sb.stop()


def test_a_server_killed_mid_query(throwaway, capsys):
    assert throwaway.server_pid is not None
    con = _connect(throwaway)
    con.config.read_timeout = 10  # the killed answer must fail by the connection, not by a timeout
    try:
        whole = sorted(con.sql("SELECT region, name FROM aws_api_gateway_rest_api").rows)
        assert len(whole) == 4
        con.refresh()
        throwaway.set_delay(3, service="apigateway", region=EU, operation="GetRestApis")
        answer: dict[str, Any] = {}
        before = len(con.fetch_log)
        worker = threading.Thread(target=lambda: answer.update(
            result=con.sql("SELECT region, name FROM aws_api_gateway_rest_api")))
        started = time.monotonic()
        worker.start()
        deadline = started + 10
        while time.monotonic() < deadline and not any(
                r.operation == "GetRestApis" and r.region == US for r in con.fetch_log[before:]):
            time.sleep(0.05)  # us-east-1 is answered; eu-west-1 is waiting on the server
        time.sleep(0.3)
        os.kill(throwaway.server_pid, signal.SIGKILL)
        worker.join(timeout=30)
        assert not worker.is_alive() and time.monotonic() - started < 15
        result = answer["result"]
        assert sorted(result.rows) == [r for r in whole if r[0] == US]  # the healthy region's rows
        [error] = result.errors
        assert error.region == EU and error.code in ("ConnectionClosedError", "EndpointConnectionError")
        logged = con.sql("SELECT region, error_code FROM apigw_sql_fetch_log WHERE error_code IS NOT NULL").rows
        assert logged[-1] == (EU, error.code)
        # Nothing of eu-west-1 was cached: asked again, it is tried (and fails) again.
        cached = {(op, region) for _, op, _, region, _, _ in con.fetcher.cache_entries()}
        assert ("GetRestApis", US) in cached and ("GetRestApis", EU) not in cached
        again = con.sql("SELECT region, name FROM aws_api_gateway_rest_api")
        assert sorted(again.rows) == sorted(result.rows) and [e.region for e in again.errors] == [EU]
    finally:
        con.close()

    # The CLI against the dead server: nothing can be read, a one-line error and exit 3.
    capsys.readouterr()
    code = main(["check", API_CONTROL, "--endpoint-url", throwaway.endpoint_url, "--regions", US,
                 "--max-attempts", "1", "--no-rate-limit"])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")
