"""S3 bucket versioning's MFA delete, which moto accepts and drops.

PutBucketVersioning's MfaDelete is kept on moto's bucket object (so moto's reset forgets it with the
bucket) and GetBucketVersioning returns it, as AWS does once it has been set. The x-amz-mfa header AWS
requires to change it is not checked.
"""
from __future__ import annotations

import re
from typing import Any

from .exchange import Call, Reply
from .extension import Forward, HandlerTable

_MFA_DELETE = re.compile(rb"<MfaDelete>\s*(Enabled|Disabled)\s*</MfaDelete>")
_CLOSING_TAG = re.compile(rb"(</[A-Za-z]+>\s*)$")
_ATTRIBUTE = "sandbox_mfa_delete"


def _bucket(call: Call) -> Any:
    from moto.s3.models import s3_backends

    name = str(call.param("Bucket") or "")
    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account_id = owner
    return s3_backends[account_id][partition].buckets.get(name)


class S3Extensions:
    def handlers(self) -> HandlerTable:
        return {("s3", "PutBucketVersioning"): self._put_versioning,
                ("s3", "GetBucketVersioning"): self._get_versioning}

    def _put_versioning(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        found = _MFA_DELETE.search(call.body)
        bucket = _bucket(call) if reply.ok and found else None
        if bucket is not None and found is not None:
            setattr(bucket, _ATTRIBUTE, found.group(1).decode())
        return reply

    def _get_versioning(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        bucket = _bucket(call) if reply.ok else None
        mfa_delete = getattr(bucket, _ATTRIBUTE, None)
        if mfa_delete is None:
            return reply
        body = _CLOSING_TAG.sub(lambda m: b"<MfaDelete>" + mfa_delete.encode() + b"</MfaDelete>" + m.group(1),
                                reply.body, count=1)
        headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in reply.headers]
        return Reply(reply.status, headers, body)
