"""API key values out of CloudTrail records: in Python for what is cached, in SQL for what is shown.

CloudTrail records the request and the answer of API Gateway's key operations, and some of them
carry the key itself: CreateApiKey's request (when the caller chose the value) and answer,
CreateUsagePlanKey's, UpdateApiKey's and GetApiKey's (includeValue) answers, ImportApiKeys' body.
apigw-sql never fetches or shows a key value, so in the records of those operations every member
named ``value`` (and ImportApiKeys' ``body``), at any depth, is replaced by REDACTED:

- LookupEvents pages, before the call cache holds them (`scrub_lookup_page`, called by fetch);
- log files downloaded from S3, before they are written into the cache (`scrub_log_file`);
- every JSON column DuckDB reads from a record, log files of local folders included (`scrubbed_json_sql`).

Other records are left byte for byte as they are (a patch operation's `value` of UpdateStage is evidence).

>>> record = {"eventSource": "apigateway.amazonaws.com", "eventName": "CreateApiKey",
...           "requestParameters": {"createApiKeyInput": {"name": "k", "value": "s3cr3t-key-value-000"}},
...           "responseElements": {"id": "abc", "value": "s3cr3t-key-value-000"}}
>>> scrub_record(record), record["responseElements"]
(True, {'id': 'abc', 'value': 'REDACTED'})
>>> scrub_record({"eventSource": "apigateway.amazonaws.com", "eventName": "UpdateStage",
...               "requestParameters": {"value": "kept"}})
False
"""
from __future__ import annotations

import gzip
import json
import re
import zlib
from typing import Any

REDACTED = "REDACTED"
KEY_SOURCE = "apigateway.amazonaws.com"
# The API Gateway operations whose records can hold an API key value.
KEY_EVENTS = frozenset({
    "CreateApiKey", "GetApiKey", "GetApiKeys", "UpdateApiKey", "ImportApiKeys", "DeleteApiKey",
    "CreateUsagePlanKey", "GetUsagePlanKey", "GetUsagePlanKeys", "DeleteUsagePlanKey",
})
SECRET_MEMBERS = frozenset({"value", "body"})
# Names as bytes, to tell cheaply whether a log file can hold such a record at all.
_KEY_EVENT_BYTES = re.compile(rb'"eventName"\s*:\s*"(?:' + b"|".join(n.encode() for n in sorted(KEY_EVENTS)) + rb')"')


def is_key_record(record: Any) -> bool:
    return (isinstance(record, dict) and record.get("eventSource") == KEY_SOURCE
            and record.get("eventName") in KEY_EVENTS)


def _redact(node: Any) -> bool:
    changed = False
    if isinstance(node, dict):
        for name in list(node):
            if name in SECRET_MEMBERS and node[name] is not None and node[name] != REDACTED:
                node[name] = REDACTED
                changed = True
            else:
                changed = _redact(node[name]) or changed
    elif isinstance(node, list):
        for item in node:
            changed = _redact(item) or changed
    return changed


def scrub_record(record: Any) -> bool:
    """Redacts the key values of one record in place; True when something was redacted."""
    if not is_key_record(record):
        return False
    changed = False
    for part in ("requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"):
        changed = _redact(record.get(part)) or changed
    return changed


def scrub_lookup_page(page: dict[str, Any]) -> None:
    """Redacts key values in a LookupEvents page in place: each event's CloudTrailEvent (a JSON string)."""
    for event in page.get("Events") or []:
        if not isinstance(event, dict) or event.get("EventName") not in KEY_EVENTS:
            continue
        text = event.get("CloudTrailEvent")
        if not isinstance(text, str):
            continue
        try:
            record = json.loads(text)
        except ValueError:
            event["CloudTrailEvent"] = None  # unreadable: show nothing rather than what it might hold
            continue
        if scrub_record(record):
            event["CloudTrailEvent"] = json.dumps(record, separators=(",", ":"))


def scrub_log_file(body: bytes) -> bytes:
    """A gzipped log file with the key values of its records redacted; `body` itself when none holds one.

    A file that is not a readable gzipped ``{"Records": [...]}`` is returned as it is: reading it is
    the reader's business (it skips the file with a warning), and it holds no record to scrub.
    """
    try:
        text = gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return body
    if not _KEY_EVENT_BYTES.search(text):
        return body  # the common case: no key operation in the file, nothing to rewrite
    try:
        document = json.loads(text)
    except ValueError:
        return body
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        return body
    changed = False
    for record in records:
        changed = scrub_record(record) or changed
    if not changed:
        return body
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), compresslevel=6)


_SQL_EVENTS = ", ".join("'" + n + "'" for n in sorted(KEY_EVENTS))
_SQL_PATTERN = r'("(?:' + "|".join(sorted(SECRET_MEMBERS)) + r')"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|[-0-9.eE+]+|true|false)'


def scrubbed_json_sql(expr: str, record: str = "j") -> str:
    """SQL of the JSON `expr` (a part of the record `record`) with the key values of key records redacted.

    Cheap for every other record: a substring test of the value's text decides; only values that
    name a secret member are checked against the record's eventSource and eventName.
    """
    text = f"CAST({expr} AS VARCHAR)"
    members = " OR ".join(f"contains({text}, '\"{m}\"')" for m in sorted(SECRET_MEMBERS))
    return (f"CASE WHEN {members} THEN CASE WHEN json_extract_string({record}, '$.eventSource') = '{KEY_SOURCE}' "
            f"AND json_extract_string({record}, '$.eventName') IN ({_SQL_EVENTS}) "
            f"THEN CAST(regexp_replace({text}, '{_SQL_PATTERN}', '\\1\"{REDACTED}\"', 'g') AS JSON) "
            f"ELSE {expr} END ELSE {expr} END")
