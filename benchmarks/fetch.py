"""Fetch every API Gateway table from a sandbox estate of N REST APIs and report the cost.

    python benchmarks/fetch.py 50

Builds N REST APIs (3 resources, 4 methods, 2 stages, an authorizer each) and N/5 HTTP APIs
(3 routes, 2 stages) in an empty sandbox, then fetches every aws_api_gateway* table in one
session and prints API calls, calls per API, wall time and peak memory. Also prints how long
the same calls would take at AWS's published API Gateway rate (10/s, burst 40; GetResources
5 per 2 s), which is what bounds a real crawl.
"""
from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import time
import tracemalloc

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")

import apigw_sql  # noqa: E402
from apigw_sql.ratelimit import LIMITS  # noqa: E402
from apigw_sql.sandbox import Sandbox  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1"]


def build_estate(sb: Sandbox, n: int) -> None:
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        c = sb.client("apigateway", region)
        api = c.create_rest_api(name=f"bench-{i}", endpointConfiguration={"types": ["REGIONAL"]})
        api_id = api["id"]
        root = c.get_resources(restApiId=api_id)["items"][0]["id"]
        auth = c.create_authorizer(restApiId=api_id, name="lambda", type="TOKEN",
                                   authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                                 "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                                   identitySource="method.request.header.Authorization")["id"]
        pets = c.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
        pet = c.create_resource(restApiId=api_id, parentId=pets, pathPart="{id}")["id"]
        for rid, verb, kind in ((root, "GET", "NONE"), (pets, "GET", "CUSTOM"), (pets, "POST", "CUSTOM"),
                                (pet, "GET", "AWS_IAM")):
            c.put_method(restApiId=api_id, resourceId=rid, httpMethod=verb, authorizationType=kind,
                         **({"authorizerId": auth} if kind == "CUSTOM" else {}))
            c.put_integration(restApiId=api_id, resourceId=rid, httpMethod=verb, type="HTTP_PROXY",
                              integrationHttpMethod=verb, uri="https://backend.example.com/")
        dep = c.create_deployment(restApiId=api_id)["id"]
        for stage in ("prod", "dev"):
            c.create_stage(restApiId=api_id, stageName=stage, deploymentId=dep)
    for i in range(max(1, n // 5)):
        c = sb.client("apigatewayv2", REGIONS[i % len(REGIONS)])
        api_id = c.create_api(Name=f"bench-http-{i}", ProtocolType="HTTP")["ApiId"]
        integ = c.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                     IntegrationUri="https://backend.example.com", PayloadFormatVersion="1.0")
        for key in ("GET /a", "POST /a", "GET /b"):
            c.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
        for stage in ("prod", "dev"):
            c.create_stage(ApiId=api_id, StageName=stage)


def aws_rate_seconds(log: list) -> float:
    """Lower bound on wall time for these calls at AWS's published rates (token buckets)."""
    per_budget: dict[tuple, int] = collections.Counter()
    for r in log:
        for key in ((r.service, None), (r.service, r.operation)):
            limit = LIMITS.get(key)
            if limit:
                per_budget[(limit, r.account_id, r.region if limit.per_region else "")] += 1
    return max([max(0.0, (count - limit.burst) / limit.rate) for (limit, *_), count in per_budget.items()] or [0.0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=50, help="number of REST APIs (default 50)")
    args = parser.parse_args()
    with Sandbox(seed=False) as sb:
        t0 = time.monotonic()
        build_estate(sb, args.n)
        print(f"estate: {args.n} REST APIs + {max(1, args.n // 5)} HTTP APIs in {len(REGIONS)} regions, "
              f"built in {time.monotonic() - t0:.1f} s")
        con = apigw_sql.connect(endpoint_url=sb.endpoint_url, regions=REGIONS, rate_limit=False, max_attempts=1)
        names = [n for n in con.catalog if n.startswith("aws_api_gateway")]
        tracemalloc.start()
        t0 = time.monotonic()
        query = con.fetch(names)
        wall = time.monotonic() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        log = [r for r in con.fetch_log if r.table != "(session)"]
        rows = {n: con.sql(f"SELECT count(*) FROM {n}").rows[0][0] for n in names}
        apis = rows.get("aws_api_gateway_rest_api", 0) + rows.get("aws_api_gatewayv2_api", 0)
        print(f"tables fetched: {len(names)} ({sum(rows.values())} rows), errors: {len(query.errors)}")
        print(f"API calls: {len(log)}  calls per API: {len(log) / max(apis, 1):.2f}")
        by_op = collections.Counter(f"{r.service}:{r.operation}" for r in log)
        print("calls by operation: " + ", ".join(f"{k}={v}" for k, v in by_op.most_common()))
        print(f"wall time (sandbox, no rate limit): {wall:.2f} s")
        print(f"at AWS's published rates these calls need at least: {aws_rate_seconds(log):.1f} s")
        print(f"peak Python memory during fetch: {peak / 1e6:.1f} MB; "
              f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
