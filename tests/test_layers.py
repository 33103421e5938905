"""The package's layers, read from the import statements of every module (those inside functions too).

core: the engine and what it stands on. services: what works over the engine (controls, CloudTrail and
IAM tables, rendering, the application core of app.py). front ends: cli, shell and demo, equal and
apart. A module may import its own layer or one below; a front end never imports another; no module
imports a private name (``_name``) of another module.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import apigw_sql

CORE, SERVICES, FRONT_ENDS = 0, 1, 2
LAYER_NAMES = {CORE: "core", SERVICES: "services", FRONT_ENDS: "front ends"}

# Module or package prefix -> layer; the longest prefix that names a module wins, so a new module in a
# package listed here (a new service package such as apigw_sql.usage) is classified without an edit.
LAYERS: dict[str, int] = {
    "apigw_sql": CORE,  # the package itself: connect() and the lazy public names
    "apigw_sql.errors": CORE,
    "apigw_sql.types": CORE,
    "apigw_sql.connection_options": CORE,
    "apigw_sql.resources": CORE,
    "apigw_sql.catalog": CORE,
    "apigw_sql.readonly": CORE,
    "apigw_sql.transforms": CORE,
    "apigw_sql.rowbuild": CORE,
    "apigw_sql.pushdown": CORE,
    "apigw_sql.ratelimit": CORE,
    "apigw_sql.scheduler": CORE,
    "apigw_sql.fetch": CORE,
    "apigw_sql.accounts": CORE,  # which accounts the fetcher reads, and their credentials
    "apigw_sql.engine": CORE,
    "apigw_sql.derived": CORE,
    "apigw_sql.linked": CORE,
    "apigw_sql.introspection": CORE,
    "apigw_sql.interval_text": CORE,
    "apigw_sql.private_files": CORE,
    "apigw_sql.call_cache": CORE,
    "apigw_sql.table_cache": CORE,
    "apigw_sql.plan_cache": CORE,
    "apigw_sql.atomic_file": CORE,
    "apigw_sql.userconfig": CORE,
    "apigw_sql.snapshot_files": CORE,  # the snapshot contract the engine opens (--snapshot)
    # Pure functions (stdlib only) that take API key values out of CloudTrail records: the fetcher
    # scrubs LookupEvents pages with it before they are cached, a guarantee of the core.
    "apigw_sql.cloudtrail.scrub": CORE,
    "apigw_sql.app": SERVICES,
    "apigw_sql.snapshot": SERVICES,
    "apigw_sql.diff": SERVICES,
    "apigw_sql.output": SERVICES,
    "apigw_sql.progress_line": SERVICES,
    "apigw_sql.tables_doc": SERVICES,
    "apigw_sql.controls": SERVICES,
    "apigw_sql.cloudtrail": SERVICES,
    "apigw_sql.iam": SERVICES,
    "apigw_sql.usage": SERVICES,
    "apigw_sql.transpile": SERVICES,
    "apigw_sql.engines": SERVICES,
    "apigw_sql.sandbox": SERVICES,
    "apigw_sql.cli": FRONT_ENDS,
    "apigw_sql.shell": FRONT_ENDS,
    "apigw_sql.demo": FRONT_ENDS,
}
FRONT_END_NAMES = [name for name, layer in LAYERS.items() if layer == FRONT_ENDS]

PACKAGE_DIR = Path(apigw_sql.__file__).parent


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ["apigw_sql", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = module_names()


def layer_key(module: str) -> str | None:
    """The LAYERS entry that classifies a module: its longest listed prefix (whole dotted parts)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS and (n > 1 or module == "apigw_sql"):  # "apigw_sql" classifies only itself
            return prefix
    return None


def front_end_of(module: str) -> str | None:
    key = layer_key(module)
    return key if key in FRONT_END_NAMES else None


def imports_of(module: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every apigw_sql import in a module, relative ones resolved."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            # `from . import engine` imports a module: judge the module, not the package.
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            if submodules and len(submodules) == len(names):
                found += [(node.lineno, sub, []) for sub in submodules]
            elif target.split(".")[0] == "apigw_sql":
                found.append((node.lineno, target, names))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names
                      if alias.name.split(".")[0] == "apigw_sql"]
    return found


def test_every_module_has_a_layer() -> None:
    unclassified = [m for m in MODULES if layer_key(m) is None]
    assert not unclassified, f"add these modules (or their package) to LAYERS: {unclassified}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_and_front_ends_stay_apart(module: str) -> None:
    key = layer_key(module)
    if key is None:
        pytest.skip("not classified: test_every_module_has_a_layer says so")
    layer = LAYERS[key]
    wrong = []
    for line, target, _ in imports_of(module):
        target_key = layer_key(target)
        if target_key is None:
            continue  # a module that does not exist: importing it fails elsewhere
        if LAYERS[target_key] > layer:
            wrong.append(f"line {line}: {target} ({LAYER_NAMES[LAYERS[target_key]]}) from "
                         f"{LAYER_NAMES[layer]}")
        elif front_end_of(target) and front_end_of(target) != front_end_of(module):
            wrong.append(f"line {line}: {target} is another front end: go through apigw_sql.app")
    assert not wrong, f"{module}: " + "; ".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_private_name_of_another(module: str) -> None:
    private = [f"line {line}: {name} from {target}" for line, target, names in imports_of(module)
               for name in names if name.startswith("_") and not name.startswith("__") and target != module]
    assert not private, f"{module}: " + "; ".join(private)


def test_the_map_judges_what_it_should() -> None:
    """The checks above would catch the mistakes they exist for."""
    assert LAYERS[layer_key("apigw_sql.usage.access_logs")] == SERVICES  # a new service package
    assert layer_key("apigw_sql.shell.meta") == "apigw_sql.shell"
    assert layer_key("apigw_sql.cloudtrail.lookup") == "apigw_sql.cloudtrail"
    assert layer_key("apigw_sql.cloudtrail.scrub") == "apigw_sql.cloudtrail.scrub"
    assert front_end_of("apigw_sql.demo") != front_end_of("apigw_sql.cli")
    # A function-level import is seen (cli hands `shell` and `demo` to them through app, not by import).
    assert any(target == "apigw_sql.app" for _, target, _ in imports_of("apigw_sql.shell.session"))


def test_the_front_ends_are_all_known_to_the_application() -> None:
    from apigw_sql.app import FRONT_ENDS as REGISTERED, front_end

    assert sorted(f"apigw_sql.{name}" for name in REGISTERED) == sorted(FRONT_END_NAMES)
    for name in REGISTERED:
        assert callable(front_end(name))


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) of every exception class the package defines outside the sandbox's server."""
    found = []
    for module, path in MODULES.items():
        if module.startswith("apigw_sql.sandbox"):
            continue  # the sandbox's errors are AWS's, answered over HTTP, never raised to a user
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception", "Violation"))
                                                 or b.id in ("Cancelled", "CallFailed")) for b in node.bases):
                found.append((module, node.name))
    return found


@pytest.mark.parametrize("module,name", _exception_classes())
def test_every_exception_derives_from_apigw_sql_error(module: str, name: str) -> None:
    import importlib

    from apigw_sql.errors import ApigwSqlError

    assert issubclass(getattr(importlib.import_module(module), name), ApigwSqlError)


def test_the_exceptions_a_user_can_fix_are_user_errors() -> None:
    """The front ends catch UserError alone: each of these must be one, or it would show a traceback."""
    from apigw_sql.app import UsageError
    from apigw_sql.catalog import SpecError
    from apigw_sql.cloudtrail.log_files import LogSourceError
    from apigw_sql.controls import ControlError, MutelistError, ParameterError, SelectionError
    from apigw_sql.engine import QueryError
    from apigw_sql.errors import UserError
    from apigw_sql.fetch import CredentialsError
    from apigw_sql.pushdown import SQLSyntaxError
    from apigw_sql.shell.meta import ShellError

    for cls in (UsageError, SpecError, LogSourceError, ControlError, MutelistError, ParameterError, SelectionError,
                QueryError, CredentialsError, SQLSyntaxError, ShellError):
        assert issubclass(cls, UserError), cls
