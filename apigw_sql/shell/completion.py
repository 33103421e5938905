"""Completion that knows where the cursor is: table names after FROM/JOIN, the columns of the tables the
statement names (`s.` offers the columns of the table aliased s), JSON keys of loaded JSON columns after
`col->>'$.`, keywords and functions elsewhere; meta-commands after `.`, and their arguments (tables,
formats, control and benchmark ids, file paths).

Nothing here calls AWS: names come from the catalog files, JSON keys only from rows already loaded.
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterable, Iterator

from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ..output import FORMATS
from .sqltext import TABLE_LEADS, significant, statement_at, table_refs, tokenize
from .vocabulary import KEYWORDS

_WORD = re.compile(r"(?:([A-Za-z_][\w$]*)\.)?([A-Za-z_][\w$]*)?$")
_JSON_ARROW = re.compile(r"(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)\s*->>?\s*'([^']*)$")
_JSON_CALL = re.compile(r"json_\w+\(\s*(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)\s*,\s*'([^']*)$", re.I)
_CLAUSES = {"FROM", "JOIN", "WHERE", "SELECT", "GROUP", "ORDER", "HAVING", "ON", "SET", "LIMIT", "USING", "BY",
            "QUALIFY", "WINDOW", "VALUES", "INTO", "UPDATE"}
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_KEYWORD_SET = frozenset(KEYWORDS)


class ShellCompleter(Completer):
    def __init__(self, session: Any):
        self.session = session
        self._sql_files = PathCompleter(expanduser=True,
                                        file_filter=lambda p: os.path.isdir(p) or p.endswith(".sql"))
        self._any_files = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: Any) -> Iterator[Completion]:
        try:
            yield from self._completions(document, complete_event)
        except Exception:  # noqa: BLE001 - completion must never break typing
            if os.environ.get("APIGW_SQL_DEBUG"):
                raise

    def _completions(self, document: Document, event: Any) -> Iterator[Completion]:
        text = document.text
        if text.lstrip().startswith("."):
            yield from self._meta(document.text_before_cursor.lstrip(), event)
            return
        start, end = statement_at(text, document.cursor_position)
        statement = text[start:end]
        before = text[start:document.cursor_position]
        refs = table_refs(tokenize(statement))
        json_path = _JSON_ARROW.search(before) or _JSON_CALL.search(before)
        if json_path:
            yield from self._json(refs, *json_path.groups())
            return
        tokens = tokenize(before)
        if tokens and tokens[-1].kind in ("string", "quoted", "comment") and _open(tokens[-1].text):
            return  # inside a string or a comment
        word = _WORD.search(before)
        assert word is not None
        qualifier, partial = word.group(1), word.group(2) or ""
        if qualifier:
            table = _resolve(qualifier, refs)
            if table:
                yield from _matching(((c, f"{ctype}") for c, ctype, _ in self.session.columns_of(table)), partial)
            return
        previous = significant(tokenize(before[: len(before) - len(partial)]))
        if _wants_table(previous):
            yield from _matching(self._tables(), partial)
            return
        if not partial and previous and _ends_operand(previous[-1]):
            return  # nothing typed after a complete operand: a menu of everything helps no one
        seen: set[str] = set()
        columns = []
        for table, _ in refs:
            for name, ctype, _ in self.session.columns_of(table):
                if name not in seen:
                    seen.add(name)
                    columns.append((name, f"{ctype} · {table}"))
        yield from _matching(columns, partial)
        lower = bool(partial) and partial.islower()
        yield from _matching(((k.lower() if lower else k, "keyword") for k in KEYWORDS), partial)
        yield from _matching(((f, "function") for f in self.session.functions()), partial)

    def _tables(self) -> Iterable[tuple[str, str]]:
        catalog = self.session.catalog
        for name in catalog:
            yield name, _short(catalog[name].description)
        for name in self.session.local_relations():
            yield name, "created in this session"

    # ---- meta-commands -----------------------------------------------------------------------
    def _meta(self, line: str, event: Any) -> Iterator[Completion]:
        from .meta import COMMANDS

        if " " not in line:
            yield from _matching(((name, meta.help) for name, meta in COMMANDS.items()), line, substring=False)
            return
        name, _, arg = line.partition(" ")
        meta = COMMANDS.get(name.lower())
        kind = meta.argument if meta else None
        if kind == "file":
            files = self._sql_files if name.lower() == ".read" else self._any_files
            yield from files.get_completions(Document(arg, len(arg)), event)
            return
        words = arg.split(" ")
        partial = words[-1]
        if kind == "control":
            yield from self._control_arguments(words)
            return
        if len(words) > 1:
            return
        if kind == "table":
            yield from _matching(self._tables(), partial)
        elif kind == "format":
            yield from _matching(((f, "") for f in FORMATS), partial)
        elif kind == "onoff":
            yield from _matching([("on", ""), ("off", "")], partial)
        elif kind == "command":
            yield from _matching(((n[1:], m.help) for n, m in COMMANDS.items()), partial.lstrip("."))

    def _control_arguments(self, words: list[str]) -> Iterator[Completion]:
        from ..controls.benchmarks import benchmark_names
        from .meta import session_controls

        controls = session_controls(self.session)
        partial = words[-1]
        if len(words) == 1:
            choices = [(c.id, f"{c.severity} · {_short(c.title)}") for c in controls]
            choices += [(b, "benchmark") for b in benchmark_names(controls) if b != "all"] + [("all", "every control")]
            yield from _matching(choices, partial)
            return
        control = next((c for c in controls if c.id == words[0]), None)
        if control is not None and "=" not in partial:  # NAME=VALUE overrides of the control's parameters
            yield from _matching(((f"{p.name}=", f"default {p.default}") for p in control.parameters), partial)

    # ---- JSON paths --------------------------------------------------------------------------
    def _json(self, refs: list[tuple[str, str | None]], qualifier: str | None, column: str,
              typed: str) -> Iterator[Completion]:
        table = _resolve(qualifier, refs) if qualifier else _json_owner(self.session, column, refs)
        if not table:  # no FROM yet: any loaded table with a JSON column of that name
            loaded = [(name, None) for name in sorted(self.session.loaded_tables())]
            table = _json_owner(self.session, column, loaded)
        if not table:
            return
        if typed.startswith("$"):
            parent, _, partial = typed.rpartition(".")
            if not parent:  # just "$": offer "$.key"
                parent, partial = "$", ""
                prefix = "."
            else:
                prefix = ""
            keys = self.session.json_keys(table, column, parent)
            for key in keys:
                shown = key if _IDENTIFIER.match(key) else '"' + key.replace('"', '\\"') + '"'
                if shown.lower().startswith(partial.lower()):
                    yield Completion(prefix + shown, -len(partial), display=key, display_meta="JSON key")
            return
        for key in self.session.json_keys(table, column, "$"):
            if key.lower().startswith(typed.lower()):
                yield Completion(key, -len(typed), display_meta="JSON key")


def _matching(candidates: Iterable[tuple[str, str]], partial: str, substring: bool = True) -> Iterator[Completion]:
    """Candidates that start with `partial` (case-insensitive), then those that contain it."""
    low = partial.lower()
    later = []
    seen = set()
    for text, meta in candidates:
        if text in seen:
            continue
        t = text.lower()
        if t.startswith(low):
            seen.add(text)
            yield Completion(text, -len(partial), display_meta=meta)
        elif substring and len(low) >= 2 and low in t:
            seen.add(text)
            later.append(Completion(text, -len(partial), display_meta=meta))
    yield from later


def _resolve(qualifier: str, refs: list[tuple[str, str | None]]) -> str | None:
    q = qualifier.lower()
    for table, alias in refs:
        if (alias or "").lower() == q:
            return table
    for table, _ in refs:
        if table.lower() == q:
            return table
    return None


def _json_owner(session: Any, column: str, refs: list[tuple[str, str | None]]) -> str | None:
    for table, _ in refs:
        for name, ctype, _ in session.columns_of(table):
            if name == column and ctype.upper() == "JSON":
                return table
    return None


def _wants_table(previous: list[Any]) -> bool:
    if not previous:
        return False
    last = previous[-1]
    if last.kind == "word" and last.upper in TABLE_LEADS:
        return True
    if last.text == ",":
        for token in reversed(previous[:-1]):
            if token.kind == "word" and token.upper in _CLAUSES:
                return token.upper == "FROM"
    return False


def _ends_operand(token: Any) -> bool:
    if token.kind in ("number", "string", "quoted") or token.text == ")":
        return True
    return token.kind == "word" and token.upper not in _KEYWORD_SET


def _open(text: str) -> bool:
    """True when a string, quoted name or comment token is not closed (the cursor is inside it)."""
    if text.startswith("--"):
        return True
    if text.startswith("/*"):
        return not (len(text) >= 4 and text.endswith("*/"))
    body = text[2:] if text[:1] in "eE" else text[1:]
    quote = text[len(text) - len(body) - 1]
    return not (len(body) >= 1 and body.endswith(quote) and (len(body) - len(body.rstrip(quote))) % 2 == 1)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
