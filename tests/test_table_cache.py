"""Kept tables (table_cache.py): a warm session loads the tables built from call-cache answers as they were
built, and judges, logs and answers exactly as a session rebuilding them from the answers; a table is never
used once one of its calls is answered anew or older than the TTL; a tampered file is refused."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

QUERY = "SELECT api_id, name, created_date, region FROM aws_api_gateway_rest_api ORDER BY api_id"
TABLES = ("aws_api_gateway_rest_api", "aws_api_gateway_stage", "aws_api_gateway_method",
          "aws_api_gateway_method_setting", "aws_api_gatewayv2_api", "aws_api_gatewayv2_route")


def table_files(home: Path) -> list[Path]:
    return sorted((home / "apigw-sql" / "calls").rglob("_tables/*.arrow"))


def call_files(home: Path) -> list[Path]:
    return sorted((home / "apigw-sql" / "calls").rglob("*.json"))


def without_kept_tables(con):
    """A session that builds every table from the call cache's answers, as before tables were kept."""
    con.fetcher._tables = None
    return con


def findings(con) -> list:
    from apigw_sql.controls.runner import run_controls

    report = run_controls(con, ["apigateway", "cloudtrail"])
    return sorted((r.control.id, f.resource, f.status, f.reason, f.region, repr(f.dimensions))
                  for r in report.results for f in r.findings)


def contents(con) -> dict[str, list]:
    return {name: sorted(map(repr, con.sql(f"SELECT * FROM {name}").rows)) for name in TABLES}


def log(con) -> list:
    """The fetch log's records, each once: a session building tables from the answers may log an answer twice
    when two threads read it from disk at once (a table and its prefetch)."""
    return sorted(set(map(repr, map(dataclasses.astuple, con.fetch_log))))


def test_a_warm_session_loads_kept_tables_and_judges_logs_and_answers_as_rebuilding_them(connect, cache_home: Path):
    cold = connect()
    cold_findings, cold_contents = findings(cold), contents(cold)
    assert table_files(cache_home), "the cold session keeps the tables it built from answers it wrote"
    rebuilt = without_kept_tables(connect())
    rebuilt_findings, rebuilt_contents, rebuilt_log = findings(rebuilt), contents(rebuilt), log(rebuilt)
    warm = connect()
    assert findings(warm) == rebuilt_findings == cold_findings
    assert contents(warm) == rebuilt_contents == cold_contents
    assert warm.fetcher._tables.loaded >= len(TABLES)  # the tables came from disk ...
    assert log(warm) == rebuilt_log  # ... and the fetch log says the same answers were read
    assert not [r for r in warm.fetch_log if not r.cached]


def test_a_table_is_not_used_once_a_call_it_came_from_is_answered_anew(connect, cache_home: Path):
    """A call made again (here: its file written anew with another answer) makes every table built from it stale."""
    import json

    from apigw_sql.private_files import write_private_atomically

    truth = connect(regions=["us-east-1"]).sql(QUERY).rows
    connect(regions=["us-east-1"]).sql(QUERY)  # kept tables exist and are used
    for path in call_files(cache_home):
        record = json.loads(path.read_text())
        if record["key"][1:4] == ["us-east-1", "apigateway", "GetRestApis"]:
            record["pages"][0]["items"][0]["name"] = "answered-anew"
            write_private_atomically(path, json.dumps(record).encode())
            break
    else:
        raise AssertionError("no kept GetRestApis answer")
    names = [row[1] for row in connect(regions=["us-east-1"]).sql(QUERY).rows]
    assert "answered-anew" in names and len(names) == len(truth)


def test_a_table_is_not_used_when_a_call_it_came_from_is_older_than_the_ttl(connect, cache_home: Path):
    connect().sql(QUERY)
    stale = connect(ttl=0.001)
    stale.sql(QUERY)
    assert stale.fetcher._tables.loaded == 0
    assert "GetRestApis" in {r.operation for r in stale.fetch_log if not r.cached}


def test_refresh_neither_reads_kept_tables_nor_serves_them_after_the_calls_changed(connect, cache_home: Path):
    connect().sql(QUERY)
    refreshed = connect(refresh=True)
    refreshed.sql(QUERY)
    assert refreshed.fetcher._tables.loaded == 0
    again = connect()
    again.sql(QUERY)
    assert again.fetcher._tables.loaded >= 1 and not [r for r in again.fetch_log if not r.cached]


def _rest_api_table_file(home: Path) -> Path:
    for path in table_files(home):
        if b'"table":"aws_api_gateway_rest_api"' in path.read_bytes().partition(b"\n")[0]:
            return path
    raise AssertionError("no kept aws_api_gateway_rest_api table")


@pytest.mark.parametrize("how", ["group-writable", "folder-mode", "garbage", "other-key", "data-changed", "symlink"])
def test_a_tampered_table_file_is_refused_with_one_warning_and_the_table_rebuilt(connect, cache_home: Path, how: str,
                                                                                 capfd: pytest.CaptureFixture[str]):
    first = connect(regions=["us-east-1"])
    truth = first.sql(QUERY).rows
    first.sql("SELECT * FROM aws_api_gatewayv2_api")  # another kept table
    name = truth[0][1].encode()
    path = _rest_api_table_file(cache_home)
    data = path.read_bytes()
    if how == "group-writable":
        path.write_bytes(data.replace(name, b"X" * len(name)))
        os.chmod(path, 0o620)
    elif how == "folder-mode":
        path.write_bytes(data.replace(name, b"X" * len(name)))
        os.chmod(path.parent, 0o755)
    elif how == "garbage":
        path.write_bytes(data[: len(data) // 2])
    elif how == "other-key":  # another table's file filed under this one's name
        other = next(p for p in table_files(cache_home) if p != path)
        path.write_bytes(other.read_bytes())
    elif how == "data-changed":  # a value changed in place: the file still parses
        head, _, body = data.partition(b"\n")
        assert name in body
        path.write_bytes(head + b"\n" + body.replace(name, b"X" * len(name)))
    elif how == "symlink":
        target = path.with_name("elsewhere.bin")
        path.rename(target)
        target.write_bytes(data.replace(name, b"X" * len(name)))
        path.symlink_to(target)
    capfd.readouterr()
    second = connect(regions=["us-east-1"])
    assert second.sql(QUERY).rows == truth
    assert second.fetcher._tables.refused >= 1
    warnings = [line for line in capfd.readouterr().err.splitlines() if "table cache file" in line]
    assert len(warnings) == 1 and "the table is built from its calls" in warnings[0]


def test_a_table_build_reports_to_its_query_whatever_the_query_is_told() -> None:
    """A table build stands in for its query (table_cache.Recording): every report a fetch may make to a
    query (an account it could not read included) must reach the query through it."""
    from apigw_sql.fetch import FetchError, QueryFetch
    from apigw_sql.table_cache import Recording

    reports = {name for name in vars(QueryFetch) if not name.startswith("_") and callable(getattr(QueryFetch, name))}
    assert reports <= {name for name in dir(Recording) if not name.startswith("_")}
    query = QueryFetch()
    build = Recording(query)
    failure = FetchError(table="(accounts)", account_id="210987654321", region="us-east-1", operation="AssumeRole",
                         code="AccessDenied", message="not trusted")
    build.account_errors([failure])
    assert query.errors == [failure] and build.failed
