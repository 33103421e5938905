"""One request to the sandbox and its reply, as the middleware and the extensions see them."""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .operations import Credential, Operation


@dataclass
class Reply:
    """An HTTP reply, fully buffered so that extensions can read and rewrite it."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def with_json(self, data: Any) -> Reply:
        """A copy carrying `data` as its JSON body, with the headers fixed to match."""
        headers = [(k, v) for k, v in self.headers if k.lower() not in ("content-length", "content-type")]
        body = json.dumps(data).encode()
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        return Reply(self.status, headers, body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def json_reply(status: int, data: Any, request_id: str | None = None) -> Reply:
    body = b"" if data is None else json.dumps(data).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", request_id or str(uuid.uuid4()))]
    return Reply(status, headers, body)


@dataclass
class Call:
    """A request that reached the sandbox, with what the middleware learnt about it."""

    environ: dict[str, Any]
    method: str
    raw_path: str  # still percent-encoded: botocore encodes "/" inside ARNs as %2F
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    credential: Credential | None
    operation: Operation | None
    account_id: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def region(self) -> str:
        return self.credential.region if self.credential else "us-east-1"

    @property
    def service(self) -> str | None:
        return self.operation.service if self.operation else None

    @property
    def operation_name(self) -> str | None:
        return self.operation.name if self.operation else None

    def param(self, name: str) -> Any:
        """A URI or query parameter by its botocore member name."""
        if self.operation is None:
            return None
        if name in self.operation.uri_params:
            return self.operation.uri_params[name]
        return self.operation.query_params.get(name)

    def json_body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body) if self.body else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def call_wsgi(app: Callable[..., Iterable[bytes]], environ: dict[str, Any], body: bytes) -> Reply:
    """Runs a WSGI app on `environ` with `body` as its input and buffers what it answers."""
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started["status"] = status
        started["headers"] = list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return Reply(int(str(started.get("status", "500")).split()[0]), started.get("headers", []), b"".join(chunks))
