"""`check all` over a synthetic organization's Parquet snapshot: DuckDB and Spark (local mode), time and memory.

    python benchmarks/spark_snapshot.py                        # 1,000 accounts x 20 APIs, both engines
    python benchmarks/spark_snapshot.py --accounts 100 --engines duckdb

1. Writes a snapshot in the snapshot contract's layout (OUT/<table>/account_id=<id>/region=<r>/*.parquet) with
   DuckDB's COPY ... PARTITION_BY, rows generated in SQL: per account, 2 regions x 10 APIs (7 REST, 3 HTTP or
   WebSocket), 2 stages each, 5 methods per REST API, 3 routes per HTTP API, API keys, usage plans, client
   certificates, the account settings and a trail per region. The configuration mixes good and bad like an
   estate grown over years: about 1 stage in 3 without access logs, 1 in 2 without X-Ray, some methods
   without authorization, old API keys, a trail in 1 region of 4 without KMS.
2. Runs `check all` (the shipped controls) in a fresh process per engine, so that each one's memory is its own:
   DuckDB over views on the snapshot, then Spark local[2] over temporary views (DuckDB-only controls skipped).
   Prints wall seconds, peak RSS of the Python process and, for Spark, of the JVM (VmHWM), the findings per
   status, and the snapshot's size and file count.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGIONS = ("us-east-1", "eu-west-1")
APIS_PER_REGION = 10  # 7 REST + 3 v2: 20 APIs per account over the two regions

# Per table: the rows (a FROM clause over accounts a(account_no, account_id) x regions r(region)) and the
# columns set; every other column of the catalogue is NULL of its type.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "aws_api_gateway_rest_api": ("range(7) k(n)", {
        "api_id": "printf('r%09d%02d%s', account_no, n, left(region, 2))",
        "name": "printf('service-%d', n)",
        "created_date": "TIMESTAMP '2024-01-01' + to_days(CAST(n * 30 AS INTEGER))",
        "endpoint_configuration_types": "CASE WHEN n % 3 = 0 THEN ['PRIVATE'] ELSE ['REGIONAL'] END",
        "disable_execute_api_endpoint": "n % 4 = 0",
        "policy": "CASE WHEN n % 3 = 0 THEN '{\"Version\":\"2012-10-17\",\"Statement\":[]}' END",
        "arn": "printf('arn:aws:apigateway:%s::/restapis/r%09d%02d%s', region, account_no, n, left(region, 2))",
    }),
    "aws_api_gateway_stage": ("range(7) k(n), (VALUES ('prod'), ('dev')) s(stage)", {
        "name": "stage",
        "rest_api_id": "printf('r%09d%02d%s', account_no, n, left(region, 2))",
        "created_date": "TIMESTAMP '2025-01-01'",
        "cache_cluster_enabled": "stage = 'prod' AND n % 2 = 0",
        "tracing_enabled": "(account_no + n) % 2 = 0",
        "web_acl_arn": "CASE WHEN stage = 'prod' AND n % 3 <> 1 THEN printf('arn:aws:wafv2:%s:%s:regional/webacl/a/1', region, account_id) END",
        "access_log_destination_arn": "CASE WHEN (account_no + n) % 3 <> 0 THEN printf('arn:aws:logs:%s:%s:log-group:access', region, account_id) END",
        "access_log_format": "CASE WHEN (account_no + n) % 3 <> 0 THEN '{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",\"requestTime\":\"$context.requestTime\",\"status\":\"$context.status\"}' END",
        "method_settings": "CASE WHEN n % 2 = 0 THEN '{\"*/*\":{\"loggingLevel\":\"ERROR\",\"dataTraceEnabled\":false,\"metricsEnabled\":true,\"throttlingRateLimit\":100.0,\"throttlingBurstLimit\":50}}' ELSE '{}' END",
        "variables": "'{}'",
        "arn": "printf('arn:aws:apigateway:%s::/restapis/r%09d%02d%s/stages/%s', region, account_no, n, left(region, 2), stage)",
    }),
    "aws_api_gateway_method": ("range(7) k(n), (VALUES ('GET', '/items'), ('POST', '/items'), ('DELETE', '/items/{id}'), ('GET', '/health'), ('OPTIONS', '/items')) m(verb, path)", {
        "rest_api_id": "printf('r%09d%02d%s', account_no, n, left(region, 2))",
        "resource_id": "md5(path)[1:10]",
        "http_method": "verb", "path": "path",
        "authorization_type": "CASE WHEN verb = 'OPTIONS' OR path = '/health' OR (account_no + n) % 5 = 0 THEN 'NONE' ELSE 'AWS_IAM' END",
        "api_key_required": "false",
        "request_validator_id": "CASE WHEN n % 2 = 0 THEN 'v1' END",
        "integration_type": "'HTTP_PROXY'",
        "integration_uri": "CASE WHEN n % 4 = 1 THEN 'http://backend.internal/' ELSE 'https://backend.example/' END",
        "arn": "printf('arn:aws:apigateway:%s::/restapis/r%09d%02d%s/resources/%s/methods/%s', region, account_no, n, left(region, 2), md5(path)[1:10], verb)",
    }),
    "aws_api_gatewayv2_api": ("range(3) k(n)", {
        "api_id": "printf('h%09d%02d%s', account_no, n, left(region, 2))",
        "name": "printf('edge-%d', n)",
        "protocol_type": "CASE WHEN n = 2 THEN 'WEBSOCKET' ELSE 'HTTP' END",
        "disable_execute_api_endpoint": "n = 0",
        "created_date": "TIMESTAMP '2025-06-01'",
        "cors_allow_origins": "CASE WHEN n = 1 THEN ['*'] ELSE ['https://shop.example'] END",
        "arn": "printf('arn:aws:apigateway:%s::/apis/h%09d%02d%s', region, account_no, n, left(region, 2))",
    }),
    "aws_api_gatewayv2_stage": ("range(3) k(n), (VALUES ('prod'), ('dev')) s(stage)", {
        "stage_name": "stage",
        "api_id": "printf('h%09d%02d%s', account_no, n, left(region, 2))",
        "protocol_type": "CASE WHEN n = 2 THEN 'WEBSOCKET' ELSE 'HTTP' END",
        "access_log_destination_arn": "CASE WHEN (account_no + n) % 3 <> 0 THEN printf('arn:aws:logs:%s:%s:log-group:v2', region, account_id) END",
        "default_route_detailed_metrics_enabled": "n % 2 = 0",
        "default_route_throttling_rate_limit": "CASE WHEN stage = 'prod' THEN 100.0 END",
        "default_route_throttling_burst_limit": "CASE WHEN stage = 'prod' THEN 50 END",
        "route_settings": "'{}'", "stage_variables": "'{}'",
        "arn": "printf('arn:aws:apigateway:%s::/apis/h%09d%02d%s/stages/%s', region, account_no, n, left(region, 2), stage)",
    }),
    "aws_api_gatewayv2_route": ("range(2) k(n), (VALUES ('GET /orders'), ('POST /orders'), ('OPTIONS /orders')) rk(route)", {
        "route_key": "route",
        "api_id": "printf('h%09d%02d%s', account_no, n, left(region, 2))",
        "route_id": "md5(route)[1:7]",
        "protocol_type": "'HTTP'",
        "authorization_type": "CASE WHEN route LIKE 'OPTIONS%' OR (account_no + n) % 4 = 0 THEN 'NONE' ELSE 'JWT' END",
        "arn": "printf('arn:aws:apigateway:%s::/apis/h%09d%02d%s/routes/%s', region, account_no, n, left(region, 2), md5(route)[1:7])",
    }),
    "aws_api_gateway_api_key": ("range(2) k(n)", {
        "id": "printf('k%09d%d%s', account_no, n, left(region, 2))",
        "name": "printf('partner-%d', n)",
        "enabled": "true",
        "created_date": "TIMESTAMP '2026-01-01' - to_days(CAST((account_no * 7 + n * 200) % 500 AS INTEGER))",
        "arn": "printf('arn:aws:apigateway:%s::/apikeys/k%09d%d%s', region, account_no, n, left(region, 2))",
    }),
    "aws_api_gateway_client_certificate": ("range(1) k(n)", {
        "client_certificate_id": "printf('c%09d%s', account_no, left(region, 2))",
        "expiration_date": "TIMESTAMP '2026-12-01' + to_days(CAST(account_no % 400 AS INTEGER))",
        "arn": "printf('arn:aws:apigateway:%s::/clientcertificates/c%09d%s', region, account_no, left(region, 2))",
    }),
    "aws_api_gateway_account": ("range(1) k(n)", {
        "cloudwatch_role_arn": "CASE WHEN account_no % 5 <> 0 THEN printf('arn:aws:iam::%s:role/apigw-logs', account_id) END",
        "arn": "printf('arn:aws:apigateway:%s::/account', region)",
    }),
    "aws_cloudtrail_trail": ("range(1) k(n)", {
        "name": "'org-trail'",
        "arn": "printf('arn:aws:cloudtrail:%s:%s:trail/org-trail', region, account_id)",
        "home_region": "region", "is_shadow": "false",
        "is_multi_region_trail": "region = 'us-east-1'",
        "include_global_service_events": "region = 'us-east-1'",
        "log_file_validation_enabled": "account_no % 3 <> 0",
        "kms_key_id": "CASE WHEN (account_no + length(region)) % 4 <> 0 THEN printf('arn:aws:kms:%s:%s:key/1', region, account_id) END",
        "s3_bucket_name": "printf('trail-%s', account_id)",
        "is_logging": "true",
        "event_selectors": "'[]'", "advanced_event_selectors": "'[]'", "tags": "'[]'",
    }),
}


def write_snapshot(out: Path, accounts: int) -> None:
    """The synthetic organization as a Parquet snapshot in the contract's layout."""
    import duckdb

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from apigw_sql.catalog import load_catalog
    from apigw_sql.types import COLUMN_TYPES

    catalog = load_catalog()
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE accounts AS SELECT i AS account_no, printf('%012d', 100000000000 + i) AS account_id "
                 f"FROM range({accounts}) t(i)")
    duck.execute("CREATE TABLE regions AS SELECT * FROM (VALUES " + ", ".join(f"('{r}')" for r in REGIONS) + ") r(region)")
    for table, (rows, values) in TABLES.items():
        spec = catalog[table]
        columns = ", ".join(f"CAST({values.get(c.name, 'account_id' if c.name == 'account_id' else 'region' if c.name == 'region' else 'NULL')} "
                            f"AS {COLUMN_TYPES[c.type].duckdb}) AS \"{c.name}\"" for c in spec.columns)
        (out / table).mkdir(parents=True, exist_ok=True)
        duck.execute(f"COPY (SELECT {columns} FROM accounts, regions, {rows}) TO '{out / table}' "
                     "(FORMAT parquet, PARTITION_BY (account_id, region), OVERWRITE_OR_IGNORE)")
    duck.close()


def run_engine(engine: str, snapshot: str) -> dict:
    """check all on one engine in this process; the figures as a dict."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from apigw_sql.controls.runner import run_controls

    started = time.monotonic()
    jvm_peak_mb = None
    if engine == "duckdb":
        import apigw_sql

        con = apigw_sql.connect(snapshot=snapshot)  # what check --snapshot opens
        ready = time.monotonic()
        report = run_controls(con)
    else:
        from apigw_sql.engines.spark import SparkEngine

        runner_engine = SparkEngine(snapshot)
        ready = time.monotonic()
        report = run_controls(None, engine=runner_engine)
        jvm_peak_mb = _jvm_peak_mb(runner_engine.session)
    done = time.monotonic()
    errors = [f"{r.control.id}: {r.error}" for r in report.results if r.error]
    return {"engine": engine, "setup_s": round(ready - started, 1), "check_s": round(done - ready, 1),
            "python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "jvm_peak_mb": jvm_peak_mb, "counts": report.counts(), "findings": len(report.findings),
            "errors": errors[:3]}


def _jvm_peak_mb(session) -> int | None:
    """The JVM's peak resident memory (VmHWM) from /proc, while it still runs."""
    try:
        pid = session.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except (AttributeError, OSError):
        return None
    return None


def _size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*.parquet")]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--keep", metavar="DIR", help="write the snapshot here and keep it")
    parser.add_argument("--run", nargs=2, metavar=("ENGINE", "SNAPSHOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_engine(*args.run)))
        return
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="apigw-sql-snapshot-"))
    try:
        started = time.monotonic()
        write_snapshot(folder, args.accounts)
        files, size = _size(folder)
        print(f"snapshot: {args.accounts} accounts x {2 * APIS_PER_REGION} APIs, {len(TABLES)} tables, {files} files, "
              f"{size / 1e6:.1f} MB, written in {time.monotonic() - started:.1f} s")
        for engine in args.engines.split(","):
            began = time.monotonic()
            done = subprocess.run([sys.executable, __file__, "--run", engine, str(folder)], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                print(f"{engine}: failed\n{done.stderr[-2000:]}")
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{engine}: check all {figures['check_s']} s after {figures['setup_s']} s of set-up "
                  f"({time.monotonic() - began:.1f} s for the whole process); peak RSS python "
                  f"{figures['python_peak_mb']} MB" + (f", JVM {figures['jvm_peak_mb']} MB" if figures['jvm_peak_mb'] else "")
                  + f"; {figures['findings']} findings {figures['counts']}"
                  + (f"; errors: {figures['errors']}" if figures["errors"] else ""))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
