"""EC2 DescribeRegions answered by the sandbox: fast, and as AWS answers it.

moto's answer costs about two seconds on the first call (it imports all of moto's EC2) and lists every
region of every partition, opted in or not. AWS lists the account's enabled regions unless AllRegions
is true; an engine that crawls "every enabled region" must see the same here.
"""
from __future__ import annotations

from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session

from .exchange import Call, Reply
from .extension import Forward, HandlerTable

# The regions enabled in every account; later ones need an opt-in.
DEFAULT_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2"})


def _form_list(form: dict[str, list[str]], prefix: str) -> list[str]:
    """Values of a query-protocol list: RegionName.1, RegionName.2, ..."""
    return [v[-1] for k, v in sorted(form.items()) if k.startswith(prefix + ".")]


class Ec2Extensions:
    def __init__(self) -> None:
        self._regions = botocore.session.get_session().get_available_regions("ec2")

    def handlers(self) -> HandlerTable:
        return {("ec2", "DescribeRegions"): self._describe_regions}

    def _describe_regions(self, call: Call, forward: Forward) -> Reply:
        form = parse_qs(call.body.decode("utf-8", "replace")) if call.body else call.query
        all_regions = (form.get("AllRegions") or ["false"])[-1].lower() == "true"
        names = set(_form_list(form, "RegionName"))
        filters: dict[str, set[str]] = {}
        for key, value in form.items():
            if key.startswith("Filter.") and key.endswith(".Name"):
                filters[value[-1]] = set(_form_list(form, key[: -len(".Name")] + ".Value"))
        items = []
        for region in self._regions:
            status = "opt-in-not-required" if region in DEFAULT_REGIONS else "not-opted-in"
            endpoint = f"ec2.{region}.amazonaws.com"
            if not all_regions and status == "not-opted-in" and region not in names:
                continue
            if names and region not in names:
                continue
            values = {"region-name": region, "opt-in-status": status, "endpoint": endpoint}
            if any(key in values and values[key] not in wanted for key, wanted in filters.items()):
                continue
            items.append(f"<item><regionName>{escape(region)}</regionName><regionEndpoint>{escape(endpoint)}"
                         f"</regionEndpoint><optInStatus>{status}</optInStatus></item>")
        xml = ("<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
               f"<requestId>{call.request_id}</requestId><regionInfo>{''.join(items)}</regionInfo>"
               "</DescribeRegionsResponse>")
        body = xml.encode()
        return Reply(200, [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(body))),
                           ("x-amzn-RequestId", call.request_id)], body)
