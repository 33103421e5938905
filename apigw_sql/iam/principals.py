"""Users, groups and roles with the statements in force for each, from GetAccountAuthorizationDetails pages.

A user's policies are its own (inline and attached managed) and those of its groups; a managed policy counts by
its default version only; a permissions boundary is kept apart (it caps, it never grants). A principal whose
attached policy is not in the crawl, or whose documents cannot be read, carries an ``error``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .documents import Statement, parse_document

SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass
class Sourced:
    """A statement as it applies to one principal: where it comes from."""

    statement: Statement
    source: str                 # inline, managed, group, boundary
    policy_arn: str | None      # managed and boundary policies
    policy_name: str | None
    group_name: str | None = None


@dataclass
class Principal:
    arn: str
    name: str
    type: str                   # user, group, role
    path: str
    account_id: str
    identity: list[Sourced] = field(default_factory=list)
    boundary: list[Sourced] | None = None   # None: no permissions boundary
    errors: list[str] = field(default_factory=list)

    @property
    def service_linked(self) -> bool:
        return self.type == "role" and self.path.startswith(SERVICE_LINKED_PATH)

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None

    def all_statements(self) -> Iterable[Sourced]:
        yield from self.identity
        yield from self.boundary or []


@dataclass
class Crawl:
    """The four lists of one account's crawl, merged over its pages."""

    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_pages(cls, pages: Iterable[dict[str, Any]]) -> Crawl:
        crawl = cls()
        for page in pages:
            crawl.users += page.get("UserDetailList") or []
            crawl.groups += page.get("GroupDetailList") or []
            crawl.roles += page.get("RoleDetailList") or []
            crawl.policies += page.get("Policies") or []
        return crawl


def default_document(policy: dict[str, Any]) -> Any:
    """The document of a managed policy's default version (the only one in force).

    >>> default_document({"DefaultVersionId": "v2", "PolicyVersionList": [
    ...     {"VersionId": "v1", "IsDefaultVersion": False, "Document": "old"},
    ...     {"VersionId": "v2", "IsDefaultVersion": True, "Document": "new"}]})
    'new'
    """
    versions = policy.get("PolicyVersionList") or []
    for version in versions:
        if version.get("IsDefaultVersion"):
            return version.get("Document")
    for version in versions:  # a page that lost the flag: the version the policy names
        if version.get("VersionId") == policy.get("DefaultVersionId"):
            return version.get("Document")
    return None


class _Policies:
    """Parsed managed policies by ARN, each parsed once however many principals attach it."""

    def __init__(self, policies: list[dict[str, Any]]):
        self._raw = {p.get("Arn"): p for p in policies if p.get("Arn")}
        self._parsed: dict[str, list[Statement]] = {}

    def statements(self, arn: str) -> list[Statement] | None:
        if arn not in self._parsed:
            raw = self._raw.get(arn)
            if raw is None:
                return None
            self._parsed[arn] = parse_document(default_document(raw), arn)
        return self._parsed[arn]

    def name(self, arn: str) -> str:
        return str((self._raw.get(arn) or {}).get("PolicyName") or arn.rsplit("/", 1)[-1])


def _inline(principal: Principal, entries: list[dict[str, Any]], key: str, source: str,
            group: str | None = None) -> None:
    for entry in entries or []:
        name = entry.get("PolicyName") or ""
        for statement in parse_document(entry.get("PolicyDocument"), f"{key}/inline/{name}"):
            principal.identity.append(Sourced(statement, source, None, name, group))


def _managed(principal: Principal, attached: list[dict[str, Any]], policies: _Policies, source: str,
             group: str | None = None) -> None:
    for entry in attached or []:
        arn = entry.get("PolicyArn") or ""
        statements = policies.statements(arn)
        if statements is None:
            principal.errors.append(f"the managed policy {arn} is not in the account's authorization details")
            continue
        for statement in statements:
            principal.identity.append(Sourced(statement, source, arn, policies.name(arn), group))


def build_principals(crawl: Crawl, account_id: str) -> list[Principal]:
    """Every user, group and role of the crawl with its statements, in crawl order."""
    policies = _Policies(crawl.policies)
    groups = {g.get("GroupName"): g for g in crawl.groups}
    found: list[Principal] = []

    def boundary(principal: Principal, detail: dict[str, Any]) -> None:
        arn = (detail.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if not arn:
            return
        statements = policies.statements(arn)
        if statements is None:
            principal.errors.append(f"the permissions boundary {arn} is not in the account's authorization details")
            principal.boundary = []
            return
        principal.boundary = [Sourced(s, "boundary", arn, policies.name(arn)) for s in statements]

    for user in crawl.users:
        p = Principal(user.get("Arn", ""), user.get("UserName", ""), "user", user.get("Path", "/"), account_id)
        _inline(p, user.get("UserPolicyList"), p.arn, "inline")
        _managed(p, user.get("AttachedManagedPolicies"), policies, "managed")
        for group_name in user.get("GroupList") or []:
            group = groups.get(group_name)
            if group is None:
                p.errors.append(f"the group {group_name} is not in the account's authorization details")
                continue
            _inline(p, group.get("GroupPolicyList"), group.get("Arn", group_name), "group", group_name)
            _managed(p, group.get("AttachedManagedPolicies"), policies, "group", group_name)
        boundary(p, user)
        found.append(p)
    for group in crawl.groups:
        p = Principal(group.get("Arn", ""), group.get("GroupName", ""), "group", group.get("Path", "/"), account_id)
        _inline(p, group.get("GroupPolicyList"), p.arn, "inline")
        _managed(p, group.get("AttachedManagedPolicies"), policies, "managed")
        found.append(p)
    for role in crawl.roles:
        p = Principal(role.get("Arn", ""), role.get("RoleName", ""), "role", role.get("Path", "/"), account_id)
        _inline(p, role.get("RolePolicyList"), p.arn, "inline")
        _managed(p, role.get("AttachedManagedPolicies"), policies, "managed")
        boundary(p, role)
        found.append(p)
    for p in found:
        bad = [s.statement for s in p.all_statements() if s.statement.error]
        p.errors += [f"{s.statement_id}: {s.error}" for s in bad]
    return found
