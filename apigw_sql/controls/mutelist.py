"""Suppressions: a TOML file of ``[[mute]]`` entries that mark accepted findings as muted.

    [[mute]]
    control = "apigateway_stage_xray_tracing_enabled"   # an id, an alias, or a pattern (apigateway_stage_*)
    resource = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/*"   # a pattern; default "*"
    account = "123456789012"                            # optional
    region = "eu-west-1"                                # optional
    reason = "Tracing is off on purpose on the load-test stage (SEC-1234)."
    expires = 2026-12-31                                # optional: the last day the entry applies

A muted finding keeps its status; it is marked muted with the entry's reason in every output and
does not fail the run. An expired entry mutes nothing and produces a warning.
"""
from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .runner import Report
from ..errors import UserError

ENTRY_KEYS = ("control", "resource", "account", "region", "reason", "expires")


class MutelistError(UserError, ValueError):
    """The mutelist file is unreadable or an entry is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class MuteEntry:
    number: int  # 1-based position in the file, for messages
    control: str
    reason: str
    resource: str = "*"
    account: str = "*"
    region: str = "*"
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def matches(self, control_names: tuple[str, ...], resource: str, account: str | None, region: str | None) -> bool:
        return (any(fnmatch.fnmatchcase(n, self.control) for n in control_names)
                and fnmatch.fnmatchcase(resource, self.resource)
                and fnmatch.fnmatchcase(account or "", self.account)
                and fnmatch.fnmatchcase(region or "", self.region))

    def describe(self) -> str:
        return f"entry {self.number} ({self.control}, resource {self.resource})"


def load_mutelist(path: str | Path) -> list[MuteEntry]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MutelistError(f"cannot read the mutelist {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MutelistError(f"{path}: not UTF-8 text: save the mutelist as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise MutelistError(f"{path}: not valid TOML: {exc}") from None
    extra = set(data) - {"mute"}
    if extra:
        raise MutelistError(f"{path}: {sorted(extra)[0]}: unknown key; write entries as [[mute]] tables")
    raw_entries = data.get("mute", [])
    if not isinstance(raw_entries, list):
        raise MutelistError(f"{path}: mute: write entries as [[mute]] tables")
    return [_entry(raw, i, path) for i, raw in enumerate(raw_entries, start=1)]


def _entry(raw: Any, number: int, path: Path) -> MuteEntry:
    where = f"{path}: mute entry {number}"
    if not isinstance(raw, dict):
        raise MutelistError(f"{where}: expected a [[mute]] table")
    for key in raw:
        if key not in ENTRY_KEYS:
            raise MutelistError(f"{where}: {key}: unknown key (allowed: {', '.join(ENTRY_KEYS)})")
    for key in ("control", "reason"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise MutelistError(f"{where}: {key}: missing (every entry names a control and says why)")
    for key in ("resource", "account", "region"):
        if key in raw and not isinstance(raw[key], str):
            raise MutelistError(f"{where}: {key}: expected a string pattern")
    expires = raw.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise MutelistError(f"{where}: expires: {expires!r} is not a date (YYYY-MM-DD)") from None
    elif expires is not None and not isinstance(expires, date):
        raise MutelistError(f"{where}: expires: expected a date (YYYY-MM-DD)")
    return MuteEntry(number, raw["control"].strip(), raw["reason"].strip(), raw.get("resource", "*"),
                     raw.get("account", "*"), raw.get("region", "*"), expires)


def apply_mutelist(report: Report, entries: list[MuteEntry], today: date | None = None) -> list[str]:
    """Mark matching findings muted (first live entry wins); return warnings about expired entries
    (also appended to ``report.warnings``)."""
    today = today or date.today()
    live = [e for e in entries if not e.expired(today)]
    warnings = [f"mutelist {e.describe()} expired on {e.expires.isoformat()}: its findings are no longer "
                f"muted; renew or remove it" for e in entries if e.expired(today) and e.expires]
    for finding in report.findings:
        names = (finding.control.id, *finding.control.aliases)
        for entry in live:
            if entry.matches(names, finding.resource, finding.account_id, finding.region):
                finding.muted, finding.mute_reason = True, entry.reason
                break
    report.warnings.extend(warnings)
    return warnings
