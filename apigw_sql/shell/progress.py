"""The shell's status line is the one the command line draws too: see apigw_sql.progress_line."""
from __future__ import annotations

from ..progress_line import ProgressLine, describe

__all__ = ["ProgressLine", "describe"]
