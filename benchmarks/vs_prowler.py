"""apigw-sql beside Prowler on the same sandbox estate: where the two agree, where they differ and why.

Prowler is installed from PyPI into its own virtual environment (never a dependency of apigw-sql), then
both tools audit one seeded sandbox: Prowler's apigateway, apigatewayv2 and cloudtrail checks, and every
apigw-sql configuration control (the `all` benchmark without the `cloudtrail_activity` controls, which judge events
and have no Prowler counterpart). For every Prowler check that one of our controls lists as an alias, each
resource Prowler judged is compared with our verdict on it (our stage-level findings roll up to Prowler's
API-level ones). Where the two tools judge different resources, Prowler's findings are first translated to ours:
its trail-bucket checks name the trail, ours the bucket (trail ARN -> arn:aws:s3:::BUCKET, from the sandbox's
DescribeTrails); its per-region or per-trail account checks become one account verdict (arn:aws:::ACCOUNT: PASS
when at least one of its findings passes). A disagreement is explained by Prowler's known looseness or a documented
difference in semantics when it matches one, and is otherwise reported as a possible apigw-sql bug, with both tools'
reasons.

    python benchmarks/vs_prowler.py                  # installs Prowler on first use (a few minutes)
    python benchmarks/vs_prowler.py --venv /tmp/prowler-venv --prowler-version '5.46.*'

Exit status: 0 when every disagreement is explained, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "apigw-sql" / "prowler-venv"
SERVICES = ("apigateway", "apigatewayv2", "cloudtrail")
OUR_BENCHMARKS = ("all",)
# Benchmarks left out of OUR_BENCHMARKS: the activity controls judge CloudTrail events; Prowler has no such checks.
EXCLUDED_BENCHMARKS = ("cloudtrail_activity",)
OUR_SELECTION = " + ".join(OUR_BENCHMARKS) + "".join(f" - {b}" for b in EXCLUDED_BENCHMARKS)

# Prowler checks that judge another resource than our control does, and how their findings become ours:
# "bucket": Prowler names the trail, we judge the trail's S3 bucket (arn:aws:s3:::NAME); trails sharing a bucket
#   are one verdict, FAIL if any of them fails.
# "account": Prowler reports per region or per trail (a PASS per qualifying trail, else one FAIL on the
#   arn:aws:cloudtrail:REGION:ACCOUNT:trail template), we judge the account (arn:aws:::ACCOUNT): PASS when at least
#   one of its findings passes (one qualifying trail covers the account), else FAIL.
RESOURCE_TRANSLATION: dict[str, str] = {
    "cloudtrail_bucket_requires_mfa_delete": "bucket",
    "cloudtrail_logs_s3_bucket_access_logging_enabled": "bucket",
    "cloudtrail_logs_s3_bucket_is_not_publicly_accessible": "bucket",
    "cloudtrail_multi_region_enabled": "account",
    "cloudtrail_multi_region_enabled_logging_management_events": "account",
    "cloudtrail_s3_dataevents_read_enabled": "account",
    "cloudtrail_s3_dataevents_write_enabled": "account",
}

# (Prowler check, Prowler's status, ours) -> why the tools differ by design. Every entry is a semantic choice
# recorded in shared/reference/controls.md or a documented limit of Prowler's implementation.
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("apigateway_restapi_logging_enabled", "PASS", "FAIL"):
        "Prowler passes a stage when ANY method logs; we follow the AWS Config rule: the */* default and every "
        "per-method override must log at ERROR or INFO",
    ("apigateway_restapi_authorizers_enabled", "PASS", "FAIL"):
        "Prowler passes an API that has an authorizer object even if some method does not use it; we judge "
        "each method's authorizationType",
    ("apigateway_restapi_authorizers_enabled", "FAIL", "PASS"):
        "Prowler fails an API whose methods all use AWS_IAM because it has no authorizer object; we count "
        "AWS_IAM as authorization",
    ("apigateway_restapi_public_with_authorizer", "PASS", "FAIL"):
        "Prowler passes a public API that has an authorizer object even if some method does not use it; we "
        "judge each method",
    ("apigateway_restapi_public_with_authorizer", "FAIL", "PASS"):
        "Prowler fails a public API whose methods all use AWS_IAM because it has no authorizer object",
    ("apigatewayv2_api_authorizers_enabled", "PASS", "FAIL"):
        "Prowler passes an API with any authorizer; we judge each route's AuthorizationType (HTTP: every "
        "route but OPTIONS; WebSocket: $connect)",
    ("apigatewayv2_api_authorizers_enabled", "FAIL", "PASS"):
        "Prowler fails an API without an authorizer object even when its routes use AWS_IAM",
    ("apigatewayv2_api_access_logging_enabled", "PASS", "FAIL"):
        "Prowler reports one finding per API and reuses it across stages; we judge every stage",
    ("apigatewayv2_api_access_logging_enabled", "FAIL", "PASS"):
        "Prowler reports one finding per API and reuses it across stages; we judge every stage",
    ("apigateway_restapi_no_secrets_in_stage_variables", "PASS", "FAIL"):
        "Prowler's secret scanner (Kingfisher, medium confidence) does not report a lone AWS access key id or a "
        "password without a known pattern; we flag key ids, private keys, JWTs and high-entropy secret-named values",
    ("cloudtrail_logs_s3_bucket_is_not_publicly_accessible", "PASS", "FAIL"):
        "Prowler fails a trail's bucket only for an ACL grant to AllUsers; shared/reference/controls.md "
        "(cloudtrail_bucket_not_public, FSBP CloudTrail.6) has us alarm as well on a grant to AuthenticatedUsers, a "
        "policy allowing any principal without a restricting condition, or a bucket public access block that is not "
        "fully on",
}


@dataclass
class ProwlerFinding:
    check: str
    status: str          # PASS, FAIL, MANUAL
    resource: str
    region: str
    reason: str


def ensure_prowler(venv: Path, version: str) -> Path:
    """The prowler executable of `venv`, creating the environment and installing Prowler first if needed."""
    prowler = venv / "bin" / "prowler"
    if prowler.exists():
        return prowler
    print(f"installing Prowler {version} into {venv} (once; a few minutes)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"prowler=={version}"],
                   check=True)
    return prowler


def run_prowler(prowler: Path, sandbox: Any, regions: list[str], out: Path) -> tuple[list[ProwlerFinding], float, str]:
    env = {**os.environ, **sandbox.env(), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    started = time.monotonic()
    done = subprocess.run([str(prowler), "aws", "--services", *SERVICES, "-f", *regions, "--no-banner",
                           "-M", "csv", "json-ocsf", "-o", str(out)], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 3):  # 3: the scan worked and some checks failed
        raise SystemExit(f"prowler failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    # --output-dir may hold earlier runs' files: this run's is the newest.
    path = max(out.glob("*.ocsf.json"), key=lambda f: f.stat().st_mtime)
    events = json.loads(path.read_text())
    version = events[0]["metadata"]["product"]["version"] if events else "?"
    findings = [ProwlerFinding(e["metadata"]["event_code"], e["status_code"], _arn(e["resources"][0]["uid"]),
                               e.get("cloud", {}).get("region") or "", e.get("status_detail") or e.get("message", ""))
                for e in events]
    return findings, elapsed, version


def _arn(uid: str) -> str:
    """Prowler writes v2 API ARNs without the slash after '::' (arn:aws:apigateway:r::apis/ID)."""
    head, sep, tail = uid.partition("::")
    return f"{head}::/{tail}" if sep and tail and not tail.startswith("/") else uid


def our_controls() -> list[Any]:
    """The controls of OUR_BENCHMARKS, less those of EXCLUDED_BENCHMARKS (also by home folder)."""
    from apigw_sql.controls import load_controls
    from apigw_sql.controls.benchmarks import select

    return [c for c in select(load_controls(), list(OUR_BENCHMARKS))
            if c.home not in EXCLUDED_BENCHMARKS and not set(c.benchmarks) & set(EXCLUDED_BENCHMARKS)]


def run_ours(sandbox: Any, regions: list[str]) -> tuple[Any, float]:
    import apigw_sql
    from apigw_sql.controls import run_controls

    started = time.monotonic()
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=regions, rate_limit=False, max_attempts=2)
    try:
        report = run_controls(con, our_controls())
    finally:
        con.close()
    return report, time.monotonic() - started


def trail_buckets(sandbox: Any, regions: list[str]) -> dict[str, str]:
    """Trail ARN -> the name of the S3 bucket it delivers to, from the sandbox's DescribeTrails (shadow trails
    included, so a multi-region trail is found whichever region Prowler saw it in)."""
    import boto3

    buckets: dict[str, str] = {}
    for region in regions:
        client = boto3.client("cloudtrail", region_name=region, endpoint_url=sandbox.endpoint_url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        for trail in client.describe_trails(includeShadowTrails=True).get("trailList", []):
            if trail.get("TrailARN") and trail.get("S3BucketName"):
                buckets[trail["TrailARN"]] = trail["S3BucketName"]
    return buckets


def translate(check: str, findings: list[ProwlerFinding], buckets: dict[str, str]) -> list[ProwlerFinding]:
    """Prowler's findings of one check, re-keyed to the resources our control judges (RESOURCE_TRANSLATION);
    several findings on one of our resources merge into one verdict."""
    mode = RESOURCE_TRANSLATION.get(check)
    if mode is None:
        return findings
    groups: dict[str, list[ProwlerFinding]] = defaultdict(list)
    for p in findings:
        parts = p.resource.split(":")  # arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail[/NAME]
        if mode == "bucket":
            bucket = buckets.get(p.resource)
            key = f"arn:{parts[1]}:s3:::{bucket}" if bucket and len(parts) > 1 else p.resource
        else:
            key = f"arn:{parts[1]}:::{parts[4]}" if len(parts) > 4 else p.resource
        groups[key].append(p)
    merged = []
    for key, group in groups.items():
        statuses = {p.status for p in group}
        # A bucket is as bad as its worst trail finding; an account is covered when any trail (or region) passes.
        order = ("FAIL", "PASS") if mode == "bucket" else ("PASS", "FAIL")
        status = next((s for s in order if s in statuses), group[0].status)
        reasons = list(dict.fromkeys(p.reason for p in group if p.status == status))
        merged.append(ProwlerFinding(check, status, key, group[0].region, " / ".join(reasons)))
    return merged


def our_verdict(findings: list[Any], resource: str) -> tuple[str | None, list[Any]]:
    """FAIL if any related finding alarms, PASS if one is ok, N/A for skip/info; related = same resource,
    a child of it (our stage under Prowler's API) or its parent."""
    related = [f for f in findings if f.resource == resource or f.resource.startswith(resource + "/")
               or resource.startswith(f.resource + "/")]
    if not related:
        return None, []
    if any(f.status == "alarm" for f in related):
        return "FAIL", [f for f in related if f.status == "alarm"]
    if any(f.status == "ok" for f in related):
        return "PASS", related
    return "N/A", related


def compare(report: Any, prowler: list[ProwlerFinding], buckets: dict[str, str]) -> int:
    from apigw_sql.controls import load_controls

    by_alias = {alias: c.id for c in load_controls() for alias in c.aliases}
    ours: dict[str, list[Any]] = defaultdict(list)
    for f in report.findings:
        ours[f.control.id].append(f)
    checks: dict[str, list[ProwlerFinding]] = defaultdict(list)
    for p in prowler:
        checks[p.check].append(p)
    unexplained = 0
    unmapped = sorted(c for c in checks if c not in by_alias)
    print(f"{'apigw-sql control  <-  Prowler check':<100} {'agree':>9}")
    for check in sorted(c for c in checks if c in by_alias):
        control = by_alias[check]
        lines, agree, compared = [], 0, 0
        judged: set[str] = set()
        for p in sorted(translate(check, checks[check], buckets), key=lambda p: p.resource):
            verdict, related = our_verdict(ours[control], p.resource)
            judged.update(f.resource for f in related)
            compared += 1
            if verdict == p.status:
                agree += 1
                continue
            cause = KNOWN_DIFFERENCES.get((check, p.status, verdict or "none"))
            if cause is None:
                unexplained += 1
                ours_reason = "; ".join(f.reason for f in related) or "apigw-sql returned no row for it"
                cause = f"POSSIBLE APIGW-SQL BUG (unexplained): Prowler says {p.reason!r}; apigw-sql says {ours_reason!r}"
            else:
                cause = f"Prowler's known looseness: {cause}"
            lines.append(f"    differs  {p.resource}: Prowler {p.status}, apigw-sql {verdict or 'no row'}. {cause}.")
        print(f"{control + '  <-  ' + check:<100} {agree:>4}/{compared:<4}")
        print("\n".join(lines) if lines else "    all agree")
        only_ours = [f for f in ours[control] if f.resource not in judged and f.status in ("ok", "alarm")]
        if only_ours:
            print(f"    apigw-sql alone judged {len(only_ours)} more resource(s) (e.g. {only_ours[0].resource}): "
                  "Prowler's check does not cover them")
    errors = [r for r in report.results if r.error]
    if errors:
        print("\napigw-sql controls that could not run: " + "; ".join(f"{r.control.id} ({r.error})" for r in errors))
    if unmapped:
        print(f"\nProwler checks no apigw-sql control maps yet ({len(unmapped)}): {', '.join(unmapped)}")
    return unexplained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"Prowler's virtual environment ({DEFAULT_VENV})")
    parser.add_argument("--prowler-version", default="5.46.*", help="the Prowler release to install (5.46.*)")
    parser.add_argument("--output-dir", type=Path, help="keep Prowler's csv and json-ocsf output here")
    args = parser.parse_args(argv)

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        os.environ[key] = value  # dummy credentials: both tools only ever talk to the sandbox
    os.environ.pop("AWS_PROFILE", None)
    prowler = ensure_prowler(args.venv, args.prowler_version)

    from apigw_sql.sandbox import Sandbox

    with Sandbox(seed=True) as sandbox, tempfile.TemporaryDirectory() as tmp:
        regions = list(sandbox.regions)
        out = args.output_dir or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        report, our_seconds = run_ours(sandbox, regions)
        print(f"apigw-sql: {OUR_SELECTION} ({len(report.results)} controls) in {our_seconds:.1f} s, "
              f"{report.api_calls} API calls", file=sys.stderr)
        findings, prowler_seconds, version = run_prowler(prowler, sandbox, regions, out)
        print(f"Prowler {version}: {', '.join(SERVICES)} ({len({f.check for f in findings})} checks) in "
              f"{prowler_seconds:.1f} s", file=sys.stderr)
        print(f"apigw-sql vs Prowler {version} on the sandbox demo estate ({', '.join(regions)})\n")
        unexplained = compare(report, findings, trail_buckets(sandbox, regions))
    print(f"\nWall time: apigw-sql {our_seconds:.1f} s ({report.api_calls} API calls for "
          f"{OUR_SELECTION}); Prowler {prowler_seconds:.1f} s ({', '.join(SERVICES)}, process start "
          "included)")
    print(f"Unexplained disagreements: {unexplained}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
