"""The sandbox's WSGI application: moto, wrapped by what moto lacks.

Every request is identified (service, region, operation), may be delayed or failed by an injected
fault (an AWS error, a reset connection, a truncated or malformed answer: faults.py), may be refused for exceeding AWS's request quotas (when they are enforced: quotas.py), is answered by an extension or by moto, and is then recorded as a CloudTrail event in the
region it was sent to. Requests to the control endpoint (/_sandbox/...) and to moto's own API
(/moto-api/...) are neither identified nor recorded.
"""
from __future__ import annotations

import socket
import struct
import time
from http import HTTPStatus
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote

from moto.core.exceptions import JsonRESTError, ServiceException

from . import control
from .aws_errors import AwsError, error_reply, is_html
from .cloudtrail_event import build_record, is_data_event
from .exchange import Call, Reply, call_wsgi
from .ext_apigatewayv2 import HttpApiExtensions
from .ext_client_certificates import ClientCertificates
from .ext_cloudwatch import CloudWatchMetrics
from .ext_cloudtrail import CloudTrailExtensions
from .ext_cloudtrail_lake import CloudTrailLake
from .ext_ec2 import Ec2Extensions
from .ext_iam import IamExtensions
from .ext_logs import LogsFilterPatterns
from .ext_rest_apis import RestApiShapes
from .ext_rest_domains import RestDomains
from .ext_rest_tags import RestTags
from .ext_s3 import S3Extensions
from .ext_sts import StsExtensions
from .ext_wafv2 import WafV2Extensions
from .extension import HandlerTable
from .faults import FaultRules
from .logfiles import LogFileSink
from .moto_backends import account_for
from .operations import OperationMatcher, parse_credential
from .quotas import QuotaRules
from .recorder import EventRecorder, MemoryEventStore

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _moto_app() -> WsgiApp:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class CachingDispatcher(DomainDispatcherApplication):  # type: ignore[misc]
        """moto's dispatcher, remembering which backend serves a host.

        moto lists its modules on disk to answer that, twice per request: a third of its time per call.
        """

        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backend_by_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_by_host:
                self._backend_by_host[host] = super().get_backend_for_host(host)
            return self._backend_by_host[host]

    return CachingDispatcher()


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):  # chunked upload, already de-chunked by the server
        return stream.read()
    return b""


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _raw_path(environ: dict[str, Any]) -> str:
    # The undecoded path: an ARN in a URI label keeps its %2F there, and only there.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw = raw.split("?", 1)[0]
        if "://" in raw:  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        return raw or "/"
    return quote(environ.get("PATH_INFO", "/"))


def _reset_connection(environ: dict[str, Any]) -> None:
    """Drops the request's connection with a TCP reset: no answer at all, as a crashed proxy gives."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST
        sock.shutdown(socket.SHUT_RDWR)  # now: the handler would wait for another request on it
    raise ConnectionResetError("sandbox fault: connection reset")  # werkzeug drops the connection quietly


def _broken(reply: Reply, kind: str) -> Reply:
    """The reply cut in half: with its full Content-Length (truncate) or with a matching one (malformed)."""
    full = reply.body or b"{}"
    half = full[:len(full) // 2]
    length = len(full) if kind == "truncate" else len(half)
    headers = [(k, v) for k, v in reply.headers
               if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")]
    return Reply(reply.status, [*headers, ("Content-Length", str(length))], half)


class SandboxApp:
    """moto plus the sandbox's extensions, faults and CloudTrail recording; one per server."""

    def __init__(self, moto_app: WsgiApp | None = None) -> None:
        self.moto = moto_app or _moto_app()
        self.matcher = OperationMatcher()
        self.faults = FaultRules()
        self.quotas: QuotaRules | None = None  # AWS's request quotas, when enforced
        self.events = MemoryEventStore()
        self.recorder = EventRecorder(self.events)
        self.log_files = LogFileSink()  # CloudTrail log files in the trails' buckets
        self.recorder.add_sink(self.log_files)
        self.cloudtrail_lake = CloudTrailLake()
        self.client_certificates = ClientCertificates()
        self.rest_domains = RestDomains()
        self.http_apis = HttpApiExtensions()
        self.cloudtrail = CloudTrailExtensions(self.events)
        self.handlers: HandlerTable = {}
        extensions = (self.client_certificates, RestTags(self.client_certificates), RestApiShapes(),
                      self.rest_domains, self.http_apis, self.cloudtrail, StsExtensions(), Ec2Extensions(),
                      WafV2Extensions(), S3Extensions(), self.cloudtrail_lake, IamExtensions(),
                      CloudWatchMetrics(), LogsFilterPatterns())
        for extension in extensions:
            table = extension.handlers()
            overlap = set(table) & set(self.handlers)
            assert not overlap, f"two extensions handle {overlap}"
            self.handlers.update(table)

    def reset(self) -> None:
        """Forgets the sandbox's own state (moto's is reset by moto's reset call)."""
        self.faults.clear_faults()
        self.faults.clear_delays()
        self.events.clear()
        self.client_certificates.clear()
        self.rest_domains.clear()
        self.cloudtrail.clear()
        self.log_files.clear()
        self.cloudtrail_lake.clear()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(control.PREFIX):
            reply = control.handle(self, environ, _read_body(environ))
        elif path.startswith("/moto-api"):
            body = _read_body(environ)
            if path.startswith("/moto-api/reset"):
                self.reset()
            reply = call_wsgi(self.moto, environ, body)
        else:
            reply = self.handle(environ)
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(f"{reply.status} {phrase}", reply.headers)
        return [reply.body]

    def handle(self, environ: dict[str, Any]) -> Reply:
        body = _read_body(environ)
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is buffered now; moto reads it by length
        environ["wsgi.input_terminated"] = False
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = _headers(environ)
        credential = parse_credential(headers.get("authorization"), query)
        method = environ.get("REQUEST_METHOD", "GET")
        raw_path = _raw_path(environ)
        operation = None
        if credential is not None:
            operation = self.matcher.identify(credential.signing_name, method, raw_path, query, headers, body,
                                              headers.get("content-type", ""))
        call = Call(environ, method, raw_path, query, headers, body, credential, operation,
                    account_for(credential.access_key_id if credential else None, headers))

        def forward() -> Reply:
            try:
                return call_wsgi(self.moto, environ, body)
            except Exception as error:  # noqa: BLE001 - moto raises on services and cases it lacks
                if operation is None:
                    raise
                # 501: not retried by botocore, unlike a 500 that would only fail again.
                return error_reply(operation.protocol, "NotImplemented",
                                   f"The sandbox cannot answer {operation.service}.{operation.name}: "
                                   f"{type(error).__name__}: {error}", 501, call.request_id)

        if credential is None or operation is None:
            return forward()  # not an AWS API call the sandbox can name: moto alone, unrecorded

        where = (operation.service, credential.signing_name, credential.region, operation.name)
        delay = self.faults.delay_for(*where)
        if delay:
            time.sleep(delay)
        fault = self.faults.take_fault(*where)
        if fault is not None and fault.kind == "reset":
            _reset_connection(environ)
        quotas = self.quotas
        exceeded = None
        if fault is None and quotas is not None:
            exceeded = quotas.admit(credential.signing_name, operation.name, call.account_id, credential.region)
        if fault is not None and fault.kind == "error":
            reply = error_reply(operation.protocol, fault.code, fault.message, fault.status, call.request_id)
        elif exceeded is not None:
            reply = error_reply(operation.protocol, exceeded.code, exceeded.message, exceeded.status,
                                call.request_id)
        else:
            reply = self._answer(call, forward)
            if fault is not None:
                reply = _broken(reply, fault.kind)

        request_id = reply.header("x-amzn-RequestId") or reply.header("x-amz-request-id")
        if request_id:
            call.request_id = request_id
        else:
            reply.headers.append(("x-amzn-RequestId", call.request_id))
        if not is_data_event(operation.service, operation.name):
            self.recorder.record(build_record(call, reply, environ.get("REMOTE_ADDR") or "127.0.0.1"))
        return reply

    def _answer(self, call: Call, forward: Callable[[], Reply]) -> Reply:
        assert call.operation is not None
        protocol = call.operation.protocol
        handler = self.handlers.get((call.operation.service, call.operation.name))
        try:
            reply = handler(call, forward) if handler else forward()
        except AwsError as error:
            return error_reply(protocol, error.code, error.message, error.status, call.request_id)
        except JsonRESTError as error:  # a moto exception raised while an extension read moto's state
            return error_reply(protocol, error.error_type, error.message, int(error.code), call.request_id)
        except ServiceException as error:
            return error_reply(protocol, str(error.code), str(error.message), 400, call.request_id)
        if reply.status >= 400 and is_html(reply):
            # moto's HTML error page: the call is not implemented, or moto crashed on it.
            name = f"{call.operation.service}.{call.operation.name}"
            if reply.status == 404:
                return error_reply(protocol, "UnknownOperationException",
                                   f"The sandbox does not implement {name}.", 404, call.request_id)
            return error_reply(protocol, "InternalFailure", f"The sandbox failed on {name} (moto error).",
                               reply.status, call.request_id)
        return reply
