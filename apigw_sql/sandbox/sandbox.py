"""`Sandbox`: start, steer and stop an AWS-compatible server on loopback from Python.

    >>> with Sandbox(seed=True) as sb:                               # doctest: +SKIP
    ...     sb.client("apigateway", "eu-west-1").get_rest_apis()["items"]
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterable

from .server import READY, ServerThread

DEMO_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
DEMO_ACCOUNT_ID = "123456789012"  # moto's default account
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
START_TIMEOUT = 90.0


class SandboxError(RuntimeError):
    """The sandbox could not start, or refused a control request."""


class Sandbox:
    """An AWS-compatible server (moto plus apigw-sql's extensions) on 127.0.0.1.

    `in_process=False` runs the server as a child process, so that it uses another core and dies with
    its parent; `in_process=True` runs it in a thread of this process (moto's state is then this
    process's global state: run one in-process sandbox at a time).
    """

    def __init__(self, port: int = 0, seed: bool = True, in_process: bool = False, aws_quotas: bool = False,
                 quota_share: float = 0.0) -> None:
        """`aws_quotas` enforces AWS's request quotas once the sandbox is seeded (see quotas.py), with a
        simulated second client using `quota_share` of each; set_quotas changes that later."""
        if not 0.0 <= quota_share < 1.0:
            raise SandboxError("the quota share must be at least 0 and below 1 (0.5: another client uses half)")
        self.port = port
        self.seed = seed
        self.in_process = in_process
        self.aws_quotas = aws_quotas
        self.quota_share = quota_share
        self.regions: tuple[str, ...] = DEMO_REGIONS
        self.estate: dict[str, Any] = {}  # what seed_demo created (names -> ids per region); {} when not seeded
        self._thread: ServerThread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._child_log: Any = None

    # Life cycle

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise SandboxError("the sandbox is not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Sandbox:
        """Starts the server, waits until it answers, and seeds the demo estate when `seed`; returns self."""
        if self._thread or self._child:
            return self
        if not self.in_process:
            self._start_child()
            if self.aws_quotas:
                self.set_quotas(True, self.quota_share)
            return self
        self._thread = ServerThread(self.port).start()
        self.port = self._thread.port
        try:
            self._wait_healthy()
            if self.seed:
                from .seed import seed_demo

                self.estate = seed_demo(self)
                self.flush_logs()  # the seeded history is in the trails' buckets from the start
            if self.aws_quotas:
                self.set_quotas(True, self.quota_share)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_child(self) -> None:
        args = [sys.executable, "-m", "apigw_sql.sandbox.server", "--port", str(self.port),
                "--parent-pid", str(os.getpid()), "--watch-stdin"]
        if not self.seed:
            args.append("--empty")
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # so the child imports this very apigw_sql
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._child_log = tempfile.TemporaryFile()
        # A session of its own: Ctrl-C in the terminal interrupts the parent, which decides when the
        # server stops; the server must not die under it mid-test.
        self._child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self._child_log, env=env, start_new_session=True)
        assert self._child.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._child.stdout], [], [], 0.2)
            if ready:
                line = self._child.stdout.readline()
                if line.startswith(READY.encode()) or not line:
                    break
            elif self._child.poll() is not None:
                break
        if not line.startswith(READY.encode()):
            log = self._child_output()
            self.stop()
            raise SandboxError(f"the sandbox server did not start: {log.strip()[-2000:] or 'no output'}")
        _, port, estate = line.decode().split(" ", 2)
        self.port = int(port)
        self.estate = json.loads(estate)

    @property
    def server_pid(self) -> int | None:
        """The server's process id in child-process mode (None in-process or when stopped)."""
        return self._child.pid if self._child is not None else None

    def _child_output(self) -> str:
        if self._child_log is None:
            return ""
        self._child_log.seek(0)
        return str(self._child_log.read().decode("utf-8", "replace"))

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self._control("GET", "health")
                return
            except (SandboxError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stops the server; its state is lost."""
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self._child is not None:
            child, self._child = self._child, None
            if child.stdin:
                child.stdin.close()  # the child exits on end of file
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)
            if child.stdout:
                child.stdout.close()
        if self._child_log is not None:
            self._child_log.close()
            self._child_log = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # Clients

    def env(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI, boto3 and other SDKs at the sandbox."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": DEMO_REGIONS[0]}

    def client(self, service: str, region: str = "us-east-1", access_key_id: str = ACCESS_KEY_ID) -> Any:
        """A plain boto3 client to the sandbox (one attempt, no retries); writes are allowed.

        access_key_id="ROOTACCESSKEY" makes the calls appear in CloudTrail as the root user's.
        """
        return make_client(self.endpoint_url, service, region, access_key_id)

    # Steering (over the control endpoint, so that it works in both modes)

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return control_request(self.endpoint_url, method, path, body)

    def add_fault(self, service: str | None = None, region: str | None = None, operation: str | None = None,
                  code: str = "AccessDeniedException", status: int = 403, message: str | None = None,
                  count: int | None = None, kind: str = "error") -> str:
        """Makes matching requests fail with this AWS error (all of them, or the next `count`); returns its id.

        `service` is a botocore service name or a signing name ("apigateway" covers v1 and v2);
        `operation` is the API name (GetRestApis) or the boto3 method name (get_rest_apis). Without a
        `message`, one that fits the code is used ("... is not authorized to perform: ...", "Rate exceeded").
        `kind` "reset", "truncate" or "malformed" breaks the connection or the answer instead (faults.py).
        """
        return str(self._control("POST", "faults", {"service": service, "region": region, "operation": operation,
                                                    "code": code, "status": status, "message": message,
                                                    "count": count, "kind": kind})["id"])

    def remove_fault(self, fault_id: str) -> None:
        self._control("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def set_delay(self, seconds: float, service: str | None = None, operation: str | None = None,
                  region: str | None = None, count: int | None = None) -> None:
        """Adds `seconds` of latency to matching requests (all, or the next `count`); 0 removes that rule."""
        self._control("POST", "delays", {"seconds": seconds, "service": service, "operation": operation,
                                         "region": region, "count": count})

    def clear_delays(self) -> None:
        self._control("DELETE", "delays")

    def record_events(self, region: str, records: Iterable[dict[str, Any]]) -> list[str]:
        """Plants CloudTrail records (any eventTime, e.g. days ago) for LookupEvents; returns their eventIDs.

        Missing fields get defaults (an IAM user, eventSource apigateway.amazonaws.com, ...).
        """
        return list(self._control("POST", "events", {"region": region, "records": list(records)})["eventIds"])

    def flush_logs(self) -> int:
        """Writes the CloudTrail records still buffered into log files in the trails' buckets; returns
        the number of files written. Call it before reading the log files of recent calls."""
        return int(self._control("POST", "flush-logs", {})["files"])

    def set_trail_status(self, trail: str, region: str = "us-east-1", **fields: Any) -> str:
        """Plants GetTrailStatus fields (LatestDeliveryError="AccessDenied", LatestDeliveryTime=...);
        `trail` is a name in `region` or an ARN; a field set to None is removed. Returns the trail ARN."""
        return str(self._control("POST", "trail-status", {"trail": trail, "region": region,
                                                          "fields": fields})["trailArn"])

    def set_truststore_warnings(self, domain_name: str, warnings: list[str], region: str = "us-east-1",
                                api: str = "rest") -> None:
        """Plants mutual TLS truststore warnings on a REST (api="rest") or v2 (api="v2") custom domain."""
        self._control("POST", "truststore-warnings", {"domainName": domain_name, "warnings": warnings,
                                                      "region": region, "api": api})

    def backdate(self, kind: str, ident: str, days: float, region: str = "us-east-1") -> None:
        """Ages a client certificate ("client-certificate") or an API key ("api-key") by `days`."""
        self._control("POST", "backdate", {"kind": kind, "id": ident, "days": days, "region": region})

    def set_quotas(self, enabled: bool = True, share: float = 0.0) -> None:
        """Enforces AWS's request quotas (fresh, full buckets), a second client using `share` of each;
        or stops enforcing them (enabled=False)."""
        self._control("POST", "quotas", {"enabled": enabled, "share": share})

    def quota_counts(self) -> dict[str, Any]:
        """{enabled, share, admitted: {budget: n}, refused: {budget: n}} of the quotas enforced."""
        return self._control("GET", "quotas")

    def reset(self) -> None:
        """Empties the sandbox: moto's state, recorded events, faults, delays."""
        self._control("POST", "reset", {})


def control_request(endpoint_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One JSON request to the sandbox's control endpoint (see control.py); raises SandboxError on refusal."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint_url}/_sandbox/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        raise SandboxError(f"sandbox control {method} {path} failed ({error.code}): {detail}") from None
    return json.loads(payload) if payload else {}


_session_lock = threading.Lock()
_session: Any = None


def make_client(endpoint_url: str, service: str, region: str, access_key_id: str = ACCESS_KEY_ID) -> Any:
    """A boto3 client to `endpoint_url` with dummy credentials and a single attempt per call."""
    global _session
    import boto3
    import botocore.session
    from botocore.config import Config

    with _session_lock:  # one botocore session: its loaded models are reused by every client
        if _session is None:
            # Ignore AWS_PROFILE: a profile the sandbox user happens to have set must not matter here.
            _session = boto3.session.Session(
                botocore_session=botocore.session.Session(session_vars={"profile": (None, None, None, None)}))
        return _session.client(service, endpoint_url=endpoint_url, region_name=region,
                               aws_access_key_id=access_key_id, aws_secret_access_key=SECRET_ACCESS_KEY,
                               # botocore reads "max_attempts" as retries after the first try;
                               # "total_max_attempts" counts every try, so 1 means no retry at all.
                               config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
