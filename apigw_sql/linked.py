"""Rows of the linked-service tables: the WAFv2 web ACLs, ACM certificates and S3 buckets that API
Gateway stages, custom domains and CloudTrail trails point to.

Table files name these functions with ``rows = "apigw_sql.linked:FUNCTION"``. Each makes its calls
through ``ctx.call`` (paginated, cached, rate-limited, logged) and returns items that the table's
column paths read; the pure helpers below carry the logic and the examples.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from .derived import condition_keys, principal_is_public
from .transforms import policy_document

# ---- pushdown -----------------------------------------------------------------------------------


def wanted_arns(ctx: Any, columns: Iterable[str]) -> set[str] | None:
    """The ARNs a query's WHERE names on these columns (intersected), or None when it names none."""
    wanted: set[str] | None = None
    for column in columns:
        if column in ctx.constraints:
            values = {str(v) for v in ctx.constraints[column]}
            wanted = values if wanted is None else wanted & values
    return wanted


def arn_region(arn: str) -> str:
    """The region field of an ARN.

    >>> arn_region("arn:aws:acm:eu-west-1:123456789012:certificate/abc"), arn_region("nonsense")
    ('eu-west-1', '')
    """
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


# ---- WAFv2 web ACLs ---------------------------------------------------------------------------

KNOWN_BAD_INPUTS = "AWS:AWSManagedRulesKnownBadInputsRuleSet"


def managed_rule_groups(*rule_lists: Any) -> list[str]:
    """'Vendor:Name' of every AWS or Marketplace managed rule group the rules use, unique, in order.

    Looks through whole statements, so groups that Firewall Manager adds (its pre- and post-process
    rule groups) count as well; customer rule groups (RuleGroupReferenceStatement) are not managed.

    >>> rules = [{"Name": "a", "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS",
    ...           "Name": "AWSManagedRulesCommonRuleSet"}}},
    ...          {"Name": "b", "Statement": {"RuleGroupReferenceStatement": {"ARN": "arn:aws:wafv2:..."}}}]
    >>> fms = [{"Name": "fms", "FirewallManagerStatement": {"ManagedRuleGroupStatement": {
    ...          "VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}}]
    >>> managed_rule_groups(fms, rules, None)
    ['AWS:AWSManagedRulesKnownBadInputsRuleSet', 'AWS:AWSManagedRulesCommonRuleSet']
    """
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for entry in value:
                walk(entry)
        elif isinstance(value, dict):
            group = value.get("ManagedRuleGroupStatement")
            if isinstance(group, dict) and group.get("Name"):
                name = f"{group.get('VendorName') or ''}:{group['Name']}"
                if name not in found:
                    found.append(name)
            for entry in value.values():
                walk(entry)

    for rules in rule_lists:
        walk(rules)
    return found


def web_acl_item(web_acl: dict[str, Any], associated: list[str]) -> dict[str, Any]:
    """A GetWebACL WebACL plus its default action's type, managed groups and associated resources.

    >>> item = web_acl_item({"Name": "acl", "DefaultAction": {"Block": {}}, "Rules": [{"Statement": {
    ...     "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}}]},
    ...     ["arn:aws:apigateway:eu-west-1::/restapis/a1/stages/prod"])
    >>> item["defaultActionType"], item["managedRuleGroups"], item["hasKnownBadInputs"], item["associatedResources"]
    ('BLOCK', ['AWS:AWSManagedRulesKnownBadInputsRuleSet'], True, ['arn:aws:apigateway:eu-west-1::/restapis/a1/stages/prod'])
    >>> web_acl_item({"Name": "empty"}, [])["defaultActionType"] is None
    True
    """
    default = web_acl.get("DefaultAction")
    action = next(iter(default), None) if isinstance(default, dict) else None
    groups = managed_rule_groups(web_acl.get("PreProcessFirewallManagerRuleGroups"), web_acl.get("Rules"),
                                 web_acl.get("PostProcessFirewallManagerRuleGroups"))
    return {**web_acl, "defaultActionType": action.upper() if action else None, "managedRuleGroups": groups,
            "hasKnownBadInputs": KNOWN_BAD_INPUTS in groups, "associatedResources": associated}


def web_acl_key(arn: str) -> tuple[str, str] | None:
    """(Name, Id) of a regional web ACL's ARN; None for other ARNs.

    >>> web_acl_key("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-acl/0f1e2d3c")
    ('shop-acl', '0f1e2d3c')
    >>> web_acl_key("arn:aws:wafv2:us-east-1:123456789012:global/webacl/cdn-acl/0f1e2d3c") is None
    True
    """
    resource = arn.split(":", 5)[-1].split("/")
    if len(resource) != 4 or resource[:2] != ["regional", "webacl"]:
        return None
    return resource[2], resource[3]


def web_acl_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_wafv2_web_acl: ListWebACLs (REGIONAL), then GetWebACL and ListResourcesForWebACL per ACL.

    A WHERE on arn skips the list call and gets only the named ACLs of this region.
    """
    wanted = wanted_arns(ctx, ["arn"])
    if wanted is None:
        keys = [(acl["Name"], acl["Id"]) for page in ctx.call("ListWebACLs", Scope="REGIONAL", Limit=100)
                for acl in page.get("WebACLs") or []]
    else:
        keys = [key for arn in sorted(wanted) if arn_region(arn) == ctx.region
                for key in [web_acl_key(arn)] if key is not None]
    for name, acl_id in keys:
        pages = ctx.call("GetWebACL", Scope="REGIONAL", Name=name, Id=acl_id,
                         expected_errors={"WAFNonexistentItemException"})  # deleted since it was listed
        web_acl = pages[0].get("WebACL") if pages else None
        if not web_acl:
            continue
        resources = ctx.call("ListResourcesForWebACL", WebACLArn=web_acl["ARN"], ResourceType="API_GATEWAY")
        yield web_acl_item(web_acl, [arn for page in resources for arn in page.get("ResourceArns") or []])


# ---- ACM certificates ---------------------------------------------------------------------------

# ListCertificates returns only RSA_1024/RSA_2048 certificates of two key pair origins unless told
# otherwise; these filters ask for every key type, status and origin.
CERTIFICATE_FILTERS: dict[str, Any] = {
    "CertificateStatuses": ["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT",
                            "REVOKED", "FAILED"],
    "Includes": {"keyTypes": ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
                              "EC_secp521r1"]},
    "CertificateKeyPairOrigins": ["AWS_MANAGED", "CUSTOMER_PROVIDED", "ACME"],
}


def certificate_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_acm_certificate: ListCertificates (every status and key type), then DescribeCertificate each.

    DescribeCertificate carries no certificate body and no key. A WHERE on certificate_arn (or arn)
    skips the list call and describes only the named certificates of this region.
    """
    wanted = wanted_arns(ctx, ["certificate_arn", "arn"])
    if wanted is None:
        arns = [summary["CertificateArn"] for page in ctx.call("ListCertificates", **CERTIFICATE_FILTERS)
                for summary in page.get("CertificateSummaryList") or []]
    else:
        arns = sorted(arn for arn in wanted if arn_region(arn) == ctx.region)
    for arn in arns:
        pages = ctx.call("DescribeCertificate", CertificateArn=arn, expected_errors={"ResourceNotFoundException"})
        certificate = pages[0].get("Certificate") if pages else None
        if certificate:
            yield certificate


# ---- S3 buckets that CloudTrail trails write to -------------------------------------------------

# Answers that mean the bucket cannot be read from this account: a row saying why, not a failure.
UNREADABLE = frozenset({"AccessDenied", "AllAccessDisabled", "NoSuchBucket"})
OTHER_ACCOUNT = frozenset({"AccessDenied", "AllAccessDisabled"})
# GetBucketLocation's empty LocationConstraint is the partition's first region; "EU" is eu-west-1.
_DEFAULT_BUCKET_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
_PUBLIC_GROUPS = {"http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
                  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers"}
# Condition keys that tie a public principal to a source, an organization, a network or an account.
BUCKET_RESTRICTION_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceVpce", "aws:SourceVpc",
    "aws:SourceIp"))


def bucket_region(location_constraint: Any, partition: str = "aws") -> str:
    """The region of a bucket from GetBucketLocation's LocationConstraint.

    >>> bucket_region(None), bucket_region(""), bucket_region("EU"), bucket_region("ap-southeast-2")
    ('us-east-1', 'us-east-1', 'eu-west-1', 'ap-southeast-2')
    """
    if not location_constraint:
        return _DEFAULT_BUCKET_REGION.get(partition, "us-east-1")
    return "eu-west-1" if location_constraint == "EU" else str(location_constraint)


def public_acl_grants(grants: Any) -> list[str]:
    """'Group:PERMISSION' of the ACL grants to everyone (AllUsers) or to any AWS user (AuthenticatedUsers).

    >>> public_acl_grants([{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"},
    ...     {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
    ...     {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}])
    ['AllUsers:READ']
    """
    found = []
    for grant in grants if isinstance(grants, list) else []:
        grantee = grant.get("Grantee") if isinstance(grant, dict) else None
        group = _PUBLIC_GROUPS.get(str((grantee or {}).get("URI")))
        if group:
            found.append(f"{group}:{grant.get('Permission')}")
    return found


def policy_is_public(policy: Any) -> bool:
    """True when an Allow statement names any principal (*) with no condition restricting who or where.

    >>> allow = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}
    >>> policy_is_public({"Statement": [allow]})
    True
    >>> policy_is_public({"Statement": [{**allow, "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}]})
    False
    >>> policy_is_public({"Statement": {**allow, "Principal": {"Service": "cloudtrail.amazonaws.com"}}})
    False
    >>> policy_is_public(None), policy_is_public({"Statement": [{**allow, "Effect": "Deny"}]})
    (False, False)
    """
    if not isinstance(policy, dict):
        return False
    statements = policy.get("Statement")
    for statement in [statements] if isinstance(statements, dict) else statements or []:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if principal_is_public(statement.get("Principal")) and \
                not BUCKET_RESTRICTION_KEYS & set(condition_keys(statement.get("Condition"))):
            return True
    return False


def trail_bucket_rows(ctx: Any) -> list[dict[str, Any]]:
    """aws_s3_bucket: the bucket a trail writes to, read once per bucket and region of the trails.

    A multi-region trail's shadow copies are skipped (its home region reports it), and when several
    trails of one region name the bucket only the first (by ARN) reports it, with every ARN. A WHERE
    on name reads only the named buckets.
    """
    trail = ctx.parent or {}
    name = trail.get("s3_bucket_name")
    if not name or not _is_home_copy(trail) or name not in ctx.constraints.get("name", {name}):
        return []
    naming = sorted(str(t.get("arn")) for t in ctx.siblings
                    if t.get("s3_bucket_name") == name and t.get("account_id") == trail.get("account_id")
                    and t.get("region") == trail.get("region") and _is_home_copy(t))
    if naming and naming[0] != trail.get("arn"):
        return []
    return [bucket_item(ctx, name, naming or [str(trail.get("arn"))])]


def _is_home_copy(trail: dict[str, Any]) -> bool:
    return trail.get("region") == (trail.get("home_region") or trail.get("region"))


def bucket_item(ctx: Any, name: str, trail_arns: list[str]) -> dict[str, Any]:
    """One bucket's settings: GetBucketLocation here, then six Get calls in the bucket's own region.

    "Not configured" answers (no policy, no public access block, no object lock) are values, not
    errors; a bucket this account cannot read gets a row that says why in `error`.
    """
    item: dict[str, Any] = {"name": name, "trailArns": trail_arns, "bucketInOtherAccount": False}
    location = ctx.call("GetBucketLocation", Bucket=name, expected_errors=UNREADABLE)
    if location is None:
        item["bucketInOtherAccount"] = ctx.last_error.code in OTHER_ACCOUNT
        item["error"] = f"GetBucketLocation: {ctx.last_error}"
        return item
    region = item["bucketRegion"] = bucket_region(location[0].get("LocationConstraint"),
                                                  ctx.target.partition if ctx.target else "aws")
    errors: list[str] = []

    def read(operation: str, not_configured: str | None = None) -> dict[str, Any] | None:
        """The call's answer; {} when the setting is not configured; None when it could not be read."""
        expected = UNREADABLE | ({not_configured} if not_configured else set())
        pages = ctx.call(operation, region=region, Bucket=name, expected_errors=expected)
        if pages is not None:
            return pages[0]
        if ctx.last_error.code == not_configured:
            return {}
        errors.append(f"{operation}: {ctx.last_error}")
        return None

    acl = read("GetBucketAcl")
    if acl is not None:
        item["acl"] = {key: acl[key] for key in ("Owner", "Grants") if key in acl}
        item["aclPublicGrants"] = public_acl_grants(acl.get("Grants"))
    policy = read("GetBucketPolicy", "NoSuchBucketPolicy")
    if policy is not None:
        document = policy_document(policy.get("Policy"))
        item["policy"], item["policyIsPublic"] = document, policy_is_public(document)
    block = read("GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration")
    if block is not None:
        settings = block.get("PublicAccessBlockConfiguration") or {}
        for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"):
            item[key] = bool(settings.get(key))
    logging = read("GetBucketLogging")
    if logging is not None:
        item["logging"] = logging.get("LoggingEnabled")
    versioning = read("GetBucketVersioning")
    if versioning is not None:
        item["versioningStatus"] = versioning.get("Status")
        item["mfaDelete"] = versioning.get("MFADelete") or "Disabled"
    lock = read("GetObjectLockConfiguration", "ObjectLockConfigurationNotFoundError")
    if lock is not None:
        item["objectLockConfiguration"] = lock.get("ObjectLockConfiguration")
        item["objectLockEnabled"] = (lock.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
    item["error"] = "; ".join(errors) or None
    return item
