"""Injected failures and latency: rules that match requests by service, region and operation.

Tests use them to see how the engine reacts to AccessDenied in one region, to throttling, to a slow
call interrupted by Ctrl-C, and to a broken network or server. They live in the server process and are
set over the control endpoint, so they work whether the server runs in a thread or in a child process.

A fault's `kind` says how the request fails:

- ``error``: an AWS error reply with `code` and `status` (AccessDenied, 429 TooManyRequestsException, 5xx).
- ``reset``: the connection is dropped (closed with a TCP reset) before any answer.
- ``truncate``: the real answer, cut after half its body while its Content-Length promises all of it.
- ``malformed``: the real status with a body that does not parse (half the real body, and a length
  that matches it), as a broken proxy or server would send.

A delay with a `count` slows only the next `count` matching requests (a read timeout that clears).
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


def _norm(name: str | None) -> str | None:
    # "get_rest_apis" and "GetRestApis" name the same operation.
    return name.replace("_", "").replace("-", "").lower() if name else None


def default_message(code: str, operation: str | None) -> str:
    if "Throttl" in code or "TooManyRequests" in code or "RequestLimitExceeded" in code:
        return "Rate exceeded" if "Throttl" in code else "Too Many Requests"
    if "AccessDenied" in code or "Unauthorized" in code:
        action = operation or "this action"
        return f"User: arn:aws:iam::123456789012:user/sandbox-auditor is not authorized to perform: {action}"
    return f"Injected fault: {code}"


@dataclass
class Matcher:
    """Which requests a rule applies to; None matches anything.

    `service` matches the botocore service name or the signing name, so "apigateway" covers the REST
    and the HTTP/WebSocket APIs (one IAM prefix on AWS) while "apigatewayv2" covers only the latter.
    """

    service: str | None = None
    region: str | None = None
    operation: str | None = None

    def matches(self, service: str | None, signing_name: str | None, region: str | None,
                operation: str | None) -> bool:
        if self.service and self.service not in (service, signing_name):
            return False
        if self.region and self.region != region:
            return False
        return not self.operation or _norm(self.operation) == _norm(operation)


FAULT_KINDS = ("error", "reset", "truncate", "malformed")


@dataclass
class Fault(Matcher):
    code: str = "AccessDeniedException"
    status: int = 403
    message: str | None = None  # None: a message that fits the code
    count: int | None = None  # None: until removed
    kind: str = "error"  # one of FAULT_KINDS; code, status and message apply to "error" only
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass
class Delay(Matcher):
    seconds: float = 0.0
    count: int | None = None  # None: until removed


class FaultRules:
    """The active faults and delays; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(**{k: v for k, v in spec.items() if k in Fault.__dataclass_fields__ and k != "id"})
        if fault.count is not None and fault.count <= 0:
            raise ValueError("count must be a positive number of requests, or null for every request")
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {fault.kind!r}")
        if not fault.message:
            fault.message = default_message(fault.code, fault.operation)
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove_fault(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take_fault(self, service: str | None, signing_name: str | None, region: str | None,
                   operation: str | None) -> Fault | None:
        """The first fault matching the request, counting it down; None when the request goes through."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, signing_name, region, operation):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def set_delay(self, spec: dict[str, Any]) -> None:
        """Sets the latency of matching requests; 0 seconds removes the rule for that service and operation."""
        delay = Delay(**{k: v for k, v in spec.items() if k in Delay.__dataclass_fields__})
        if delay.count is not None and delay.count <= 0:
            raise ValueError("count must be a positive number of requests, or null for every request")
        with self._lock:
            self._delays = [d for d in self._delays
                            if (d.service, d.region, _norm(d.operation)) != (delay.service, delay.region,
                                                                             _norm(delay.operation))]
            if delay.seconds > 0:
                self._delays.append(delay)

    def clear_delays(self) -> None:
        with self._lock:
            self._delays.clear()

    def delay_for(self, service: str | None, signing_name: str | None, region: str | None,
                  operation: str | None) -> float:
        """The latency of this request: the longest matching delay, counting counted ones down."""
        with self._lock:
            matching = [d for d in self._delays if d.matches(service, signing_name, region, operation)]
            for delay in matching:
                if delay.count is not None:
                    delay.count -= 1
                    if delay.count <= 0:
                        self._delays.remove(delay)
            return max((d.seconds for d in matching), default=0.0)
