"""aws_cloudtrail_event_data_store: CloudTrail Lake event data stores, with their KMS key and tags.

ListEventDataStores gives a summary per store; GetEventDataStore adds what the summary lacks (the
KMS key, billing mode, federation), and ListTags the tags. A failed Get or ListTags keeps the row
with the summary's columns.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..fetch import CallFailed
from .trail import tags_object


def event_data_store_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """Rows function of aws_cloudtrail_event_data_store for one account and region."""
    wanted = ctx.constraints.get("arn")
    for page in ctx.call("ListEventDataStores"):
        for summary in page.get("EventDataStores") or []:
            arn = summary.get("EventDataStoreArn")
            if wanted is not None and arn not in wanted:
                continue
            item = dict(summary)  # a copy: pages are the cache
            try:
                detail = ctx.call("GetEventDataStore", EventDataStore=arn)
                item.update(detail[0] if detail else {})
                item["Tags"] = tags_object(ctx.call("ListTags", ResourceIdList=[arn]), arn)
            except CallFailed:
                pass  # reported by the executor; the summary's columns remain
            yield item
