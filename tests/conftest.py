"""Shared fixtures: one seeded sandbox (a real AWS-compatible server on loopback) per test run."""
from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

# Tests never touch a real account: dummy credentials, no shared config files.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                  AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
# Tests stay independent: no answer kept on disk by one test (or an earlier run) is served to another.
# The call cache's own tests turn it on, each in a cache folder of its own.
os.environ["APIGW_SQL_NO_CACHE"] = "1"

import apigw_sql  # noqa: E402

# A region the demo estate does not use: tests that build their own resources put them here.
TEST_REGION = "ap-southeast-2"


@pytest.fixture(scope="session")
def sandbox() -> Iterator["object"]:
    from apigw_sql.sandbox import Sandbox

    with Sandbox(seed=True) as sb:
        yield sb


def _connections(sandbox) -> Iterator[Callable[..., "apigw_sql.Connection"]]:
    """Open connections to the sandbox: the demo regions plus TEST_REGION unless regions= is given."""
    opened = []

    def _connect(**options):
        options.setdefault("endpoint_url", sandbox.endpoint_url)
        options.setdefault("regions", [*sandbox.regions, TEST_REGION])
        options.setdefault("max_attempts", 1)
        options.setdefault("rate_limit", False)
        options.setdefault("max_wait", 10.0)  # a throttling fault that never clears fails in seconds, not minutes
        con = apigw_sql.connect(**options)
        opened.append(con)
        return con

    yield _connect
    for con in opened:
        con.close()


@pytest.fixture()
def connect(sandbox) -> Iterator[Callable[..., "apigw_sql.Connection"]]:
    yield from _connections(sandbox)


@pytest.fixture(scope="module")
def module_connect(sandbox) -> Iterator[Callable[..., "apigw_sql.Connection"]]:
    """The same, kept for a whole module, so that one fetch serves every test of it."""
    yield from _connections(sandbox)


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory) -> Iterator["object"]:
    """The run's own $XDG_CACHE_HOME (downloaded log files, the call cache when a test turns it on), never
    the user's; a test that needs an empty one sets its own with monkeypatch."""
    home = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    """An empty $XDG_CACHE_HOME of this test's own, with the disk caches on (the suite keeps them off)."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("APIGW_SQL_NO_CACHE", raising=False)
    return home
