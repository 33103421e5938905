"""Effective access to APIs: who may read, write, administer or invoke which API.

A grant is effective (reference: the project's control catalogue) when an Allow statement of the principal's
identity policies matches the action and the resource, no Deny statement without a Condition matches them, and
the principal's permissions boundary, if any, allows them too. Statements with a Condition grant, flagged
``conditional`` (conditions are reported, never evaluated); a conditional Deny removes nothing.

Resources are judged per API: an Allow counts for an API when it matches SOME resource of it (a stage, a method,
the API itself); a Deny removes an API only when it matches ALL of its resources (``.../restapis/ID`` and
everything under it); partial Denies leave a (narrower) grant. An API is covered by ``*`` ("every API of the
account, existing or future") when the statement matches probe APIs of a region and id no real API has, and no
Deny or NotResource takes away even one existing API; likewise ``*`` with a region for every API of one region
(``arn:aws:execute-api:REGION:ACCOUNT:*``).

Evaluation is set algebra over coverages computed once per distinct (Resource, NotResource) list (``apis``), so
principals x statements x APIs is never enumerated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Iterator

from .actions import WRITE_VERBS, catalogue, expand_as_written
from .apis import EVERY_API, Api, ApiIndex, Coverage
from .documents import Statement
from .principals import Principal, Sourced
from .resource_policies import resource_policy_grants

LEVELS = ("admin", "write", "read", "invoke")


def _actions(s: Statement) -> frozenset[str]:
    """The catalogue actions a statement covers (cached on its Action / NotAction lists)."""
    return expand_as_written(s.actions, s.not_actions)


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


def _by_action(entries: list[_Entry]) -> dict[str, list[_Entry]]:
    """The entries that cover each action: each fold then reads only its own."""
    found: dict[str, list[_Entry]] = {}
    for entry in entries:
        for action in entry.actions:
            found.setdefault(action, []).append(entry)
    return found


def _fold(entries: list[_Entry], action: str) -> _Fold:
    """Folds the entries that cover `action`."""
    fold = _Fold()
    invokes = action.startswith("execute-api:")
    for entry in entries:
        cov = entry.invocation if invokes else entry.management
        assert cov is not None
        if entry.sourced.statement.effect == "Deny":
            fold.denied |= cov.whole
            fold.breaks_every |= bool(cov.some) or cov.every or cov.touches_probe
            fold.breaks_regions |= cov.touched | cov.some_regions
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


def _effective(identity: dict[str, list[_Entry]], boundary: dict[str, list[_Entry]] | None,
               action: str) -> Effective | None:
    allow = _fold(identity.get(action, []), action)
    if not allow.by:
        return None
    apis, uncond = allow.some - allow.denied, allow.unconditional - allow.denied
    every = allow.every and not allow.breaks_every
    every_uncond = allow.every_unconditional and not allow.breaks_every
    regions = allow.regions - allow.breaks_regions
    regions_uncond = allow.regions_unconditional - allow.breaks_regions
    if boundary is not None:  # the boundary caps: its Allows must reach the API too, its Denies still remove
        cap = _fold(boundary.get(action, []), action)
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
    boundary = None if principal.boundary is None else _by_action(_entries(principal.boundary, management, invocation))
    return _effective(_by_action(_entries(principal.identity, management, invocation)), boundary, action)


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
    identity = _by_action(_entries(principal.identity, management, invocation))
    if not identity:
        return
    boundary = None if principal.boundary is None else _by_action(_entries(principal.boundary, management, invocation))
    per_action: dict[str, Effective] = {}
    # Actions covered by the very same statements have the same grant (apigateway:* covers 13 actions alike):
    # each such set of statements is folded once. Effective objects are only read below, so sharing is safe.
    same: dict[tuple[Any, ...], Effective | None] = {}
    for action in catalogue().all:
        if action not in identity:  # most principals hold a few of the catalogue's actions
            continue
        key = (action.startswith("execute-api:"), tuple(map(id, identity[action])),
               None if boundary is None else tuple(map(id, boundary.get(action, ()))))
        if key not in same:
            same[key] = _effective(identity, boundary, action)
        found = same[key]
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
            yield _row(who, level, EVERY_API, [a for a, _ in granted], conditional, by)
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
            yield _row(who, level, {**EVERY_API, "apiRegion": region}, [a for a, _ in granted], conditional, by)
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
