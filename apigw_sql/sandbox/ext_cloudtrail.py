"""CloudTrail fixes: LookupEvents, trail status fields, default selectors, calls by trail ARN.

- LookupEvents (missing in moto) reads the events the middleware recorded.
- GetTrailStatus adds LatestCloudWatchLogsDeliveryTime and LatestDigestDeliveryTime, plus any fields
  planted through the control endpoint (LatestDeliveryError, an old delivery time, ...).
- GetEventSelectors on a trail that never had PutEventSelectors returns AWS's default selector
  (all read and write management events), where moto returns nothing.
- Status, selector and insight calls accept a trail ARN from any region where the trail is visible
  (a multi-region trail's shadow copies), as AWS does; a bare name finds only trails of the region.
- StartLogging/StopLogging by ARN work in the home region and fail with InvalidHomeRegionException
  elsewhere; GetInsightSelectors without insights fails with InsightNotEnabledException, as on AWS.
- DescribeTrails/GetTrail report HasCustomEventSelectors and HasInsightSelectors truthfully.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from . import moto_backends
from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable
from .lookup_events import lookup_events
from .recorder import MemoryEventStore, parse_event_time

DEFAULT_EVENT_SELECTOR = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                          "ExcludeManagementEventSources": []}
STATUS_TIME_FIELDS = {"LatestDeliveryTime", "LatestNotificationTime", "StartLoggingTime", "StopLoggingTime",
                      "LatestCloudWatchLogsDeliveryTime", "LatestDigestDeliveryTime"}
STATUS_FIELDS = STATUS_TIME_FIELDS | {
    "IsLogging", "LatestDeliveryError", "LatestNotificationError", "LatestCloudWatchLogsDeliveryError",
    "LatestDigestDeliveryError", "LatestDeliveryAttemptTime", "LatestNotificationAttemptTime",
    "LatestNotificationAttemptSucceeded", "LatestDeliveryAttemptSucceeded", "TimeLoggingStarted",
    "TimeLoggingStopped"}


def _aware(moment: datetime | None) -> datetime | None:
    # moto keeps naive UTC datetimes.
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _trail_not_found(call: Call, name: str) -> AwsError:
    arn = name if name.startswith("arn:") else f"arn:aws:cloudtrail:{call.region}:{call.account_id}:trail/{name}"
    return AwsError("TrailNotFoundException", f"Unknown trail: {arn} for the user: {call.account_id}")


class CloudTrailExtensions:
    def __init__(self, events: MemoryEventStore) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._selectors_put: set[str] = set()  # ARNs of trails that had PutEventSelectors
        self._status_overrides: dict[str, dict[str, Any]] = {}  # trail ARN -> planted GetTrailStatus fields

    def clear(self) -> None:
        with self._lock:
            self._selectors_put.clear()
            self._status_overrides.clear()

    def handlers(self) -> HandlerTable:
        return {
            ("cloudtrail", "LookupEvents"): self._lookup_events,
            ("cloudtrail", "GetTrailStatus"): self._get_trail_status,
            ("cloudtrail", "GetEventSelectors"): self._get_event_selectors,
            ("cloudtrail", "PutEventSelectors"): self._put_event_selectors,
            ("cloudtrail", "GetInsightSelectors"): self._get_insight_selectors,
            ("cloudtrail", "StartLogging"): self._start_logging,
            ("cloudtrail", "StopLogging"): self._stop_logging,
            ("cloudtrail", "DescribeTrails"): self._describe_trails,
            ("cloudtrail", "GetTrail"): self._get_trail,
        }

    def resolve(self, call: Call, name: str) -> Any:
        """The moto trail a Name/TrailName parameter means, with AWS's visibility rules."""
        if not name:
            raise AwsError("InvalidTrailNameException", "Trail name or ARN can only contain uppercase letters, "
                           "lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
        if name.startswith("arn:"):
            for trail in moto_backends.all_trails(call.account_id):
                if trail.arn == name and (trail.is_multi_region or trail.region_name == call.region):
                    return trail
            raise _trail_not_found(call, name)
        trail = moto_backends.cloudtrail(call.account_id, call.region).trails.get(name)
        if trail is None:
            raise _trail_not_found(call, name)
        return trail

    # Planted status fields

    def set_trail_status(self, account: str, region: str, name: str, fields: dict[str, Any]) -> str:
        """Plants GetTrailStatus fields for a trail (by name in `region`, or by ARN); None removes a field."""
        unknown = set(fields) - STATUS_FIELDS
        if unknown:
            raise ValueError(f"unknown GetTrailStatus fields: {', '.join(sorted(unknown))}")
        trails = moto_backends.all_trails(account)
        trail = next((t for t in trails if t.arn == name or (t.trail_name == name and t.region_name == region)), None)
        if trail is None:
            raise KeyError(name)
        with self._lock:
            planted = self._status_overrides.setdefault(trail.arn, {})
            for key, value in fields.items():
                if value is None:
                    planted[key] = None
                elif key in STATUS_TIME_FIELDS:
                    planted[key] = parse_event_time(value).timestamp()
                else:
                    planted[key] = value
        return str(trail.arn)

    # Handlers

    def _lookup_events(self, call: Call, forward: Forward) -> Reply:
        return json_reply(200, lookup_events(self._events, call.region, call.json_body(), account=call.account_id), call.request_id)

    def _get_trail_status(self, call: Call, forward: Forward) -> Reply:
        trail = self.resolve(call, str(call.json_body().get("Name") or ""))
        status = dict(trail.status.description())
        started = _aware(trail.status.started)
        latest = datetime.now(timezone.utc) if trail.status.is_logging else _aware(trail.status.stopped)
        if started is not None and latest is not None:
            if trail.cw_log_group_arn:
                status["LatestCloudWatchLogsDeliveryTime"] = latest.timestamp()
            if trail.log_validation:  # digest files are delivered hourly
                status["LatestDigestDeliveryTime"] = max(latest.replace(minute=0, second=0, microsecond=0),
                                                         started).timestamp()
        if trail.status.is_logging:
            status["LatestDeliveryAttemptSucceeded"] = status.get("LatestDeliveryAttemptTime", "")
        with self._lock:
            planted = dict(self._status_overrides.get(trail.arn, {}))
        if planted.get("LatestDeliveryError"):
            status["LatestDeliveryAttemptSucceeded"] = ""  # a failing delivery has not succeeded lately
        for key, value in planted.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        return json_reply(200, status, call.request_id)

    def _get_event_selectors(self, call: Call, forward: Forward) -> Reply:
        trail = self.resolve(call, str(call.json_body().get("TrailName") or ""))
        data: dict[str, Any] = {"TrailARN": trail.arn}
        if trail.advanced_event_selectors:
            data["AdvancedEventSelectors"] = trail.advanced_event_selectors
        elif trail.event_selectors or trail.arn in self._selectors_put:
            data["EventSelectors"] = [{**DEFAULT_EVENT_SELECTOR, **s} for s in trail.event_selectors]
        else:
            data["EventSelectors"] = [dict(DEFAULT_EVENT_SELECTOR)]
        return json_reply(200, data, call.request_id)

    def _put_event_selectors(self, call: Call, forward: Forward) -> Reply:
        body = call.json_body()
        trail = self.resolve(call, str(body.get("TrailName") or ""))
        if trail.region_name != call.region:
            raise AwsError("InvalidHomeRegionException",
                           "This operation must be called from the trail's home region.")
        reply = forward()
        if reply.ok:
            with self._lock:
                self._selectors_put.add(trail.arn)
            if body.get("EventSelectors"):
                trail.advanced_event_selectors = []  # moto keeps the old advanced ones; AWS replaces them
        return reply

    def _get_insight_selectors(self, call: Call, forward: Forward) -> Reply:
        trail = self.resolve(call, str(call.json_body().get("TrailName") or ""))
        if not trail.insight_selectors:
            raise AwsError("InsightNotEnabledException", f"Trail {trail.arn} does not have Insights enabled.")
        return json_reply(200, {"TrailARN": trail.arn, "InsightSelectors": trail.insight_selectors},
                          call.request_id)

    def _switch_logging(self, call: Call, start: bool) -> Reply:
        trail = self.resolve(call, str(call.json_body().get("Name") or ""))
        if trail.region_name != call.region:
            raise AwsError("InvalidHomeRegionException",
                           "This operation must be called from the trail's home region.")
        trail.start_logging() if start else trail.stop_logging()
        return json_reply(200, {}, call.request_id)

    def _start_logging(self, call: Call, forward: Forward) -> Reply:
        return self._switch_logging(call, True)

    def _stop_logging(self, call: Call, forward: Forward) -> Reply:
        return self._switch_logging(call, False)

    def _flags(self, call: Call, described: dict[str, Any]) -> dict[str, Any]:
        arn = described.get("TrailARN")
        trail = next((t for t in moto_backends.all_trails(call.account_id) if t.arn == arn), None)
        if trail is not None:
            described["HasCustomEventSelectors"] = arn in self._selectors_put
            described["HasInsightSelectors"] = bool(trail.insight_selectors)
        return described

    def _describe_trails(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            data["trailList"] = [self._flags(call, t) for t in data.get("trailList") or []]
            return reply.with_json(data)
        return reply

    def _get_trail(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict) and isinstance(data.get("Trail"), dict):
            data["Trail"] = self._flags(call, data["Trail"])
            return reply.with_json(data)
        return reply
