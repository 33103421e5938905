"""WAFv2 ListResourcesForWebACL, which moto lacks, read from the associations moto keeps."""
from __future__ import annotations

from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable

# ResourceType -> the service part of the associated resources' ARNs.
_ARN_SERVICES = {"API_GATEWAY": ":apigateway:", "APPLICATION_LOAD_BALANCER": ":elasticloadbalancing:",
                 "APPSYNC": ":appsync:", "COGNITO_USER_POOL": ":cognito-idp:", "APP_RUNNER_SERVICE": ":apprunner:",
                 "VERIFIED_ACCESS_INSTANCE": ":ec2:", "AMPLIFY": ":amplify:"}


class WafV2Extensions:
    def handlers(self) -> HandlerTable:
        return {("wafv2", "ListResourcesForWebACL"): self._list_resources}

    def _list_resources(self, call: Call, forward: Forward) -> Reply:
        from moto.wafv2.models import wafv2_backends

        body = call.json_body()
        web_acl = wafv2_backends[call.account_id][call.region].wacls.get(body.get("WebACLArn"))
        if web_acl is None:
            raise AwsError("WAFNonexistentItemException",
                           "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
        marker = _ARN_SERVICES.get(str(body.get("ResourceType") or "APPLICATION_LOAD_BALANCER"), "")
        arns = [arn for arn in web_acl.associated_resources if marker in arn]
        return json_reply(200, {"ResourceArns": arns}, call.request_id)
