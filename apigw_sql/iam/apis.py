"""The account's APIs as the grant evaluation sees them, and which of them a Resource / NotResource list reaches.

Each distinct (Resource, NotResource) list is matched against the APIs once, through an index on the ARN's
literal prefix; probe ARNs (an API id no real API has, in a region that does not exist and in each region the
account uses) tell whether a list also covers future APIs: every API of the account, or of one region.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Iterable

from .documents import Statement
from .wildcard import arn_matches, can_match_under

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
    some_regions: frozenset[str] = frozenset()   # the regions of the APIs in `some`


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
        self.fields = [api_fields(a) for a in apis]  # each API's row columns, built once

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
                            frozenset(touched), frozenset(self.region_of[i] for i in some))
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
        some = every_api - excluded_whole
        return Coverage(every, frozenset(some), frozenset(every_api - excluded_some), not all(excluded),
                        frozenset(regions), frozenset(touched), frozenset(self.region_of[i] for i in some))


def api_fields(api: Api | None) -> dict[str, Any]:
    """The API columns of a grant row (``*`` when None)."""
    if api is None:
        return dict(EVERY_API)
    return {"api_id": api.api_id, "apiName": api.name, "apiType": api.api_type, "apiRegion": api.region,
            "apiArn": api.management_arn}


# The API columns of a grant on every API of the account (a region-wide grant sets apiRegion).
EVERY_API: dict[str, Any] = {"api_id": "*", "apiName": None, "apiType": None, "apiRegion": None, "apiArn": None}
