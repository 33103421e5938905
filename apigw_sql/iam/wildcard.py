"""IAM's wildcard rules: ``*`` matches any run of characters, ``?`` any one; action names compare without
case, ARNs with case. Patterns are compiled once and cached: a crawl repeats the same few thousand."""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=65536)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """True when an Action pattern covers a ``service:Name`` action (case-insensitive).

    >>> action_matches("apigateway:*", "apigateway:DELETE"), action_matches("execute-api:inv*", "execute-api:Invoke")
    (True, True)
    >>> action_matches("*", "apigateway:GET"), action_matches("apigateway:P?T", "apigateway:PUT")
    (True, True)
    >>> action_matches("apigateway:GET", "apigateway:GetPortal")
    False
    """
    return _compile(pattern, True).fullmatch(action) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """True when a Resource pattern covers an ARN: case-sensitive, segment by segment (a ``*`` in the region
    does not reach across a ``:``; in the resource part it spans ``/``).

    >>> arn_matches("arn:aws:apigateway:*::/restapis/*", "arn:aws:apigateway:us-east-1::/restapis/a1")
    True
    >>> arn_matches("arn:aws:apigateway:*::/RESTAPIS/*", "arn:aws:apigateway:us-east-1::/restapis/a1")
    False
    >>> arn_matches("*", "arn:aws:execute-api:us-east-1:1:a1/prod/GET/")
    True
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern == arn
    head = pattern[:-1]
    if pattern[-1] == "*" and "*" not in head and "?" not in head:  # the usual ".../API_ID/*": a prefix test
        return arn.startswith(head)
    return _compile_arn(pattern).fullmatch(arn) is not None


@lru_cache(maxsize=65536)
def _compile_arn(pattern: str) -> re.Pattern[str]:
    """One regex for an ARN pattern: wildcards stay inside their segment, except in the resource part."""
    parts = _segments(pattern)
    if parts is None:
        return _compile(pattern, False)

    def segment(text: str, any_char: str) -> str:
        return "".join(any_char + "*" if ch == "*" else any_char if ch == "?" else re.escape(ch) for ch in text)

    return re.compile(":".join(segment(p, "[^:]") for p in parts[:5]) + ":" + segment(parts[5], "."), re.DOTALL)


@lru_cache(maxsize=65536)
def can_match_under(pattern: str, prefix: str) -> bool:
    """True when the pattern matches at least one ARN that starts with ``prefix`` (some resource under an
    API); ``prefix`` holds the five ARN fields and the start of the resource part.

    >>> can_match_under("arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod", "arn:aws:apigateway:us-east-1::/restapis/a1/")
    True
    >>> can_match_under("arn:aws:apigateway:*::/restapis/b2/*", "arn:aws:apigateway:us-east-1::/restapis/a1/")
    False
    >>> can_match_under("*", "anything"), can_match_under("arn:aws:execute-api:us-east-1:1:a?/*", "arn:aws:execute-api:us-east-1:1:a1/")
    (True, True)
    """
    head = pattern[:-1]
    if pattern and pattern[-1] == "*" and "*" not in head and "?" not in head:
        return prefix.startswith(head) or head.startswith(prefix)
    parts, target = _segments(pattern), prefix.split(":", 5)
    if parts is None or len(target) != 6:
        return _prefix_possible(pattern, prefix)
    return (all(_compile(p, False).fullmatch(t) is not None for p, t in zip(parts[:5], target[:5]))
            and _prefix_possible(parts[5], target[5]))


@lru_cache(maxsize=65536)
def _segments(pattern: str) -> tuple[str, ...] | None:
    parts = pattern.split(":", 5)
    return tuple(parts) if len(parts) == 6 else None


def _prefix_possible(pattern: str, prefix: str) -> bool:
    """True when the glob can consume the whole of ``prefix`` (and may then go on)."""
    states = {0}
    for ch in prefix:
        nxt: set[int] = set()
        for i in _star_closure(pattern, states):
            if i < len(pattern):
                p = pattern[i]
                if p == "*":
                    nxt.add(i)
                elif p == "?" or p == ch:
                    nxt.add(i + 1)
        if not nxt:
            return False
        states = nxt
    return True


def _star_closure(pattern: str, states: set[int]) -> set[int]:
    """The states plus those reached by letting a ``*`` match nothing."""
    closed = set(states)
    for i in sorted(states):
        j = i
        while j < len(pattern) and pattern[j] == "*":
            j += 1
            closed.add(j)
    return closed
