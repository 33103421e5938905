"""`serve`: run the sandbox in the foreground for people and other tools (`apigw-sql sandbox`)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .sandbox import Sandbox


def serve(port: int = 0, empty: bool = False, out: TextIO = sys.stdout) -> int:
    """Runs a sandbox on 127.0.0.1 until Ctrl-C, printing its endpoint and the variables to export.

    Returns the exit status (0 after Ctrl-C).
    """
    sandbox = Sandbox(port=port, seed=not empty, in_process=True)
    try:
        print("Starting the apigw-sql sandbox" + ("" if empty else " and seeding the demo estate") + "...",
              file=out, flush=True)
        sandbox.start()
        print(f"Sandbox listening on {sandbox.endpoint_url} "
              f"({'empty' if empty else 'demo estate in ' + ', '.join(sandbox.regions)}).", file=out)
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
