"""`python -m apigw_sql.sandbox [--port N] [--empty]`: run the sandbox in the foreground."""
from __future__ import annotations

import argparse
import sys

from .serve import serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m apigw_sql.sandbox",
                                     description="Run an AWS-compatible sandbox with a demo API Gateway and "
                                                 "CloudTrail estate on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free port)")
    parser.add_argument("--empty", action="store_true", help="start without the demo estate")
    args = parser.parse_args()
    return serve(port=args.port, empty=args.empty)


if __name__ == "__main__":
    sys.exit(main())
