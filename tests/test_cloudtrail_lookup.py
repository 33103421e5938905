"""aws_cloudtrail_lookup_event, and aws_cloudtrail_event served by LookupEvents, against the sandbox.

Records planted days ago in TEST_REGION give a history that later calls cannot change. Each case of
CASES is a WHERE clause, the lookup attribute it must send (AWS accepts one) and whether it sends a
StartTime and an EndTime; every case must return exactly what the same query returns unpushed.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

ACCOUNT = "123456789012"
LONG_REGION = "sa-east-1"  # only the long-read test uses it
START = (datetime.now(timezone.utc) - timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
API = "ctlookup01"


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def user(name: str, key: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


ALICE, BOB = user("alice", "AKIACTALICE000000001"), user("bob", "AKIACTBOB00000000001")


def planted() -> list[dict[str, Any]]:
    records = []
    for i in range(48):  # one an hour for two days
        who = ALICE if i % 3 else BOB
        if i % 4 == 0:
            name, source, ro = "UpdateStage", "apigateway.amazonaws.com", False
            params: Any = {"restApiId": API, "stageName": "prod", "template": False, "updateStageInput": {
                "patchOperations": [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}]}}
        elif i % 4 == 1:
            name, source, ro, params = "GetRestApis", "apigateway.amazonaws.com", True, {"limit": 500, "template": False}
        elif i % 4 == 2:
            name, source, ro, params = "DescribeTrails", "cloudtrail.amazonaws.com", True, {"includeShadowTrails": True}
        else:
            name, source, ro = ("StopLogging", "cloudtrail.amazonaws.com", False) if i % 8 == 3 else \
                ("DeleteTrail", "cloudtrail.amazonaws.com", False)
            params = {"name": f"arn:aws:cloudtrail:{TEST_REGION}:{ACCOUNT}:trail/ct-lookup"}
        record = {"eventTime": at(i + 0.25).strftime("%Y-%m-%dT%H:%M:%SZ"), "eventName": name, "eventSource": source,
                  "readOnly": ro, "userIdentity": who, "requestParameters": params,
                  "sourceIPAddress": "198.51.100.7", "userAgent": "ct-lookup-test"}
        if i == 20:
            record["errorCode"], record["errorMessage"] = "AccessDeniedException", "not authorized"
        records.append(record)
    return records


@pytest.fixture(scope="module")
def history(sandbox) -> dict[str, Any]:
    ids = sandbox.record_events(TEST_REGION, planted())
    return {"ids": ids}


@pytest.fixture(scope="module")
def unpushed(sandbox):
    import apigw_sql

    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[TEST_REGION], max_attempts=1,
                            rate_limit=False, pushdown_enabled=False, cloudtrail_logs=[])
    yield con
    con.close()


WINDOW = f"event_time >= '{text(at(0))}' AND event_time < '{text(at(48))}'"
CASES = [  # (where, attribute key or None, number of lookups, StartTime sent, EndTime sent)
    (WINDOW, None, 1, True, True),
    (f"event_time BETWEEN '{text(at(4))}' AND '{text(at(30))}' AND event_name = 'UpdateStage'", "EventName", 1, True, True),
    (f"{WINDOW} AND event_source = 'cloudtrail.amazonaws.com' AND event_name = 'StopLogging'", "EventName", 1, True, True),
    (f"{WINDOW} AND event_name = 'UpdateStage' AND username = 'alice'", "Username", 1, True, True),
    (f"{WINDOW} AND username = 'bob' AND access_key_id = '{BOB['accessKeyId']}'", "AccessKeyId", 1, True, True),
    (f"{WINDOW} AND read_only = false", "ReadOnly", 1, True, True),
    (f"{WINDOW} AND event_source = 'cloudtrail.amazonaws.com'", "EventSource", 1, True, True),
    (f"{WINDOW} AND resource_name = '{API}' AND event_source = 'apigateway.amazonaws.com'", "ResourceName", 1, True, True),
    (f"{WINDOW} AND resource_type = 'AWS::ApiGateway::RestApi'", "ResourceType", 1, True, True),
    (f"{WINDOW} AND event_name IN ('StopLogging', 'DeleteTrail')", None, 1, True, True),  # the window, read once
    (f"event_time > '{text(at(10))}' AND event_time <= '{text(at(20))}'", None, 1, True, True),
    (f"'{text(at(40))}' > event_time AND event_time >= '{text(at(30))}' AND event_name = 'GetRestApis'", "EventName", 1, True, True),
    (f"event_time = '{text(at(4.25))}'", None, 1, True, True),
    (f"event_time < '{text(at(2))}' AND event_name = 'UpdateStage'", "EventName", 1, False, True),
    (f"event_time > '{text(at(46))}' AND event_time < '{text(at(48))}' AND event_name = 'DescribeTrails'", "EventName", 1, True, True),
    (f"{WINDOW} AND event_name = 'UpdateStage' AND event_name = 'DeleteTrail'", None, 0, False, False),
]


def lookups(con) -> list[dict[str, Any]]:
    return [json.loads(c.params) for c in con.fetch_log if c.operation == "LookupEvents"]


@pytest.mark.parametrize("where, key, calls, start, end", CASES, ids=[c[0][-60:] for c in CASES])
def test_lookup_pushdown(connect, history, unpushed, where, key, calls, start, end):
    con = connect(regions=[TEST_REGION], cloudtrail_logs=[])
    query = f"SELECT event_id, event_time, event_name, username, read_only FROM aws_cloudtrail_lookup_event " \
            f"WHERE {where} ORDER BY event_id"
    pushed = con.sql(query)
    assert not pushed.errors
    sent = lookups(con)
    assert len(sent) == calls
    for params in sent:
        attributes = params.get("LookupAttributes", [])
        assert [a["AttributeKey"] for a in attributes] == ([key] if key else [])  # never more than one
        assert ("StartTime" in params, "EndTime" in params) == (start, end)
        assert params["MaxResults"] == 50
    assert pushed.rows == unpushed.sql(query).rows  # pushdown fetched less, never other rows


def test_the_window_and_the_attribute_reach_the_api(connect, history):
    con = connect(regions=[TEST_REGION], cloudtrail_logs=[])
    rows = con.sql(f"SELECT event_time, username, resources, cloud_trail_event FROM aws_cloudtrail_lookup_event "
                   f"WHERE event_time BETWEEN '{text(at(0))}' AND '{text(at(12))}' AND event_name = 'UpdateStage' "
                   "ORDER BY event_time").dicts()
    assert [r["event_time"] for r in rows] == [at(0.25).replace(tzinfo=None), at(4.25).replace(tzinfo=None),
                                               at(8.25).replace(tzinfo=None)]
    assert [r["username"] for r in rows] == ["bob", "alice", "alice"]
    [params] = lookups(con)
    assert params["LookupAttributes"] == [{"AttributeKey": "EventName", "AttributeValue": "UpdateStage"}]
    assert params["StartTime"].startswith(at(0).strftime("%Y-%m-%d %H:%M:%S"))
    assert params["EndTime"].startswith(at(12).strftime("%Y-%m-%d %H:%M:%S"))
    record = json.loads(rows[0]["cloud_trail_event"])
    assert record["requestParameters"]["updateStageInput"]["patchOperations"][0]["value"] == "OFF"
    assert {"ResourceType": "AWS::ApiGateway::RestApi", "ResourceName": API} in json.loads(rows[0]["resources"])


def test_event_table_served_by_lookup_passes_its_filters_through(connect, history):
    con = connect(cloudtrail_logs=[])
    result = con.sql(f"SELECT * FROM aws_cloudtrail_event WHERE region = '{TEST_REGION}' AND event_name = 'UpdateStage' "
                     f"AND event_time BETWEEN '{text(at(0))}' AND '{text(at(47))}' ORDER BY event_time")
    assert not result.errors
    rows = result.dicts()
    assert len(rows) == 12 and {r["origin"] for r in rows} == {"lookup"}
    first = rows[0]
    assert (first["event_name"], first["event_source"], first["aws_region"], first["region"], first["account_id"]) == (
        "UpdateStage", "apigateway.amazonaws.com", TEST_REGION, TEST_REGION, ACCOUNT)
    assert (first["user_type"], first["user_arn"], first["access_key_id"]) == ("IAMUser", BOB["arn"], BOB["accessKeyId"])
    assert first["read_only"] is False and first["event_type"] == "AwsApiCall"
    assert json.loads(first["request_parameters"])["restApiId"] == API
    assert json.loads(first["record"])["eventID"] == first["event_id"] and first["event_id"] in history["ids"]
    assert json.loads(first["user_identity"]) == BOB
    denied = con.sql(f"SELECT error_code FROM aws_cloudtrail_event WHERE region = '{TEST_REGION}' "
                     f"AND event_time = '{text(at(20.25))}'").rows
    assert denied == [("AccessDeniedException",)]
    sent = [(c.region, json.loads(c.params)) for c in con.fetch_log if c.operation == "LookupEvents"]
    assert {region for region, _ in sent} == {TEST_REGION}  # the region filter reached the lookup
    assert sent[0][1]["LookupAttributes"] == [{"AttributeKey": "EventName", "AttributeValue": "UpdateStage"}]
    assert "StartTime" in sent[0][1] and "EndTime" in sent[0][1]


def test_a_long_read_without_a_time_filter_says_so_once(connect, sandbox, capsys):
    base = datetime.now(timezone.utc) - timedelta(hours=3)
    sandbox.record_events(LONG_REGION, [{"eventTime": (base + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                         "eventName": "GetStages" if i % 2 else "GetRestApis"} for i in range(2100)])
    con = connect(regions=[LONG_REGION], cloudtrail_logs=[])
    capsys.readouterr()
    count = con.sql("SELECT count(*) FROM aws_cloudtrail_lookup_event "
                    "WHERE event_name IN ('GetStages', 'GetRestApis')").rows[0][0]
    assert count >= 2100
    err = capsys.readouterr().err
    assert err.count("note: aws_cloudtrail_lookup_event has no lower bound on event_time") == 1
    assert f"aws_cloudtrail_lookup_event: {LONG_REGION}: 20 pages (up to 1000 events)" in err
    con.sql("SELECT count(*) FROM aws_cloudtrail_lookup_event "
            f"WHERE event_name = 'GetStages' AND event_time > '{text(base - timedelta(minutes=1))}'")
    assert "no lower bound" not in capsys.readouterr().err
