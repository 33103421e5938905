"""Many accounts at once: `check fsbp apigateway` over N accounts of M APIs each, on a sandbox enforcing AWS's quotas.

    python benchmarks/org.py              # N = 1, 3, 10 accounts of 10 REST APIs (+2 HTTP APIs) each
    python benchmarks/org.py 1 3 --apis 20

Each N runs against a fresh sandbox (`Sandbox(aws_quotas=...)`): N accounts, each built with the estate of
benchmarks/fetch.py (M REST APIs + M/5 HTTP APIs over two regions) through AssumeRole credentials of that
account, each holding a role AuditRole that trusts the caller. The quotas (API Gateway 10/s, burst 40, per
account: sandbox/quotas.py) are switched on after the build; then one connection reads all N accounts with
`--role-name AuditRole --accounts ...` and runs the same controls as benchmarks/quota.py. Printed per N:
the calls (AssumeRole and the session's own excluded), the fewest and most calls of one account, the
wall time of the check, the CPU time this process spent on it (the sandbox's is its own process's), the quota bound of benchmarks/quota.py (the least time the slowest account's
buckets allow: accounts have buckets of their own, so it does not grow with N), and the wall time as a
multiple of the one-account run's. Goal: calls = one account's times N; wall <= 1.3x one account's up to 10.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import apigw_sql  # noqa: E402
from apigw_sql.controls.runner import run_controls  # noqa: E402
from apigw_sql.sandbox import Sandbox  # noqa: E402
from fetch import REGIONS, build_estate  # noqa: E402
from quota import fetch_span, quota_bound  # noqa: E402

CALLER = "123456789012"  # the sandbox's default account: the audit runs from here
ROLE = "AuditRole"


class AccountClients:
    """`Sandbox.client` for one other account (the credentials of a role assumed there): what build_estate needs."""

    def __init__(self, sb: Sandbox, account: str):
        self.sb = sb
        self.key = sb.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup",
                                                RoleSessionName="setup")["Credentials"]["AccessKeyId"]
        self.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": f"arn:aws:iam::{CALLER}:root"}}]}))

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.sb.client(service, region, access_key_id=self.key)


def run(n: int, apis: int, share: float) -> dict[str, Any]:
    accounts = [f"{100000000000 + i:012d}" for i in range(1, n + 1)]
    with Sandbox(seed=False) as sb:
        built = time.monotonic()
        for account in accounts:
            build_estate(AccountClients(sb, account), apis)  # type: ignore[arg-type]
        built = time.monotonic() - built
        sb.set_quotas(True, share)
        # No disk cache: every run is a cold one (a fresh sandbox reuses account ids and regions).
        con = apigw_sql.connect(endpoint_url=sb.endpoint_url, regions=REGIONS, rate_limit=True, call_cache=False,
                                role_name=ROLE, accounts=accounts)
        started, cpu = time.monotonic(), time.process_time()
        report = run_controls(con, ["fsbp", "apigateway"])
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        log = [r for r in con.fetch_log if not r.table.startswith("(")]
        refused = sum(sb.quota_counts().get("refused", {}).values())
        con.close()
    per_account = collections.Counter(r.account_id for r in log)
    return {"n": n, "apis": apis, "built": built, "calls": len(log),
            "min_calls": min(per_account.values()), "max_calls": max(per_account.values()),
            "failed": sum(1 for r in log if r.error_code), "throttled": refused,
            "control_errors": sum(1 for r in report.results if r.error),
            "alarm_accounts": len({f.account_id for f in report.findings if f.status == "alarm"}),
            "wall": wall, "cpu": cpu, "fetch": fetch_span(log), "bound": quota_bound(log, share),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", type=int, nargs="*", default=[1, 3, 10], help="numbers of accounts (default 1 3 10)")
    parser.add_argument("--apis", type=int, default=10, help="REST APIs per account (default 10)")
    parser.add_argument("--quota-share", type=float, default=0.0, metavar="F",
                        help="another client uses this share of each account's quotas (as in benchmarks/quota.py)")
    args = parser.parse_args()
    print(f"{'accounts':>8} {'calls':>6} {'per acct':>10} {'failed':>6} {'throttled':>9} {'errors':>6} "
          f"{'wall s':>7} {'cpu s':>6} {'fetch s':>7} {'bound s':>7} {'x one':>6} {'calls x one':>11}")
    one: dict[str, Any] | None = None
    for n in args.accounts:
        r = run(n, args.apis, args.quota_share)
        one = one or (r if n == 1 else None)
        ratio = f"{r['wall'] / one['wall']:.2f}" if one else "-"
        calls_ratio = f"{r['calls'] / one['calls']:.2f}" if one else "-"
        print(f"{n:>8} {r['calls']:>6} {r['min_calls']:>4}-{r['max_calls']:<5} {r['failed']:>6} {r['throttled']:>9} "
              f"{r['control_errors']:>6} {r['wall']:>7.1f} {r['cpu']:>6.1f} {r['fetch']:>7.1f} {r['bound']:>7.1f} {ratio:>6} "
              f"{calls_ratio:>11}", flush=True)
    print(f"\n{args.apis} REST APIs (+{max(1, args.apis // 5)} HTTP APIs) per account over {', '.join(REGIONS)}; "
          f"quota share of another client {args.quota_share}; load average {os.getloadavg()[0]:.1f}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
