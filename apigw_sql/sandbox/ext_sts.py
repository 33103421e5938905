"""STS GetCallerIdentity answering as the identity CloudTrail records (moto says user/moto).

An engine that shows "who am I" then names the same principal the sandbox's CloudTrail events name.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from .cloudtrail_event import user_identity
from .exchange import Call, Reply
from .extension import Forward, HandlerTable


class StsExtensions:
    def handlers(self) -> HandlerTable:
        return {("sts", "GetCallerIdentity"): self._get_caller_identity}

    def _get_caller_identity(self, call: Call, forward: Forward) -> Reply:
        assert call.credential is not None
        identity = user_identity(call.credential.access_key_id, call.account_id)
        user_id = identity["principalId"]
        xml = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
               f"<GetCallerIdentityResult><Arn>{escape(identity['arn'])}</Arn><UserId>{escape(user_id)}</UserId>"
               f"<Account>{escape(call.account_id)}</Account></GetCallerIdentityResult>"
               f"<ResponseMetadata><RequestId>{call.request_id}</RequestId></ResponseMetadata>"
               "</GetCallerIdentityResponse>")
        body = xml.encode()
        return Reply(200, [("Content-Type", "text/xml"), ("Content-Length", str(len(body))),
                           ("x-amzn-RequestId", call.request_id)], body)
