"""A warm-cache `check all` on a 1,000-API estate: how long a second run takes when every answer is on disk.

    python benchmarks/warm_cache.py            # 1,000 APIs: 800 REST, 200 HTTP
    python benchmarks/warm_cache.py 200        # a smaller estate
    python benchmarks/warm_cache.py --warm 3   # three warm runs (the figures of each)

Builds the estate in an in-process sandbox straight through moto's backends (an HTTP call per resource
would take minutes at the sandbox's ~170 calls/s): REST APIs with one GET method on the root and one
stage, HTTP APIs with one stage, spread over us-east-1 and eu-west-1. Then runs `apigw-sql check all`
as a user would, in a new process each time, against that sandbox with a cache folder of its own: once
cold (every call made, the answers and the tables built from them kept on disk), then warm. For each run
it prints the calls the sandbox answered (0 when warm), the wall and CPU seconds of the process, whether
its findings are those of the cold run (a reason's "before <minute> UTC" stamp aside: it is the clock's),
and the cache's size on disk (call files and kept tables).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("APIGW_SQL_NO_CACHE", None)

from apigw_sql.sandbox import Sandbox  # noqa: E402
from apigw_sql.sandbox import moto_backends  # noqa: E402
from apigw_sql.sandbox.sandbox import DEMO_ACCOUNT_ID  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")


def build_estate(apis: int) -> tuple[int, int]:
    """`apis` APIs (four REST for one HTTP) straight in moto's backends; returns (REST, HTTP)."""
    rest = http = 0
    for i in range(apis):
        region = REGIONS[i % len(REGIONS)]
        if i % 5 == 4:
            v2 = moto_backends.apigatewayv2(DEMO_ACCOUNT_ID, region)
            api = v2.create_api(api_key_selection_expression=None, cors_configuration=None, description="",
                                disable_schema_validation=None, disable_execute_api_endpoint=None,
                                name=f"warm-http-{i}", protocol_type="HTTP", route_selection_expression=None,
                                tags={}, version=None)
            v2.create_stage(api.api_id, {"stageName": "prod"})
            http += 1
            continue
        v1 = moto_backends.apigateway(DEMO_ACCOUNT_ID, region)
        api = v1.create_rest_api(name=f"warm-rest-{i}", description="",
                                 endpoint_configuration={"types": ["REGIONAL"]})
        root = next(iter(api.resources))
        v1.put_method(api.id, root, "GET", "NONE")
        v1.put_integration(api.id, root, "GET", "HTTP_PROXY", "https://backend.example.com/", "GET")
        v1.create_deployment(api.id, "prod")  # and its stage "prod"
        rest += 1
    return rest, http


class RequestCounter:
    """Counts the AWS requests the in-process sandbox answers."""

    def __init__(self, sandbox: Sandbox):
        app = sandbox._thread.app  # the in-process server's SandboxApp
        handle = app.handle
        self.count = 0
        lock = threading.Lock()

        def counted(environ: dict) -> object:
            with lock:
                self.count += 1
            return handle(environ)

        app.handle = counted


def cache_size(home: Path, pattern: str = "*.json") -> tuple[int, int]:
    files = [p for p in (home / "apigw-sql" / "calls").rglob(pattern) if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


_MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def judged(findings: list[dict]) -> list[str]:
    """The findings as comparable text: the minute a reason was written at (metrics' windows) left out."""
    return sorted(json.dumps({**f, "reason": _MINUTE.sub("<minute> UTC", f.get("reason") or "")}, sort_keys=True)
                  for f in findings)


def run_check(sandbox: Sandbox, home: Path, counter: RequestCounter) -> dict[str, float]:
    """`apigw-sql check all` in a new process; its calls, wall and CPU seconds."""
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    command = [sys.executable, "-m", "apigw_sql.cli", "check", "all", "--endpoint-url", sandbox.endpoint_url,
               "--regions", ",".join(REGIONS), "--no-rate-limit", "--output", "json"]
    before_calls, before_cpu = counter.count, resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"check all failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    if not done.stdout.strip():
        raise SystemExit(f"check all printed nothing ({done.returncode}): {done.stderr.strip()[-2000:]}")
    findings = json.loads(done.stdout)
    return {"calls": counter.count - before_calls, "wall": wall,
            "cpu": (after_cpu.ru_utime - before_cpu.ru_utime) + (after_cpu.ru_stime - before_cpu.ru_stime),
            "findings": judged(findings)}


def folder_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_snapshot(sandbox: Sandbox, home: Path, counter: RequestCounter, out: Path) -> dict[str, float]:
    """`apigw-sql collect --out OUT` (from the warm cache) then `check all --snapshot OUT`, each in a new
    process: calls, seconds and the snapshot's size on disk."""
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    before = counter.count
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "collect", "--endpoint-url", sandbox.endpoint_url,
                           "--regions", ",".join(REGIONS), "--no-rate-limit", "--out", str(out)],
                          env=env, capture_output=True, text=True)
    collected = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"collect failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    calls = counter.count - before
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "check", "all", "--snapshot", str(out),
                           "--output", "json"], env=env, capture_output=True, text=True)
    checked = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"check --snapshot failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return {"calls": calls, "collect": collected, "check": checked, "bytes": folder_size(out),
            "findings": len(json.loads(done.stdout))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apis", type=int, nargs="?", default=1000, help="APIs in the estate (default 1000)")
    parser.add_argument("--warm", type=int, default=2, help="warm runs (default 2)")
    args = parser.parse_args()
    with Sandbox(seed=False, in_process=True) as sandbox, tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        started = time.monotonic()
        rest, http = build_estate(args.apis)
        print(f"estate: {rest} REST APIs + {http} HTTP APIs in {len(REGIONS)} regions, built in "
              f"{time.monotonic() - started:.1f} s")
        counter = RequestCounter(sandbox)
        runs = [("cold", run_check(sandbox, home, counter))]
        files, size = cache_size(home)
        tables, table_bytes = cache_size(home, "*.arrow")
        runs += [(f"warm {n + 1}", run_check(sandbox, home, counter)) for n in range(args.warm)]
        cold = runs[0][1]["findings"]
        print("| run | calls | wall s | CPU s | findings | as cold |")
        print("|---|---|---|---|---|---|")
        for name, run in runs:
            print(f"| {name} | {run['calls']} | {run['wall']:.2f} | {run['cpu']:.2f} | {len(run['findings'])} | "
                  f"{'yes' if run['findings'] == cold else 'NO'} |")
        print(f"call cache on disk after the cold run: {files} files, {size / 1e6:.1f} MB, and {tables} kept "
              f"tables, {table_bytes / 1e6:.1f} MB")
        for name in ("snapshot.duckdb", "snapshot-parquet"):
            snap = run_snapshot(sandbox, home, counter, home / name)
            print(f"snapshot {name}: collect {snap['collect']:.1f} s wall ({snap['calls']} calls), "
                  f"{snap['bytes'] / 1e6:.1f} MB on disk; check all --snapshot {snap['check']:.1f} s wall, "
                  f"{snap['findings']} findings")
        if any(run["findings"] != cold for _, run in runs):
            print("a warm run's findings differ from the cold run's", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
