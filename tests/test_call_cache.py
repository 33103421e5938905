"""The call cache on disk: a later session (or process) reuses answers younger than the TTL and makes no
call for them; --refresh and --no-cache; files private and scrubbed; forged or tampered files refused."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest


QUERY = "SELECT api_id, name, created_date, region FROM aws_api_gateway_rest_api ORDER BY api_id"


def calls(con) -> list:
    """The calls a session made (its fetch log less the answers reused from disk, the session's own included)."""
    return [record for record in con.fetch_log if not record.cached]


def cache_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "apigw-sql" / "calls").rglob("*.json"))


def test_a_second_session_reuses_the_answers_and_makes_no_call(connect, cache_home: Path):
    first = connect()
    rows = first.sql(QUERY).rows
    assert rows and calls(first)
    second = connect()
    assert second.sql(QUERY).rows == rows  # timestamps too: they come back from disk as they were
    assert calls(second) == []  # not even who-am-I or the regions


def test_a_later_process_makes_no_call(sandbox, cache_home: Path):
    """Two runs of the command line: the second is answered from disk (its fetch log is empty)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    env.pop("APIGW_SQL_NO_CACHE", None)
    text = f"{QUERY}; SELECT count(*) FILTER (WHERE NOT cached) AS calls FROM apigw_sql_fetch_log"

    def run(*extra: str) -> list[dict]:
        done = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "query", "--endpoint-url", sandbox.endpoint_url,
                               "--regions", "us-east-1,eu-west-1", "--no-rate-limit", "--output", "json", *extra,
                               text], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        decoder, documents, at = json.JSONDecoder(), [], 0
        while at < len(done.stdout.strip()):
            document, at = decoder.raw_decode(done.stdout, at)
            documents.append(document)
            while at < len(done.stdout) and done.stdout[at].isspace():
                at += 1
        return documents

    cold = run()
    warm = run()
    assert cold[0] == warm[0] and cold[0]
    assert cold[1][0]["calls"] > 0 and warm[1][0]["calls"] == 0
    assert run("--refresh")[1][0]["calls"] == cold[1][0]["calls"]
    assert run("--no-cache")[1][0]["calls"] == cold[1][0]["calls"]


def test_a_warm_check_judges_as_the_cold_one(connect, cache_home: Path):
    """Controls that read the fetch log (which regions' trails were listed) see the reused answers there."""
    from apigw_sql.controls.runner import run_controls

    def findings(con) -> list:
        report = run_controls(con, ["cloudtrail", "apigateway"])
        return sorted((r.control.id, f.resource, f.status, f.reason, f.region) for r in report.results
                      for f in r.findings)

    cold = findings(connect())
    warm_session = connect()
    warm = findings(warm_session)
    assert warm == cold and any(f[0] == "cloudtrail_trail_enabled" for f in warm)
    assert calls(warm_session) == []
    reused = [r for r in warm_session.fetch_log if r.cached]
    assert {r.operation for r in reused} >= {"DescribeTrails", "GetRestApis"}
    assert warm_session.sql("SELECT count(*) FROM apigw_sql_fetch_log WHERE cached").rows[0][0] == len(reused)


def test_an_answer_older_than_the_ttl_is_fetched_again(connect, cache_home: Path):
    connect().sql(QUERY)
    stale = connect(ttl=0.001)
    stale.sql(QUERY)
    assert {r.operation for r in calls(stale)} >= {"GetCallerIdentity", "GetRestApis"}


def test_refresh_makes_every_call_again_and_replaces_what_is_kept(connect, cache_home: Path):
    connect().sql(QUERY)
    before = {p: json.loads(p.read_text())["fetched_at"] for p in cache_files(cache_home)}
    refreshed = connect(refresh=True)
    refreshed.sql(QUERY)
    assert {r.operation for r in calls(refreshed)} >= {"GetCallerIdentity", "GetRestApis"}
    after = {p: json.loads(p.read_text())["fetched_at"] for p in cache_files(cache_home)}
    assert after.keys() == before.keys() and all(after[p] > before[p] for p in before)
    third = connect()
    third.sql(QUERY)
    assert calls(third) == []


def test_no_cache_keeps_nothing_on_disk(connect, cache_home: Path, monkeypatch: pytest.MonkeyPatch):
    connect(call_cache=False).sql(QUERY)
    assert cache_files(cache_home) == []
    monkeypatch.setenv("APIGW_SQL_NO_CACHE", "1")
    connect().sql(QUERY)
    assert cache_files(cache_home) == []


def test_files_are_private_and_keyed_by_account_and_endpoint(connect, sandbox, cache_home: Path):
    con = connect()
    con.sql(QUERY)
    files = cache_files(cache_home)
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        folder = path.parent
        while folder != cache_home:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
            folder = folder.parent
    account = con.fetcher.targets()[0].account_id
    rest = [json.loads(p.read_text()) for p in files if p.parent.name == account]
    assert {tuple(r["key"][2:4]) for r in rest} >= {("apigateway", "GetRestApis")}
    assert all(r["key"][0] == account for r in rest)
    # The same sandbox under another name is another endpoint: nothing of the first is served for it.
    other = connect(endpoint_url=sandbox.endpoint_url.replace("127.0.0.1", "localhost"))
    other.sql(QUERY)
    assert {r.operation for r in calls(other)} >= {"GetCallerIdentity", "GetRestApis"}


def test_no_api_key_value_reaches_a_cache_file(connect, sandbox, cache_home: Path):
    values = [key["value"] for region in sandbox.regions
              for key in sandbox.client("apigateway", region).get_api_keys(includeValues=True)["items"]]
    assert values
    con = connect()
    assert con.sql("SELECT count(*) FROM aws_api_gateway_api_key").rows[0][0] == len(values)
    con.sql("SELECT * FROM aws_api_gateway_usage_plan_key")
    con.sql("SELECT * FROM aws_cloudtrail_event WHERE event_name = 'CreateApiKey'")
    text = "\n".join(p.read_text() for p in cache_files(cache_home))
    assert "GetApiKeys" in text and "LookupEvents" in text
    assert not [value for value in values if value in text]


def test_expected_errors_are_kept_like_answers(connect, cache_home: Path):
    first = connect()
    first.sql("SELECT * FROM aws_s3_bucket")
    kept = [json.loads(p.read_text()) for p in cache_files(cache_home)]
    assert [r for r in kept if "error" in r and r["key"][2] == "s3"]  # NoSuchBucketPolicy and the like
    second = connect()
    assert second.sql("SELECT * FROM aws_s3_bucket ORDER BY name").rows == \
        first.sql("SELECT * FROM aws_s3_bucket ORDER BY name").rows
    assert calls(second) == []


def test_refresh_of_a_table_drops_its_files_in_a_new_session_too(connect, cache_home: Path):
    connect().sql("SELECT * FROM aws_api_gateway_stage")
    con = connect()
    con.refresh("aws_api_gateway_stage")
    con.sql("SELECT * FROM aws_api_gateway_stage")
    assert {r.operation for r in calls(con)} == {"GetStages"}  # the APIs are still kept
    con.refresh()
    assert cache_files(cache_home) == []


def _tamper(cache_home: Path, change) -> tuple[Path, str]:
    """Changes the kept GetRestApis answer of us-east-1; returns its path and the new content."""
    for path in cache_files(cache_home):
        record = json.loads(path.read_text())
        if record["key"][1:4] == ["us-east-1", "apigateway", "GetRestApis"]:
            change(path, record)
            return path, path.read_text()
    raise AssertionError("no kept GetRestApis answer")


def forged(path: Path, record: dict) -> None:
    """A forged answer: one API renamed."""
    record["pages"][0]["items"][0]["name"] = "forged-api"
    path.write_text(json.dumps(record))
    os.chmod(path, 0o600)


@pytest.mark.parametrize("how", ["group-writable", "not-owned", "folder-mode", "garbage", "other-key", "symlink"])
def test_a_tampered_file_is_refused_with_one_warning_and_the_call_made_live(connect, cache_home: Path, how: str,
                                                                            capfd: pytest.CaptureFixture[str]):
    first = connect(regions=["us-east-1"])
    truth = first.sql(QUERY).rows

    def change(path: Path, record: dict) -> None:
        if how == "other-key":  # a file of another call filed under this call's name
            other = next(p for p in cache_files(cache_home) if p != path)
            path.write_bytes(other.read_bytes())
            return
        forged(path, record)
        if how == "group-writable":
            os.chmod(path, 0o620)
        elif how == "not-owned":
            if os.geteuid() != 0:
                pytest.skip("changing a file's owner needs root")
            os.chown(path, 65534, 65534)
        elif how == "folder-mode":
            os.chmod(path.parent, 0o755)
        elif how == "garbage":
            path.write_bytes(b'{"format": 1, "key": [')
        elif how == "symlink":
            target = path.with_name("elsewhere.txt")
            path.rename(target)
            path.symlink_to(target)

    _tamper(cache_home, change)
    capfd.readouterr()
    second = connect(regions=["us-east-1"])
    assert second.sql(QUERY).rows == truth
    assert "GetRestApis" in {r.operation for r in calls(second)}
    assert "forged-api" not in str(second.sql(QUERY).rows)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "call cache file" in line]
    assert len(warnings) == 1 and "the call is made live" in warnings[0]


def test_a_refused_file_is_warned_about_once_per_process(connect, cache_home: Path,
                                                         capfd: pytest.CaptureFixture[str]):
    connect().sql("SELECT * FROM aws_api_gateway_stage")
    for path in cache_files(cache_home):
        os.chmod(path, 0o666)
    capfd.readouterr()
    con = connect()
    con.sql("SELECT * FROM aws_api_gateway_stage")
    assert con.fetcher._disk.refused > 1
    assert len([line for line in capfd.readouterr().err.splitlines() if "call cache file" in line]) == 1


def test_values_that_look_like_the_files_tags_come_back_as_they_were(cache_home: Path):
    """Tags, names and policies are anyone's to choose: none passes for a datetime or bytes on disk."""
    from datetime import datetime, timezone

    from apigw_sql.call_cache import CallCache, calls_root

    cache = CallCache(calls_root(), "scope", ttl=60)
    key = ("123456789012", "ap-southeast-2", "apigateway", "GetTags", "{}")
    pages = [{"tags": {"$t": "2020-01-01T00:00:00", "$d": [["a", 1]], "plain": "x"}, "$b": "AAAA",
              "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "blob": b"\x00\x01"}]
    cache.put(key, pages, "t")
    assert cache.get(key).answer == pages


def test_the_first_write_of_a_run_deletes_files_older_than_a_day(cache_home: Path):
    from apigw_sql.call_cache import CallCache, calls_root

    old_run = CallCache(calls_root(), "another-endpoint", ttl=300)
    old_key, recent_key = ("123456789012", "us-east-1", "s", "Old", "{}"), ("123456789012", "us-east-1", "s", "New", "{}")
    old_run.put(old_key, [{"a": 1}], "t")
    old_run.put(recent_key, [{"a": 2}], "t")
    two_days_ago = old_run.path(old_key).stat().st_mtime - 2 * 86400
    os.utime(old_run.path(old_key), (two_days_ago, two_days_ago))
    CallCache(calls_root(), "scope", ttl=300).put(("123456789012", "eu-west-1", "s", "Any", "{}"), [{}], "t")
    assert not old_run.path(old_key).exists() and old_run.path(recent_key).exists()
