"""How close `check fsbp apigateway` comes to AWS's quotas: on a sandbox that enforces them, as AWS does.

    python benchmarks/quota.py                       # 50 and 200 REST APIs (+20% HTTP APIs)
    python benchmarks/quota.py 50 --quota-share 0.5  # another client uses half of every quota
    python benchmarks/quota.py --activity            # cloudtrail_activity over LookupEvents in 2 regions
    python benchmarks/quota.py 50 --no-rate-limit    # no pacing: throttled calls are retried, none lost

Each size runs in a fresh process against a fresh sandbox (`Sandbox(aws_quotas=...)`, the estate of
benchmarks/fetch.py, built before the quotas are switched on). Prints the API calls made, the throttled
answers (the sandbox's count and the fetch log's), the calls that failed, the controls in error, the
wall time of the check (and of its fetch alone: first call sent to last answer), and the quota bound for the calls made: the least time AWS's token buckets
allow for them, max((API Gateway calls - 40) / 10, (GetResources - 5) / 2.5), with the refill rates
cut by the share another client uses; then the ratio wall / bound and the process's peak RSS.
The activity run plants events in two regions and reads them back through LookupEvents (2/s per
region, burst 2): its bound is the slower region's (calls - 2) / 2, as both regions are read at once.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import apigw_sql  # noqa: E402
from apigw_sql.controls.runner import run_controls  # noqa: E402
from apigw_sql.sandbox import Sandbox  # noqa: E402
from apigw_sql.sandbox.quotas import QUOTAS  # noqa: E402
from fetch import REGIONS, build_estate  # noqa: E402

ACTIVITY_EVENTS = 1000  # per region: 20 pages of 50


def quota_bound(log: list, share: float) -> float:
    """Least seconds AWS's buckets (cut by `share`) allow for these calls."""
    count: collections.Counter = collections.Counter()
    for r in log:
        signing = "apigateway" if r.service.startswith("apigateway") else r.service
        for key in ((signing, None), (signing, r.operation)):
            quota = QUOTAS.get(key)
            if quota is not None:
                count[(quota, r.account_id, r.region if quota.per_region else "")] += 1
    return max([max(0.0, (n - q.burst) / (q.rate * (1 - share))) for (q, *_), n in count.items()] or [0.0])


def fetch_span(log: list) -> float:
    """Seconds from the first call sent to the last answer: the fetch alone, without planning and SQL."""
    if not log:
        return 0.0
    first = min(r.started_at for r in log)
    return max((r.started_at - first).total_seconds() + r.duration_ms / 1000 for r in log)


def run_check(n: int, share: float, paced: bool = True) -> dict:
    with Sandbox(seed=False) as sb:
        build_estate(sb, n)
        sb.set_quotas(True, share)
        con = apigw_sql.connect(endpoint_url=sb.endpoint_url, regions=REGIONS, rate_limit=paced)
        started = time.monotonic()
        report = run_controls(con, ["fsbp", "apigateway"])
        wall = time.monotonic() - started
        log = [r for r in con.fetch_log if r.table != "(session)"]
        counts = sb.quota_counts()
        states = con.fetcher.scheduler.states()
        con.close()
    by_op = collections.Counter(f"{r.operation}" for r in log)
    return {"what": f"check fsbp apigateway, {n} REST + {max(1, n // 5)} HTTP APIs"
                    + ("" if paced else ", --no-rate-limit"), "share": share,
            "calls": len(log), "apigateway_calls": sum(1 for r in log if r.service.startswith("apigateway")),
            "get_resources": by_op["GetResources"],
            "throttled": sum(counts.get("refused", {}).values()),
            "throttled_logged": sum(r.throttled_retries for r in log),
            "failed": sum(1 for r in log if r.error_code), "control_errors": sum(1 for r in report.results if r.error),
            "wall": wall, "fetch": fetch_span(log), "bound": quota_bound(log, share),
            "rate_halvings": sum(s.decreases for s in states),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_activity(share: float) -> dict:
    with Sandbox(seed=False) as sb:
        now = datetime.now(timezone.utc)
        for region in REGIONS:
            records = [{"eventTime": (now - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "eventSource": "apigateway.amazonaws.com", "eventName": "GetRestApis"}
                       for i in range(ACTIVITY_EVENTS)]
            sb.record_events(region, records)
        sb.set_quotas(True, share)
        con = apigw_sql.connect(endpoint_url=sb.endpoint_url, regions=REGIONS, rate_limit=True, cloudtrail_logs=[])
        started = time.monotonic()
        report = run_controls(con, ["cloudtrail_activity"])
        wall = time.monotonic() - started
        log = [r for r in con.fetch_log if r.table != "(session)"]
        counts = sb.quota_counts()
        con.close()
    per_region = collections.Counter(r.region for r in log if r.operation == "LookupEvents")
    return {"what": f"check cloudtrail_activity, LookupEvents in {len(REGIONS)} regions "
                    f"({', '.join(f'{k}: {v}' for k, v in sorted(per_region.items()))} calls)", "share": share,
            "calls": len(log), "throttled": sum(counts.get("refused", {}).values()),
            "throttled_logged": sum(r.throttled_retries for r in log),
            "failed": sum(1 for r in log if r.error_code), "control_errors": sum(1 for r in report.results if r.error),
            "wall": wall, "fetch": fetch_span(log), "bound": quota_bound(log, share),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def show(row: dict) -> None:
    ratio = row["wall"] / row["bound"] if row["bound"] else float("nan")
    share = f", other client {row['share']:.0%}" if row["share"] else ""
    print(f"{row['what']}{share}:")
    print(f"  calls {row['calls']}" + (f" (API Gateway {row['apigateway_calls']}, GetResources "
                                       f"{row['get_resources']})" if "get_resources" in row else "")
          + f"; throttled {row['throttled']} (logged {row['throttled_logged']})"
          + (f", rate halvings {row['rate_halvings']}" if "rate_halvings" in row else "")
          + f"; failed {row['failed']}; control errors {row['control_errors']}")
    print(f"  wall {row['wall']:.1f} s (first call to last answer {row['fetch']:.1f} s); quota bound "
          f"{row['bound']:.1f} s; ratio {ratio:.2f}; peak RSS {row['rss_mb']:.0f} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", help="numbers of REST APIs (default 50 200)")
    parser.add_argument("--quota-share", type=float, default=0.0, metavar="F",
                        help="share of every quota a simulated second client uses (default 0)")
    parser.add_argument("--activity", action="store_true", help="run the LookupEvents activity benchmark instead")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="no client-side pacing (throttled calls are still retried)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in this process; prints JSON
    args = parser.parse_args()
    if args.one is not None:
        row = (run_activity(args.quota_share) if args.one == 0
               else run_check(args.one, args.quota_share, paced=not args.no_rate_limit))
        print(json.dumps(row))
        return 0
    sizes = [0] if args.activity else (args.sizes or [50, 200])
    worst = 0
    for n in sizes:  # each in a fresh process: peak RSS is that run's own
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--quota-share", str(args.quota_share),
                              *(["--no-rate-limit"] if args.no_rate_limit else [])], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            worst = 1
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        show(row)
        worst = max(worst, 1 if row["failed"] or row["control_errors"] else 0)
    return worst


if __name__ == "__main__":
    sys.exit(main())
