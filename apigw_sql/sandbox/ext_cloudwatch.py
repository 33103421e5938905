"""CloudWatch metrics: GetMetricData matches a query's dimensions as a set, as AWS does.

moto compares ``sorted(stored) == sorted(asked)``, but its Dimension orders by a comparison that is
false for almost every pair, so the sort keeps the given order and a query for ``[ApiName, Stage]``
misses data put as ``[Stage, ApiName]``. Giving Dimension a total order (by name, then value) makes
that comparison the set match AWS performs; nothing else in moto sorts dimensions.
"""
from __future__ import annotations

from typing import Any

from .extension import HandlerTable


def _dimension_order(self: Any, other: Any) -> bool:
    return (self.name or "", self.value or "") < (other.name or "", other.value or "")


class CloudWatchMetrics:
    def __init__(self) -> None:
        from moto.cloudwatch.models import Dimension

        Dimension.__lt__ = _dimension_order  # type: ignore[method-assign]

    def handlers(self) -> HandlerTable:
        return {}  # moto answers every call; only its dimension order changes
