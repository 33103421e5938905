"""CloudTrail Lake event data stores, which moto lacks: create, get, list, delete, and their tags.

Stores live per account and region, as on AWS; the defaults (7-year retention, termination
protection on, multi-region on, EXTENDABLE_RETENTION_PRICING, the default management-events
selector) are AWS's. DeleteEventDataStore leaves the store PENDING_DELETION, as AWS does for 7 days.
ListTags answers for event data store ARNs and passes trail ARNs on to moto.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable

DEFAULT_SELECTORS = [{"Name": "Default management events",
                      "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]


class CloudTrailLake:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[str, dict[str, Any]] = {}  # ARN -> store (with "_tags", "_region", "_account")

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()

    def handlers(self) -> HandlerTable:
        return {
            ("cloudtrail", "CreateEventDataStore"): self._create,
            ("cloudtrail", "GetEventDataStore"): self._get,
            ("cloudtrail", "ListEventDataStores"): self._list,
            ("cloudtrail", "DeleteEventDataStore"): self._delete,
            ("cloudtrail", "ListTags"): self._list_tags,
        }

    def _find(self, call: Call, name: str) -> dict[str, Any]:
        with self._lock:
            for arn, store in self._stores.items():
                if store["_account"] == call.account_id and name in (arn, store["Name"], arn.rsplit("/", 1)[-1]):
                    if store["_region"] == call.region or store.get("MultiRegionEnabled"):
                        return store
        raise AwsError("EventDataStoreNotFoundException", f"The specified event data store {name} was not found.")

    @staticmethod
    def _public(store: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in store.items() if not k.startswith("_")}

    def _create(self, call: Call, forward: Forward) -> Reply:
        body = call.json_body()
        name = str(body.get("Name") or "")
        if not name:
            raise AwsError("InvalidParameterException", "Name is required.")
        with self._lock:
            if any(s["Name"] == name and s["_account"] == call.account_id and s["_region"] == call.region
                   for s in self._stores.values()):
                raise AwsError("EventDataStoreAlreadyExistsException", f"An event data store named {name} exists.")
        now = datetime.now(timezone.utc).timestamp()
        arn = f"arn:aws:cloudtrail:{call.region}:{call.account_id}:eventdatastore/{uuid.uuid4()}"
        store: dict[str, Any] = {
            "EventDataStoreArn": arn, "Name": name,
            "Status": "ENABLED" if body.get("StartIngestion", True) else "STOPPED_INGESTION",
            "AdvancedEventSelectors": body.get("AdvancedEventSelectors") or DEFAULT_SELECTORS,
            "MultiRegionEnabled": body.get("MultiRegionEnabled", True),
            "OrganizationEnabled": body.get("OrganizationEnabled", False),
            "RetentionPeriod": body.get("RetentionPeriod", 2557),
            "TerminationProtectionEnabled": body.get("TerminationProtectionEnabled", True),
            "BillingMode": body.get("BillingMode", "EXTENDABLE_RETENTION_PRICING"),
            "CreatedTimestamp": now, "UpdatedTimestamp": now,
            "_account": call.account_id, "_region": call.region, "_tags": list(body.get("TagsList") or []),
        }
        if body.get("KmsKeyId"):
            store["KmsKeyId"] = body["KmsKeyId"]
        with self._lock:
            self._stores[arn] = store
        return json_reply(200, self._public(store), call.request_id)

    def _get(self, call: Call, forward: Forward) -> Reply:
        store = self._find(call, str(call.json_body().get("EventDataStore") or ""))
        return json_reply(200, self._public(store), call.request_id)

    def _list(self, call: Call, forward: Forward) -> Reply:
        summary_keys = ("EventDataStoreArn", "Name", "TerminationProtectionEnabled", "Status",
                        "AdvancedEventSelectors", "MultiRegionEnabled", "OrganizationEnabled", "RetentionPeriod",
                        "CreatedTimestamp", "UpdatedTimestamp")
        with self._lock:
            stores = [s for s in self._stores.values()
                      if s["_account"] == call.account_id and s["_region"] == call.region]
        return json_reply(200, {"EventDataStores": [{k: s[k] for k in summary_keys if k in s} for s in stores]},
                          call.request_id)

    def _delete(self, call: Call, forward: Forward) -> Reply:
        store = self._find(call, str(call.json_body().get("EventDataStore") or ""))
        if store.get("TerminationProtectionEnabled"):
            raise AwsError("EventDataStoreTerminationProtectedException",
                           "The event data store cannot be deleted because termination protection is enabled.")
        with self._lock:
            store["Status"] = "PENDING_DELETION"
            store["UpdatedTimestamp"] = datetime.now(timezone.utc).timestamp()
        return json_reply(200, {}, call.request_id)

    def _list_tags(self, call: Call, forward: Forward) -> Reply:
        arns = [str(a) for a in call.json_body().get("ResourceIdList") or []]
        if not arns or not all(":eventdatastore/" in a for a in arns):
            return forward()  # trails: moto knows their tags
        found = []
        for arn in arns:
            store = self._find(call, arn)
            found.append({"ResourceId": arn, "TagsList": list(store["_tags"])})
        return json_reply(200, {"ResourceTagList": found}, call.request_id)
