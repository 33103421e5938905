"""Which accounts a session reads, and how it gets credentials for each.

One account is the default: the credentials of ``--profile`` or of the standard chain. Many accounts
come from one of three sources, each chosen by its options (or by the same keys in config.toml):

- ``profiles``: one account per AWS profile (``--profiles a,b,c``); who each is, STS says.
- ``role_name`` with ``accounts``: sts:AssumeRole from the current credentials into
  ``arn:<partition>:iam::<account>:role/<role_name>`` of each account (``--external-id`` when the
  role's trust policy asks for one).
- ``org``: Organizations ListAccounts from the current credentials (the management account or a
  delegated administrator), the ACTIVE accounts only, then AssumeRole into each as above, with
  ``role_name`` defaulting to OrganizationAccountAccessRole (the role AWS creates in every account it
  creates in an organization). The calling account itself is read with its own credentials.

Accounts are resolved lazily, in parallel (at most ACCOUNT_WORKERS at once) and only those a query
needs (``WHERE account_id = '222'`` assumes into 222 alone). An account that cannot be reached (the
role is missing or does not trust the caller, ListAccounts is denied) is a FetchError naming it,
reported in every query that needed it, and the other accounts are read all the same.
Assumed-role credentials are botocore RefreshableCredentials: a run longer than the role's session
duration renews them before they expire.
"""
from __future__ import annotations

import functools
import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from .errors import UserError

if TYPE_CHECKING:
    from .fetch import FetchError, Fetcher, Target

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,128}$")
DEFAULT_ORG_ROLE = "OrganizationAccountAccessRole"
ACCOUNT_WORKERS = 8          # accounts resolved at once (AssumeRole, GetCallerIdentity)
ROLE_SESSION_NAME = "apigw-sql"
ACCOUNTS_TABLE = "(accounts)"  # the fetch-log table and FetchError table of target resolution


class TargetsError(UserError):
    """The accounts to read are given in a way that cannot work; the message says what to do."""


@dataclass(frozen=True)
class AccountSelection:
    """The accounts a session reads, as given (validated by ``check``)."""

    profiles: tuple[str, ...] = ()
    role_name: str | None = None
    accounts: tuple[str, ...] = ()
    external_id: str | None = None
    org: bool = False

    @property
    def many(self) -> bool:
        """Whether this reads other accounts than the one of the current credentials."""
        return len(self.profiles) > 1 or bool(self.role_name) or self.org

    @property
    def role(self) -> str:
        return self.role_name or DEFAULT_ORG_ROLE

    def check(self, profile: str | None = None, where: str = "") -> AccountSelection:
        """Returns self, or raises TargetsError naming the option (prefixed by ``where``) at fault."""
        if profile and "," in profile:
            raise TargetsError(f"{where}--profile takes one profile: give several with --profiles {profile}")
        if profile and self.profiles:
            raise TargetsError(f"{where}give --profile or --profiles, not both")
        if self.profiles and (self.role_name or self.accounts or self.org):
            raise TargetsError(f"{where}--profiles reads each profile's own account: it does not combine with "
                               "--role-name, --accounts or --org (use --profile NAME as the source of --role-name)")
        if self.org and self.accounts:
            raise TargetsError(f"{where}give --org (every account of the organization) or --accounts, not both")
        if self.accounts and not self.role_name:
            raise TargetsError(f"{where}--accounts needs --role-name ROLE: the role apigw-sql assumes in each account")
        if self.role_name and not (self.accounts or self.org):
            raise TargetsError(f"{where}--role-name needs --accounts ID,ID or --org: the accounts to assume it in")
        if self.external_id is not None and not (self.role_name or self.org):
            raise TargetsError(f"{where}--external-id goes with --role-name (or --org): it is sent with AssumeRole")
        if self.external_id is not None and not 2 <= len(self.external_id) <= 1224:
            raise TargetsError(f"{where}--external-id must be 2 to 1224 characters")
        if self.role_name is not None and not ROLE_NAME.match(self.role_name):
            raise TargetsError(f"{where}--role-name {self.role_name!r} is not a role name: give the name, "
                               "not the ARN (e.g. AuditRole)")
        bad = [a for a in self.accounts if not ACCOUNT_ID.match(a)]
        if bad:
            raise TargetsError(f"{where}--accounts {bad[0]!r} is not an account id: give 12-digit ids, "
                               "e.g. 111111111111,222222222222")
        if any(not p for p in self.profiles):
            raise TargetsError(f"{where}--profiles has an empty name: give profile names separated by commas")
        return self


def account_selection(options: Any) -> AccountSelection | None:
    """The accounts a ConnectionOptions names, checked (TargetsError); None when it names none (then the
    config file's apply, unless a --profile is given)."""
    selection = AccountSelection(profiles=tuple(options.profiles or ()), role_name=options.role_name,
                                 accounts=tuple(str(a) for a in options.accounts or ()),
                                 external_id=options.external_id, org=bool(options.org))
    selection.check(options.profile)
    return None if selection == AccountSelection() else selection


def split_list(text: str | None) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c'); None -> ()."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def selection_from_config(data: dict[str, Any], path: str) -> AccountSelection:
    """The accounts named in config.toml (``profiles``, ``role_name``, ``accounts``, ``external_id``,
    ``org``), checked; raises TargetsError naming the file."""
    def names(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            return split_list(value)
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise TargetsError(f"{path}: {key} must be a list of strings")
        return tuple(str(v).strip() for v in value if str(v).strip())

    for key in ("role_name", "external_id"):
        if key in data and not isinstance(data[key], str):
            raise TargetsError(f"{path}: {key} must be a string")
    if "org" in data and not isinstance(data["org"], bool):
        raise TargetsError(f"{path}: org must be true or false")
    selection = AccountSelection(profiles=names("profiles"), role_name=data.get("role_name"),
                                 accounts=names("accounts"), external_id=data.get("external_id"),
                                 org=bool(data.get("org", False)))
    return selection.check(where=f"{path}: ")


def configured_selection(selection: AccountSelection | None, profile: str | None) -> AccountSelection:
    """The selection given, else (nothing given, not even --profile) the config file's, else one account."""
    if selection is not None and (selection.profiles or selection.role_name or selection.accounts
                                  or selection.org or selection.external_id is not None):
        return selection
    if profile:
        return AccountSelection()
    from .userconfig import config_file, read_config

    try:
        data = read_config()
    except ValueError as exc:
        raise TargetsError(str(exc)) from None
    return selection_from_config(data, str(config_file()))


class TargetResolver:
    """The accounts of one Fetcher: resolved once each, on demand, in parallel, failures kept per account."""

    def __init__(self, fetcher: Fetcher, selection: AccountSelection):
        self.fetcher = fetcher
        self.selection = selection
        self._lock = threading.Lock()
        self._base: Future | None = None              # the current credentials' account
        self._account_ids: Future | None = None       # --accounts, or the organization's active accounts
        self._by_key: dict[str, Future] = {}          # account id or profile -> Future[Target | None]
        self._failures: dict[str, FetchError] = {}    # account id (or profile) -> why it cannot be read
        self._pool = ThreadPoolExecutor(ACCOUNT_WORKERS, thread_name_prefix="apigw-sql-account")

    # ---- what the fetcher asks --------------------------------------------------------------
    def targets(self, wanted: Iterable[str] | None = None) -> list[Target]:
        """The reachable accounts among ``wanted`` (account ids; None: all), resolving those not yet tried.

        Raises CredentialsError when the current credentials themselves fail (nothing can be read)."""
        wanted_set = None if wanted is None else {str(w) for w in wanted}
        if not self.selection.many:
            base = self._base_target()
            return [base] if wanted_set is None or base.account_id in wanted_set else []
        if self.selection.profiles:
            keys = list(self.selection.profiles)  # who each profile is, only STS can say: all are asked
            found = [t for t in self._resolve_all(keys, self._resolve_profile) if t is not None]
            return [t for t in found if wanted_set is None or t.account_id in wanted_set]
        base = self._base_target()
        ids = [a for a in self._ids(base) if wanted_set is None or a in wanted_set]
        found = self._resolve_all(ids, lambda account: self._assume(base, account))
        return [t for t in found if t is not None]

    def known(self) -> list[Target]:
        """The accounts resolved so far, without asking anything."""
        with self._lock:
            # The caller's own account is read unless it is only the source of --role-name --accounts.
            base_read = self._base is not None and (not self.selection.many or self.selection.org)
            futures = ([self._base] if base_read else []) + list(self._by_key.values())
        seen: dict[str, Target] = {}
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is None \
                    and future.result() is not None:
                target = future.result()
                seen.setdefault(target.account_id, target)
        return list(seen.values())

    def failures(self, wanted: Iterable[str] | None = None) -> list[FetchError]:
        """Why accounts among ``wanted`` (None: all) could not be read, one error per account."""
        wanted_set = None if wanted is None else {str(w) for w in wanted}
        with self._lock:
            return [err for key, err in self._failures.items() if wanted_set is None or key in wanted_set
                    or not ACCOUNT_ID.match(key)]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- resolution -------------------------------------------------------------------------
    def _base_target(self) -> Target:
        with self._lock:
            if self._base is None:
                self._base = Future()
                mine = True
            else:
                mine = False
            future = self._base
        if mine:
            try:
                # One profile in --profiles is --profile.
                profile = self.selection.profiles[0] if self.selection.profiles else self.fetcher.config.profile
                future.set_result(self.fetcher.caller_target(profile))
            except BaseException as error:  # noqa: BLE001 - every waiter gets the same error
                future.set_exception(error)
                with self._lock:
                    self._base = None  # the next query tries again (credentials may have been refreshed)
        return future.result()

    def _resolve_all(self, keys: list[str], resolve: Any) -> list[Target | None]:
        futures = []
        with self._lock:
            for key in keys:
                if key not in self._by_key:
                    self._by_key[key] = self._pool.submit(resolve, key)
                futures.append(self._by_key[key])
        return [f.result() for f in futures]

    def _ids(self, base: Target) -> list[str]:
        """The accounts to assume into: --accounts as given, or the organization's ACTIVE accounts."""
        if not self.selection.org:
            return list(dict.fromkeys(self.selection.accounts))
        with self._lock:
            if self._account_ids is None:
                self._account_ids = self._pool.submit(self._list_organization, base)
            future = self._account_ids
        return future.result()

    def _list_organization(self, base: Target) -> list[str]:
        """The organization's ACTIVE accounts (the caller's first); on failure, the caller's alone."""
        from .fetch import CallFailed, QueryFetch

        query = QueryFetch()
        try:
            pages = self.fetcher.call(ACCOUNTS_TABLE, base, "organizations", base.home_region, "ListAccounts",
                                      {}, query)
        except CallFailed:
            with self._lock:
                for err in query.errors:
                    err.advice = ("--org lists the accounts from the organization's management account or a "
                                         "delegated administrator: run it with those credentials, or name the "
                                         "accounts with --accounts")
                    self._failures[base.account_id] = err
                self._account_ids = None  # the next query asks again
            return [base.account_id]
        active = [a["Id"] for page in pages for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE"]
        return list(dict.fromkeys([base.account_id, *sorted(active)]))

    def _resolve_profile(self, profile: str) -> Target | None:
        from .fetch import CredentialsError, FetchError, ProfileNotFoundError

        try:
            target = self.fetcher.caller_target(profile)
        except ProfileNotFoundError:
            raise  # a typo in the command: the whole run stops with the one-line error
        except CredentialsError as error:
            with self._lock:
                self._failures[f"profile {profile}"] = FetchError(
                    table=ACCOUNTS_TABLE, account_id=f"profile {profile}", region="", operation="GetCallerIdentity",
                    code="CredentialsError", message=str(error))
            return None
        return target

    def _assume(self, base: Target, account: str) -> Target | None:
        """A Target for ``account`` through AssumeRole (the caller's own account: its own credentials)."""
        import botocore.exceptions as bx

        from .fetch import CallRecord, FetchError, Target

        if account == base.account_id:
            return base
        role_arn = f"arn:{base.partition}:iam::{account}:role/{self.selection.role}"
        fetcher = self.fetcher
        credential_fetcher = self._credential_fetcher(base, role_arn)
        started, started_at = time.monotonic(), datetime.now(timezone.utc).replace(tzinfo=None)
        outcome = fetcher.scheduler.send("sts", "AssumeRole", base.account_id, base.home_region,
                                         credential_fetcher.fetch_credentials, fetcher.cancel_event)
        error = outcome.error
        code = message = None
        if isinstance(error, bx.ClientError):
            detail = error.response.get("Error", {})
            code, message = detail.get("Code") or "ClientError", detail.get("Message") or str(error)
        elif isinstance(error, bx.BotoCoreError):
            code, message = type(error).__name__, str(error)
        elif error is not None:
            raise error
        message = " ".join(str(message).split())[:300] if message else None
        fetcher.note(CallRecord(table=ACCOUNTS_TABLE, service="sts", operation="AssumeRole", account_id=account,
                                region=base.home_region, params=json.dumps({"RoleArn": role_arn}), started_at=started_at,
                                duration_ms=(time.monotonic() - started) * 1000, items=0 if code else 1,
                                throttled_retries=outcome.attempts - 1, error_code=code, error_message=message))
        if code is not None:
            err = FetchError(table=ACCOUNTS_TABLE, account_id=account, region=base.home_region,
                             operation="AssumeRole", code=code, message=message or "")
            err.advice = (f"check that role {self.selection.role} exists in account {account} and trusts "
                                 f"{base.account_id}" + (" with this external id" if self.selection.external_id
                                                         else "") + ", or leave the account out")
            with self._lock:
                self._failures[account] = err
            return None
        session = _assumed_session(credential_fetcher, outcome.value, fetcher.config.profile, base.home_region)
        return Target(session=session, account_id=account, partition=base.partition, home_region=base.home_region)

    def _credential_fetcher(self, base: Target, role_arn: str) -> Any:
        """botocore's AssumeRole fetcher from the base credentials, its STS client made like every client."""
        import boto3
        from botocore.credentials import AssumeRoleCredentialFetcher

        home = base.home_region

        def client_creator(service: str, **keys: Any) -> Any:
            return self.fetcher.make_client(boto3.Session(region_name=home, **keys), service, home)

        extra: dict[str, Any] = {"RoleSessionName": ROLE_SESSION_NAME}
        if self.selection.external_id is not None:
            extra["ExternalId"] = self.selection.external_id
        # No cache of its own: the RefreshableCredentials built on it decide when to renew, and then it asks STS.
        return AssumeRoleCredentialFetcher(client_creator, base.session.get_credentials(), role_arn,
                                           extra_args=extra, cache=_NoCache())


@functools.lru_cache(maxsize=1)
def _shared_loader() -> Any:
    """One botocore data loader for every assumed-role session: each would otherwise read and parse the
    service models again (tens of milliseconds per service and account, under the client lock)."""
    from botocore.loaders import create_loader

    return create_loader()


class _NoCache(dict):  # type: ignore[type-arg]
    """A credential cache that keeps nothing."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def _assumed_session(credential_fetcher: Any, first: dict[str, Any], profile: str | None, region: str) -> Any:
    """A boto3 session whose credentials are the assumed role's, renewed by botocore before they expire."""
    import boto3
    import botocore.session
    from botocore.credentials import CredentialProvider, RefreshableCredentials

    credentials = RefreshableCredentials.create_from_metadata(
        first, refresh_using=credential_fetcher.fetch_credentials, method="assume-role")

    class _AssumedRole(CredentialProvider):  # type: ignore[misc]
        METHOD = "assume-role"
        CANONICAL_NAME = None

        def load(self) -> Any:
            return credentials

    core = botocore.session.Session(profile=profile)
    core.register_component("data_loader", _shared_loader())  # service models parsed once, not once per account
    core.get_component("credential_provider").insert_before("env", _AssumedRole())
    return boto3.Session(botocore_session=core, region_name=region)
