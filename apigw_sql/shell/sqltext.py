"""SQL text as tokens: enough of DuckDB's lexical rules to highlight, to complete, to find the tables
a statement names and to know when a statement is complete (a `;` outside strings and comments).

>>> [t.text for t in tokenize("SELECT 'a;b' -- c;\\nFROM t;") if t.kind != "space"]
['SELECT', "'a;b'", '-- c;', 'FROM', 't', ';']
>>> is_complete("SELECT 1 -- done;"), is_complete("SELECT ';'; ")
(False, True)
>>> split_statements("SELECT 1; SELECT ';' ;  -- only a comment")
['SELECT 1', "SELECT ';'"]
>>> table_refs(tokenize("SELECT * FROM aws_api_gateway_stage s, rest AS r JOIN third ON r.id = s.id"))
[('aws_api_gateway_stage', 's'), ('rest', 'r'), ('third', None)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"""
  (?P<space>\s+)
| (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
| (?P<string>[eE]?'(?:[^']|'')*(?:'|\Z))
| (?P<quoted>"(?:[^"]|"")*(?:"|\Z))
| (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
| (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
| (?P<punct>->>|->|::|<=|>=|<>|!=|\|\||.)
""", re.X | re.S)

# Words after which a table name comes.
TABLE_LEADS = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE", "SUMMARIZE", "VIEW"}
# Words that end a FROM list or cannot be an alias.
_NOT_ALIAS = {
    "WHERE", "JOIN", "ON", "USING", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "NATURAL", "POSITIONAL",
    "ASOF", "ANTI", "SEMI", "LATERAL", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "WINDOW", "QUALIFY", "UNION",
    "EXCEPT", "INTERSECT", "AS", "SET", "VALUES", "RETURNING", "SELECT", "TABLESAMPLE", "USING", "PIVOT", "UNPIVOT",
}


@dataclass(frozen=True)
class Token:
    kind: str  # space, comment, string, quoted, number, word, punct
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()

    @property
    def significant(self) -> bool:
        return self.kind not in ("space", "comment")

    @property
    def name(self) -> str:
        """An identifier's name: a bare word as written, a quoted one without its quotes."""
        if self.kind == "quoted":
            return self.text[1:-1].replace('""', '"') if self.text.endswith('"') else self.text[1:]
        return self.text


def tokenize(text: str) -> list[Token]:
    return [Token(m.lastgroup or "punct", m.group(), m.start()) for m in _TOKEN.finditer(text)]


def significant(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.significant]


def is_complete(text: str) -> bool:
    """True when the text ends with a `;` that is outside strings and comments."""
    tokens = significant(tokenize(text))
    return bool(tokens) and tokens[-1].text == ";"


def split_statements(text: str) -> list[str]:
    """The statements of a script, without their `;`; pieces that hold only comments are dropped."""
    statements, current = [], []
    for token in tokenize(text) + [Token("punct", ";", len(text))]:
        if token.text == ";" and token.kind == "punct":
            if any(t.significant for t in current):
                statements.append("".join(t.text for t in current).strip())
            current = []
        else:
            current.append(token)
    return statements


def statement_at(text: str, position: int) -> tuple[int, int]:
    """The [start, end) span of the statement the cursor at `position` is in."""
    start, end = 0, len(text)
    for token in tokenize(text):
        if token.kind == "punct" and token.text == ";":
            if token.end <= position:
                start = token.end
            elif token.start >= position:
                end = token.start
                break
    return start, end


def _qualified_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """A possibly dotted name starting at tokens[i]; returns the last part and the index after it."""
    name = tokens[i].name
    i += 1
    while i + 1 < len(tokens) and tokens[i].text == "." and tokens[i + 1].kind in ("word", "quoted"):
        name = tokens[i + 1].name
        i += 2
    return name, i


def table_refs(tokens: list[Token]) -> list[tuple[str, str | None]]:
    """(table, alias) for each name in FROM, JOIN, INTO, UPDATE and DESCRIBE clauses."""
    toks = significant(tokens)
    refs: list[tuple[str, str | None]] = []
    i = 0
    while i < len(toks):
        if toks[i].kind == "word" and toks[i].upper in TABLE_LEADS:
            i += 1
            while i < len(toks) and toks[i].kind in ("word", "quoted") and toks[i].upper not in _NOT_ALIAS:
                name, i = _qualified_name(toks, i)
                alias = None
                if i < len(toks) and toks[i].upper == "AS":
                    i += 1
                if i < len(toks) and toks[i].kind in ("word", "quoted") and toks[i].upper not in _NOT_ALIAS:
                    alias = toks[i].name
                    i += 1
                refs.append((name, alias))
                if i < len(toks) and toks[i].text == ",":
                    i += 1
                    continue
                break
        else:
            i += 1
    return refs
