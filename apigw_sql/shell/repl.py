"""The interactive loop: a prompt-toolkit prompt with highlighting, completion, history (Ctrl-R searches
it) and multi-line statements that run when they end with `;`. Each input goes to `meta.dispatch`.
Piped input (standard input is not a terminal) runs as a script instead.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.filters import Condition, completion_is_selected
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.patch_stdout import patch_stdout

from .. import __version__
from .completion import ShellCompleter
from .history import open_history
from .lexer import STYLE, SqlLexer
from .dispatch import dispatch, report, run_script
from .meta import QUIT
from .session import ShellSession
from .sqltext import is_complete

PROMPT = "apigw-sql> "
BANNER = (f"apigw-sql {__version__}: SQL over AWS API Gateway and CloudTrail. "
          "End statements with ;  .help lists commands, Ctrl-D quits.")


def run_shell(args: argparse.Namespace) -> int:
    from ..app import parse_regions

    parse_regions(args.regions)  # a mistyped region stops here, before the prompt (UsageError, exit 3)
    session = ShellSession(args)
    try:
        if not sys.stdin.isatty():
            return _run_piped(session)
        return _run_interactive(session)
    finally:
        session.close()


def ready_to_run(text: str) -> bool:
    """Enter runs the input (instead of starting a new line) when this is true.

    >>> ready_to_run("SELECT 1"), ready_to_run("SELECT 1;"), ready_to_run(".tables"), ready_to_run("")
    (False, True, True, True)
    """
    stripped = text.strip()
    return not stripped or stripped.startswith(".") or is_complete(text)


def _run_piped(session: ShellSession) -> int:
    try:
        outcome = run_script(session, sys.stdin.read())
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - one line, then the exit status
        report(session, exc)
        return 130
    return 3 if outcome is not QUIT and outcome else 0


def _run_interactive(session: ShellSession) -> int:
    history, warning = open_history()
    prompt: PromptSession = PromptSession(
        message=[("class:prompt", PROMPT)],
        multiline=Condition(lambda: not ready_to_run(prompt.default_buffer.text)),
        prompt_continuation=lambda width, line_number, wrap_count: [("class:continuation",
                                                                     "...> ".rjust(width))],
        lexer=SqlLexer(lambda: set(session.catalog.tables)),
        completer=ShellCompleter(session),
        complete_while_typing=False,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        style=STYLE,
        include_default_pygments_style=False,
        key_bindings=_key_bindings(),
    )
    _open_after_first_render(prompt, session)
    print(BANNER, file=session.err)
    if warning:
        print(warning, file=session.err)
    while True:
        try:
            try:
                with patch_stdout(raw=True):
                    text = prompt.prompt()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                return 0
            if not dispatch(session, text):
                return 0
        except KeyboardInterrupt:
            print("cancelled", file=session.err)


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter", filter=completion_is_selected)
    def _take_completion(event: Any) -> None:
        event.current_buffer.complete_state = None  # Enter in the menu takes the choice, not the line

    return bindings


def _open_after_first_render(prompt: PromptSession, session: ShellSession) -> None:
    """Open the connection in the background once the prompt is drawn, so typing never waits for it."""
    def start(_: Any) -> None:
        prompt.app.after_render -= start
        session.start_opening()

    prompt.app.after_render += start
