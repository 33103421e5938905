"""Kept analyses (plan_cache.py): a later session plans a statement from disk without parsing it, with the very
tables and filters a fresh analysis gives; statements naming views are not kept; a tampered file is ignored."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from apigw_sql import pushdown

STATEMENT = ("SELECT s.stage_name FROM aws_api_gateway_stage s JOIN aws_api_gateway_rest_api a USING (api_id) "
             "WHERE a.region IN ('us-east-1', 'eu-west-1') AND a.name = getvariable('wanted')")


def plans(home: Path) -> list[Path]:
    return sorted((home / "apigw-sql" / "plans").glob("*.json"))


def analysis(uses: dict) -> list:
    return sorted((name, sorted((c, sorted(map(repr, v))) for c, v in use.constraints.items()), repr(use.bounds))
                  for name, use in uses.items())


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(pushdown, "parse", refuse)


def test_a_later_session_plans_from_the_kept_analysis_without_parsing(connect, cache_home: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    first = connect()
    first.duck.execute("SET VARIABLE wanted = 'petstore'")
    fresh = analysis(first.uses(STATEMENT))
    assert len(plans(cache_home)) == 1 and "aws_api_gateway_rest_api" in str(fresh)
    no_parsing(monkeypatch)
    second = connect()
    second.duck.execute("SET VARIABLE wanted = 'petstore'")
    assert analysis(second.uses(STATEMENT)) == fresh


def test_a_statement_naming_a_view_is_not_kept(connect, cache_home: Path):
    con = connect()
    con.sql("CREATE VIEW mine AS SELECT api_id FROM aws_api_gateway_rest_api WHERE region = 'us-east-1'")
    assert "aws_api_gateway_rest_api" in con.uses("SELECT * FROM mine")
    assert not [p for p in plans(cache_home) if b"FROM mine" in p.read_bytes()]


@pytest.mark.parametrize("how", ["group-writable", "other-statement", "garbage"])
def test_a_tampered_plan_file_is_ignored(connect, cache_home: Path, how: str, monkeypatch: pytest.MonkeyPatch):
    first = connect()
    fresh = analysis(first.uses(STATEMENT))
    other = "SELECT * FROM aws_api_gateway_usage_plan"
    first.uses(other)
    path = next(p for p in plans(cache_home) if b"usage_plan" not in p.read_bytes())
    if how == "group-writable":
        os.chmod(path, 0o620)
    elif how == "other-statement":
        path.write_bytes(next(p for p in plans(cache_home) if p != path).read_bytes())
    else:
        path.write_bytes(b'{"format": 1, "statement": ')
    parsed = []
    real = pushdown.parse
    monkeypatch.setattr(pushdown, "parse", lambda *a, **k: parsed.append(1) or real(*a, **k))
    assert analysis(connect().uses(STATEMENT)) == fresh
    assert parsed
