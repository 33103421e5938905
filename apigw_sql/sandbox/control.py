"""The control endpoint (/_sandbox/...): how tests steer a running sandbox over HTTP.

It exists because the server may run in a child process: faults, delays, planted CloudTrail records
and planted states must reach that process, so they travel as small JSON requests that the middleware
answers itself (never passed to moto, never recorded as CloudTrail events).

    GET    /_sandbox/health
    GET    /_sandbox/faults                 list
    POST   /_sandbox/faults                 {service, region, operation, code, status, message, count, kind} -> {id}
    DELETE /_sandbox/faults[/ID]            all, or one
    POST   /_sandbox/delays                 {seconds, service, region, operation, count}; 0 seconds removes
    DELETE /_sandbox/delays
    POST   /_sandbox/events                 {region, records: [...]} -> {eventIds}
    POST   /_sandbox/trail-status           {trail, region, fields: {LatestDeliveryError: ..., ...}}
    POST   /_sandbox/truststore-warnings    {domainName, region, warnings: [...], api: "rest" | "v2"}
    POST   /_sandbox/backdate               {kind: "client-certificate" | "api-key", id, region, days}
    POST   /_sandbox/flush-logs             write buffered CloudTrail records to log files -> {files}
    POST   /_sandbox/reset                  the sandbox's own state and moto's
    GET    /_sandbox/quotas                 {enabled, share, admitted: {budget: n}, refused: {budget: n}}
    POST   /_sandbox/quotas                 {enabled, share}: enforce AWS's request quotas (fresh buckets)
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from moto.core import DEFAULT_ACCOUNT_ID

from . import moto_backends
from .aws_errors import AwsError
from .cloudtrail_event import complete_record
from .exchange import Reply, json_reply

if TYPE_CHECKING:
    from .middleware import SandboxApp

PREFIX = "/_sandbox/"


def _fail(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def handle(app: SandboxApp, environ: dict[str, Any], body: bytes) -> Reply:
    method = environ.get("REQUEST_METHOD", "GET")
    parts = environ.get("PATH_INFO", "")[len(PREFIX):].strip("/").split("/")
    try:
        spec = json.loads(body) if body else {}
    except ValueError:
        return _fail(400, "the body must be JSON")
    if not isinstance(spec, dict):
        return _fail(400, "the body must be a JSON object")
    account = str(spec.pop("account", DEFAULT_ACCOUNT_ID))
    try:
        return _route(app, method, parts, spec, account)
    except (KeyError, LookupError) as missing:
        return _fail(404, f"not found: {missing}")
    except (TypeError, ValueError, AwsError) as bad:
        return _fail(400, str(bad))


def _route(app: SandboxApp, method: str, parts: list[str], spec: dict[str, Any], account: str) -> Reply:
    what = parts[0]
    if what == "health" and method == "GET":
        return json_reply(200, {"ok": True})
    if what == "faults":
        if method == "GET":
            return json_reply(200, {"faults": app.faults.faults()})
        if method == "POST":
            return json_reply(200, {"id": app.faults.add_fault(spec).id})
        if method == "DELETE" and len(parts) > 1:
            return json_reply(200, {"removed": app.faults.remove_fault(parts[1])})
        if method == "DELETE":
            app.faults.clear_faults()
            return json_reply(200, {})
    if what == "delays":
        if method == "POST":
            app.faults.set_delay(spec)
            return json_reply(200, {})
        if method == "DELETE":
            app.faults.clear_delays()
            return json_reply(200, {})
    if what == "quotas":
        from .quotas import QuotaRules

        if method == "GET":
            return json_reply(200, app.quotas.state() if app.quotas is not None else {"enabled": False})
        if method == "POST":
            app.quotas = QuotaRules(float(spec.get("share") or 0.0)) if spec.get("enabled", True) else None
            return json_reply(200, {})
    if method != "POST":
        return _fail(405, f"{method} is not supported on {PREFIX}{'/'.join(parts)}")
    if what == "events":
        region = str(spec["region"])
        records = [complete_record(r, region, account) for r in spec.get("records") or []]
        for record in records:
            app.events.mark_planted(record["eventID"])  # LookupEvents shows it to every account
            app.recorder.record(record)
        return json_reply(200, {"eventIds": [r["eventID"] for r in records]})
    if what == "flush-logs":
        return json_reply(200, {"files": app.log_files.flush()})
    if what == "trail-status":
        arn = app.cloudtrail.set_trail_status(account, str(spec["region"]), str(spec["trail"]),
                                              dict(spec.get("fields") or {}))
        return json_reply(200, {"trailArn": arn})
    if what == "truststore-warnings":
        target = app.http_apis if spec.get("api", "rest") == "v2" else app.rest_domains
        target.set_truststore_warnings(account, str(spec["region"]), str(spec["domainName"]),
                                       list(spec.get("warnings") or []))
        return json_reply(200, {})
    if what == "backdate":
        _backdate(app, account, str(spec["region"]), str(spec["kind"]), str(spec["id"]), float(spec["days"]))
        return json_reply(200, {})
    if what == "reset":
        from moto.moto_api._internal import moto_api_backend

        moto_api_backend.reset()
        app.reset()
        return json_reply(200, {})
    return _fail(404, f"unknown control path {PREFIX}{'/'.join(parts)}")


def _backdate(app: SandboxApp, account: str, region: str, kind: str, ident: str, days: float) -> None:
    """Moves a resource's dates into the past, for rotation and expiry controls."""
    if kind == "client-certificate":
        app.client_certificates.backdate(account, region, ident, days)
    elif kind == "api-key":
        key = moto_backends.apigateway(account, region).keys[ident]
        key.created_date -= int(days * 24 * 3600)
        key.last_updated_date -= int(days * 24 * 3600)
    else:
        raise ValueError(f"kind must be client-certificate or api-key, not {kind}")
