"""The table loader names the file and the field of every mistake."""
from __future__ import annotations

import pytest

from apigw_sql.catalog import SpecError, load_catalog, load_table

GOOD = '''name = "t_demo"
description = "One row per thing."
service = "apigateway"

[fetch]
operation = "GetRestApis"
items = "items"

[[columns]]
name = "name"
type = "VARCHAR"
path = "name"
description = "The name."
'''

CASES = [
    (GOOD.replace('name = "t_demo"', 'name = "other"'), "name: 'other' must be lower_snake_case and equal the file"),
    (GOOD.replace("One row per thing.", "One row per thing"), "description: must be a sentence"),
    (GOOD.replace('service = "apigateway"\n', ""), "service: missing"),
    (GOOD.replace('operation = "GetRestApis"', 'operation = "CreateRestApi"'),
     "fetch.operation: 'CreateRestApi' is not a read-only API name"),
    (GOOD.replace('operation = "GetRestApis"', 'rows = "no_such_module:f"'), "fetch.rows: 'no_such_module:f'"),
    (GOOD.replace('type = "VARCHAR"', 'type = "TEXT"'), "columns[0].type: 'TEXT' is not one of"),
    (GOOD.replace('path = "name"\n', ""), "columns[0].: give exactly one of path or template"),
    (GOOD.replace('description = "The name."', 'description = "The name."\npushdown = "sideways"'),
     "columns[0].pushdown: 'sideways' must be"),
    (GOOD.replace('description = "The name."', 'description = "The name."\ntransform = "nope"'),
     "columns[0].transform: 'nope' is not one of"),
    (GOOD + "\n[[columns]]\nname = \"name\"\ntype = \"VARCHAR\"\npath = \"x\"\ndescription = \"Again.\"\n",
     "columns[1].name: duplicate column 'name'"),
    (GOOD.replace("[fetch]", "colour = 1\n[fetch]"), "colour: unknown field"),
    (GOOD.replace('name = "t_demo"', 'name = "t_demo'), "t_demo.toml: "),  # TOML syntax: line and column
]


@pytest.mark.parametrize("text, message", CASES)
def test_loader_names_file_and_field(tmp_path, text, message):
    path = tmp_path / "t_demo.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_table(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)


def test_unknown_parent_is_rejected(tmp_path):
    (tmp_path / "t_demo.toml").write_text(GOOD.replace('service = "apigateway"', 'service = "apigateway"\n'
                                                                                  'parent = "t_missing"'))
    with pytest.raises(SpecError, match="parent: unknown table 't_missing'"):
        load_catalog(tmp_path)


def test_shipped_catalog_loads_and_every_column_is_documented():
    catalog = load_catalog()
    assert len(catalog.tables) >= 28
    for name in catalog:
        for col in catalog[name].columns:
            assert col.description.endswith("."), (name, col.name)


def test_tables_readme_lists_the_catalogue_as_it_is():
    from apigw_sql.catalog import default_tables_dir
    from apigw_sql.tables_doc import rewrite

    readme = default_tables_dir() / "README.md"
    assert readme.read_text() == rewrite(readme, load_catalog()), "run: python -m apigw_sql.tables_doc"
