"""INTERVAL values as people and machines read them: the text DuckDB itself prints, and ISO 8601 durations.

DuckDB hands an INTERVAL to Arrow as (months, days, nanoseconds) and to Python as a timedelta; both are
turned back into the text DuckDB shows (``CAST(i AS VARCHAR)``), and into an ISO 8601 duration for JSON,
signed per component as PostgreSQL's ``iso_8601`` interval style writes it.

>>> duckdb_text(0, 3, 811_000_000_000)
'3 days 00:13:31'
>>> iso8601(0, 3, 811_000_000_000)
'P3DT13M31S'
>>> duckdb_text(-14, 0, 0), iso8601(-14, 0, 0)
('-1 year -2 months', 'P-1Y-2M')
>>> duckdb_text(0, 0, -1_250_000_000), iso8601(0, 0, -1_250_000_000)
('-00:00:01.25', 'PT-1.25S')
>>> duckdb_text(0, 0, 0), iso8601(0, 0, 0)
('00:00:00', 'PT0S')
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

_NANOS_PER_SECOND = 1_000_000_000
_NANOS_PER_MINUTE = 60 * _NANOS_PER_SECOND
_NANOS_PER_HOUR = 60 * _NANOS_PER_MINUTE


def parts(value: Any) -> tuple[int, int, int] | None:
    """(months, days, nanoseconds) of an interval value (Arrow's MonthDayNano or a timedelta); None otherwise."""
    if isinstance(value, timedelta):
        total = value // timedelta(microseconds=1)
        sign = -1 if total < 0 else 1
        days, micros = divmod(abs(total), 86_400_000_000)
        return 0, sign * days, sign * micros * 1000
    if type(value).__name__ == "MonthDayNano" and isinstance(value, tuple) and len(value) == 3:
        return int(value[0]), int(value[1]), int(value[2])
    return None


def _trunc_div(a: int, b: int) -> tuple[int, int]:
    # DuckDB splits months into years the C++ way, rounding toward zero: -14 months is -1 year -2 months.
    q = abs(a) // b * (1 if a >= 0 else -1)
    return q, a - q * b


def _unit(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n in (1, -1) else "s")


def _fraction(nanos: int) -> str:
    return f".{nanos:09d}".rstrip("0") if nanos else ""


def duckdb_text(months: int, days: int, nanoseconds: int) -> str:
    """The text ``CAST(interval AS VARCHAR)`` gives in DuckDB."""
    out: list[str] = []
    years, months = _trunc_div(months, 12)
    if years:
        out.append(_unit(years, "year"))
    if months:
        out.append(_unit(months, "month"))
    if days:
        out.append(_unit(days, "day"))
    if nanoseconds or not out:
        sign = "-" if nanoseconds < 0 else ""
        rest = abs(nanoseconds)
        hours, rest = divmod(rest, _NANOS_PER_HOUR)
        minutes, rest = divmod(rest, _NANOS_PER_MINUTE)
        seconds, rest = divmod(rest, _NANOS_PER_SECOND)
        out.append(f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}{_fraction(rest)}")
    return " ".join(out)


def iso8601(months: int, days: int, nanoseconds: int) -> str:
    """An ISO 8601 duration (``P1Y2M3DT4H5M6.5S``); each component carries its own sign."""
    years, months = _trunc_div(months, 12)
    date = "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n)
    sign = -1 if nanoseconds < 0 else 1
    hours, rest = divmod(abs(nanoseconds), _NANOS_PER_HOUR)
    minutes, rest = divmod(rest, _NANOS_PER_MINUTE)
    seconds, rest = divmod(rest, _NANOS_PER_SECOND)
    neg = "-" if sign < 0 else ""
    time = "".join(f"{neg}{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n)
    if seconds or rest:
        time += f"{neg}{seconds}{_fraction(rest)}S"
    if not date and not time:
        return "PT0S"
    return "P" + date + ("T" + time if time else "")
