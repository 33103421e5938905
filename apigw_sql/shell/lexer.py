"""Syntax highlighting for the prompt: SQL keywords, functions, strings, numbers, comments, the catalog's
table names, and meta-commands.

>>> lexer = SqlLexer(lambda: {"aws_api_gateway_stage"})
>>> [(style, text) for style, text in lexer.fragments("select 1 from aws_api_gateway_stage")[0] if text.strip()]
[('class:keyword', 'select'), ('class:number', '1'), ('class:keyword', 'from'), ('class:table', 'aws_api_gateway_stage')]
"""
from __future__ import annotations

from typing import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from .sqltext import tokenize
from .vocabulary import FUNCTIONS, KEYWORDS

STYLE = Style.from_dict({
    "keyword": "bold ansiblue",
    "function": "ansicyan",
    "table": "bold ansigreen",
    "string": "ansiyellow",
    "number": "ansimagenta",
    "comment": "italic ansibrightblack",
    "meta": "bold ansimagenta",
    "prompt": "bold",
    "continuation": "ansibrightblack",
})

_KEYWORDS = frozenset(KEYWORDS)
_FUNCTIONS = frozenset(FUNCTIONS)
_KIND_STYLE = {"string": "class:string", "number": "class:number", "comment": "class:comment",
               "quoted": "", "space": "", "punct": ""}

Fragments = list[tuple[str, str]]


class SqlLexer(Lexer):
    def __init__(self, table_names: Callable[[], set[str]]):
        self.table_names = table_names

    def lex_document(self, document: Document) -> Callable[[int], Fragments]:
        lines = self.fragments(document.text)
        return lambda lineno: lines[lineno] if lineno < len(lines) else []

    def fragments(self, text: str) -> list[Fragments]:
        """The styled fragments of each line of text."""
        if text.lstrip().startswith("."):
            name, sep, rest = text.partition(" ")
            return [[("class:meta", name), ("", sep + rest)]]
        try:
            tables = self.table_names()
        except Exception:  # noqa: BLE001 - a broken catalog must not break typing; .tables reports it
            tables = set()
        lines: list[Fragments] = [[]]
        for token in tokenize(text):
            style = self._style(token.kind, token.text, tables)
            for i, part in enumerate(token.text.split("\n")):
                if i:
                    lines.append([])
                if part:
                    lines[-1].append((style, part))
        return lines

    @staticmethod
    def _style(kind: str, text: str, tables: set[str]) -> str:
        if kind != "word":
            return _KIND_STYLE.get(kind, "")
        if text.upper() in _KEYWORDS:
            return "class:keyword"
        if text in tables:
            return "class:table"
        if text.lower() in _FUNCTIONS:
            return "class:function"
        return ""
