"""AWS error replies in each protocol's wire format, and reading the error back out of a reply.

botocore reads the error code from a different place per protocol (x-amzn-ErrorType or `__type` for
JSON services, an XML `<Code>` for query, ec2 and S3), so a fault must be written the way the real
service would write it for boto3 to raise the right ClientError.
"""
from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

from .exchange import Reply


class AwsError(Exception):
    """Raised by an extension to answer with an AWS error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def error_reply(protocol: str | None, code: str, message: str, status: int, request_id: str) -> Reply:
    """The error as the service of `protocol` would send it (JSON when the protocol is unknown)."""
    if protocol in ("query", "ec2", "rest-xml"):
        if protocol == "ec2":
            xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{escape(code)}</Code>"
                   f"<Message>{escape(message)}</Message></Error></Errors>"
                   f"<RequestID>{request_id}</RequestID></Response>")
        elif protocol == "query":
            kind = "Receiver" if status >= 500 else "Sender"
            xml = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
                   f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        else:
            xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{escape(code)}</Code>"
                   f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
        body = xml.encode()
        headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(body))),
                   ("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
        return Reply(status, headers, body)
    payload = {"__type": code, "message": message}
    body = json.dumps(payload).encode()
    content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    return Reply(status, headers, body)


_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def read_error(reply: Reply) -> tuple[str, str]:
    """(errorCode, errorMessage) of a failed reply, whatever its format."""
    code = (reply.header("x-amzn-ErrorType") or "").split(":")[0]
    message = ""
    data = reply.json()
    if isinstance(data, dict):
        code = code or str(data.get("__type") or data.get("code") or data.get("Code") or "").split("#")[-1]
        message = str(data.get("message") or data.get("Message") or "")
    else:
        found = _XML_CODE.search(reply.body)
        if found:
            code = code or found.group(1).decode("utf-8", "replace")
        found = _XML_MESSAGE.search(reply.body)
        if found:
            message = found.group(1).decode("utf-8", "replace")
    if not code:
        code = {403: "AccessDenied", 404: "NotFoundException", 429: "TooManyRequestsException"}.get(
            reply.status, "InternalFailure" if reply.status >= 500 else "BadRequestException")
    return code, message


def is_html(reply: Reply) -> bool:
    """moto answers unimplemented calls with a Flask HTML error page."""
    if "text/html" in (reply.header("Content-Type") or ""):
        return True
    return reply.body.lstrip()[:15].lower().startswith(b"<!doctype html")
