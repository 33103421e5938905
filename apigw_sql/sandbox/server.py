"""The sandbox's HTTP server: a threaded werkzeug server on loopback, in a thread or as a child process.

As a child (`python -m apigw_sql.sandbox.server --port N [--empty]`) it seeds the demo estate unless
--empty, then prints one line `APIGW_SQL_SANDBOX_READY <port> <estate as JSON>` on stdout. It exits
when its parent goes away: with --watch-stdin when its stdin reaches end of file (the parent's pipe
closes even if the parent is killed), with --parent-pid N when that process is gone; and on SIGTERM
or Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Sequence

from werkzeug.serving import BaseWSGIServer, make_server

READY = "APIGW_SQL_SANDBOX_READY"
HOST = "127.0.0.1"


def _quiet_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):  # type: ignore[misc, valid-type]
        """moto's handler (it keeps S3 metadata headers with underscores), without a log line per request."""

        # Keep-alive: boto3 reuses its connections, saving a TCP handshake per call.
        protocol_version = "HTTP/1.1"

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return QuietRequestHandler


class _NoMotoTracebacks(logging.Filter):
    """Drops Flask's "Exception on /path" tracebacks of moto's crashes: the middleware already answers
    them with an AWS error naming the operation. Set APIGW_SQL_SANDBOX_DEBUG=1 to see them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("APIGW_SQL_SANDBOX_DEBUG"):
            return True
        return not record.getMessage().startswith("Exception on ")


class ServerThread:
    """Serves a new SandboxApp on 127.0.0.1 from a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        # AWS managed policies (AmazonAPIGatewayAdministrator, ...) exist in moto's IAM only with this set
        # before its IAM backend is built; the demo estate attaches them.
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        from .middleware import SandboxApp

        # Flask logs every moto exception with a traceback; the sandbox turns those into AWS errors.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_logger = logging.getLogger("moto")  # the logger of moto's Flask apps
        if not any(isinstance(f, _NoMotoTracebacks) for f in moto_logger.filters):
            moto_logger.addFilter(_NoMotoTracebacks())
        self.app = SandboxApp()
        self._server: BaseWSGIServer = make_server(HOST, port, self.app, threaded=True,
                                                   request_handler=_quiet_handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="apigw-sql-sandbox", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _exit_when_parent_gone(parent_pid: int | None, watch_stdin: bool, stop: threading.Event) -> None:
    if watch_stdin:
        def read_until_eof() -> None:
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=read_until_eof, daemon=True).start()
    if parent_pid:
        def poll_parent() -> None:
            while not stop.is_set():
                if os.getppid() != parent_pid:
                    stop.set()
                time.sleep(0.5)

        threading.Thread(target=poll_parent, daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apigw_sql.sandbox.server",
                                     description="Run the apigw-sql sandbox server (used by Sandbox as a child).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free port)")
    parser.add_argument("--empty", action="store_true", help="do not seed the demo estate")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin reaches end of file")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = ServerThread(args.port).start()
    try:
        estate: dict[str, Any] = {}
        if not args.empty:
            from .seed import seed_demo

            estate = seed_demo(f"http://{HOST}:{server.port}")
            server.app.log_files.flush()  # the seeded history is in the trails' buckets from the start
        print(f"{READY} {server.port} {json.dumps(estate)}", flush=True)
        # Nobody reads stdout from now on: moto's own prints go to stderr, or a full pipe would block them.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        _exit_when_parent_gone(args.parent_pid, args.watch_stdin, stop)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
