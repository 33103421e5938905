"""The one shape every extension handler has.

A handler gets the identified call and `forward`, which passes the call on to moto and returns moto's
reply. It can answer by itself (an operation moto lacks), call `forward` and rewrite the reply (a field
moto drops), or record something and forward unchanged. It raises AwsError to answer with an AWS error.
"""
from __future__ import annotations

from typing import Callable

from .exchange import Call, Reply

Forward = Callable[[], Reply]
Handler = Callable[[Call, Forward], Reply]
HandlerTable = dict[tuple[str, str], Handler]  # (botocore service, operation name) -> handler
