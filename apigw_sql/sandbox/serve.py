"""`serve`: run the sandbox in the foreground for people and other tools (`apigw-sql sandbox`)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .sandbox import Sandbox


def serve(port: int = 0, empty: bool = False, out: TextIO = sys.stdout, aws_quotas: bool = False,
          quota_share: float = 0.0) -> int:
    """Runs a sandbox on 127.0.0.1 until Ctrl-C, printing its endpoint and the variables to export.

    With `aws_quotas` it refuses requests beyond AWS's request quotas as AWS does (quotas.py).
    Returns the exit status (0 after Ctrl-C).
    """
    sandbox = Sandbox(port=port, seed=not empty, in_process=True, aws_quotas=aws_quotas, quota_share=quota_share)
    try:
        print("Starting the apigw-sql sandbox" + ("" if empty else " and seeding the demo estate") + "...",
              file=out, flush=True)
        sandbox.start()
        print(f"Sandbox listening on {sandbox.endpoint_url} "
              f"({'empty' if empty else 'demo estate in ' + ', '.join(sandbox.regions)}).", file=out)
        if aws_quotas:
            print(f"Enforcing AWS's request quotas (API Gateway 10/s burst 40, GetResources 5 per 2 s, "
                  f"LookupEvents 2/s, FilterLogEvents 5/s)"
                  + (f", {quota_share:.0%} of each used by another client" if quota_share else "") + ".", file=out)
        print("Point the AWS CLI, boto3 or apigw-sql at it with:", file=out)
        for name, value in sandbox.env().items():
            print(f"  export {name}={value}", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nSandbox stopped.", file=out, flush=True)
    finally:
        sandbox.stop()
    return 0
