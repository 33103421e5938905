"""CloudTrail LookupEvents over the recorded events, with AWS's limits.

AWS allows at most one lookup attribute, at most 50 events a page, and a window within the last 90 days;
the sandbox enforces the same so that code which works here works there. Pages are cut by a cursor
(event time and sequence of the last event returned), not an offset: every call, LookupEvents included,
records a new event, and an offset would shift under the caller's feet.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .aws_errors import AwsError
from .cloudtrail_event import lookup_resources, username_of
from .recorder import MemoryEventStore, StoredEvent, parse_event_time

MAX_RESULTS = 50
RETENTION = timedelta(days=90)


def _matcher(key: str, value: str) -> Callable[[dict[str, Any]], bool]:
    if key == "EventId":
        return lambda r: r.get("eventID") == value
    if key == "EventName":
        return lambda r: r.get("eventName") == value
    if key == "ReadOnly":
        wanted = value.lower() == "true"
        return lambda r: bool(r.get("readOnly")) is wanted
    if key == "Username":
        return lambda r: username_of(r) == value
    if key == "ResourceType":
        return lambda r: any(x["ResourceType"] == value for x in lookup_resources(r))
    if key == "ResourceName":
        return lambda r: any(x["ResourceName"] == value for x in lookup_resources(r))
    if key == "EventSource":
        return lambda r: r.get("eventSource") == value
    if key == "AccessKeyId":
        return lambda r: (r.get("userIdentity") or {}).get("accessKeyId") == value
    raise AwsError("InvalidLookupAttributesException", f"Invalid attribute key: {key}")


def _encode_token(event: StoredEvent) -> str:
    raw = json.dumps({"t": event.time.timestamp(), "s": event.seq}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[datetime, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return datetime.fromtimestamp(float(data["t"]), timezone.utc), int(data["s"])
    except (ValueError, KeyError, TypeError):
        raise AwsError("InvalidNextTokenException", "Invalid NextToken") from None


def _event(record: dict[str, Any], moment: datetime) -> dict[str, Any]:
    event: dict[str, Any] = {
        "EventId": record.get("eventID"),
        "EventName": record.get("eventName"),
        "ReadOnly": str(bool(record.get("readOnly"))).lower(),
        "EventTime": moment.timestamp(),
        "EventSource": record.get("eventSource"),
        "Resources": lookup_resources(record),
        "CloudTrailEvent": json.dumps(record),
    }
    access_key = (record.get("userIdentity") or {}).get("accessKeyId")
    if access_key:
        event["AccessKeyId"] = access_key
    username = username_of(record)
    if username:
        event["Username"] = username
    return event


def lookup_events(store: MemoryEventStore, region: str, params: dict[str, Any],
                  now: datetime | None = None, account: str | None = None) -> dict[str, Any]:
    """The LookupEvents response for `params` (the JSON request body) in `region`: of `account`'s events
    when given (each account sees its own history, as on AWS; events planted by tests are everyone's)."""
    now = now or datetime.now(timezone.utc)
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise AwsError("InvalidLookupAttributesException",
                       "You cannot specify more than one lookup attribute in a LookupEvents request.")
    matches: Callable[[dict[str, Any]], bool] = lambda r: True
    if attributes:
        matches = _matcher(str(attributes[0].get("AttributeKey")), str(attributes[0].get("AttributeValue")))
    if params.get("EventCategory") == "insight":
        matches = lambda r: False  # the sandbox records no Insights events
    max_results = params.get("MaxResults") or MAX_RESULTS
    if not 1 <= int(max_results) <= MAX_RESULTS:
        raise AwsError("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}.")
    end = parse_event_time(params["EndTime"]) if params.get("EndTime") is not None else now
    start = parse_event_time(params["StartTime"]) if params.get("StartTime") is not None else now - RETENTION
    if start > end:
        raise AwsError("InvalidTimeRangeException", "Start time must be before end time.")
    start = max(start, now - RETENTION)  # older events are gone on AWS
    cursor = _decode_token(params["NextToken"]) if params.get("NextToken") else None

    page: list[StoredEvent] = []
    has_more = False
    for stored in store.newest_first(region):
        if cursor is not None and (stored.time, stored.seq) >= cursor:
            continue
        if stored.time > end:
            continue
        if stored.time < start:
            break
        if not matches(stored.record):
            continue
        if account is not None and stored.record.get("recipientAccountId", account) != account \
                and not store.is_planted(stored.record.get("eventID")):
            continue
        if len(page) == int(max_results):
            has_more = True
            break
        page.append(stored)
    response: dict[str, Any] = {"Events": [_event(s.record, s.time) for s in page]}
    if has_more:
        response["NextToken"] = _encode_token(page[-1])
    return response
