"""What aws_api_gateway_access_log costs: over files against DuckDB's own read_json, and over CloudWatch Logs.

    python benchmarks/access_logs.py                  # 1,000,000 records in 8 gzipped Firehose files
    python benchmarks/access_logs.py --records 200000 --rounds 3 --events 25000

1. Files. Starts the sandbox (empty) with one REST stage whose access logs go to a Firehose stream in
   AWS's recommended JSON format, and writes --records records (one JSON object a line) as gzipped
   Firehose deliveries of that stream. Then times, each in a fresh Python process (so that its peak
   memory is its own), interleaved over --rounds rounds:

     ours  SELECT http_method, resource_path, status, count(*), count(DISTINCT source_ip), count(caller),
           count(protocol), count(request_id), sum(response_length), min(request_time), max(request_time)
           FROM aws_api_gateway_access_log GROUP BY ALL          (--access-logs FOLDER)
     raw   the same question to DuckDB's read_json over the same files, with the same casts.

   Prints the best wall seconds, CPU seconds and peak RSS of each, and the ratio ours/raw. The timed
   scan of ours includes listing and matching the files, building the view and reading; the session's
   set-up (boto3, the stage list from the sandbox, about a second) is done by a first query that
   reads no record, and printed apart. Both must give the same answer.
2. CloudWatch Logs. Puts --events events into the log group of a second stage and reads them through
   the table: the FilterLogEvents calls must be the pages needed, ceil(events / 10,000).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMAT = json.dumps({"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
                     "caller": "$context.identity.caller", "user": "$context.identity.user",
                     "requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
                     "resourcePath": "$context.resourcePath", "status": "$context.status",
                     "protocol": "$context.protocol", "responseLength": "$context.responseLength"})
STREAM = "amazon-apigateway-bench"
REGION = "us-east-1"
ACCOUNT = "123456789012"
OURS = ("SELECT http_method, resource_path, status, count(*), count(DISTINCT source_ip), count(caller), "
        "count(protocol), count(request_id), sum(response_length), min(request_time), max(request_time) "
        "FROM aws_api_gateway_access_log GROUP BY ALL")
RAW = ("SELECT httpMethod, resourcePath, TRY_CAST(status AS BIGINT), count(*), count(DISTINCT ip), "
       "count(nullif(caller, '-')), count(protocol), count(requestId), sum(TRY_CAST(responseLength AS BIGINT)), "
       "min(CAST(strptime(requestTime, '%d/%b/%Y:%H:%M:%S %z') AS TIMESTAMP)), "
       "max(CAST(strptime(requestTime, '%d/%b/%Y:%H:%M:%S %z') AS TIMESTAMP)) "
       "FROM read_json({files}, format='newline_delimited', compression='gzip') GROUP BY ALL")


def write_files(folder: Path, records: int, files: int) -> list[Path]:
    """`records` synthetic records as gzipped Firehose deliveries of STREAM, written by DuckDB."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    per_file = math.ceil(records / files)
    paths = []
    con = duckdb.connect()
    for n in range(files):
        count = min(per_file, records - n * per_file)
        if count <= 0:
            break
        path = folder / "2026/11/30/10" / f"{STREAM}-1-2026-11-30-10-{n:02d}-00-{n:08x}.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"""
            COPY (SELECT md5(i::VARCHAR) AS requestId,
                         '10.' || (i % 250) || '.' || (i // 250 % 250) || '.' || (i % 7) AS ip,
                         CASE WHEN i % 10 = 0 THEN 'AIDAEXAMPLE' || (i % 50) ELSE '-' END AS caller, '-' AS user,
                         strftime(TIMESTAMP '2026-11-30 10:00:00' + to_seconds(i % 3600), '%d/%b/%Y:%H:%M:%S +0000')
                             AS requestTime,
                         ['GET', 'GET', 'POST', 'DELETE'][i % 4 + 1] AS httpMethod,
                         ['/orders', '/orders/{{orderId}}', '/payments', '/reports'][i % 4 + 1] AS resourcePath,
                         ['200', '200', '200', '201', '404', '403', '500'][i % 7 + 1] AS status,
                         'HTTP/1.1' AS protocol, (i % 5000)::VARCHAR AS responseLength
                  FROM range({n * per_file}, {n * per_file + count}) t(i))
            TO '{path.as_posix()}' (FORMAT json, COMPRESSION gzip)""")
        paths.append(path)
    return paths


def measure(kind: str, folder: str, endpoint: str) -> None:
    """One timed read in this (fresh) process; prints seconds, CPU seconds, peak RSS and the answer as JSON."""
    import duckdb

    import apigw_sql

    started = time.perf_counter()
    if kind == "ours":
        con = apigw_sql.connect(endpoint_url=endpoint, regions=[REGION], rate_limit=False, max_attempts=1,
                                access_logs=[folder])
        con.sql(OURS.replace("GROUP BY ALL", "WHERE false GROUP BY ALL"))  # session set-up: boto3, stage list

        def read() -> list:
            return con.sql(OURS).rows
    else:
        duck = duckdb.connect()
        duck.execute("SET TimeZone = 'UTC'")

        def read() -> list:
            files = sorted(str(p) for p in Path(folder).rglob("*.gz"))  # the raw read lists the files too
            return duck.execute(RAW.format(files=json.dumps(files).replace('"', "'"))).fetchall()
    setup = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    rows = read()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    answer = sorted([[str(v) for v in row] for row in rows])
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "setup": setup, "rss_mb": peak, "answer": answer}))


def run_child(kind: str, folder: Path, endpoint: str) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--folder", str(folder), "--endpoint", endpoint],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_stage(sandbox: object) -> None:
    from apigw_sql.sandbox.sandbox import make_client

    ag = make_client(sandbox.endpoint_url, "apigateway", REGION)  # type: ignore[attr-defined]
    api = ag.create_rest_api(name="bench-api")["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api)["id"]
    for stage, arn in (("files", f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{STREAM}"),
                       ("logs", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/bench/access")):
        ag.create_stage(restApiId=api, stageName=stage, deploymentId=deployment)
        ag.update_stage(restApiId=api, stageName=stage, patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
            {"op": "replace", "path": "/accessLogSettings/format", "value": FORMAT}])


def cloudwatch_pages(sandbox: object, events: int) -> tuple[int, int, float]:
    """(rows read, FilterLogEvents calls, seconds) for `events` events in the logs stage's group."""
    import apigw_sql
    from apigw_sql.sandbox.sandbox import make_client

    logs = make_client(sandbox.endpoint_url, "logs", REGION)  # type: ignore[attr-defined]
    logs.create_log_group(logGroupName="/bench/access")
    logs.create_log_stream(logGroupName="/bench/access", logStreamName="a")
    now = int(time.time() * 1000) - events
    batch = []
    for i in range(events):
        batch.append({"timestamp": now + i, "message": json.dumps({"requestId": f"r{i}", "ip": f"10.0.0.{i % 200}",
                                                                  "status": "200", "httpMethod": "GET"})})
        if len(batch) == 10_000 or i == events - 1:
            logs.put_log_events(logGroupName="/bench/access", logStreamName="a", logEvents=batch)
            batch = []
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[REGION], rate_limit=False,  # type: ignore[attr-defined]
                            max_attempts=1)
    started = time.perf_counter()
    rows = con.sql("SELECT count(*) FROM aws_api_gateway_access_log WHERE stage = 'logs'").rows[0][0]
    elapsed = time.perf_counter() - started
    calls = sum(1 for c in con.fetch_log if c.operation == "FilterLogEvents")
    con.close()
    return rows, calls, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the files (default 1,000,000)")
    parser.add_argument("--files", type=int, default=8, help="files to spread them over (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each reader; the best is reported")
    parser.add_argument("--events", type=int, default=25_000, help="CloudWatch Logs events (default 25,000)")
    parser.add_argument("--measure", choices=["ours", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(args.measure, args.folder, args.endpoint)
        return 0

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    from apigw_sql.sandbox import Sandbox

    root = Path(tempfile.mkdtemp(prefix="apigw-sql-access-bench-"))
    try:
        with Sandbox(seed=False) as sandbox:
            build_stage(sandbox)
            started = time.perf_counter()
            paths = write_files(root / "firehose", args.records, args.files)
            size = sum(p.stat().st_size for p in paths) / 1e6
            print(f"wrote {args.records:,} records in {len(paths)} files ({size:,.0f} MB gzipped) in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
            results: dict[str, list[dict]] = {"ours": [], "raw": []}
            for round_ in range(args.rounds):
                for kind in (("ours", "raw") if round_ % 2 == 0 else ("raw", "ours")):
                    results[kind].append(run_child(kind, root / "firehose", sandbox.endpoint_url))
            assert results["ours"][0]["answer"] == results["raw"][0]["answer"], "ours and raw disagree"
            best = {k: min(r["seconds"] for r in v) for k, v in results.items()}
            cpu = {k: min(r["cpu"] for r in v) for k, v in results.items()}
            rss = {k: max(r["rss_mb"] for r in v) for k, v in results.items()}
            print(f"\n{args.records:,} access-log records, {len(paths)} gzipped Firehose files; best of {args.rounds}\n")
            setup = {k: min(r["setup"] for r in v) for k, v in results.items()}
            print(f"{'reader':<6} {'best s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'records/s':>11} {'set-up s':>9}")
            for kind in ("ours", "raw"):
                print(f"{kind:<6} {best[kind]:>7.2f} {cpu[kind]:>7.2f} {rss[kind]:>12.0f} "
                      f"{args.records / best[kind]:>11,.0f} {setup[kind]:>9.2f}")
            print(f"ours/raw: {best['ours'] / best['raw']:.2f}x wall, {cpu['ours'] / cpu['raw']:.2f}x CPU "
                  f"(goal: within 1.25x wall; peak memory under 600 MB)")

            rows, calls, seconds = cloudwatch_pages(sandbox, args.events)
            print(f"\nCloudWatch Logs: {rows:,} events read with {calls} FilterLogEvents calls in {seconds:.1f} s "
                  f"(pages needed: {math.ceil(args.events / 10_000)})")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
