"""aws_cloudtrail_trail: one row per trail per region it appears in, with its status and selectors.

DescribeTrails(includeShadowTrails) in each region lists the region's own trails and the shadow copies
of multi-region trails. A trail's status, selectors and tags can only be read in its home region, so
the per-trail calls go there, by ARN, with the same parameters from every region's unit: the call
cache makes each of them once per trail, never once per shadow copy. An organization trail owned by
another account cannot be read from a member account at all: its row says so instead of failing.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..fetch import CallFailed


def arn_account(arn: str | None) -> str | None:
    """The account id in an ARN.

    >>> arn_account("arn:aws:cloudtrail:us-east-1:123456789012:trail/org")
    '123456789012'
    >>> arn_account("not-an-arn") is None
    True
    """
    parts = str(arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


def arn_region(arn: str | None) -> str | None:
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


def unreadable_reason(trail: dict[str, Any], account_id: str | None) -> str | None:
    """Why the trail's status cannot be read from `account_id`, or None when it can.

    >>> unreadable_reason({"TrailARN": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org",
    ...                    "IsOrganizationTrail": True}, "222222222222")
    'organization trail owned by account 111111111111: its status, selectors and tags can only be read from that account'
    >>> unreadable_reason({"TrailARN": "arn:aws:cloudtrail:us-east-1:222222222222:trail/own"}, "222222222222") is None
    True
    """
    owner = arn_account(trail.get("TrailARN"))
    if owner is None or account_id is None or owner == account_id:
        return None
    kind = "organization trail" if trail.get("IsOrganizationTrail") else "trail"
    return f"{kind} owned by account {owner}: its status, selectors and tags can only be read from that account"


def tags_object(pages: list[dict[str, Any]] | None, arn: str) -> dict[str, str]:
    """ListTags pages as one {key: value} object for `arn`.

    >>> tags_object([{"ResourceTagList": [{"ResourceId": "a", "TagsList": [{"Key": "owner", "Value": "sec"}]}]}], "a")
    {'owner': 'sec'}
    """
    tags: dict[str, str] = {}
    for page in pages or []:
        for entry in page.get("ResourceTagList") or []:
            if entry.get("ResourceId") in (arn, None):
                for tag in entry.get("TagsList") or []:
                    tags[str(tag.get("Key"))] = tag.get("Value")
    return tags


def _first(pages: list[dict[str, Any]] | None) -> dict[str, Any]:
    return pages[0] if pages else {}


def trail_item(ctx: Any, trail: dict[str, Any]) -> dict[str, Any]:
    """The trail as DescribeTrails gave it, plus Status, selectors, Tags and why any are missing."""
    arn = trail.get("TrailARN")
    home = trail.get("HomeRegion") or arn_region(arn) or ctx.region
    item = {**trail, "HomeRegion": home, "IsShadow": home != ctx.region}  # a copy: pages are the cache
    reason = unreadable_reason(trail, ctx.account_id)
    if reason is not None or not arn:
        item["StatusUnavailableReason"] = reason or "the trail has no ARN"
        return item
    failed: list[str] = []

    def read(operation: str, **params: Any) -> list[dict[str, Any]] | None:
        try:
            return ctx.call(operation, region=home, **params)
        except CallFailed as error:  # reported by the executor; the trail keeps its other columns
            failed.append(f"{operation} failed ({error})")
            return None

    status = read("GetTrailStatus", Name=arn)
    if status is not None:
        item["Status"] = _first(status)
    selectors = read("GetEventSelectors", TrailName=arn)
    if selectors is not None:
        item["EventSelectors"] = _first(selectors).get("EventSelectors")
        item["AdvancedEventSelectors"] = _first(selectors).get("AdvancedEventSelectors")
    try:
        insights = ctx.call("GetInsightSelectors", region=home, TrailName=arn,
                            expected_errors=("InsightNotEnabledException",))
        # None: InsightNotEnabledException, which is AWS's way of saying "no insight selectors"
        item["InsightSelectors"] = (_first(insights).get("InsightSelectors") or []) if insights is not None else []
    except CallFailed as error:
        failed.append(f"GetInsightSelectors failed ({error})")
    tags = read("ListTags", ResourceIdList=[arn])
    if tags is not None:
        item["Tags"] = tags_object(tags, arn)
    if failed:
        item["StatusUnavailableReason"] = "; ".join(failed)
    return item


def trail_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """Rows function of aws_cloudtrail_trail: the trails visible in ctx.region, shadow copies included."""
    names = ctx.constraints.get("name")
    arns = ctx.constraints.get("arn")
    for page in ctx.call("DescribeTrails", includeShadowTrails=True):
        for trail in page.get("trailList") or []:
            if names is not None and trail.get("Name") not in names:
                continue
            if arns is not None and trail.get("TrailARN") not in arns:
                continue
            yield trail_item(ctx, trail)
