"""Usage monitoring against the sandbox: access logs and metrics in SQL, and the anomaly controls over them.

One REST API in TEST_REGION has a stage per scenario, each writing its access logs to its own CloudWatch
Logs group in its own format, with eight days of planted traffic up to AS_OF (the controls replay that
moment with as_of). Each anomaly is planted beside the look-alikes that must not alarm:

  spike     JSON (requestTimeEpoch)  1 error an hour for eight days, then 40 in one hour: error spike
  diurnal   JSON                     errors following a daily rhythm, peaking at 12 an hour: no spike
  steady    JSON                     12 errors every hour; IP 192.0.2.77 gets 30 403s over three hours: nothing
  auth      JSON                     3 errors an hour; IP 203.0.113.66 gets 25 401s in one hour: auth burst
  callers   CLF                      198.51.100.23 new with 60 requests: new source; 192.0.2.200 as many, but
                                     already in the baseline: nothing; GET /open from 6 IPs (open method in
                                     use), GET /closed (AWS_IAM) from 10 IPs: no row
  quiet     CSV                      a few requests: one ok row per control
  noip      XML without source IP    per-IP controls skip it; the error-spike control judges it
  missing   JSON, group never created: skip naming the group
  nologs    no access logging: skip

Thresholds are lowered with parameters where the defaults need more traffic than a test should put.
"""
from __future__ import annotations

import gzip
import json
import math
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from apigw_sql.controls.runner import run_controls
from apigw_sql.sandbox.sandbox import make_client

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

ACCOUNT = "123456789012"
AS_OF = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
AS_OF_TEXT = AS_OF.strftime("%Y-%m-%d %H:%M:%S")
VARIABLES = {"as_of": AS_OF_TEXT, "min_errors": "10", "min_requests": "50"}

JSON_FORMAT = json.dumps({"rid": "$context.requestId", "ip": "$context.identity.sourceIp",
                          "when": "$context.requestTime", "verb": "$context.httpMethod",
                          "where": "$context.resourcePath", "code": "$context.status"})
EPOCH_FORMAT = '{"rid": "$context.requestId", "ip": "$context.identity.sourceIp", "ms": $context.requestTimeEpoch, "code": $context.status}'
CLF_FORMAT = ('$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] '
              '"$context.httpMethod $context.resourcePath $context.protocol" $context.status '
              '$context.responseLength $context.requestId')
CSV_FORMAT = "$context.requestId,$context.identity.sourceIp,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.status"
XML_FORMAT = '<request id="$context.requestId"><time>$context.requestTime</time><status>$context.status</status></request>'
FORMATS = {"spike": EPOCH_FORMAT, "diurnal": JSON_FORMAT, "steady": JSON_FORMAT, "auth": JSON_FORMAT,
           "callers": CLF_FORMAT, "quiet": CSV_FORMAT, "noip": XML_FORMAT, "missing": JSON_FORMAT,
           "pages": JSON_FORMAT}


def clf_time(t: datetime) -> str:
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000")


def render(stage: str, t: datetime, ip: str, status: int, method: str = "GET", path: str = "/closed",
           n: int = 0) -> str:
    rid = f"{stage}-{n}"
    if FORMATS[stage] is EPOCH_FORMAT:
        return f'{{"rid": "{rid}", "ip": "{ip}", "ms": {int(t.timestamp() * 1000)}, "code": {status}}}'
    if FORMATS[stage] is JSON_FORMAT:
        return json.dumps({"rid": rid, "ip": ip, "when": clf_time(t), "verb": method, "where": path,
                           "code": str(status)})
    if FORMATS[stage] is CLF_FORMAT:
        return f'{ip} - - [{clf_time(t)}] "{method} {path} HTTP/1.1" {status} 42 {rid}'
    if FORMATS[stage] is CSV_FORMAT:
        return f"{rid},{ip},{clf_time(t)},{method},{path},{status}"
    return f'<request id="{rid}"><time>{clf_time(t)}</time><status>{status}</status></request>'


def hours(days: int = 8) -> list[datetime]:
    return [AS_OF - timedelta(hours=h) for h in range(days * 24, 0, -1)]


def traffic() -> dict[str, list[tuple[datetime, str, int, str, str]]]:
    """stage -> (time, ip, status, method, path) of every planted request."""
    rng = random.Random(7)
    pool = [f"192.0.2.{i}" for i in range(10, 20)]
    found: dict[str, list[tuple[datetime, str, int, str, str]]] = {s: [] for s in FORMATS if s != "missing"}

    def add(stage: str, hour: datetime, count: int, status: int, ip: str | None = None,
            method: str = "GET", path: str = "/closed") -> None:
        for _ in range(count):
            found[stage].append((hour + timedelta(seconds=rng.randrange(3600)), ip or rng.choice(pool), status,
                                 method, path))

    for hour in hours():
        add("spike", hour, 1, 500)
        add("spike", hour, 2, 200)
        add("diurnal", hour, round(2 + 10 * max(0.0, 1 - abs(hour.hour - 14) / 10)), 502)
        add("steady", hour, 12, 503)
        add("auth", hour, 3, 404)
        add("callers", hour, 1, 200, method="GET", path="/closed")
    add("spike", AS_OF - timedelta(hours=3), 40, 500)
    for h in (2, 3, 4):
        add("steady", AS_OF - timedelta(hours=h), 10, 403, ip="192.0.2.77")
    add("auth", AS_OF - timedelta(hours=2), 25, 401, ip="203.0.113.66")
    for h in range(1, 7):
        add("callers", AS_OF - timedelta(hours=h), 10, 200, ip="198.51.100.23", path="/closed")
        add("callers", AS_OF - timedelta(hours=h), 10, 200, ip="192.0.2.200", path="/closed")
    for day in (2, 4, 6):
        add("callers", AS_OF - timedelta(days=day), 7, 200, ip="192.0.2.200", path="/closed")
    for i in range(6):
        add("callers", AS_OF - timedelta(hours=5), 2, 200, ip=f"198.18.0.{i}", path="/open")
    for i in range(10):
        add("callers", AS_OF - timedelta(hours=5), 2, 200, ip=f"198.18.1.{i}", path="/closed")
    add("callers", AS_OF - timedelta(hours=5), 3, 204, ip="198.18.2.1", method="OPTIONS", path="/open")
    add("quiet", AS_OF - timedelta(hours=6), 5, 200)
    add("quiet", AS_OF - timedelta(days=3), 5, 200)
    add("noip", AS_OF - timedelta(hours=6), 5, 200)
    add("pages", AS_OF - timedelta(days=2), 10_500, 200)
    return found


@pytest.fixture(scope="module")
def estate(sandbox) -> dict[str, Any]:
    ag = make_client(sandbox.endpoint_url, "apigateway", TEST_REGION)
    logs = make_client(sandbox.endpoint_url, "logs", TEST_REGION)
    cw = make_client(sandbox.endpoint_url, "cloudwatch", TEST_REGION)
    api = ag.create_rest_api(name="usage-test-api")["id"]
    twin = ag.create_rest_api(name="usage-test-api")["id"]  # REST metrics are keyed by name: shared
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    for part, auth in (("open", "NONE"), ("closed", "AWS_IAM")):
        resource = ag.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        ag.put_method(restApiId=api, resourceId=resource, httpMethod="GET", authorizationType=auth)
        ag.put_integration(restApiId=api, resourceId=resource, httpMethod="GET", type="MOCK")
        if part == "open":
            ag.put_method(restApiId=api, resourceId=resource, httpMethod="OPTIONS", authorizationType="NONE")
            ag.put_integration(restApiId=api, resourceId=resource, httpMethod="OPTIONS", type="MOCK")
    deployment = ag.create_deployment(restApiId=api)["id"]
    for stage in [*FORMATS, "nologs"]:
        ag.create_stage(restApiId=api, stageName=stage, deploymentId=deployment)
        if stage == "nologs":
            continue
        group = f"/usage-test/{stage}"
        ag.update_stage(restApiId=api, stageName=stage, patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": f"arn:aws:logs:{TEST_REGION}:{ACCOUNT}:log-group:{group}"},
            {"op": "replace", "path": "/accessLogSettings/format", "value": FORMATS[stage]}])
    twin_root = ag.get_resources(restApiId=twin)["items"][0]["id"]
    ag.put_method(restApiId=twin, resourceId=twin_root, httpMethod="GET", authorizationType="AWS_IAM")
    ag.put_integration(restApiId=twin, resourceId=twin_root, httpMethod="GET", type="MOCK")
    ag.create_stage(restApiId=twin, stageName="spike", deploymentId=ag.create_deployment(restApiId=twin)["id"])
    planted = traffic()
    for stage, requests in planted.items():
        group = f"/usage-test/{stage}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        events = [{"timestamp": int(t.timestamp() * 1000), "message": render(stage, t, ip, status, method, path, n)}
                  for n, (t, ip, status, method, path) in enumerate(sorted(planted[stage]))]
        if stage == "quiet":
            events.append({"timestamp": events[-1]["timestamp"], "message": "not a record of this format"})
        for first in range(0, len(events), 10_000):
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events[first:first + 10_000])
    # Metrics: stage spike fails 10% of 300 requests in the window; quiet 25% of only 40 (min_requests is 50
    # here: the new-source control's parameter of the same name is lowered for the run). Put with the
    # dimensions in the other order than apigw-sql asks for them: AWS matches them as a set.
    datums = []
    for stage, count, failed in (("spike", 300, 30), ("quiet", 40, 10)):
        dims = [{"Name": "Stage", "Value": stage}, {"Name": "ApiName", "Value": "usage-test-api"}]
        stamp = AS_OF - timedelta(hours=5, minutes=30)
        datums += [{"MetricName": "Count", "Dimensions": dims, "Timestamp": stamp, "Value": count},
                   {"MetricName": "5XXError", "Dimensions": dims, "Timestamp": stamp, "Value": failed}]
    cw.put_metric_data(Namespace="AWS/ApiGateway", MetricData=datums)
    return {"api": api, "twin": twin, "traffic": planted}


@pytest.fixture(autouse=True)
def no_config(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def report(module_connect, estate):
    con = module_connect(regions=[TEST_REGION])
    found = run_controls(con, ["usage"], VARIABLES)
    return found, con


def findings(report, control: str, api: str) -> list[tuple[str, str, str]]:
    """(stage or door, status, reason) of one control's findings on the test API."""
    found, _ = report
    rows = []
    for f in found.findings:
        if f.control.id == control and f.dimensions.get("api_id") == api:
            where = f.dimensions.get("stage") or f.resource.rsplit("/methods/", 1)[-1]
            rows.append((where, f.status, f.reason))
    return sorted(rows)


def by_stage(rows: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for stage, status, _ in rows:
        out.setdefault(stage, []).append(status)
    return out


# ---- the table ---------------------------------------------------------------------------------

def test_columns_come_from_each_stage_format_whatever_the_key_names(connect, estate):
    con = connect(regions=[TEST_REGION])
    day = (AS_OF - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S")
    rows = con.sql(f"""
        SELECT stage, source_ip, status, http_method, resource_path, request_time, request_id, record
        FROM aws_api_gateway_access_log
        WHERE api_id = '{estate["api"]}' AND stage IN ('diurnal', 'callers', 'quiet', 'noip', 'spike')
          AND request_time >= TIMESTAMP '{day}' AND parse_error IS NULL
        ORDER BY stage, request_time""").dicts()
    stages = {r["stage"] for r in rows}
    assert stages == {"diurnal", "callers", "quiet", "noip", "spike"}
    for r in rows:
        assert r["request_time"] >= datetime.fromisoformat(day) and r["status"] is not None
        assert r["request_id"].startswith(r["stage"] + "-")
        if r["stage"] != "noip":
            assert r["source_ip"] and r["source_ip"].count(".") == 3
    callers = [r for r in rows if r["stage"] == "callers" and r["resource_path"] == "/open"]
    assert {r["http_method"] for r in callers} == {"GET", "OPTIONS"}
    assert json.loads(callers[0]["record"])["identity.sourceIp"] == callers[0]["source_ip"]
    quiet = [r for r in rows if r["stage"] == "quiet"]
    assert len(quiet) == 5 and all(r["resource_path"] == "/closed" for r in quiet)
    assert all(r["source_ip"] is None for r in rows if r["stage"] == "noip")
    spike = [r for r in rows if r["stage"] == "spike"]
    expected = sorted(t.replace(microsecond=0, tzinfo=None) for t, *_ in estate["traffic"]["spike"]
                      if t >= datetime.fromisoformat(day).replace(tzinfo=timezone.utc))
    assert sorted(r["request_time"].replace(microsecond=0) for r in spike) == expected  # requestTimeEpoch


def test_a_record_that_does_not_parse_keeps_its_text_and_is_counted(connect, estate):
    con = connect(regions=[TEST_REGION])
    rows = con.sql(f"SELECT message, parse_error, source_ip, status, request_time FROM aws_api_gateway_access_log "
                   f"WHERE api_id = '{estate['api']}' AND stage = 'quiet' AND parse_error IS NOT NULL").rows
    assert len(rows) == 1
    message, error, ip, status, when = rows[0]
    assert message == "not a record of this format" and "does not match" in error
    assert ip is None and status is None and when is not None  # the event's timestamp serves
    counted = [c for c in con.fetch_log if c.operation == "ParseAccessLogs" and '"quiet"' in c.params]
    assert counted and counted[-1].error_code == "UnparsedRecords" and counted[-1].items == 11
    assert "1 of 11 records" in counted[-1].error_message


def test_pushdown_time_range_and_filter_pattern_never_change_the_result(connect, estate):
    start = (AS_OF - timedelta(hours=4)).strftime("%Y-%m-%d %H:%M:%S")
    query = (f"SELECT source_ip, status, count(*) FROM aws_api_gateway_access_log WHERE api_id = '{estate['api']}' "
             f"AND stage = 'steady' AND request_time >= TIMESTAMP '{start}' AND status IN (403, 401) GROUP BY ALL")
    con = connect(regions=[TEST_REGION])
    pushed = con.sql(query).rows
    call = [c for c in con.fetch_log if c.operation == "FilterLogEvents"]
    assert len(call) == 1  # api_id and stage chose the one group
    params = json.loads(call[0].params)
    assert params["logGroupName"] == "/usage-test/steady" and params["limit"] == 10_000
    assert params["startTime"] == int((AS_OF - timedelta(hours=4, minutes=15)).timestamp() * 1000)
    assert params["filterPattern"] == '{ ($.code = "401" || $.code = "403") }'
    assert pushed == [("192.0.2.77", 403, 30)] and call[0].items == 30  # only the matching events came back
    unpushed = connect(regions=[TEST_REGION], pushdown_enabled=False)
    assert unpushed.sql(query).rows == pushed
    assert [c.items for c in unpushed.fetch_log if c.operation == "FilterLogEvents"
            and json.loads(c.params)["logGroupName"] == "/usage-test/steady"] == [len(estate["traffic"]["steady"])]
    # A text format: the IP is a term that must appear in the line.
    text = connect(regions=[TEST_REGION])
    rows = text.sql(f"SELECT count(*) FROM aws_api_gateway_access_log WHERE api_id = '{estate['api']}' "
                    "AND stage = 'callers' AND source_ip IN ('198.51.100.23')").rows
    [sent] = [c for c in text.fetch_log if c.operation == "FilterLogEvents"]
    assert rows == [(60,)] and json.loads(sent.params)["filterPattern"] == '"198.51.100.23"' and sent.items == 60


def test_calls_are_the_pages_needed_not_one_per_stream_or_record(connect, estate):
    con = connect(regions=[TEST_REGION])
    count = con.sql(f"SELECT count(*) FROM aws_api_gateway_access_log WHERE api_id = '{estate['api']}' "
                    "AND stage = 'pages'").rows[0][0]
    assert count == 10_500
    calls = [c for c in con.fetch_log if c.operation == "FilterLogEvents"]
    assert len(calls) == math.ceil(10_500 / 10_000) and sum(c.items for c in calls) == 10_500


def test_source_table_says_which_stages_cannot_be_read_and_why(connect, estate):
    con = connect(regions=[TEST_REGION])
    rows = {r["stage"]: r for r in con.sql(
        f"SELECT * FROM aws_api_gateway_access_log_source WHERE api_id = '{estate['api']}'").dicts()}
    assert rows["missing"]["readable"] is False
    assert rows["missing"]["reason"] == f"its log group /usage-test/missing does not exist in {TEST_REGION}"
    assert rows["nologs"]["readable"] is False and rows["nologs"]["reason"] == "it has no access logging"
    assert rows["quiet"]["readable"] and rows["quiet"]["source"] == "cloudwatch"
    assert (rows["callers"]["format_kind"], rows["quiet"]["format_kind"], rows["noip"]["format_kind"],
            rows["spike"]["format_kind"]) == ("text", "text", "text", "json")
    assert "source_ip" not in rows["noip"]["columns"] and "source_ip" in rows["quiet"]["columns"]


def test_an_unparseable_format_warns_and_keeps_raw_records(connect, sandbox, capsys):
    ag = make_client(sandbox.endpoint_url, "apigateway", TEST_REGION)
    logs = make_client(sandbox.endpoint_url, "logs", TEST_REGION)
    api = ag.create_rest_api(name="usage-broken-format")["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    ag.create_deployment(restApiId=api, stageName="prod")
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{TEST_REGION}:{ACCOUNT}:log-group:/usage-test/broken"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": '{"ip": "$context.identity.sourceIp"'}])
    logs.create_log_group(logGroupName="/usage-test/broken")
    logs.create_log_stream(logGroupName="/usage-test/broken", logStreamName="s")
    logs.put_log_events(logGroupName="/usage-test/broken", logStreamName="s", logEvents=[
        {"timestamp": int(AS_OF.timestamp() * 1000), "message": '{"ip": "10.1.1.1"}'}])
    con = connect(regions=[TEST_REGION])
    rows = con.sql(f"SELECT message, source_ip, parse_error FROM aws_api_gateway_access_log "
                   f"WHERE api_id = '{api}'").rows
    assert rows == [('{"ip": "10.1.1.1"}', None,
                     "the stage's access-log format cannot be parsed: it starts like JSON but is not valid JSON")]
    err = capsys.readouterr().err
    assert f"the access-log format of stage prod of API {api}" in err and "kept as raw text" in err


def test_access_log_files_firehose_and_export_layouts(connect, sandbox, tmp_path):
    ag = make_client(sandbox.endpoint_url, "apigateway", TEST_REGION)
    api = ag.create_rest_api(name="usage-files")["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api)["id"]
    for stage, arn in (("fh", f"arn:aws:firehose:{TEST_REGION}:{ACCOUNT}:deliverystream/amazon-apigateway-usage-files"),
                       ("cw", f"arn:aws:logs:{TEST_REGION}:{ACCOUNT}:log-group:/usage-files/cw")):
        ag.create_stage(restApiId=api, stageName=stage, deploymentId=deployment)
        ag.update_stage(restApiId=api, stageName=stage, patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
            {"op": "replace", "path": "/accessLogSettings/format",
             "value": JSON_FORMAT if stage == "fh" else CLF_FORMAT}])
    hour = AS_OF - timedelta(hours=2)
    firehose = tmp_path / "logs" / hour.strftime("%Y/%m/%d/%H")
    firehose.mkdir(parents=True)
    with gzip.open(firehose / f"amazon-apigateway-usage-files-1-{hour:%Y-%m-%d-%H-%M-%S}-abc.gz", "wt") as fh:
        for i in range(3):
            fh.write(json.dumps({"rid": f"f{i}", "ip": "10.9.9.9", "when": clf_time(hour), "verb": "GET",
                                 "where": "/", "code": "200"}) + "\n")
    export = tmp_path / "logs" / "exports" / "usage-files" / "cw" / "task-1" / "stream-a"
    export.mkdir(parents=True)
    (export / "000000").write_text(
        f'{hour:%Y-%m-%dT%H:%M:%S}.000Z 10.8.8.8 - - [{clf_time(hour)}] "GET / HTTP/1.1" 403 0 c1\n'
        f'{hour:%Y-%m-%dT%H:%M:%S}.000Z 10.8.8.9 - - [{clf_time(hour)}] "GET / HTTP/1.1" 200 5 c2\n')
    (tmp_path / "logs" / "unrelated.txt").write_text("nothing to do with any stage\n")
    con = connect(regions=[TEST_REGION], access_logs=[str(tmp_path / "logs")])
    rows = con.sql(f"SELECT stage, source_ip, status, request_id, source LIKE '%.gz' AS gz FROM aws_api_gateway_access_log "
                   f"WHERE api_id = '{api}' ORDER BY request_id").rows
    assert rows == [("cw", "10.8.8.8", 403, "c1", False), ("cw", "10.8.8.9", 200, "c2", False),
                    ("fh", "10.9.9.9", 200, "f0", True), ("fh", "10.9.9.9", 200, "f1", True),
                    ("fh", "10.9.9.9", 200, "f2", True)]
    assert not [c for c in con.fetch_log if c.operation == "FilterLogEvents"]  # the files served both stages
    read = [c for c in con.fetch_log if c.operation == "ReadAccessLogFiles"]
    assert read[-1].items == 2 and json.loads(read[-1].params)["files_of_no_stage"] == 1
    sources = dict(con.sql(f"SELECT stage, source FROM aws_api_gateway_access_log_source WHERE api_id = '{api}'").rows)
    assert sources == {"cw": "files", "fh": "files"}
    no_files = connect(regions=[TEST_REGION])
    reason = no_files.sql(f"SELECT reason FROM aws_api_gateway_access_log_source WHERE api_id = '{api}' "
                          "AND stage = 'fh'").rows[0][0]
    assert reason.endswith("name the delivered files with --access-logs")


def test_a_wrong_access_logs_path_is_a_one_line_error(sandbox, capsys, tmp_path):
    from apigw_sql.cli import main

    code = main(["query", "--endpoint-url", sandbox.endpoint_url, "--access-logs", str(tmp_path / "nope"),
                 "SELECT count(*) FROM aws_api_gateway_access_log"])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "--access-logs" in err and "is not a folder" in err


def test_metrics_match_dimensions_as_a_set_and_batch_every_series_in_one_call(connect, estate):
    con = connect(regions=[TEST_REGION])
    start = (AS_OF - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    rows = con.sql(f"SELECT api_id, stage, metric_name, value, shares_metrics_with FROM aws_api_gateway_metric "
                   f"WHERE api_id IN ('{estate['api']}', '{estate['twin']}') AND timestamp >= TIMESTAMP '{start}' "
                   "AND metric_name IN ('Count', '5XXError') ORDER BY ALL").rows
    assert (estate["api"], "spike", "Count", 300.0, [estate["twin"]]) in rows
    assert (estate["twin"], "spike", "5XXError", 30.0, [estate["api"]]) in rows
    calls = [c for c in con.fetch_log if c.operation == "GetMetricData"]
    assert len(calls) == 1  # 12 stages x 2 metrics, deduplicated for the twin: one call
    params = json.loads(calls[0].params)
    assert len(params["MetricDataQueries"]) == 2 * len(FORMATS) + 2  # the API's stages (nologs too); twin shared


# ---- the controls ------------------------------------------------------------------------------

def test_error_spike_alarms_on_the_spike_only(report, estate):
    rows = findings(report, "apigateway_access_error_spike", estate["api"])
    statuses = by_stage(rows)
    assert statuses["spike"] == ["alarm"]
    spike_hour = (AS_OF - timedelta(hours=3)).strftime("%Y-%m-%d %H:00")
    assert f"41 error responses (status 400 or more) in the hour {spike_hour} UTC: 41.0 times its median of " \
        "1.0 errors an hour over the 7 days before." in next(r for s, st, r in rows if s == "spike")
    for lookalike in ("diurnal", "steady", "auth", "callers", "quiet", "noip"):
        assert statuses[lookalike] == ["ok"], lookalike  # a daily peak, a steady level, ...
    assert statuses["missing"] == ["skip"] and statuses["nologs"] == ["skip"]
    missing = next(r for s, st, r in rows if s == "missing")
    assert "Stage missing" in missing and "log group /usage-test/missing does not exist" in missing


def test_auth_failure_burst_alarms_per_ip_and_hour_not_when_spread(report, estate):
    rows = findings(report, "apigateway_access_auth_failure_burst", estate["api"])
    statuses = by_stage(rows)
    assert statuses["auth"] == ["alarm"]
    assert "203.0.113.66 got 25 authorization failures (25 with 401, 0 with 403)" in \
        next(r for s, st, r in rows if s == "auth")
    assert statuses["steady"] == ["ok"]  # 30 failures, but spread over three hours
    assert statuses["noip"] == ["skip"] and "no source IP" in next(r for s, st, r in rows if s == "noip")


def test_new_source_alarms_for_a_newcomer_not_for_a_known_heavy_caller(report, estate):
    rows = findings(report, "apigateway_access_new_source_high_volume", estate["api"])
    statuses = by_stage(rows)
    assert statuses["callers"] == ["alarm"]
    reason = next(r for s, st, r in rows if s == "callers")
    assert "198.51.100.23, never seen in the 7 days before, made 60 requests" in reason
    assert "192.0.2.200" not in " ".join(r for _, _, r in rows)


def test_open_method_called_alarms_for_the_open_door_only(report, estate):
    rows = findings(report, "apigateway_access_open_method_called", estate["api"])
    assert [(door, status) for door, status, _ in rows] == [("GET", "alarm")]  # no row for /closed or OPTIONS
    assert "GET /open of REST API usage-test-api" in rows[0][2] and "6 distinct source IPs" in rows[0][2]
    found, _ = report
    door = next(f for f in found.findings if f.control.id == "apigateway_access_open_method_called"
                and f.dimensions.get("api_id") == estate["api"])
    assert door.resource.startswith(f"arn:aws:apigateway:{TEST_REGION}::/restapis/{estate['api']}/resources/")


def test_every_readable_stage_without_findings_gets_exactly_one_ok_row(report, estate):
    for control in ("apigateway_access_error_spike", "apigateway_access_auth_failure_burst",
                    "apigateway_access_new_source_high_volume"):
        statuses = by_stage(findings(report, control, estate["api"]))
        assert statuses["quiet"] == ["ok"], control
        assert all(len(v) == 1 or set(v) == {"alarm"} for v in statuses.values()), control


def test_metrics_5xx_rate_alarms_with_enough_requests_and_reports_shared_names(report, estate):
    rows = findings(report, "apigateway_metrics_5xx_rate_high", estate["api"])
    statuses = by_stage(rows)
    assert statuses["spike"] == ["alarm"] and statuses["quiet"] == ["ok"]
    reason = next(r for s, st, r in rows if s == "spike")
    assert "30 of 300 requests (10.0%)" in reason and f"shared with REST API(s) {estate['twin']}" in reason
    twin = findings(report, "apigateway_metrics_5xx_rate_high", estate["twin"])
    assert [s for _, s, _ in twin] == ["alarm"]


def test_as_of_replays_a_past_day(module_connect, estate):
    con = module_connect(regions=[TEST_REGION])
    past = (AS_OF - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    replay = run_controls(con, ["apigateway_access_error_spike", "apigateway_access_auth_failure_burst"],
                          {"min_errors": "10", "as_of": past})
    mine = [f for f in replay.findings if f.dimensions.get("api_id") == estate["api"]]
    assert not [f for f in mine if f.status == "alarm"]  # three days ago, nothing had happened yet
    assert any(past[:16] in f.reason for f in mine if f.status == "ok")


def test_usage_benchmark_members():
    from apigw_sql.controls.catalogue import load_controls

    members = sorted(c.id for c in load_controls() if "usage" in c.benchmarks)
    assert members == ["apigateway_access_auth_failure_burst", "apigateway_access_error_spike",
                       "apigateway_access_new_source_high_volume", "apigateway_access_open_method_called",
                       "apigateway_metrics_5xx_rate_high", "apigateway_stage_access_log_format_complete"]
    format_control = next(c for c in load_controls() if c.id == "apigateway_stage_access_log_format_complete")
    assert format_control.home == "apigateway" and "apigateway" in format_control.benchmarks



def test_a_group_that_cannot_be_read_is_skip_with_the_reason(connect, sandbox, estate):
    sandbox.add_fault(service="logs", region=TEST_REGION, operation="DescribeLogGroups",
                      code="AccessDeniedException", status=400, message="not allowed: logs:DescribeLogGroups")
    try:
        con = connect(regions=[TEST_REGION])
        report = run_controls(con, ["apigateway_access_error_spike"], {"as_of": AS_OF_TEXT})
    finally:
        sandbox.clear_faults()
    quiet = next(f for f in report.findings if f.dimensions.get("api_id") == estate["api"]
                 and f.dimensions.get("stage") == "quiet")
    assert quiet.status == "skip"
    assert quiet.reason == ("Stage quiet of REST API usage-test-api ({}): its access logs cannot be read: its log group "
                            "/usage-test/quiet cannot be read (AccessDeniedException: not allowed: "
                            "logs:DescribeLogGroups).".format(estate["api"]))


def test_a_group_that_may_be_seen_but_not_read_is_skip_and_a_server_error_stays_an_error(connect, sandbox, estate):
    # logs:DescribeLogGroups allowed, logs:FilterLogEvents denied: the stage is skip with why, not an error.
    sandbox.add_fault(service="logs", region=TEST_REGION, operation="FilterLogEvents",
                      code="AccessDeniedException", status=400, message="not allowed: logs:FilterLogEvents")
    try:
        con = connect(regions=[TEST_REGION])
        denied = run_controls(con, ["apigateway_access_error_spike"], {"as_of": AS_OF_TEXT})
    finally:
        sandbox.clear_faults()
    quiet = next(f for f in denied.findings if f.dimensions.get("api_id") == estate["api"]
                 and f.dimensions.get("stage") == "quiet")
    assert (quiet.status, quiet.reason) == ("skip", (
        "Stage quiet of REST API usage-test-api ({}): its access logs cannot be read: its log group /usage-test/quiet "
        "cannot be read (FilterLogEvents: AccessDeniedException: not allowed: logs:FilterLogEvents).").format(estate["api"]))
    assert not [f for f in denied.findings if f.status == "error"]
    assert not [f for f in denied.findings if f.dimensions.get("api_id") == estate["api"] and f.status == "ok"]
    # A server error is not a verdict on the group: it stays an error, and no stage passes as read.
    sandbox.add_fault(service="logs", region=TEST_REGION, operation="FilterLogEvents",
                      code="ServiceUnavailableException", status=503)
    try:
        con = connect(regions=[TEST_REGION])
        failed = run_controls(con, ["apigateway_access_error_spike"], {"as_of": AS_OF_TEXT})
    finally:
        sandbox.clear_faults()
    errors = [f for f in failed.findings if f.status == "error"]
    assert errors and all("ServiceUnavailableException" in f.reason for f in errors)
    assert not [f for f in failed.findings if f.dimensions.get("api_id") == estate["api"] and f.status == "ok"]


def firehose_stage(sandbox, name: str, stream: str) -> str:
    """A REST API with one stage, live, whose access logs go (CSV_FORMAT) to the Firehose stream `stream`."""
    ag = make_client(sandbox.endpoint_url, "apigateway", TEST_REGION)
    api = ag.create_rest_api(name=name)["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    ag.create_deployment(restApiId=api, stageName="live")
    ag.update_stage(restApiId=api, stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:firehose:{TEST_REGION}:{ACCOUNT}:deliverystream/{stream}"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": CSV_FORMAT}])
    return api


def write_delivery(folder, stream: str, arrived: datetime, lines: list[str]) -> None:
    """A Firehose delivery as AWS names it: YYYY/MM/DD/HH/STREAM-1-YYYY-MM-DD-HH-MM-SS-RANDOM.gz."""
    where = folder / arrived.strftime("%Y/%m/%d/%H")
    where.mkdir(parents=True, exist_ok=True)
    with gzip.open(where / f"{stream}-1-{arrived:%Y-%m-%d-%H-%M-%S}-1f2e3d4c-aaaa.gz", "wt") as out:
        out.write("".join(line + "\n" for line in lines))


def test_a_request_time_range_narrows_the_firehose_files_read_without_changing_the_result(connect, sandbox, tmp_path):
    stream = "amazon-apigateway-usage-narrow"
    api = firehose_stage(sandbox, "usage-narrow", stream)
    logs = tmp_path / "narrow"
    # One delivery an hour (at :05) for three days, each with two requests of the hour before its arrival;
    # the one that arrives 65 minutes after the range also holds a request of the range, written late.
    first = AS_OF - timedelta(days=3)
    for h in range(72):
        arrived = first + timedelta(hours=h, minutes=5)
        lines = [f"n{h}-{i},10.6.0.{i},{clf_time(arrived - timedelta(minutes=20 * i + 1))},GET,/,200" for i in (1, 2)]
        if h == 62:
            lines.append(f"late,10.6.0.9,{clf_time(arrived - timedelta(minutes=90))},GET,/,200")
        write_delivery(logs, stream, arrived, lines)
    low, high = AS_OF - timedelta(hours=13), AS_OF - timedelta(hours=11)
    query = (f"SELECT request_id, request_time FROM aws_api_gateway_access_log WHERE api_id = '{api}' "
             f"AND request_time >= TIMESTAMP '{low:%Y-%m-%d %H:%M:%S}' AND request_time < TIMESTAMP '{high:%Y-%m-%d %H:%M:%S}' "
             "ORDER BY ALL")
    narrowed = connect(regions=[TEST_REGION], access_logs=[str(logs)])
    rows = narrowed.sql(query).rows
    whole = connect(regions=[TEST_REGION], access_logs=[str(logs)], pushdown_enabled=False)
    assert whole.sql(query).rows == rows
    assert "late" in [r for r, _ in rows] and len(rows) == 5  # the late record, from the delivery after the range
    read = [c for c in narrowed.fetch_log if c.operation == "ReadAccessLogFiles"]
    every = [c for c in whole.fetch_log if c.operation == "ReadAccessLogFiles"]
    assert every[-1].items == 72
    # The deliveries that arrived from a quarter-hour (the buffer) before the range to two hours (the delivery
    # allowance) after it: low+0:05, low+1:05, high+0:05, high+1:05.
    assert read[-1].items == 4 and json.loads(read[-1].params)["files_outside_window"] == 68
    assert json.loads(read[-1].params)["from"].startswith(f"{low:%Y-%m-%dT%H:%M:%S}")


def test_records_of_files_that_do_not_parse_are_counted_in_the_fetch_log(connect, sandbox, tmp_path, monkeypatch):
    stream = "amazon-apigateway-usage-unparsed"
    api = firehose_stage(sandbox, "usage-unparsed", stream)
    logs = tmp_path / "unparsed"
    write_delivery(logs, stream, AS_OF - timedelta(hours=2), [
        f"u1,10.5.0.1,{clf_time(AS_OF - timedelta(hours=2))},GET,/,200", "a line of no format",
        f"u2,10.5.0.2,{clf_time(AS_OF - timedelta(hours=2))},GET,/,404"])
    con = connect(regions=[TEST_REGION], access_logs=[str(logs)])
    rows = con.sql(f"SELECT request_id, message, parse_error IS NOT NULL FROM aws_api_gateway_access_log "
                   f"WHERE api_id = '{api}' ORDER BY ALL").rows
    assert rows == [("u1", f"u1,10.5.0.1,{clf_time(AS_OF - timedelta(hours=2))},GET,/,200", False),
                    ("u2", f"u2,10.5.0.2,{clf_time(AS_OF - timedelta(hours=2))},GET,/,404", False),
                    (None, "a line of no format", True)]
    [counted] = [c for c in con.fetch_log if c.operation == "ParseAccessLogs" and f'"{api}"' in c.params]
    assert (counted.service, counted.items, counted.error_code) == ("local", 3, "UnparsedRecords")
    assert counted.error_message == "1 of 3 records do not parse by the stage's access-log format"
    # Files too large to read twice: the entry says they were not counted, and how to count them.
    from apigw_sql.usage import access_log

    monkeypatch.setattr(access_log, "COUNT_FILE_BYTES", 10)
    large = connect(regions=[TEST_REGION], access_logs=[str(logs)])
    assert large.sql(f"SELECT count(parse_error) FROM aws_api_gateway_access_log WHERE api_id = '{api}'").rows == [(1,)]
    [uncounted] = [c for c in large.fetch_log if c.operation == "ParseAccessLogs" and f'"{api}"' in c.params]
    assert uncounted.error_code == "NotCounted" and "WHERE parse_error IS NOT NULL" in uncounted.error_message


def test_firehose_objects_outside_the_range_are_not_downloaded(connect, sandbox):
    stream = "amazon-apigateway-usage-s3-narrow"
    api = firehose_stage(sandbox, "usage-s3-narrow", stream)
    s3 = make_client(sandbox.endpoint_url, "s3", "us-east-1")
    s3.create_bucket(Bucket="usage-narrow-logs")
    for days in (3, 2, 1):
        arrived = AS_OF - timedelta(days=days)
        body = gzip.compress(f"d{days},10.4.0.{days},{clf_time(arrived - timedelta(minutes=1))},GET,/,200\n".encode())
        s3.put_object(Bucket="usage-narrow-logs", Body=body,
                      Key=f"fh/{arrived:%Y/%m/%d/%H}/{stream}-1-{arrived:%Y-%m-%d-%H-%M-%S}-0a1b2c3d.gz")
    con = connect(regions=[TEST_REGION], access_logs=["s3://usage-narrow-logs/fh"])
    since = AS_OF - timedelta(days=1, hours=1)
    rows = con.sql(f"SELECT request_id FROM aws_api_gateway_access_log WHERE api_id = '{api}' "
                   f"AND request_time >= TIMESTAMP '{since:%Y-%m-%d %H:%M:%S}'").rows
    assert rows == [("d1",)]
    assert len([c for c in con.fetch_log if c.operation == "GetObject"]) == 1  # not the two older deliveries


def test_access_log_files_from_an_s3_prefix(connect, sandbox, tmp_path):
    ag = make_client(sandbox.endpoint_url, "apigateway", TEST_REGION)
    s3 = make_client(sandbox.endpoint_url, "s3", "us-east-1")
    api = ag.create_rest_api(name="usage-s3-files")["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    ag.create_deployment(restApiId=api, stageName="live")
    ag.update_stage(restApiId=api, stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:firehose:{TEST_REGION}:{ACCOUNT}:deliverystream/amazon-apigateway-usage-s3"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": CSV_FORMAT}])
    s3.create_bucket(Bucket="usage-access-logs")
    body = gzip.compress(f"s1,10.7.7.7,{clf_time(AS_OF)},GET,/,200\ns2,10.7.7.8,{clf_time(AS_OF)},GET,/,502\n".encode())
    s3.put_object(Bucket="usage-access-logs", Key="apigw/2026/11/30/10/amazon-apigateway-usage-s3-1-2026-11-30-10-00-00-x.gz",
                  Body=body)
    con = connect(regions=[TEST_REGION], access_logs=["s3://usage-access-logs/apigw"])
    rows = con.sql(f"SELECT request_id, source_ip, status, source FROM aws_api_gateway_access_log "
                   f"WHERE api_id = '{api}' ORDER BY request_id").rows
    key = "s3://usage-access-logs/apigw/2026/11/30/10/amazon-apigateway-usage-s3-1-2026-11-30-10-00-00-x.gz"
    assert rows == [("s1", "10.7.7.7", 200, key), ("s2", "10.7.7.8", 502, key)]
    assert {c.operation for c in con.fetch_log if c.service == "s3"} >= {"ListObjectsV2", "GetObject"}


def test_one_read_serves_every_usage_control_with_the_window_pushed_down(module_connect, estate):
    con = module_connect(regions=[TEST_REGION])
    start = len(con.fetch_log)
    run_controls(con, ["usage"], {"min_errors": "10"})  # as_of empty: now
    calls = [c for c in con.fetch_log[start:] if c.operation == "FilterLogEvents"
             and json.loads(c.params)["logGroupName"] == "/usage-test/spike" and json.loads(c.params)["endTime"] > 1]
    assert len(calls) == 1  # besides the source table's one-millisecond probe of the permission
    params = json.loads(calls[0].params)
    now = datetime.now(timezone.utc)
    assert "startTime" in params and "endTime" in params  # the four log controls agreed on one window
    assert abs(params["startTime"] / 1000 - (now - timedelta(days=8, minutes=15)).timestamp()) < 180
