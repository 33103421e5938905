"""Where the files apigw-sql ships live: the table specs (``tables/``) and the controls (``queries/``).

In the repository both sit at the root, where contributors look for them. The wheel carries them
inside the package, as ``apigw_sql/tables`` and ``apigw_sql/queries`` (the ``package-dir`` mapping in
pyproject.toml), so an installed apigw-sql finds them wherever it runs from. ``shipped_dir`` asks
importlib.resources for the packaged copy first and falls back to the source tree (a checkout on
``PYTHONPATH`` or an editable install).
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

SHIPPED = ("tables", "queries")


def shipped_dir(name: str) -> Path:
    """The folder of shipped ``tables`` or ``queries`` files, installed or in the source tree.

    >>> (shipped_dir("tables") / "aws_api_gateway_stage.toml").is_file()
    True
    """
    if name not in SHIPPED:
        raise ValueError(f"{name!r} is not a shipped folder (one of {', '.join(SHIPPED)})")
    packaged = importlib.resources.files(__package__) / name
    if packaged.is_dir():
        return Path(str(packaged))  # wheels install unzipped: the resource is a real folder
    return Path(__file__).resolve().parent.parent / name
