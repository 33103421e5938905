"""The second CloudTrail sink: gzipped log files in the S3 buckets of the trails that log each event.

As CloudTrail does, a record goes to every trail that is logging, has a bucket and covers it: a
multi-region trail takes every region's events, a single-region trail only its own region's; a trail
without IncludeGlobalServiceEvents skips IAM and other global services; classic or advanced event
selectors decide between read and write management events; S3 object-level calls are data events,
logged only by trails that select them. Records wait in memory per trail, region and day, and are
written as one file `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_
YYYYMMDDTHHMMZ_RANDOM.json.gz` (below the trail's key prefix) when FLUSH_RECORDS have gathered, when
the oldest has waited FLUSH_SECONDS (checked as records arrive, as CloudTrail delivers every few
minutes), or when `flush()` is called (POST /_sandbox/flush-logs, Sandbox.flush_logs(); the server
calls it after seeding), so tests see a known set of files. A file is named after its newest record's minute and lies in that record's day folder, so a
planted record from days ago lands in the folder of its own eventTime.

Files are put into moto's S3 backend directly, in the server's process: writing them is not an API
call and records no event.
"""
from __future__ import annotations

import gzip
import json
import secrets
import threading
import time
from datetime import date, datetime
from typing import Any

from ..cloudtrail.layout import log_file_key
from . import moto_backends
from .recorder import parse_event_time

FLUSH_RECORDS = 200
FLUSH_SECONDS = 60.0
# Services CloudTrail records as global (in us-east-1): trails without IncludeGlobalServiceEvents skip them.
GLOBAL_SOURCES = frozenset({"iam.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com",
                            "organizations.amazonaws.com", "signin.amazonaws.com"})
# S3 object-level operations: data events, which trails log only when their selectors ask for them.
S3_DATA_EVENTS = frozenset({
    "GetObject", "PutObject", "HeadObject", "DeleteObject", "DeleteObjects", "CopyObject", "ListObjects",
    "ListObjectsV2", "ListObjectVersions", "HeadBucket", "GetObjectAcl", "PutObjectAcl", "GetObjectTagging",
    "PutObjectTagging", "DeleteObjectTagging", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
    "CompleteMultipartUpload", "AbortMultipartUpload", "ListMultipartUploads", "ListParts", "RestoreObject",
    "SelectObjectContent", "GetObjectAttributes", "GetObjectLegalHold", "PutObjectLegalHold",
    "GetObjectRetention", "PutObjectRetention"})


_Batch = tuple[str, str, str, str, str, str, date]


def is_data_event(record: dict[str, Any]) -> bool:
    return record.get("eventSource") == "s3.amazonaws.com" and record.get("eventName") in S3_DATA_EVENTS


def _classic_logs(selectors: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    data = is_data_event(record)
    read_only = bool(record.get("readOnly"))
    for selector in selectors:
        kind = selector.get("ReadWriteType", "All")
        if kind != "All" and (kind == "ReadOnly") != read_only:
            continue
        if data:
            if any(r.get("Type") == "AWS::S3::Object" for r in selector.get("DataResources") or []):
                return True
        elif selector.get("IncludeManagementEvents", True) and \
                record.get("eventSource") not in (selector.get("ExcludeManagementEventSources") or []):
            return True
    return False


def _advanced_logs(selectors: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    wanted_category = "Data" if is_data_event(record) else "Management"
    read_only = "true" if record.get("readOnly") else "false"
    for selector in selectors:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
        category = fields.get("eventCategory", {}).get("Equals") or []
        if wanted_category not in category:
            continue
        read_field = fields.get("readOnly", {}).get("Equals")
        if read_field and read_only not in [str(v).lower() for v in read_field]:
            continue
        return True
    return False


def trail_logs(trail: Any, record: dict[str, Any]) -> bool:
    """Whether CloudTrail would write `record` to `trail`'s bucket."""
    if not getattr(trail.status, "is_logging", False) or not trail.bucket_name:
        return False
    if not trail.is_multi_region and trail.region_name != record.get("awsRegion"):
        return False
    if record.get("eventSource") in GLOBAL_SOURCES and not trail.include_global_service_events:
        return False
    if trail.advanced_event_selectors:
        return _advanced_logs(trail.advanced_event_selectors, record)
    if trail.event_selectors:
        return _classic_logs(trail.event_selectors, record)
    return not is_data_event(record)  # no selectors: all management events


class LogFileSink:
    """Buffers records per trail, region and day; writes them as CloudTrail log files into S3."""

    def __init__(self, flush_records: int = FLUSH_RECORDS) -> None:
        self.flush_records = flush_records
        self._lock = threading.RLock()
        # (trail ARN, trail owner, bucket, key prefix, the record's account, region, day) -> records
        self._pending: dict[_Batch, list[dict[str, Any]]] = {}
        self._since: dict[_Batch, float] = {}  # when each batch began
        self.files_written = 0

    def record(self, record: dict[str, Any]) -> None:
        try:
            self._record(record)
        except Exception:  # noqa: BLE001 - a log file problem must never fail the request being answered
            return

    def _record(self, record: dict[str, Any]) -> None:
        account = str(record.get("recipientAccountId") or "")
        region = str(record.get("awsRegion") or "")
        if not account or not region:
            return
        trails = [t for t in moto_backends.all_trails(account) if trail_logs(t, record)]
        if not trails:
            return
        day = parse_event_time(record["eventTime"]).date()
        now = time.monotonic()
        with self._lock:
            for trail in trails:
                key = (trail.arn, trail.account_id, trail.bucket_name, trail.s3_key_prefix or "", account, region,
                       day)
                self._pending.setdefault(key, []).append(record)
                self._since.setdefault(key, now)
            due = [k for k, batch in self._pending.items()
                   if len(batch) >= self.flush_records or now - self._since[k] >= FLUSH_SECONDS]
            for key in due:
                self._since.pop(key, None)
                self._write(key, self._pending.pop(key))

    def flush(self) -> int:
        """Writes every buffered record; returns the number of files written."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._since.clear()
            for key, records in pending.items():
                self._write(key, records)
            return len(pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._since.clear()

    def _write(self, key: _Batch, records: list[dict[str, Any]]) -> None:
        from moto.s3.models import s3_backends

        _, owner, bucket, prefix, account, region, _ = key
        records = sorted(records, key=lambda r: parse_event_time(r["eventTime"]))
        delivered: datetime = parse_event_time(records[-1]["eventTime"])
        name = log_file_key(account, region, delivered, secrets.token_hex(8).upper())
        if prefix:
            name = f"{prefix.rstrip('/')}/{name}"
        body = gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode())
        try:
            s3_backends[owner]["aws"].put_object(bucket, name, body, disable_notification=True)
        except Exception:  # noqa: BLE001 - the bucket was deleted under the trail: AWS drops the delivery too
            return
        self.files_written += 1
