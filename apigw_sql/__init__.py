"""apigw-sql: audit AWS API Gateway with SQL.

>>> import apigw_sql
>>> con = apigw_sql.connect(regions=["eu-west-1"])          # doctest: +SKIP
>>> con.sql("SELECT name FROM aws_api_gateway_rest_api").rows  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
# The project's home; [project.urls] in pyproject.toml says the same (a test keeps them equal).
PROJECT_URL = "https://github.com/apigw-sql/apigw-sql"
__all__ = ["connect", "Connection", "ConnectionOptions", "QueryError", "Result"]


def connect(options: "ConnectionOptions | None" = None, **keywords: Any) -> "Connection":
    """Open a session: ``connect(regions=["eu-west-1"], ttl=60)``, or ``connect(ConnectionOptions(...))``
    (the options: profile, regions, endpoint_url, ttl, max_attempts, max_wait, rate_limit, ...)."""
    from .engine import Connection

    return Connection(options, **keywords)


def __getattr__(name: str) -> Any:  # keep `import apigw_sql` light: DuckDB and boto3 load on first use
    if name in ("Connection", "QueryError", "Result"):
        from . import engine

        return getattr(engine, name)
    if name == "ConnectionOptions":
        from .connection_options import ConnectionOptions

        return ConnectionOptions
    raise AttributeError(name)
