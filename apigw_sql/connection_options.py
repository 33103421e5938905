"""What a session connects to and how: one record, shared by the Python API and every front end.

``apigw_sql.connect(**keywords)`` builds one from its keywords; the front ends build one from what
the user typed (``apigw_sql.app.connection_options``). Defaults here are the defaults everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConnectionOptions:
    """Every option of a Connection (see README "From Python"); all have defaults."""

    profile: str | None = None              # AWS profile; None: the standard credential chain
    # Many accounts (apigw_sql/accounts.py); all unset: the config file's, else the one account of `profile`
    profiles: list[str] | None = None       # one account per AWS profile
    role_name: str | None = None            # AssumeRole into this role of each of `accounts` (or of the org's)
    accounts: list[str] | None = None       # 12-digit account ids to assume `role_name` in
    external_id: str | None = None          # sent with AssumeRole when the role's trust policy asks for it
    org: bool = False                       # every ACTIVE account of the organization (Organizations ListAccounts)
    regions: list[str] | None = None        # None: every region enabled for the account
    endpoint_url: str | None = None         # send every call here (a sandbox, a proxy); None: AWS
    ttl: float = 300.0                      # seconds a fetched call is reused
    call_cache: bool = True                 # keep answers on disk for later runs (off: $APIGW_SQL_NO_CACHE too)
    refresh: bool = False                   # make every call again, replacing what earlier runs kept on disk
    max_attempts: int = 5                   # attempts per call after server errors, the first included
    max_wait: float = 180.0                 # seconds a throttled call is retried before it is reported failed
    rate_limit: bool = True                 # pace calls at AWS's published rates
    pushdown_enabled: bool = True           # False: fetch whole tables, ignoring WHERE (for comparison)
    workers: int = 16                       # calls in flight at once
    cloudtrail_logs: list[str] | None = None  # CloudTrail log folders / s3:// prefixes; None: the config file's
    access_logs: list[str] | None = None    # API Gateway access-log folders / s3:// prefixes (--access-logs)
    database: str = ":memory:"              # the DuckDB database the session works in
    # A snapshot written by `apigw-sql collect` (a DuckDB file or a Parquet folder): the session reads every
    # AWS and log table from it and makes no AWS call at all. An s3:// snapshot is downloaded first by
    # apigw_sql.app.open_connection; a Connection given one refuses it.
    snapshot: str | None = None
    # Start the local sandbox and point endpoint_url at it: done by apigw_sql.app.open_connection, which
    # owns the sandbox's lifetime; a Connection given sandbox=True refuses it.
    sandbox: bool = False
