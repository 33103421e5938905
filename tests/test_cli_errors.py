"""Every way a user can get the command line wrong ends in one line saying what to do, and exit 3.

One sweep over argv, standard input, files and the environment (no traceback, exit 3, the advice);
then the exit codes argparse would have chosen, a query that could read nothing, and a check run on
local log files with no AWS reachable.
"""
from __future__ import annotations

import http.server
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from apigw_sql.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NotAws(http.server.BaseHTTPRequestHandler):
    """A plain web server: every request gets a small HTML page."""

    def _page(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def web_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def run(capsys, monkeypatch) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process; argparse's exits are caught. Returns (exit code, stdout, stderr)."""

    def _run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _tables_with(tmp: Path, name: str, text: str | bytes) -> Path:
    folder = tmp / "tables"
    shutil.copytree(ROOT / "tables", folder)
    target = folder / f"{name}.toml"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


_GUARDED_TABLE = """name = "my_api_keys"
description = "API keys with their values (a table file someone wrote)."
service = "apigateway"

[fetch]
operation = "GetApiKeys"
items = "items"
params = { includeValues = true }

[[columns]]
name = "name"
type = "VARCHAR"
path = "name"
description = "The key's name."
"""


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _setup(case: str, tmp: Path, monkeypatch, sandbox: Any, web_server: str) -> list[str]:
    """Arguments (and environment) of one error case; files go to tmp."""
    local = ["--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1", "--max-attempts", "1",
             "--no-rate-limit"]
    if case == "utf16 file":
        (tmp / "q.sql").write_text("SELECT 1 AS a", encoding="utf-16")
        return ["query", "-f", str(tmp / "q.sql")]
    if case == "missing file":
        return ["query", "-f", str(tmp / "nope.sql")]
    if case == "latin1 stdin":
        return ["query", "-"]
    if case == "latin1 mutelist":
        (tmp / "mutes.toml").write_bytes("[[mute]]\ncontrol = 'x'\nreason = 'caf\xe9'\n".encode("latin-1"))
        return ["check", "apigateway", "--mutelist", str(tmp / "mutes.toml"), *local]
    if case == "not a URL":
        return ["query", "SELECT * FROM aws_api_gateway_rest_api", "--endpoint-url", "localhost:5000"]
    if case == "AWS_ENDPOINT_URL not a URL":
        monkeypatch.setenv("AWS_ENDPOINT_URL", "127.0.0.1")
        return ["query", "SELECT * FROM aws_api_gateway_rest_api", "--regions", "us-east-1"]
    if case == "endpoint not AWS":
        return ["query", "SELECT * FROM aws_api_gateway_rest_api", "--endpoint-url", web_server,
                "--regions", "us-east-1", "--max-attempts", "1"]
    if case == "unreachable endpoint":
        return ["query", "SELECT * FROM aws_api_gateway_rest_api", "--endpoint-url",
                f"http://127.0.0.1:{_closed_port()}", "--regions", "us-east-1", "--max-attempts", "1"]
    if case == "unknown profile":
        return ["query", "SELECT * FROM aws_api_gateway_rest_api", "--profile", "no-such-profile"]
    if case == "guard refuses a table":
        monkeypatch.setenv("APIGW_SQL_TABLES", str(_tables_with(tmp, "my_api_keys", _GUARDED_TABLE)))
        return ["query", "SELECT * FROM my_api_keys", *local]
    if case == "table file not UTF-8":
        bad = _GUARDED_TABLE.replace("someone", "caf\xe9").encode("latin-1")
        monkeypatch.setenv("APIGW_SQL_TABLES", str(_tables_with(tmp, "my_api_keys", bad)))
        return ["tables"]
    if case in ("unknown benchmark folder: controls", "unknown benchmark folder: benchmarks",
                "unknown benchmark folder: check"):
        queries = tmp / "queries"
        shutil.copytree(ROOT / "queries", queries)
        (queries / "my_benchmark").mkdir()
        shutil.copy(next((ROOT / "queries" / "apigateway").glob("*.sql")), queries / "my_benchmark")
        monkeypatch.setenv("APIGW_SQL_QUERIES", str(queries))
        command = case.rsplit(" ", 1)[1]
        return [command, *(local if command == "check" else [])]
    if case == "control file not UTF-8":
        queries = tmp / "queries"
        shutil.copytree(ROOT / "queries", queries)
        first = next((queries / "apigateway").glob("*.sql"))
        first.write_bytes(first.read_text().replace("--", "-- caf\xe9", 1).encode("latin-1"))
        monkeypatch.setenv("APIGW_SQL_QUERIES", str(queries))
        return ["controls"]
    return {
        "syntax error": ["query", "SELEC 1"],
        "empty query": ["query", "  ;  "],
        "unknown table": ["query", "SELECT * FROM aws_api_gateway_stages"],
        "bad region": ["query", "SELECT 1", "--regions", "eu_west_1"],
        "max attempts 0": ["query", "SELECT 1", "--max-attempts", "0"],
        "unknown output": ["check", "--output", "nope"],
        "unknown fail-on": ["check", "--fail-on", "bogus"],
        "unknown flag": ["query", "--bogus", "SELECT 1"],
        "mistyped command": ["quary", "SELECT 1"],
        "ttl not a number": ["query", "SELECT 1", "--ttl", "soon"],
        "bad --var": ["check", "apigateway", "--var", "max_age_days"],
        "unknown --var": ["check", "apigateway", "--var", "no_such=1"],
        "bad --var value": ["check", "all", "--var", "max_age_days=many"],
        "unknown severity": ["check", "--severity", "urgent"],
        "bad --where": ["check", "--where", "no_such_column = 1"],
        "unknown control": ["check", "apigateway_no_such_control"],
        "export without format": ["check", "apigateway", "--export", str(tmp / "report.bin")],
        "export to a missing folder": ["check", "apigateway", "--export", str(tmp / "no" / "such" / "r.html")],
        "export to a folder": ["check", "apigateway", "--export", str(_folder(tmp / "out.html"))],
        "missing mutelist": ["check", "apigateway", "--mutelist", str(tmp / "none.toml")],
        "unknown table to inspect": ["inspect", "aws_api_gateway_stag"],
        "no table matches": ["tables", "no-such-thing"],
        "unknown controls pattern": ["controls", "nothing_like_this_*"],
        "demo output": ["demo", "-o", "html"],
    }[case]


# case -> what the message must advise (a substring of the error line)
CASES = {
    "utf16 file": "save it as UTF-8",
    "missing file": "cannot read",
    "latin1 stdin": "standard input is not UTF-8 text",
    "latin1 mutelist": "save the mutelist as UTF-8",
    "not a URL": "write it as http(s)://HOST[:PORT]",
    "AWS_ENDPOINT_URL not a URL": "AWS_ENDPOINT_URL '127.0.0.1' is not a URL",
    "endpoint not AWS": "check --endpoint-url or AWS_ENDPOINT_URL",
    "unreachable endpoint": "check the network or AWS_ENDPOINT_URL",
    "unknown profile": "not found: check ~/.aws/config",
    "guard refuses a table": "fix or remove the table file",
    "table file not UTF-8": "save the table file as UTF-8",
    "unknown benchmark folder: controls": "a control lives in queries/<home benchmark>/",
    "unknown benchmark folder: benchmarks": "a control lives in queries/<home benchmark>/",
    "unknown benchmark folder: check": "a control lives in queries/<home benchmark>/",
    "control file not UTF-8": "save the control as UTF-8",
    "syntax error": "syntax error",
    "empty query": "give a SQL statement",
    "unknown table": "did you mean aws_api_gateway_stage",
    "bad region": "use names like us-east-1",
    "max attempts 0": "must be at least 1",
    "unknown output": "invalid choice: 'nope'",
    "unknown fail-on": "invalid choice: 'bogus'",
    "unknown flag": "unrecognized arguments: --bogus",
    "mistyped command": "invalid choice: 'quary'",
    "ttl not a number": "invalid float value: 'soon'",
    "bad --var": "write NAME=VALUE",
    "unknown --var": "no selected control takes this parameter",
    "bad --var value": "not a BIGINT value",
    "unknown severity": "use one or more of",
    "bad --where": "--where",
    "unknown control": "apigw-sql controls",
    "export without format": "name the format with the extension",
    "export to a missing folder": "create it or pick another path",
    "export to a folder": "name a file",
    "missing mutelist": "cannot read the mutelist",
    "unknown table to inspect": "did you mean aws_api_gateway_stage",
    "no table matches": "apigw-sql tables",
    "unknown controls pattern": "apigw-sql controls",
    "demo output": "invalid choice: 'html'",
}
USAGE_ERRORS = {"unknown output", "unknown fail-on", "unknown flag", "mistyped command", "ttl not a number",
                "demo output"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_cli_error_is_one_line_saying_what_to_do_and_exit_3(case, run, tmp_path, monkeypatch, sandbox,
                                                                  web_server):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    argv = _setup(case, tmp_path, monkeypatch, sandbox, web_server)
    code, out, err = run(*argv, stdin=b"SELECT 'caf\xe9' AS a" if case == "latin1 stdin" else None)
    assert "Traceback" not in err and "Traceback" not in out
    assert code == 3, (code, err)
    lines = err.splitlines()
    assert lines and lines[-1].startswith("error: ") and CASES[case] in lines[-1], err
    if case in USAGE_ERRORS:  # argparse's mistakes show the usage line of the command at fault
        command = argv[0] if case != "mistyped command" else ""
        assert err.startswith(f"usage: apigw-sql {command}".rstrip()), err
    else:
        assert len(lines) == 1 or all(ln.startswith(("warning: ", "note: ")) for ln in lines[:-1]), err
    assert out == ""


def test_usage_errors_never_exit_with_the_control_error_code():
    """2 means "control errors" for check: argparse's own exit code must not say so (a subprocess, as CI runs it)."""
    proc = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "check", "--fail-on", "bogus"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and proc.stderr.startswith("usage: apigw-sql check")
    assert "error: argument --fail-on: invalid choice: 'bogus'" in proc.stderr


def test_a_query_whose_every_call_failed_says_nothing_could_be_read(run, sandbox):
    sandbox.add_fault(service="apigateway", code="AccessDeniedException", status=403)
    try:
        code, out, err = run("query", "SELECT name FROM aws_api_gateway_rest_api", "--endpoint-url",
                             sandbox.endpoint_url, "--regions", "us-east-1,eu-west-1", "--max-attempts", "1",
                             "--no-rate-limit")
    finally:
        sandbox.clear_faults()
    assert code == 3 and out == ""  # no empty table that would pass for "no APIs"
    lines = err.splitlines()
    assert len([ln for ln in lines if ln.startswith("warning: ")]) == 2
    assert lines[-1].startswith("error: nothing could be read: every read failed")
    assert "other regions were answered" not in err


def test_a_partial_answer_still_exits_0(run, sandbox):
    sandbox.add_fault(service="apigateway", region="eu-west-1", code="AccessDeniedException", status=403)
    try:
        code, out, err = run("query", "SELECT DISTINCT region FROM aws_api_gateway_rest_api", "-o", "csv",
                             "--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1,eu-west-1",
                             "--max-attempts", "1", "--no-rate-limit")
    finally:
        sandbox.clear_faults()
    assert code == 0 and out.splitlines() == ["region", "us-east-1"] and "nothing could be read" not in err


# ---- offline evidence ---------------------------------------------------------------------------

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def log_folder(tmp_path_factory) -> Path:
    from apigw_sql.cloudtrail.layout import log_file_key
    from apigw_sql.cloudtrail.synthetic import synthetic_records, write_log_file

    root = tmp_path_factory.mktemp("offline-logs")
    start = datetime.now(timezone.utc) - timedelta(days=1)
    records = synthetic_records(random.Random(7), ACCOUNT, "eu-west-1", start, timedelta(minutes=5), 200)
    write_log_file(root / log_file_key(ACCOUNT, "eu-west-1", start + timedelta(hours=1), "OFFLINE1"), records)
    return root


@pytest.mark.parametrize("credentials", [True, False], ids=["unreachable-endpoint", "no-credentials"])
def test_checks_on_local_log_files_need_no_aws(log_folder, credentials, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, XDG_CACHE_HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path))
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    proc = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "check", "cloudtrail_activity", "--cloudtrail-logs",
                           str(log_folder), "--endpoint-url", endpoint, "--max-attempts", "1"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 1), proc.stderr
    header = proc.stdout.splitlines()[0]
    assert f"(account {ACCOUNT}; eu-west-1;" in header  # the account and region come from the data
    assert "error" not in proc.stdout.split("Totals", 1)[1].split("\n", 1)[0].replace("error 0", "")
    proc = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "query", "--cloudtrail-logs", str(log_folder),
                           "--endpoint-url", endpoint, "-o", "csv",
                           "SELECT DISTINCT account_id FROM aws_cloudtrail_event"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["account_id", ACCOUNT], proc.stderr
