"""The table list of tables/README.md, generated from the catalogue so the docs match the code.

    python -m apigw_sql.tables_doc    # rewrites the list in tables/README.md
"""
from __future__ import annotations

import sys
from pathlib import Path

from .catalog import Catalog, default_tables_dir, load_catalog

MARKER = "| table | rows | source | pushdown keys | columns |"


def table_list(catalog: Catalog) -> str:
    lines = [MARKER, "|---|---|---|---|---|"]
    for name in catalog:
        spec = catalog[name]
        source = spec.fetch.operation or f"`{spec.fetch.rows}`"
        if spec.parent:
            source += f" per {spec.parent} row"
        keys = ", ".join(sorted(spec.pushdown_columns))
        lines.append(f"| `{name}` | {spec.description} | {source} | {keys} | {len(spec.columns)} |")
    return "\n".join(lines) + "\n"


def rewrite(readme: Path, catalog: Catalog) -> str:
    text = readme.read_text()
    head = text[: text.index(MARKER)] if MARKER in text else text.rstrip() + "\n\n"
    return head + table_list(catalog)


def main() -> int:
    readme = default_tables_dir() / "README.md"
    readme.write_text(rewrite(readme, load_catalog()))
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
