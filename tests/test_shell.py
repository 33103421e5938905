"""The interactive shell, driven in a pseudo-terminal against the sandbox: what a person at the keyboard
sees after typing, pressing Tab, Enter, Ctrl-C and Ctrl-D."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator

import pexpect
import pytest

SHELL = str(Path(sys.executable).with_name("apigw-sql"))
REGIONS = "us-east-1,eu-west-1,ap-southeast-2"
PROMPT = "apigw-sql>"
COLUMNS = 120
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")

# Two tiny controls in the project's control format; the shell reads them from APIGW_SQL_QUERIES.
CONTROLS = {
    "tiny_rest_api_named": """\
        -- id: tiny_rest_api_named
        -- title: REST APIs have a long enough name
        -- description: Alarms when a REST API's name is shorter than min_length characters.
        -- severity: low
        -- resource_type: REST API
        -- remediation: Rename the API.
        -- frameworks:
        -- aliases:
        -- parameters: min_length BIGINT = 12
        SELECT arn AS resource,
               CASE WHEN length(name) >= getvariable('min_length') THEN 'ok' ELSE 'alarm' END AS status,
               format('REST API {} has a {}-character name.', name, length(name)) AS reason,
               account_id, region
        FROM aws_api_gateway_rest_api;
        """,
    "tiny_stage_tracing": """\
        -- id: tiny_stage_tracing
        -- title: REST stages trace with X-Ray
        -- description: Alarms when a REST stage has X-Ray tracing off.
        -- severity: medium
        -- resource_type: REST stage
        -- remediation: Turn tracing on.
        -- frameworks:
        -- aliases:
        -- parameters:
        SELECT arn AS resource, CASE WHEN tracing_enabled THEN 'ok' ELSE 'alarm' END AS status,
               format('Stage {} traces: {}.', name, tracing_enabled) AS reason, account_id, region
        FROM aws_api_gateway_stage;
        """,
}


def clean(text: str) -> str:
    """Terminal output without escape sequences and carriage returns."""
    return _ESCAPES.sub("", text)


class Shell:
    """A running `apigw-sql shell` in a pseudo-terminal."""

    def __init__(self, child: pexpect.spawn):
        self.child = child
        self.raw = ""
        self.mark = 0

    def _pump(self) -> None:
        try:
            self.raw += self.child.read_nonblocking(65536, timeout=0.05)
        except pexpect.TIMEOUT:
            pass

    def screen(self) -> str:
        """What the shell printed since the last input was sent."""
        return clean(self.raw[self.mark:])

    def send(self, keys: str) -> None:
        self._pump()
        self.mark = len(self.raw)
        self.child.send(keys)

    def wait_for(self, *texts: str, prompt_after: bool = False, timeout: float = 15) -> str:
        """Wait until every text shows (and, with prompt_after, a fresh prompt after the last of them)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.screen()
            if all(t in out for t in texts):
                end = max((out.rfind(t) + len(t) for t in texts), default=0)
                if not prompt_after or PROMPT in out[end:]:
                    return out
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell did not show {texts!r}; it showed:\n{out[-3000:]}")
            try:
                self._pump()
            except pexpect.EOF:
                raise AssertionError(f"the shell ended; it showed:\n{out[-3000:]}") from None

    def run(self, line: str, *expected: str, timeout: float = 15) -> str:
        """Type a line, press Enter, and wait for the expected text and the next prompt.

        The expected text must be something only the output holds (the typed line is echoed): a
        result's "1 row" footer, a value, a message."""
        self.send(line + "\r")
        return self.wait_for(*expected, prompt_after=True, timeout=timeout)

    def complete(self, text: str, *expected: str) -> str:
        """Type text, press Tab, and wait for the expected names (or the inserted rest of a name)."""
        self.send(text + "\t")
        return self.wait_for(*expected)

    def clear(self) -> None:
        """Ctrl-C at the prompt: drop the line being typed."""
        self.send("\x03")
        self.wait_for(PROMPT)

    def quit(self) -> int:
        self.send("\x04")
        self.child.expect(pexpect.EOF, timeout=15)
        self.child.close()
        return self.child.exitstatus


@pytest.fixture()
def controls_dir(tmp_path: Path) -> Path:
    home = tmp_path / "queries" / "apigateway"
    home.mkdir(parents=True)
    for control_id, text in CONTROLS.items():
        (home / f"{control_id}.sql").write_text(textwrap.dedent(text))
    return tmp_path / "queries"


@pytest.fixture()
def shell_env(tmp_path: Path, controls_dir: Path) -> dict[str, str]:
    return {**os.environ, "TERM": "xterm", "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "PAGER": "sed 's/^/paged: /'",
            "PROMPT_TOOLKIT_NO_CPR": "1", "APIGW_SQL_QUERIES": str(controls_dir),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture()
def start_shell(sandbox, shell_env) -> Iterator[Callable[..., Shell]]:
    started: list[Shell] = []

    def start(*extra: str, env: dict[str, str] | None = None, connect: bool = True) -> Shell:
        args = ["shell", "--regions", REGIONS, "--no-rate-limit", "--max-attempts", "1", *extra]
        if connect:
            args += ["--endpoint-url", sandbox.endpoint_url]
        child = pexpect.spawn(SHELL, args, env={**shell_env, **(env or {})}, dimensions=(40, COLUMNS),
                              encoding="utf-8", timeout=15)
        shell = Shell(child)
        started.append(shell)
        shell.wait_for(PROMPT)
        return shell

    yield start
    for shell in started:
        if shell.child.isalive():
            shell.child.terminate(force=True)


# ---- completion --------------------------------------------------------------------------------
def test_tab_completes_tables_after_from_columns_of_the_statement_and_json_keys(start_shell):
    sh = start_shell()
    sh.complete("SELECT count(*) AS n FROM aws_api_gateway_st", "age")  # one table fits: Tab writes it out
    assert re.search(r"│ 6 +│", sh.run(";", "1 row"))
    sh.complete("SELECT count(*) AS n FROM aws_api_gateway_stage s WHERE s.trac", "ing_enabled")  # s: the stage
    assert re.search(r"│ 3 +│", sh.run(";", "1 row"))

    menu = sh.complete("SELECT * FROM aws_api_gateway_rest", "aws_api_gateway_rest_api_policy_statement",
                       "One row per API Gateway REST API")
    assert "keyword" not in menu  # after FROM only tables are offered
    sh.clear()
    menu = sh.complete("SELECT * FROM aws_api_gateway_stage WHERE cac", "cache_cluster_enabled",
                       "cache_cluster_status", "BOOLEAN · aws_api_gateway_stage")
    assert "aws_api_gateway_rest_api" not in menu  # only the columns of the tables in the statement
    sh.clear()
    # JSON keys come from the rows already loaded (the stage table above), never from a fetch.
    sh.complete("SELECT variables->>'$.", "backendHost", "warehouse", "JSON key")
    sh.clear()
    sh.complete("SELECT s.variables->>'$.ware", "house")
    sh.run("' AS w FROM aws_api_gateway_stage s WHERE w IS NOT NULL;", "eu-central")


def test_tab_completes_meta_commands_and_their_arguments(start_shell, tmp_path):
    sh = start_shell()
    sh.complete(".tim", "ing")
    sh.run(" on", "timing: on")
    sh.complete(".output js", "json", "jsonl")
    sh.clear()
    sh.complete(".run ", "tiny_rest_api_named", "tiny_stage_tracing", "apigateway")
    sh.clear()
    sh.complete(".inspect aws_api_gateway_rest_a", "aws_api_gateway_rest_api_policy_statement")
    sh.run("", "endpoint_configuration_types")
    (tmp_path / "audit_one.sql").write_text("SELECT 'read by completion' AS source;\n")
    sh.complete(f".read {tmp_path}/audit_o", "ne.sql")
    sh.run("", "read by completion")


# ---- meta-commands ------------------------------------------------------------------------------
def test_help_tables_inspect_output_formats_and_paging(start_shell):
    sh = start_shell()
    out = sh.run(".help", ".export FILE", "Ctrl-R")
    assert all(name in out for name in (".tables", ".inspect", ".output", ".timing", ".cache", ".refresh",
                                         ".controls", ".run", ".read", ".regions", ".quit"))
    out = sh.run(".tables stage", "aws_api_gateway_stage", "aws_api_gatewayv2_stage", "rows")
    assert "aws_api_gateway_rest_api " not in out
    out = sh.run(".inspect aws_api_gateway_stage", "source: apigateway GetStages per aws_api_gateway_rest_api row",
                 "rest_api_id", "examples:")
    assert re.search(r"rest_api_id\s+│ VARCHAR\s+│ yes", out)
    sh.run(".inspect aws_api_gateway_stages", "error: unknown table 'aws_api_gateway_stages'; did you mean")
    sh.run(".tables zzz", "error: no table matches 'zzz'")

    out = sh.run("SELECT 'a' AS letter, NULL AS nothing;", "1 row")
    assert "∅" in out
    sh.run(".output csv", "output: csv")
    assert "letter,nothing\na,\n" in sh.run("SELECT 'a' AS letter, NULL AS nothing;", "letter,nothing")
    sh.run(".output json", "output: json")
    sh.run("SELECT 'a' AS letter;", '"letter": "a"')
    sh.run(".output jsonl", "output: jsonl")
    sh.run("SELECT 'a' AS letter;", '{"letter": "a"}')
    sh.run(".output markdown", "output: markdown")
    sh.run("SELECT 'a' AS letter;", "| letter   |")
    sh.run(".output line", "output: line")
    sh.run("SELECT 'a' AS letter, NULL AS nothing;", "letter = a", "nothing = ∅")
    sh.run(".output yaml", "error: unknown format 'yaml'")

    # Wide results fit the terminal; long ones go through $PAGER.
    sh.run(".output table", "output: table")
    out = sh.run("SELECT repeat('x', 300) AS wide, 'end' AS last_column;", "1 row")
    table = [ln for ln in out.splitlines() if ln.startswith(("╭", "│", "╰"))]
    assert table and all(len(ln) <= COLUMNS for ln in table)
    assert "…" in out and "end" in out and "paged:" not in out
    sh.run("SELECT * FROM range(100) t(n);", "paged: 100 rows")


def test_timing_cache_refresh_and_regions(start_shell):
    sh = start_shell()
    sh.run(".cache", "the cache is empty")
    sh.run(".timing on", "timing: on")
    first = sh.run("SELECT count(*) AS apis FROM aws_api_gateway_rest_api;", "API calls", "cache hits")
    assert re.search(r"time [\d.]+ s · 1 row · 3 API calls · 0 cache hits · 0 throttling retries", first)
    again = sh.run("SELECT count(*) AS apis FROM aws_api_gateway_rest_api;", "API calls")
    assert "0 API calls · 3 cache hits" in again
    out = sh.run(".cache", "GetRestApis", "eu-west-1", "expires in")
    assert out.count("GetRestApis") == 3
    sh.run(".refresh aws_api_gateway_rest_api", "cleared the cached calls of aws_api_gateway_rest_api")
    sh.run("SELECT count(*) AS apis FROM aws_api_gateway_rest_api;", "3 API calls · 0 cache hits")
    sh.run(".refresh", "cleared the whole cache")
    sh.run(".cache", "the cache is empty")
    sh.run(".refresh aws_api_gateway_stag", "error: unknown table 'aws_api_gateway_stag'; did you mean")
    sh.run(".timing off", "timing: off")

    sh.run(".regions", f"regions: {REGIONS.replace(',', ', ')}", "endpoint: http://127.0.0.1:")
    sh.run(".regions eu-west-1", "regions: eu-west-1")
    out = sh.run("SELECT DISTINCT region FROM aws_api_gateway_rest_api;", "1 row")
    assert "eu-west-1" in out and "us-east-1" not in out
    sh.run(".regions europe", "error: 'europe' is not a region name")


def test_controls_and_run(start_shell, tmp_path, controls_dir):
    sh = start_shell()
    sh.run(".controls", "tiny_rest_api_named", "REST APIs have a long enough name", "tiny_stage_tracing", "medium")
    out = sh.run(".run tiny_rest_api_named", "1 control: 4 ok, 1 alarm, 0 info, 0 skip, 0 error")
    assert "REST API orders-api has a 10-charact…" in out  # fitted to the terminal
    sh.run(".run tiny_rest_api_named min_length=15", "1 control: 2 ok, 3 alarm")
    sh.run("SELECT coalesce(getvariable('min_length'), -1) AS left_behind;", "-1")  # the runner put it back
    out = sh.run(".run apigateway", "2 controls: 7 ok, 4 alarm, 0 info, 0 skip, 0 error",
                 ".export FILE saves the 11 findings")
    assert re.search(r"tiny_stage_tracing\s+│ medium\s+│ 3\s+│ 3", out)
    findings = tmp_path / "findings.csv"
    sh.run(f".export {findings}", "wrote 11 rows")
    assert findings.read_text().splitlines()[0] == ("control_id,title,severity,status,resource,reason,account_id,"
                                                    "region,muted,mute_reason,frameworks,dimensions")
    sh.run(".run tiny_nope", "error: 'tiny_nope' is neither a benchmark")
    sh.run(".run tiny_rest_api_named min_length=long", "error: --var min_length=long: not a BIGINT value")
    # The result contract holds in the shell as in check: a status outside the five is an error finding.
    (controls_dir / "apigateway" / "tiny_rest_api_named.sql").write_text(
        textwrap.dedent(CONTROLS["tiny_rest_api_named"]).replace("'alarm'", "'fail'"))
    sh.run(".run tiny_rest_api_named", "error: tiny_rest_api_named: The control returned status 'fail'",
           "1 control: 0 ok, 0 alarm, 0 info, 0 skip, 1 error")


def test_run_in_the_shell_and_check_give_the_same_findings(start_shell, sandbox, tmp_path, capsys):
    from apigw_sql.cli import main
    from apigw_sql.resources import shipped_dir

    sh = start_shell(env={"APIGW_SQL_QUERIES": str(shipped_dir("queries"))})
    sh.run(".run fsbp", "18 controls: ", timeout=120)
    sh.run(f".export {tmp_path / 'shell.json'}", "wrote")
    shell = json.loads((tmp_path / "shell.json").read_text())
    code = main(["check", "fsbp", "-o", "json", "--regions", REGIONS, "--endpoint-url", sandbox.endpoint_url,
                 "--no-rate-limit", "--max-attempts", "1"])
    check = json.loads(capsys.readouterr().out)
    assert code == 1 and len(check) > 18
    assert _stable(shell) == _stable(check)


def _stable(findings: list[dict]) -> list[dict]:
    """Findings without the times the sandbox reports as 'now' (a trail's latest delivery)."""
    for f in findings:
        f["dimensions"] = {k: v for k, v in (f["dimensions"] or {}).items() if not k.endswith("_time")}
    return findings


def test_export_by_extension_and_read(start_shell, tmp_path):
    sh = start_shell()
    sh.run(".export out.csv", "error: nothing to export yet")
    sh.run("SELECT name, region FROM aws_api_gateway_rest_api ORDER BY name;", "5 rows")
    for name in ("apis.csv", "apis.json", "apis.jsonl", "apis.parquet"):
        sh.run(f".export {tmp_path / name}", f"wrote 5 rows to {tmp_path / name}")
    assert (tmp_path / "apis.csv").read_text().splitlines()[:2] == ["name,region", "internal-inventory,us-east-1"]
    assert '"name": "orders-api"' in (tmp_path / "apis.json").read_text()
    assert len((tmp_path / "apis.jsonl").read_text().splitlines()) == 5
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "apis.parquet").column("name").to_pylist()[0] == "internal-inventory"
    sh.run(f".export {tmp_path / 'apis.txt'}", "error: cannot tell the format")

    script = tmp_path / "audit.sql"
    script.write_text(".output csv\nSELECT 'from-file' AS source;\nSELECT no_such_column\n  FROM aws_api_gateway_rest_api;\n"
                      "SELECT 2 AS two;\n")
    out = sh.run(f".read {script}", "two\n2")
    assert "source\nfrom-file" in out and "error: SELECT no_such_column: " in out
    sh.run(f".read {tmp_path / 'missing.sql'}", "error: cannot read")


# ---- the session survives ------------------------------------------------------------------------
def test_errors_print_one_line_and_the_shell_goes_on(start_shell):
    sh = start_shell()
    out = sh.run("SELEC 1;", "error: ")
    assert "Traceback" not in out and out.count("error:") == 1
    sh.run("SELECT * FROM aws_api_gateway_stages;", "error: unknown table 'aws_api_gateway_stages'; did you mean")
    sh.run(".frobnicate", "error: unknown command .frobnicate")
    sh.send("SELECT 41 + 1\r")  # no ';' yet: Enter starts a second line
    sh.wait_for("...>")
    assert re.search(r"│ 42 +│", sh.run("  AS answer;", "1 row"))
    assert sh.child.isalive()
    assert sh.quit() == 0


def test_ctrl_c_cancels_a_slow_fetch_and_keeps_the_session(start_shell, sandbox):
    sh = start_shell()
    sh.run("CREATE TABLE kept AS SELECT 42 AS answer; SELECT 'made' AS status;", "1 row")
    sandbox.set_delay(2.5, service="apigateway", operation="GetStages")
    try:
        sh.send("SELECT count(*) FROM aws_api_gateway_stage;\r")
        sh.wait_for("fetching aws_api_gateway_rest_api, aws_api_gateway_stage", "Ctrl-C cancels")
        pressed = time.monotonic()
        sh.send("\x03")
        sh.wait_for("cancelled", prompt_after=True, timeout=5)
        assert time.monotonic() - pressed < 1.5  # before the slow call ends
    finally:
        sandbox.clear_delays()
    sh.run("SELECT answer FROM kept;", "42")
    assert re.search(r"│ 6 +│", sh.run("SELECT count(*) AS stages FROM aws_api_gateway_stage;", "1 row"))


def test_history_survives_a_restart_and_ctrl_r_searches_it(start_shell, tmp_path):
    sh = start_shell()
    sh.run("SELECT 'remember-me' AS marker;", "1 row")
    sh.run("SELECT 'something else' AS other;", "1 row")
    assert sh.quit() == 0
    assert "remember-me" in (tmp_path / "xdg" / "apigw-sql" / "history").read_text()

    sh = start_shell()
    sh.send("\x1b[A")  # Up: the last statement of the previous session
    sh.wait_for("something else")
    sh.clear()
    sh.send("\x12remember")  # Ctrl-R
    sh.wait_for("reverse-i-search", "remember-me")
    sh.send("\r")  # take the match
    assert "remember-me" in sh.run("", "1 row")


def test_sandbox_option_starts_one_for_the_shell(start_shell):
    started = time.monotonic()
    sh = start_shell("--sandbox", connect=False)
    assert time.monotonic() - started < 5  # the prompt does not wait for the sandbox
    assert re.search(r"│ 5 +│", sh.run("SELECT count(*) AS apis FROM aws_api_gateway_rest_api;", "1 row",
                                        timeout=60))
    assert sh.quit() == 0


# ---- start-up -------------------------------------------------------------------------------------
def test_importing_the_shell_loads_nothing_heavy():
    code = ("import sys, apigw_sql.shell, apigw_sql.shell.repl, apigw_sql.cli; "
            "print(sorted(m for m in ('duckdb', 'boto3', 'botocore', 'pyarrow', 'sqlglot', 'moto') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_piped_input_runs_as_a_script(sandbox, shell_env):
    script = "SELECT count(*) AS apis FROM aws_api_gateway_rest_api;\n.output csv\nSELECT 1 AS one;\n"
    done = subprocess.run([SHELL, "shell", "--regions", REGIONS, "--endpoint-url", sandbox.endpoint_url,
                           "--no-rate-limit", "--max-attempts", "1"], input=script, capture_output=True,
                          text=True, env=shell_env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "│ 5      │" in done.stdout and "one\n1\n" in done.stdout
