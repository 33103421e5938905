"""How close `check fsbp apigateway` comes to AWS's quotas: on a sandbox that enforces them, as AWS does.

    python benchmarks/quota.py                       # 50 and 200 REST APIs (+20% HTTP APIs)
    python benchmarks/quota.py 50 --quota-share 0.5  # another client uses half of every quota
    python benchmarks/quota.py --activity            # cloudtrail_activity over LookupEvents in 2 regions
    python benchmarks/quota.py 50 --no-rate-limit    # no pacing: throttled calls are retried, none lost
    python benchmarks/quota.py 50 --prowler          # ours and Prowler 5.46, side by side, same estate

Each size runs in a fresh process against a fresh sandbox (`Sandbox(aws_quotas=...)`, the estate of
benchmarks/fetch.py, built before the quotas are switched on). Prints the API calls made, the throttled
answers (the sandbox's count and the fetch log's), the calls that failed, the controls in error, the
wall time of the check (and of its fetch alone: first call sent to last answer), and the quota bound for the calls made: the least time AWS's token buckets
allow for them, max((API Gateway calls - 40) / 10, (GetResources - 5) / 2.5), with the refill rates
cut by the share another client uses; then the ratio wall / bound and the process's peak RSS.
The activity run plants events in two regions and reads them back through LookupEvents (2/s per
region, burst 2): its bound is the slower region's (calls - 2) / 2, as both regions are read at once.

With --prowler, each size also runs Prowler (installed from PyPI into its own virtual environment, as
benchmarks/vs_prowler.py does) on a fresh quota sandbox holding the same estate: `prowler aws --services
apigateway apigatewayv2`, both regions. Prowler keeps no call log we can read, so its figures come from
the sandbox: every request it sends is recorded as a CloudTrail event (the refused ones with their error
code), read back after the run through LookupEvents with the quotas switched off. Its calls are the
requests less the refused attempts that a later identical request (same operation, region and
parameters) got through; its failed calls are the refused requests never followed by such a success;
its throttled count is the sandbox's count of refusals (`quota_counts()`, cross-checked against the
events). Its bound is the same formula over the requests the sandbox admitted, its wall time that of the
whole process (about 5 s of it importing Prowler), its peak RSS that of the Prowler process. Prowler
runs at log level ERROR (its default, CRITICAL, hides the calls it gave up on), and the lines of its log
naming an error or throttling are counted as a second view of its failed calls. The load
average is printed beside each run, as the figures move with it.
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import apigw_sql  # noqa: E402
from apigw_sql.controls.runner import run_controls  # noqa: E402
from apigw_sql.sandbox import Sandbox  # noqa: E402
from apigw_sql.sandbox.quotas import QUOTAS  # noqa: E402
from fetch import REGIONS, build_estate  # noqa: E402
from vs_prowler import DEFAULT_VENV, ensure_prowler  # noqa: E402

ACTIVITY_EVENTS = 1000  # per region: 20 pages of 50
PROWLER_VERSION = "5.46.*"
PROWLER_SERVICES = ("apigateway", "apigatewayv2")
THROTTLING_CODES = {q.code for q in QUOTAS.values()}


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


def recorded_requests(sb: Sandbox, since: datetime) -> list[dict]:
    """Every request the sandbox recorded from `since` on (CloudTrail records, oldest first), in REGIONS.

    Read through LookupEvents with the quotas off (our own lookups are left out)."""
    sb.set_quotas(False)
    records: list[dict] = []
    for region in REGIONS:
        client = sb.client("cloudtrail", region)
        kwargs = {"StartTime": since, "EndTime": datetime.now(timezone.utc) + timedelta(seconds=1), "MaxResults": 50}
        while True:
            page = client.lookup_events(**kwargs)
            records += [json.loads(e["CloudTrailEvent"]) for e in page.get("Events", [])
                        if e.get("EventName") != "LookupEvents"]
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    # LookupEvents answers newest first; a stable sort on the second-resolution time keeps that order reversed.
    records.reverse()
    records.sort(key=lambda r: r["eventTime"])
    return records


def settle_requests(records: list[dict]) -> tuple[int, int, collections.Counter]:
    """(calls, failed, other errors by code) of recorded requests: a throttled request followed later by an
    identical one (operation, region, parameters) that got through was retried; one never followed so failed."""
    pending: collections.Counter = collections.Counter()
    calls = 0
    errors: collections.Counter = collections.Counter()
    for r in records:
        key = (r["eventSource"], r["eventName"], r["awsRegion"], json.dumps(r.get("requestParameters"), sort_keys=True))
        code = r.get("errorCode")
        if code in THROTTLING_CODES:
            pending[key] += 1
            continue
        calls += 1
        pending[key] = 0
        if code:
            errors[code] += 1
    failed = sum(pending.values())
    return calls + failed, failed, errors


def run_prowler(n: int, share: float) -> dict:
    """Prowler's apigateway and apigatewayv2 checks on a fresh quota sandbox holding the estate of `n` APIs."""
    prowler = ensure_prowler(DEFAULT_VENV, PROWLER_VERSION)
    with Sandbox(seed=False) as sb, tempfile.TemporaryDirectory() as out:
        build_estate(sb, n)
        time.sleep(1.1 - time.time() % 1)  # the estate's records end in an earlier second than Prowler's begin
        since = datetime.now(timezone.utc).replace(microsecond=0)
        sb.set_quotas(True, share)
        env = {**os.environ, **sb.env(), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        started = time.monotonic()
        done = subprocess.run([str(prowler), "aws", "--services", *PROWLER_SERVICES, "-f", *REGIONS, "--no-banner",
                               "-M", "csv", "-o", out, "--log-level", "ERROR"], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the sandbox is not reaped yet
        if done.returncode not in (0, 3):  # 3: the scan worked and some checks failed
            raise SystemExit(f"prowler failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        counts = sb.quota_counts()
        records = recorded_requests(sb, since)
        findings = collections.Counter(row.get("STATUS", "?") for f in Path(out).glob("*.csv")
                                       for row in csv.DictReader(f.open(newline=""), delimiter=";"))
    calls, failed, errors = settle_requests(records)
    admitted = [SimpleNamespace(service=r["eventSource"].split(".")[0], operation=r["eventName"],
                                account_id=r["recipientAccountId"], region=r["awsRegion"])
                for r in records if r.get("errorCode") not in THROTTLING_CODES]
    times = [datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")) for r in records]
    log_lines = (done.stdout + done.stderr).splitlines()
    return {"what": f"Prowler {', '.join(PROWLER_SERVICES)}, {n} REST + {max(1, n // 5)} HTTP APIs", "share": share,
            "requests": len(records), "calls": calls,
            "apigateway_calls": sum(1 for r in admitted if r.service.startswith("apigateway")),
            "get_resources": sum(1 for r in admitted if r.operation == "GetResources"),
            "throttled": sum(counts.get("refused", {}).values()),
            "throttled_events": sum(1 for r in records if r.get("errorCode") in THROTTLING_CODES),
            "failed": failed, "other_errors": dict(errors), "findings": dict(findings),
            "error_lines": sum(1 for line in log_lines if "ERROR" in line),
            "throttling_lines": sum(1 for line in log_lines if any(c in line for c in THROTTLING_CODES)),
            "wall": wall, "fetch": (max(times) - min(times)).total_seconds() if times else 0.0,
            "bound": quota_bound(admitted, share), "rss_mb": rss_mb}


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


def show_prowler(row: dict) -> None:
    ratio = row["wall"] / row["bound"] if row["bound"] else float("nan")
    share = f", other client {row['share']:.0%}" if row["share"] else ""
    others = ", ".join(f"{code} {n}" for code, n in sorted(row["other_errors"].items())) or "none"
    print(f"{row['what']}{share}:")
    print(f"  calls {row['calls']} (API Gateway {row['apigateway_calls']}, GetResources {row['get_resources']}; "
          f"{row['requests']} requests sent); throttled {row['throttled']} (recorded {row['throttled_events']}); "
          f"failed {row['failed']} (throttled, never retried through); other errors {others}")
    print(f"  its log: {row['error_lines']} ERROR lines, {row['throttling_lines']} naming throttling; "
          f"findings {sum(row['findings'].values())} ("
          + ", ".join(f"{status} {n}" for status, n in sorted(row["findings"].items())) + ")")
    print(f"  wall {row['wall']:.1f} s (first call to last answer {row['fetch']:.0f} s, to the second); quota bound "
          f"{row['bound']:.1f} s; ratio {ratio:.2f}; peak RSS {row['rss_mb']:.0f} MB", flush=True)


def side_by_side(pairs: list[tuple[int, dict, dict]]) -> None:
    """One column per tool and size."""
    heads = [f"{who} {n}" for n, _, _ in pairs for who in ("apigw-sql", "Prowler")]
    rows = [r for _, ours, theirs in pairs for r in (ours, theirs)]
    lines = [("calls", lambda r: f"{r['calls']}"), ("API Gateway calls", lambda r: f"{r['apigateway_calls']}"),
             ("GetResources", lambda r: f"{r['get_resources']}"), ("throttled", lambda r: f"{r['throttled']}"),
             ("failed", lambda r: f"{r['failed']}"), ("wall s", lambda r: f"{r['wall']:.1f}"),
             ("quota bound s", lambda r: f"{r['bound']:.1f}"),
             ("wall / bound", lambda r: f"{r['wall'] / r['bound']:.2f}" if r["bound"] else "-"),
             ("peak RSS MB", lambda r: f"{r['rss_mb']:.0f}"), ("load average (1 min)", lambda r: f"{r['load']:.1f}")]
    width = max(len(h) for h in heads) + 2
    print(f"\n{'':<22}" + "".join(f"{h:>{width}}" for h in heads))
    for label, cell in lines:
        print(f"{label:<22}" + "".join(f"{cell(r):>{width}}" for r in rows))


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1, 5, 15 min; 2 cores)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", help="numbers of REST APIs (default 50 200)")
    parser.add_argument("--quota-share", type=float, default=0.0, metavar="F",
                        help="share of every quota a simulated second client uses (default 0)")
    parser.add_argument("--activity", action="store_true", help="run the LookupEvents activity benchmark instead")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="no client-side pacing (throttled calls are still retried)")
    parser.add_argument("--prowler", action="store_true",
                        help=f"also run Prowler {PROWLER_VERSION} on the same estate and quotas, in its own venv "
                             f"({DEFAULT_VENV}; installed from PyPI on first use)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in this process; prints JSON
    parser.add_argument("--one-prowler", action="store_true", help=argparse.SUPPRESS)  # --one runs Prowler
    args = parser.parse_args()
    if args.one is not None:
        row = (run_prowler(args.one, args.quota_share) if args.one_prowler
               else run_activity(args.quota_share) if args.one == 0
               else run_check(args.one, args.quota_share, paced=not args.no_rate_limit))
        print(json.dumps(row))
        return 0
    if args.prowler and args.activity:
        parser.error("--prowler compares `check fsbp apigateway` runs; it does not go with --activity")
    if args.prowler:
        ensure_prowler(DEFAULT_VENV, PROWLER_VERSION)  # once, before any timing
    sizes = [0] if args.activity else (args.sizes or [50, 200])
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {load()}", flush=True)
    worst = 0
    pairs = []
    for n in sizes:  # each in a fresh process: peak RSS is that run's own
        rows = []
        for prowler in (False, True) if args.prowler else (False,):
            row = _run_one(n, args.quota_share, args.no_rate_limit, prowler)
            if row is None:
                worst = 1
                continue
            row["load"] = os.getloadavg()[0]
            (show_prowler if prowler else show)(row)
            print(f"  {load()}", flush=True)
            rows.append(row)
            if not prowler:
                worst = max(worst, 1 if row["failed"] or row["control_errors"] else 0)
        if len(rows) == 2:
            pairs.append((n, *rows))
    if pairs:
        side_by_side(pairs)
    return worst


def _run_one(n: int, share: float, no_rate_limit: bool, prowler: bool) -> dict | None:
    """One run in a fresh process: its row, or None after printing why it failed."""
    out = subprocess.run([sys.executable, __file__, "--one", str(n), "--quota-share", str(share),
                          *(["--no-rate-limit"] if no_rate_limit else []), *(["--one-prowler"] if prowler else [])],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
