"""Effective access to APIs: who may read, write, administer or invoke which API.

A grant is effective (reference: the project's control catalogue) when an Allow statement of the principal's
identity policies matches the action and the resource, no Deny statement without a Condition matches them, and
the principal's permissions boundary, if any, allows them too. Statements with a Condition grant, flagged
``conditional`` (conditions are reported, never evaluated); a conditional Deny removes nothing.

Resources are judged per API: an Allow counts for an API when it matches SOME resource of it (a stage, a method,
the API itself); a Deny removes an API only when it matches ALL of its resources (``.../restapis/ID`` and
everything under it); partial Denies leave a (narrower) grant. An API is covered by ``*`` ("every API of the
account, existing or future") when the statement matches probe APIs of a region and id no real API has, and no
Deny or NotResource takes away even one existing API.

Evaluation is set algebra over precomputed coverages: each distinct (Resource, NotResource) list is matched
against the APIs once, through an index on the ARN's literal prefix, so principals x statements x APIs is never
enumerated.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Iterator

from .actions import WRITE_VERBS, _expand, catalogue, expand
from .documents import Statement
from .principals import Principal, Sourced
from .wildcard import arn_matches, can_match_under

LEVELS = ("admin", "write", "read", "invoke")
_PROBE_REGION = "zz-probe-1"   # no real region: a pattern that matches it matches every region
_PROBE_ID = "zzprobe0api"


@dataclass(frozen=True)
class Api:
    """An API of the audited account, as the grant evaluation sees it."""

    api_id: str
    name: str | None
    api_type: str            # rest, http, websocket
    region: str
    account_id: str
    partition: str = "aws"
    policy: Any = None       # a REST API's resource policy (a dict), if any

    @property
    def management_arn(self) -> str:
        kind = "restapis" if self.api_type == "rest" else "apis"
        return f"arn:{self.partition}:apigateway:{self.region}::/{kind}/{self.api_id}"

    @property
    def invoke_base(self) -> str:
        return f"arn:{self.partition}:execute-api:{self.region}:{self.account_id}:{self.api_id}"


@dataclass(frozen=True)
class Coverage:
    """Which APIs a statement's resources reach: ``some`` resource of, ``whole`` API, or ``every`` API."""

    every: bool
    some: frozenset[int]
    whole: frozenset[int]
    touches_probe: bool = False   # reaches some resource of a future API (a Deny there breaks "every API")
    regions: frozenset[str] = frozenset()   # regions where it covers every API, existing or future
    touched: frozenset[str] = frozenset()   # regions where it reaches some resource of a future API


class ApiIndex:
    """The account's APIs, indexed by the string their ARNs start with, for one kind of action."""

    def __init__(self, apis: list[Api], kind: str, account_id: str, partition: str):
        self.apis = apis
        self.kind = kind  # management or invocation
        self.bases = [a.management_arn if kind == "management" else a.invoke_base for a in apis]
        order = sorted(range(len(apis)), key=lambda i: self.bases[i])
        self._sorted = [self.bases[i] for i in order]
        self._order = order
        self._by_base: dict[str, list[int]] = {}
        for i, base in enumerate(self.bases):
            self._by_base.setdefault(base, []).append(i)
        self.regions = sorted({a.region for a in apis})
        self.region_of = [a.region for a in apis]
        # Resources of an API no one has created yet: in a region that does not exist (every region), and in
        # each region the account uses (every API of that region).
        self.region_probes = {r: self._probes(partition, r, account_id) for r in self.regions}
        self.probes = self._probes(partition, _PROBE_REGION, account_id)
        self._cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Coverage] = {}
        self.fields = [_api_fields(a) for a in apis]  # each API's row columns, built once

    def _probes(self, partition: str, region: str, account_id: str) -> list[str]:
        if self.kind == "management":
            root = f"arn:{partition}:apigateway:{region}::"
            return [f"{root}/restapis/{_PROBE_ID}", f"{root}/restapis/{_PROBE_ID}/stages/prod",
                    f"{root}/apis/{_PROBE_ID}", f"{root}/apis/{_PROBE_ID}/routes/r1"]
        return [f"arn:{partition}:execute-api:{region}:{account_id}:{_PROBE_ID}/prod/GET/x"]

    def _candidates(self, pattern: str) -> Iterable[int]:
        cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
        literal = pattern[:cut]
        lo = bisect.bisect_left(self._sorted, literal)
        hi = bisect.bisect_left(self._sorted, literal + "\U0010ffff")
        found = {self._order[k] for k in range(lo, hi)}
        for k in range(len(literal)):  # an API whose ARN the literal part runs past (".../restapis/ID/stages")
            if literal[k] == "/":
                found.update(self._by_base.get(literal[:k], ()))
        found.update(self._by_base.get(literal, ()))
        return found

    def _pattern_some(self, pattern: str) -> set[int]:
        if pattern == "*":
            return set(range(len(self.apis)))
        tail = "/zzprobe/GET/zzprobe" if self.kind == "invocation" else "/zzprobe/zzprobe"
        # The two cheap regex checks settle most patterns; the prefix automaton only the narrow ones.
        return {i for i in self._candidates(pattern)
                if arn_matches(pattern, self.bases[i]) or arn_matches(pattern, self.bases[i] + tail)
                or can_match_under(pattern, self.bases[i] + "/")}

    def _pattern_whole(self, pattern: str) -> set[int]:
        if pattern == "*":
            return set(range(len(self.apis)))
        tail = "/zzprobe/GET/zzprobe" if self.kind == "invocation" else "/zzprobe/zzprobe"
        return {i for i in self._candidates(pattern)
                if arn_matches(pattern, self.bases[i] + tail)
                and (self.kind == "invocation" or arn_matches(pattern, self.bases[i]))}

    def coverage(self, statement: Statement) -> Coverage:
        key = (statement.resources, statement.not_resources)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._coverage(*key)
        return found

    def _coverage(self, resources: tuple[str, ...], not_resources: tuple[str, ...]) -> Coverage:
        if resources:
            some: set[int] = set()
            whole: set[int] = set()
            for pattern in resources:
                some |= self._pattern_some(pattern)
                whole |= self._pattern_whole(pattern)
            hits = [any(arn_matches(p, probe) for p in resources) for probe in self.probes]
            regions, touched = set(), set()
            for region, probes in self.region_probes.items():
                region_hits = [any(arn_matches(p, probe) for p in resources) for probe in probes]
                if all(region_hits) and whole.issuperset(i for i in range(len(self.apis)) if self.region_of[i] == region):
                    regions.add(region)
                if any(region_hits):
                    touched.add(region)
            return Coverage(all(hits), frozenset(some), frozenset(whole), any(hits), frozenset(regions),
                            frozenset(touched))
        excluded_some: set[int] = set()
        excluded_whole: set[int] = set()
        for pattern in not_resources:
            excluded_some |= self._pattern_some(pattern)
            excluded_whole |= self._pattern_whole(pattern)
        every_api = set(range(len(self.apis)))
        excluded = [any(arn_matches(p, probe) for p in not_resources) for probe in self.probes]
        every = not excluded_some and not any(excluded)
        regions, touched = set(), set()
        for region, probes in self.region_probes.items():
            region_excluded = [any(arn_matches(p, probe) for p in not_resources) for probe in probes]
            if not any(region_excluded) and not any(self.region_of[i] == region for i in excluded_some):
                regions.add(region)
            if not all(region_excluded):
                touched.add(region)
        return Coverage(every, frozenset(every_api - excluded_whole), frozenset(every_api - excluded_some),
                        not all(excluded), frozenset(regions), frozenset(touched))


def _actions(s: Statement) -> frozenset[str]:
    """The catalogue actions a statement covers (cached on its Action / NotAction lists)."""
    return _expand(s.actions, s.not_actions)


@dataclass(frozen=True)
class _Entry:
    """A statement that can matter, with its actions and its coverages, computed once per principal."""

    sourced: Sourced
    actions: frozenset[str]
    management: Coverage | None
    invocation: Coverage | None


def _entries(statements: list[Sourced], management: ApiIndex, invocation: ApiIndex) -> list[_Entry]:
    found = []
    for sourced in statements:
        s = sourced.statement
        if s.error or s.effect not in ("Allow", "Deny") or (s.effect == "Deny" and s.conditional):
            continue  # a Deny with a Condition removes nothing: conditions are not evaluated
        actions = _actions(s)
        if not actions:
            continue
        invokes = any(a.startswith("execute-api:") for a in actions)
        manages = any(not a.startswith("execute-api:") for a in actions)
        found.append(_Entry(sourced, actions, management.coverage(s) if manages else None,
                            invocation.coverage(s) if invokes else None))
    return found


@dataclass
class _Fold:
    """One action over a list of statements: what the Allows reach, and what the Denies take away."""

    some: set[int] = field(default_factory=set)
    unconditional: set[int] = field(default_factory=set)
    every: bool = False
    every_unconditional: bool = False
    by: list[tuple[Sourced, Coverage]] = field(default_factory=list)
    denied: set[int] = field(default_factory=set)
    breaks_every: bool = False
    regions: set[str] = field(default_factory=set)
    regions_unconditional: set[str] = field(default_factory=set)
    breaks_regions: set[str] = field(default_factory=set)


def _fold(entries: list[_Entry], action: str, index_regions: list[str]) -> _Fold:
    fold = _Fold()
    invokes = action.startswith("execute-api:")
    for entry in entries:
        if action not in entry.actions:
            continue
        cov = entry.invocation if invokes else entry.management
        assert cov is not None
        if entry.sourced.statement.effect == "Deny":
            fold.denied |= cov.whole
            fold.breaks_every |= bool(cov.some) or cov.every or cov.touches_probe
            fold.breaks_regions |= cov.touched | {index_regions[i] for i in cov.some}
            continue
        if not cov.some and not cov.every:
            continue
        fold.some |= cov.some
        fold.every |= cov.every
        fold.regions |= cov.regions
        if not entry.sourced.statement.conditional:
            fold.unconditional |= cov.some
            fold.every_unconditional |= cov.every
            fold.regions_unconditional |= cov.regions
        fold.by.append((entry.sourced, cov))
    return fold


@dataclass
class Effective:
    """One action's effective grant for one principal."""

    apis: set[int]
    unconditional: set[int]
    every: bool
    every_unconditional: bool
    by: list[tuple[Sourced, Coverage]]
    regions: set[str] = field(default_factory=set)                 # every API of these regions
    regions_unconditional: set[str] = field(default_factory=set)


def _effective(identity: list[_Entry], boundary: list[_Entry] | None, action: str,
               index_regions: list[str]) -> Effective | None:
    allow = _fold(identity, action, index_regions)
    if not allow.by:
        return None
    apis, uncond = allow.some - allow.denied, allow.unconditional - allow.denied
    every = allow.every and not allow.breaks_every
    every_uncond = allow.every_unconditional and not allow.breaks_every
    regions = allow.regions - allow.breaks_regions
    regions_uncond = allow.regions_unconditional - allow.breaks_regions
    if boundary is not None:  # the boundary caps: its Allows must reach the API too, its Denies still remove
        cap = _fold(boundary, action, index_regions)
        apis &= cap.some - cap.denied
        uncond &= cap.unconditional - cap.denied
        every = every and cap.every and not cap.breaks_every
        every_uncond = every_uncond and cap.every_unconditional and not cap.breaks_every
        regions &= cap.regions - cap.breaks_regions
        regions_uncond &= cap.regions_unconditional - cap.breaks_regions
    if not apis and not every:
        return None
    return Effective(apis, uncond, every, every_uncond, allow.by, regions, regions_uncond)


def effective(principal: Principal, action: str, management: ApiIndex, invocation: ApiIndex) -> Effective | None:
    """One action's effective grant for a principal, or None when it reaches no API."""
    boundary = None if principal.boundary is None else _entries(principal.boundary, management, invocation)
    index = invocation if action.startswith("execute-api:") else management
    return _effective(_entries(principal.identity, management, invocation), boundary, action, index.region_of)


@lru_cache(maxsize=8)
def _level_actions(level: str) -> tuple[str, ...]:
    c = catalogue()
    if level == "admin":
        return WRITE_VERBS
    if level == "invoke":
        return c.invocation
    return tuple(a for a in c.management if c.level(a) == level)


def principal_grants(principal: Principal, management: ApiIndex, invocation: ApiIndex) -> Iterator[dict[str, Any]]:
    """The identity-policy grant rows of one principal: per access level, one row for ``*`` when every API is
    covered, else one per API reached (in the indexes' API order)."""
    who = _who(principal)
    if principal.error:
        yield {**who, "access": None, "api_id": None, "via": "identity_policy", "conditional": None,
               "actions": [], "statements": [], "conditions": None, "error": principal.error}
        return
    identity = _entries(principal.identity, management, invocation)
    if not identity:
        return
    boundary = None if principal.boundary is None else _entries(principal.boundary, management, invocation)
    allowed = frozenset().union(*(e.actions for e in identity if e.sourced.statement.effect == "Allow"))
    per_action: dict[str, Effective] = {}
    for action in catalogue().all:
        if action not in allowed:  # most principals hold a few of the catalogue's actions
            continue
        index = invocation if action.startswith("execute-api:") else management
        found = _effective(identity, boundary, action, index.region_of)
        if found is not None:
            per_action[action] = found
    for level in LEVELS:
        names = [a for a in _level_actions(level) if a in per_action]
        if not names or (level == "admin" and len(names) < len(WRITE_VERBS)):
            continue
        index = invocation if level == "invoke" else management
        grants = [per_action[a] for a in names]
        reaching: dict[str, tuple[Sourced, Coverage]] = {}
        for grant in grants:
            for sourced, cov in grant.by:
                reaching.setdefault(sourced.statement.statement_id, (sourced, cov))
        ordered = sorted(reaching.items())  # rows list their statements sorted by id
        if level == "admin":
            every = all(g.every for g in grants)
            targets = set.intersection(*(g.apis for g in grants))
        else:
            every = any(g.every for g in grants)
            targets = set.union(*(g.apis for g in grants))
        if every:
            granted = [(a, g) for a, g in zip(names, grants) if g.every]
            unconditional = [g.every_unconditional for _, g in granted]
            conditional = not all(unconditional) if level == "admin" else not any(unconditional)
            by = [(sid, sourced) for sid, (sourced, cov) in ordered if cov.every]
            yield _row(who, level, _EVERY_API, [a for a, _ in granted], conditional, by)
            continue
        if level == "admin":
            whole_regions = set.intersection(*(g.regions for g in grants))
        else:
            whole_regions = set.union(*(g.regions for g in grants))
        for region in sorted(whole_regions):  # every API of a region, existing or future: one row for it
            granted = [(a, g) for a, g in zip(names, grants) if region in g.regions]
            unconditional = [region in g.regions_unconditional for _, g in granted]
            conditional = not all(unconditional) if level == "admin" else not any(unconditional)
            by = [(sid, sourced) for sid, (sourced, cov) in ordered if region in cov.regions]
            yield _row(who, level, {**_EVERY_API, "apiRegion": region}, [a for a, _ in granted], conditional, by)
        if whole_regions:
            targets = {i for i in targets if index.region_of[i] not in whole_regions}
        pairs = list(zip(names, grants))
        for i in sorted(targets):  # the hot loop: one row per API reached
            if len(pairs) == 1:
                granted_names = names
                conditional = i not in grants[0].unconditional
            else:
                granted = [(a, g) for a, g in pairs if i in g.apis]
                granted_names = [a for a, _ in granted]
                unconditional = [i in g.unconditional for _, g in granted]
                conditional = not all(unconditional) if level == "admin" else not any(unconditional)
            by = [(sid, sourced) for sid, (sourced, cov) in ordered if i in cov.some]
            yield _row(who, level, index.fields[i], granted_names, conditional, by)


def _who(principal: Principal) -> dict[str, Any]:
    return {"principalArn": principal.arn, "principalName": principal.name, "principalType": principal.type,
            "principalAccount": principal.account_id, "principalPath": principal.path,
            "serviceLinked": principal.service_linked}


def _row(who: dict[str, Any], level: str, api_fields: dict[str, Any], actions: list[str], conditional: bool,
         by: list[tuple[str, Sourced]]) -> dict[str, Any]:
    """One grant row; `actions` and `by` come sorted."""
    conditions = [s.statement.condition for _, s in by if s.statement.condition]
    return {**who, "access": level, **api_fields, "via": "identity_policy", "conditional": conditional,
            "actions": actions, "statements": [sid for sid, _ in by], "conditions": conditions or None,
            "error": None}


def _api_fields(api: Api | None) -> dict[str, Any]:
    if api is None:
        return dict(_EVERY_API)
    return {"api_id": api.api_id, "apiName": api.name, "apiType": api.api_type, "apiRegion": api.region,
            "apiArn": api.management_arn}


_EVERY_API: dict[str, Any] = {"api_id": "*", "apiName": None, "apiType": None, "apiRegion": None, "apiArn": None}


# ---- resource policies -------------------------------------------------------------------------------------

def _principal_values(principal: Any) -> list[str]:
    """The AWS principals a statement names (``*`` for everyone); service and federated principals are left out.

    >>> _principal_values({"AWS": ["111122223333", "arn:aws:iam::444455556666:role/x"]})
    ['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:role/x']
    >>> _principal_values("*"), _principal_values({"Service": "lambda.amazonaws.com"})
    (['*'], [])
    """
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    values = next((v for k, v in principal.items() if k.upper() == "AWS"), [])
    values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
    return [f"arn:aws:iam::{v}:root" if v.isdigit() and len(v) == 12 else v for v in values if isinstance(v, str)]


def account_of(arn: str) -> str | None:
    """The account of a principal ARN; None for ``*``.

    >>> account_of("arn:aws:iam::444455556666:role/x"), account_of("*")
    ('444455556666', None)
    """
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _expand_resource(resource: str, api: Api) -> str:
    """API Gateway's shorthand ``execute-api:/stage/VERB/path`` as the API's full invocation ARN."""
    if resource.startswith("execute-api:/"):
        return f"{api.invoke_base}/{resource[len('execute-api:/'):]}"
    return resource


def resource_policy_grants(api: Api) -> Iterator[dict[str, Any]]:
    """Invoke grants a REST API's resource policy makes: one row per named principal (``*`` for everyone)."""
    from .documents import parse_document

    if not isinstance(api.policy, dict):
        return
    statements = parse_document(api.policy, f"{api.management_arn}/policy")
    raw = api.policy.get("Statement")
    raw = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    invocation = catalogue().invocation
    parsed: list[tuple[Statement, list[str]]] = []
    for s in statements:
        if s.error or s.index is None or s.index >= len(raw) or not isinstance(raw[s.index], dict):
            continue
        resources = tuple(_expand_resource(r, api) for r in s.resources)
        not_resources = tuple(_expand_resource(r, api) for r in s.not_resources)
        reaches = (any(arn_matches(r, api.invoke_base) or can_match_under(r, api.invoke_base + "/") for r in resources)
                   if resources else not any(arn_matches(r, api.invoke_base + "/zzprobe/GET/zzprobe")
                                             and arn_matches(r, api.invoke_base + "/zz/POST/zz") for r in not_resources))
        if reaches:
            parsed.append((s, _principal_values(raw[s.index].get("Principal"))))
    grants: dict[str, list[tuple[str, Statement]]] = {}
    for s, principals in parsed:
        if s.effect != "Allow":
            continue
        for action in invocation:
            if action in expand(s.actions, s.not_actions):
                for who in principals:
                    grants.setdefault(who, []).append((action, s))
    for who, granted in grants.items():
        actions = sorted({a for a, _ in granted if not any(
            d.effect == "Deny" and not d.conditional and (who in ps or "*" in ps)
            and a in expand(d.actions, d.not_actions) and _whole_api(d, api) for d, ps in parsed)})
        if not actions:
            continue
        by = {s.statement_id: s for a, s in granted if a in actions}
        conditional = all(s.conditional for s in by.values())
        account = account_of(who)
        yield {"principalArn": who, "principalName": who.rsplit("/", 1)[-1] if "/" in who else who,
               "principalType": "any" if who == "*" else ("account" if who.endswith(":root") else
                                                         who.split(":")[5].split("/")[0] if who.count(":") >= 5 else "unknown"),
               "principalAccount": account, "principalPath": None, "serviceLinked": False,
               "access": "invoke", **_api_fields(api), "via": "resource_policy", "conditional": conditional,
               "actions": actions, "statements": sorted(by),
               "conditions": [s.condition for s in by.values() if s.condition] or None, "error": None}


def _whole_api(s: Statement, api: Api) -> bool:
    """True when a resource-policy statement covers every invocation resource of the API."""
    probes = (api.invoke_base + "/zzprobe/GET/zzprobe", api.invoke_base + "/zz/POST/zz")
    if s.resources:
        return any(all(arn_matches(_expand_resource(r, api), p) for p in probes) for r in s.resources)
    return not any(arn_matches(_expand_resource(r, api), p) for r in s.not_resources for p in probes)


def grant_rows(principals: Iterable[Principal], apis: list[Api], account_id: str, partition: str = "aws"
               ) -> Iterator[dict[str, Any]]:
    """Every grant row of an account: identity policies of each principal, then the REST APIs' resource policies."""
    apis = sorted(apis, key=lambda a: (a.region, a.api_type, a.api_id))  # rows come out in this order
    management = ApiIndex(apis, "management", account_id, partition)
    invocation = ApiIndex(apis, "invocation", account_id, partition)
    for principal in principals:
        yield from principal_grants(principal, management, invocation)
    for api in apis:
        if api.api_type == "rest":
            yield from resource_policy_grants(api)
