"""What aws_cloudtrail_log costs over DuckDB's own read_json of the same CloudTrail log files.

    python benchmarks/cloudtrail_logs.py              # about 1 GB (uncompressed) in a temporary folder
    python benchmarks/cloudtrail_logs.py --gb 0.2 --keep /tmp/ct-bench

Generates synthetic log files (apigw_sql.cloudtrail.synthetic: 2 accounts x 4 regions x 7 days, about
1.2 kB a record, 500 records a file) and then times, in the same run and interleaved, two queries:

  full scan   SELECT event_source, event_name, count(*) FROM aws_cloudtrail_log GROUP BY ALL
  one day     the same, WHERE region = 'eu-west-1' AND event_time in one day

each against the same question put to DuckDB directly with read_json over the same files: "raw
JSON[]" reads Records as JSON[] and extracts the two fields (the way our table reads, by hand), and
"raw typed" reads Records as a list of structs of only those two fields (the cheapest possible read).
The one-day raw reads glob that day's folder themselves. Ours includes everything a user waits for:
listing and narrowing the files, building the view, reading. Prints wall seconds (best of --rounds)
and MB/s of uncompressed log data, CPU seconds of the process (all DuckDB threads: steadier than wall
time on a shared machine), the ratios ours/raw, and the files each read. Every reader must give
the same answer.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import apigw_sql
from apigw_sql.cloudtrail.synthetic import generate_log_files, synthetic_records, log_file_body

ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
DAYS = 7
START = date(2024, 3, 1)
RECORDS_PER_FILE = 500
DAY = "2024-03-04"
FULL = "SELECT event_source, event_name, count(*) FROM aws_cloudtrail_log GROUP BY ALL"
ONE_DAY = (f"SELECT event_source, event_name, count(*) FROM aws_cloudtrail_log WHERE region = 'eu-west-1' "
           f"AND event_time >= '{DAY}' AND event_time < DATE '{DAY}' + INTERVAL 1 DAY GROUP BY ALL")


def files_per_day(gigabytes: float) -> int:
    """Files per account, region and day that make about `gigabytes` of uncompressed records."""
    import random
    from datetime import datetime, timedelta, timezone

    sample = synthetic_records(random.Random(0), ACCOUNTS[0], REGIONS[0], datetime(2024, 3, 1, tzinfo=timezone.utc),
                               timedelta(minutes=5), RECORDS_PER_FILE)
    per_file = len(log_file_body(sample))
    folders = len(ACCOUNTS) * len(REGIONS) * DAYS
    return max(1, round(gigabytes * 1e9 / per_file / folders))


def uncompressed(paths: list[Path]) -> int:
    """Total uncompressed size, from each gzip file's ISIZE trailer (files are under 4 GB)."""
    total = 0
    for path in paths:
        with open(path, "rb") as fh:
            fh.seek(-4, os.SEEK_END)
            total += struct.unpack("<I", fh.read(4))[0]
    return total


def raw_sql(glob: str, typed: bool, where: str = "") -> str:
    columns = ("{'Records': 'STRUCT(eventSource VARCHAR, eventName VARCHAR, eventTime VARCHAR)[]'}" if typed
               else "{'Records': 'JSON[]'}")
    fields = ("r.eventSource, r.eventName" if typed else "r->>'eventSource', r->>'eventName'")
    time_expr = "r.eventTime" if typed else "r->>'eventTime'"
    filter_sql = where.replace("EVENT_TIME", f"CAST({time_expr} AS TIMESTAMPTZ)") if where else ""
    return (f"SELECT {fields}, count(*) FROM (SELECT unnest(Records) AS r FROM read_json('{glob}', "
            f"format='unstructured', records=true, compression='gzip', columns={columns})) "
            f"{'WHERE ' + filter_sql if filter_sql else ''} GROUP BY ALL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=1.0, help="uncompressed gigabytes to generate (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query; the best is reported")
    parser.add_argument("--keep", help="generate into (or reuse) this folder instead of a temporary one")
    args = parser.parse_args(argv)

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="apigw-sql-ct-bench-"))
    try:
        log_files = sorted(p for p in root.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))
        if not log_files:
            per_day = files_per_day(args.gb)
            started = time.perf_counter()
            made = generate_log_files(root, accounts=ACCOUNTS, regions=REGIONS, start=START, days=DAYS,
                                      files_per_day=per_day, records_per_file=RECORDS_PER_FILE, seed=1,
                                      workers=os.cpu_count() or 1)
            print(f"generated {made.files} log files ({made.digests} digests), {made.records:,} records, "
                  f"{made.uncompressed_bytes / 1e6:,.0f} MB uncompressed, {made.compressed_bytes / 1e6:,.0f} MB "
                  f"gzipped, in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            log_files = sorted(p for p in root.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))
        day_files = sorted(root.glob(f"AWSLogs/*/CloudTrail/eu-west-1/{DAY.replace('-', '/')}/*.json.gz"))
        total_mb, day_mb = uncompressed(log_files) / 1e6, uncompressed(day_files) / 1e6

        con = apigw_sql.connect(cloudtrail_logs=[str(root)], regions=["us-east-1"])
        raw = con.duck  # the same DuckDB, settings and threads as the table's
        all_glob = f"{root.as_posix()}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
        day_glob = f"{root.as_posix()}/AWSLogs/*/CloudTrail/eu-west-1/{DAY.replace('-', '/')}/*.json.gz"
        day_where = f"EVENT_TIME >= TIMESTAMPTZ '{DAY} 00:00:00+00' AND EVENT_TIME < TIMESTAMPTZ '{DAY} 00:00:00+00' + INTERVAL 1 DAY"
        runs = {
            ("full scan", "ours"): lambda: con.sql(FULL).rows,
            ("full scan", "raw JSON[]"): lambda: raw.execute(raw_sql(all_glob, False)).fetchall(),
            ("full scan", "raw typed"): lambda: raw.execute(raw_sql(all_glob, True)).fetchall(),
            ("one day", "ours"): lambda: con.sql(ONE_DAY).rows,
            ("one day", "raw JSON[]"): lambda: raw.execute(raw_sql(day_glob, False, day_where)).fetchall(),
            ("one day", "raw typed"): lambda: raw.execute(raw_sql(day_glob, True, day_where)).fetchall(),
        }
        times: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
        cpu_times: dict[tuple[str, str], list[float]] = {k: [] for k in runs}  # every thread of the process
        answers: dict[tuple[str, str], list] = {}
        files_ours: dict[str, int] = {}
        order = list(runs)
        for round_ in range(args.rounds):
            # Alternate the order, so that neither reader always runs on a warmer or colder machine.
            for key in (order if round_ % 2 == 0 else order[::-1]):
                run = runs[key]
                started, cpu = time.perf_counter(), time.process_time()
                answers[key] = sorted(run())
                times[key].append(time.perf_counter() - started)
                cpu_times[key].append(time.process_time() - cpu)
                if key[1] == "ours":
                    files_ours[key[0]] = [c.items for c in con.fetch_log if c.operation == "ReadLogFiles"][-1]
        for query in ("full scan", "one day"):
            assert answers[(query, "ours")] == answers[(query, "raw JSON[]")] == answers[(query, "raw typed")], query

        print(f"\n{len(log_files)} log files, {total_mb:,.0f} MB uncompressed; DuckDB threads: "
              f"{raw.execute('SELECT current_setting(%s)' % repr('threads')).fetchone()[0]}, "
              f"best of {args.rounds} runs\n")
        print(f"{'query':<10} {'reader':<11} {'best s':>7} {'median s':>9} {'MB/s':>7} {'ours/this':>10} "
              f"{'CPU s':>7} {'CPU ours/this':>14} {'files':>6}")
        for query, mb, raw_files in (("full scan", total_mb, len(log_files)), ("one day", day_mb, len(day_files))):
            ours, ours_cpu = min(times[(query, "ours")]), min(cpu_times[(query, "ours")])
            for reader in ("ours", "raw JSON[]", "raw typed"):
                best, cpu = min(times[(query, reader)]), min(cpu_times[(query, reader)])
                files = files_ours[query] if reader == "ours" else raw_files
                ratio = "" if reader == "ours" else f"{ours / best:.2f}x"
                cpu_ratio = "" if reader == "ours" else f"{ours_cpu / cpu:.2f}x"
                print(f"{query:<10} {reader:<11} {best:>7.2f} {statistics.median(times[(query, reader)]):>9.2f} "
                      f"{mb / best:>7.0f} {ratio:>10} {cpu:>7.2f} {cpu_ratio:>14} {files:>6}")
        con.close()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
