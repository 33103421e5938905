"""How values leave the tool: INTERVALs as DuckDB prints them and as ISO 8601 in JSON, and `query -o line`."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apigw_sql.cli import main
from apigw_sql.interval_text import duckdb_text, iso8601, parts

# No catalog table is read, so no AWS call is made: an endpoint nobody listens on proves it.
OFFLINE = ["--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1",
           "--no-rate-limit"]
INTERVAL_SQL = ("SELECT 'api-1' AS name, INTERVAL '3 days 13 minutes 31 seconds' AS age, "
                "[INTERVAL '-90 minutes'] AS gaps, INTERVAL 14 MONTH AS span")


def query(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["query", *argv, *OFFLINE])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_intervals_print_as_duckdb_does_in_table_and_csv(capsys):
    table = query(capsys, INTERVAL_SQL)
    assert "3 days 00:13:31" in table and "1 year 2 months" in table and "MonthDayNano" not in table
    rows = list(csv.reader(io.StringIO(query(capsys, INTERVAL_SQL, "-o", "csv"))))
    assert rows[1][1] == "3 days 00:13:31" and rows[1][3] == "1 year 2 months"
    assert json.loads(rows[1][2]) == ["-01:30:00"]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_intervals_are_iso8601_durations_in_json(capsys, fmt):
    out = query(capsys, INTERVAL_SQL, "-o", fmt)
    record = json.loads(out)[0] if fmt == "json" else json.loads(out.splitlines()[0])
    assert record == {"name": "api-1", "age": "P3DT13M31S", "gaps": ["PT-1H-30M"], "span": "P1Y2M"}


def test_query_line_output(capsys):
    out = query(capsys, "SELECT 'a' AS name, 1 AS n UNION ALL SELECT 'b', NULL ORDER BY name", "-o", "line")
    assert out == "name = a\n   n = 1\n\nname = b\n   n = ∅\n"


_micros = st.integers(min_value=-(10**15), max_value=10**15)


@settings(max_examples=300, deadline=None)
@given(months=st.integers(-1000, 1000), days=st.integers(-100_000, 100_000), micros=_micros)
def test_interval_text_matches_duckdbs_own_cast(months, days, micros):
    con = duckdb.connect()
    sql = f"SELECT to_months({months}) + to_days({days}) + to_microseconds({micros})"
    value = con.sql(sql).to_arrow_table().column(0).to_pylist()[0]
    expected = con.execute(f"SELECT CAST(({sql}) AS VARCHAR)").fetchone()[0]
    assert duckdb_text(*parts(value)) == expected


@settings(max_examples=300, deadline=None)
@given(months=st.integers(-1000, 1000), days=st.integers(-100_000, 100_000), micros=_micros)
def test_iso8601_durations_read_back_to_the_same_interval(months, days, micros):
    text = iso8601(months, days, micros * 1000)
    assert re.fullmatch(r"P(-?\d+Y)?(-?\d+M)?(-?\d+D)?(T(-?\d+H)?(-?\d+M)?(-?\d+(\.\d+)?S)?)?", text), text
    # DuckDB reads the same components back (it takes each unit with its own sign).
    date_part, _, time_part = text[1:].partition("T")
    words = {"Y": "years", "D": "days", "H": "hours", "S": "seconds"}
    pieces = [f"{n} {'months' if u == 'M' else words[u]}" for n, u in re.findall(r"(-?\d+)([YMD])", date_part)]
    pieces += [f"{n} {'minutes' if u == 'M' else words[u]}" for n, u in re.findall(r"(-?\d+(?:\.\d+)?)([HMS])",
                                                                                  time_part)]
    con = duckdb.connect()
    back = con.sql(f"SELECT INTERVAL '{' '.join(pieces) or '0 seconds'}'").to_arrow_table().column(0).to_pylist()[0]
    original = con.sql(f"SELECT to_months({months}) + to_days({days}) + to_microseconds({micros})"
                       ).to_arrow_table().column(0).to_pylist()[0]
    assert tuple(back) == tuple(original)


def test_python_timedeltas_are_intervals_too():
    assert duckdb_text(*parts(timedelta(days=3, minutes=13, seconds=31))) == "3 days 00:13:31"
    assert iso8601(*parts(timedelta(seconds=-1.5))) == "PT-1.5S"
