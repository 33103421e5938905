"""The read-only guard: the only calls apigw-sql sends to AWS, checked on every client before each request.

A call goes out only when its (service, operation) pair is one the shipped catalogue makes: the
`[fetch] operation` of a table file in the package's own `tables/` folder (picked up by itself, so a
new table file needs nothing here), or an entry of EXPLICIT_READS (the calls of Python rows
functions and of the session, which no table file names). Secret readers are refused by name even
if a list above names them, and so are parameters that make a listed call return a secret. A custom
table folder (APIGW_SQL_TABLES) may use the shipped calls; it cannot add calls of its own.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from .errors import ApigwSqlError


# Calls no table file names, with who makes them. A rows function's calls go here; an entry that
# names a module is checked by the test suite against the string literals of that module.
EXPLICIT_READS: dict[tuple[str, str], str] = {
    # The session itself.
    ("sts", "GetCallerIdentity"): "session: the account the credentials belong to",
    ("sts", "AssumeRole"): "session: a role in another account to read (credentials for apigw-sql, never shown)",
    ("ec2", "DescribeRegions"): "session: the regions enabled for the account",
    # Python rows functions of the shipped tables.
    ("apigatewayv2", "GetDomainNames"): "apigw_sql.derived",
    ("wafv2", "ListWebACLs"): "apigw_sql.linked",
    ("wafv2", "GetWebACL"): "apigw_sql.linked",
    ("wafv2", "ListResourcesForWebACL"): "apigw_sql.linked",
    ("acm", "ListCertificates"): "apigw_sql.linked",
    ("acm", "DescribeCertificate"): "apigw_sql.linked",
    ("s3", "GetBucketLocation"): "apigw_sql.linked",
    ("s3", "GetBucketAcl"): "apigw_sql.linked",
    ("s3", "GetBucketPolicy"): "apigw_sql.linked",
    ("s3", "GetPublicAccessBlock"): "apigw_sql.linked",
    ("s3", "GetBucketLogging"): "apigw_sql.linked",
    ("s3", "GetBucketVersioning"): "apigw_sql.linked",
    ("s3", "GetObjectLockConfiguration"): "apigw_sql.linked",
    ("cloudtrail", "DescribeTrails"): "apigw_sql.cloudtrail.trail",
    ("cloudtrail", "GetTrailStatus"): "apigw_sql.cloudtrail.trail",
    ("cloudtrail", "GetEventSelectors"): "apigw_sql.cloudtrail.trail",
    ("cloudtrail", "GetInsightSelectors"): "apigw_sql.cloudtrail.trail",
    ("cloudtrail", "ListTags"): "apigw_sql.cloudtrail.trail",
    ("cloudtrail", "LookupEvents"): "apigw_sql.cloudtrail.lookup",
    ("cloudtrail", "ListEventDataStores"): "apigw_sql.cloudtrail.lake",
    ("cloudtrail", "GetEventDataStore"): "apigw_sql.cloudtrail.lake",
    ("s3", "ListObjectsV2"): "apigw_sql.cloudtrail.log_files",
    ("s3", "GetObject"): "apigw_sql.cloudtrail.log_files",  # CloudTrail log objects only
    # Tables being added (IAM, CloudWatch Logs and metrics, Organizations).
    ("iam", "GetAccountAuthorizationDetails"): "table: IAM principals and policies",
    ("logs", "DescribeLogGroups"): "table: CloudWatch Logs groups (access log destinations)",
    ("logs", "FilterLogEvents"): "table: CloudWatch Logs events (API Gateway access logs)",
    ("cloudwatch", "GetMetricData"): "table: CloudWatch metrics of the APIs",
    ("organizations", "ListAccounts"): "table: the accounts of the organization",
}

# Calls that return a secret (a credential, a key, a decrypted value): refused even if a table file or
# EXPLICIT_READS names one. Most match the Get/List/Describe pattern an older guard allowed.
SECRET_READERS: dict[tuple[str, str], str] = {
    ("secretsmanager", "GetSecretValue"): "a secret's value",
    ("secretsmanager", "BatchGetSecretValue"): "secrets' values",
    ("ssm", "GetParameter"): "a parameter's value (SecureString decrypted with WithDecryption)",
    ("ssm", "GetParameters"): "parameters' values",
    ("ssm", "GetParametersByPath"): "parameters' values",
    ("ssm", "GetParameterHistory"): "parameters' past values",
    ("kms", "Decrypt"): "plaintext",
    ("kms", "GenerateDataKey"): "a plaintext data key",
    ("kms", "GenerateDataKeyPair"): "a plaintext private key",
    ("acm", "ExportCertificate"): "a certificate's private key",
    ("ec2", "GetPasswordData"): "a Windows instance's administrator password",
    ("sts", "GetSessionToken"): "new temporary credentials",
    ("sts", "GetFederationToken"): "new temporary credentials",
    ("ecr", "GetAuthorizationToken"): "a registry password",
    ("codeartifact", "GetAuthorizationToken"): "a repository token",
    ("cognito-idp", "DescribeUserPoolClient"): "an app client's secret",
    ("glue", "GetConnection"): "a connection's password",
    ("glue", "GetConnections"): "connections' passwords",
}
# How the name of an operation that only reads starts: a table file's `[fetch] operation` must match it
# (the allow-list above is the guard; this is the first, cheap check, with a clear message, at load time).
READ_OPERATION = re.compile(r"^(Get|List|Describe|Lookup)[A-Za-z]+$")
READ_PREFIXES = "Get/List/Describe/Lookup"
# Parameters that make a call return a secret (GetApiKey(s) includeValue(s), ssm WithDecryption); refused when true.
SECRET_PARAMS = frozenset({"includeValue", "includeValues", "WithDecryption"})


class ReadOnlyViolation(ApigwSqlError, RuntimeError):
    """An operation that could change or reveal something was about to be sent."""


@functools.lru_cache(maxsize=1)
def allowed_reads() -> frozenset[tuple[str, str]]:
    """Every (service, operation) pair apigw-sql may send: the shipped table files' and EXPLICIT_READS."""
    from .catalog import load_catalog
    from .resources import shipped_dir

    # The package's own table files, installed or in the source tree, whatever APIGW_SQL_TABLES says.
    catalog = load_catalog(shipped_dir("tables"))
    from_specs = {(spec.service, spec.fetch.operation) for spec in catalog.tables.values()
                  if spec.service and spec.fetch.operation}
    return frozenset(from_specs) | frozenset(EXPLICIT_READS)


def check(service: str, operation: str, params: dict[str, Any] | None = None) -> None:
    """Returns when the call may be sent; raises ReadOnlyViolation (a one-line message) when not."""
    pair = (service, operation)
    for key in sorted(SECRET_PARAMS & set(params or {})):
        if params and params[key]:
            raise ReadOnlyViolation(f"refused {service}:{operation} with {key}=true: apigw-sql never fetches "
                                    "secret values")
    if pair in SECRET_READERS:
        raise ReadOnlyViolation(f"refused {service}:{operation}: it returns {SECRET_READERS[pair]}, and apigw-sql "
                                "never fetches secret values")
    if pair not in allowed_reads():
        raise ReadOnlyViolation(f"refused {service}:{operation}: no apigw-sql table reads it (allowed are the calls "
                                "of the shipped tables/ files and of EXPLICIT_READS in apigw_sql/readonly.py)")


def guard(model: Any = None, params: dict[str, Any] | None = None, **_: Any) -> None:
    """botocore's before-parameter-build handler: every request of every client passes here first."""
    service = model.service_model.service_name if model is not None else ""
    check(service, getattr(model, "name", ""), params)
