"""`--output json` is written without json's pure-Python indenting encoder, byte for byte as it would write it."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, strategies as st

from apigw_sql.output import _default, indented_json

plain = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
                  st.datetimes(), st.dates(), st.decimals(allow_nan=False), st.binary(max_size=8))
values = st.recursive(plain, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=6), inner, max_size=4),
    st.dictionaries(st.integers(), inner, max_size=2)), max_leaves=12)


@given(st.lists(st.dictionaries(st.text(max_size=8), values, max_size=6), max_size=5))
def test_the_records_are_written_as_json_dumps_with_indent_writes_them(records: list) -> None:
    assert indented_json(records) == json.dumps(records, indent=2, default=_default, ensure_ascii=False)


def test_findings_like_records() -> None:
    records = [{"control_id": "x", "muted": False, "mute_reason": None, "frameworks": ["fsbp: APIGateway.1"],
                "dimensions": {"stage": "prod", "nested": {"a": [], "b": {}}}, "count": 3, "ratio": 0.5,
                "at": datetime(2026, 1, 2, 3, 4), "day": date(2026, 1, 2), "amount": Decimal("1.5"),
                "text": 'quote " newline \n unicode é \u2028'}, {}]
    assert indented_json(records) == json.dumps(records, indent=2, default=_default, ensure_ascii=False)
    assert indented_json([]) == "[]"


@given(st.lists(st.tuples(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.booleans()),
                          st.one_of(st.none(), st.integers(), st.floats()),
                          st.one_of(st.none(), st.text(), st.just('{"a": [1, {"b": null}], "c": "d"}'), st.just("[]")),
                          st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=3), st.datetimes())),
                max_size=6))
def test_rows_are_written_as_their_records_would_be(rows: list) -> None:
    from apigw_sql.output import _json_value, json_document

    columns, types = ("a", "b", "c", "d", "e"), ("VARCHAR", "BOOLEAN", "DOUBLE", "JSON", "VARCHAR[]")
    records = [{c: _json_value(v, t) for c, t, v in zip(columns, types, row)} for row in rows]
    assert json_document(columns, types, rows) == json.dumps(records, indent=2, default=_default,
                                                             ensure_ascii=False)
