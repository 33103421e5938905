"""The read-only guard: exactly the calls the shipped catalogue makes go out; secret readers never do.

The guard is tried on every operation of every botocore service model apigw-sql loads (and of the
services that hold secrets), through the handler registered on the executor's own clients.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from apigw_sql.catalog import load_catalog
from apigw_sql.readonly import EXPLICIT_READS, SECRET_READERS, ReadOnlyViolation, allowed_reads

ROOT = Path(__file__).resolve().parent.parent
# What the guard once allowed: any name starting with one of these verbs.
OLD_PATTERN = re.compile(r"^(Get|List|Describe|Lookup)[A-Z]")
# Services that hold secrets: their models are loaded too, to show that nothing of them goes out.
SECRET_SERVICES = ("secretsmanager", "ssm", "kms")


@pytest.fixture(scope="module")
def clients(module_connect):
    """service -> a client of the executor (the guard registered as on every client it makes)."""
    con = module_connect(regions=["us-east-1"])
    target = con.fetcher.targets()[0]
    services = sorted({service for service, _ in allowed_reads()} | set(SECRET_SERVICES)
                      | {service for service, _ in SECRET_READERS})
    import botocore.session

    available = set(botocore.session.get_session().get_available_services())
    return {s: con.fetcher.client(target, s, "us-east-1") for s in services if s in available}


def _refusal(client, operation: str, params: dict | None = None) -> str | None:
    """The guard's message for this call, or None when it lets it through (nothing is sent either way)."""
    model = client.meta.service_model.operation_model(operation)
    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    try:
        client.meta.events.emit(event, params=dict(params or {}), model=model, context={})
    except ReadOnlyViolation as refused:
        return str(refused)
    return None


def test_every_operation_of_every_loaded_model_is_refused_unless_allowed(clients):
    allowed, checked, refused_by_old_pattern = allowed_reads(), 0, 0
    for service, client in clients.items():
        for operation in client.meta.service_model.operation_names:
            refusal = _refusal(client, operation)
            checked += 1
            if (service, operation) in allowed and (service, operation) not in SECRET_READERS:
                assert refusal is None, f"{service}:{operation} is used by the catalogue but refused: {refusal}"
            else:
                assert refusal is not None, f"{service}:{operation} went through the guard"
                assert "\n" not in refusal and f"{service}:{operation}" in refusal
                refused_by_old_pattern += bool(OLD_PATTERN.match(operation))
    assert checked > 2000  # ec2 alone has hundreds: the sweep really ran
    assert refused_by_old_pattern > 500  # reads no table makes, which the verb pattern let through


def test_every_secret_reader_is_refused_even_if_it_is_a_read(clients):
    found = [(s, o) for s, o in SECRET_READERS if s in clients and o in clients[s].meta.service_model.operation_names]
    assert len(found) == len(SECRET_READERS), "a secret reader's name is misspelt"
    for service, operation in found:
        refusal = _refusal(clients[service], operation)
        assert refusal is not None and "secret" in refusal, (service, operation)
    old_pattern = {op for _, op in SECRET_READERS if OLD_PATTERN.match(op)}
    assert {"GetSecretValue", "GetParameter", "GetParametersByPath", "GetSessionToken", "GetPasswordData"} <= old_pattern


def test_secret_readers_are_refused_even_when_listed():
    assert not SECRET_READERS.keys() & EXPLICIT_READS.keys()
    # A shipped table file or the explicit list naming one would still not let it through.
    from apigw_sql import readonly

    for service, operation in SECRET_READERS:
        with pytest.raises(ReadOnlyViolation, match="never fetches secret values"):
            readonly.check(service, operation, {})


@pytest.mark.parametrize("service, operation, params", [
    ("apigateway", "GetApiKeys", {"includeValues": True}),
    ("apigateway", "GetApiKey", {"apiKey": "k", "includeValue": True}),
    ("ssm", "GetParameter", {"Name": "n", "WithDecryption": True}),
])
def test_secret_parameters_are_refused(clients, service, operation, params):
    refusal = _refusal(clients[service], operation, params)
    assert refusal is not None and "secret" in refusal


def test_the_catalogue_calls_are_allowed_and_read_only():
    catalog = load_catalog(ROOT / "tables")
    for name in catalog:
        spec = catalog[name]
        if spec.fetch.operation:
            assert (spec.service, spec.fetch.operation) in allowed_reads()
    # Reads whose names do not start with a reading verb: the session's role and a log search.
    other_reads = {("sts", "AssumeRole"), ("logs", "FilterLogEvents")}
    for service, operation in allowed_reads():
        assert OLD_PATTERN.match(operation) or (service, operation) in other_reads, (service, operation)


def _string_literals(module_name: str, call_arguments_only: bool = False) -> set[str]:
    """The string constants of a module's source; or only those passed as positional call arguments
    (ctx.call("GetWebACL", ...), read("GetBucketAcl"), fetcher.call(..., "LookupEvents", ...))."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__).read_text())
    if call_arguments_only:
        nodes = [arg for node in ast.walk(tree) if isinstance(node, ast.Call) for arg in node.args]
    else:
        nodes = list(ast.walk(tree))
    return {node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _rows_modules() -> set[str]:
    """The modules of the shipped rows functions and the apigw_sql modules they import, transitively."""
    catalog = load_catalog(ROOT / "tables")
    todo = [catalog[n].fetch.rows.partition(":")[0] for n in catalog if catalog[n].fetch.rows]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name in ("apigw_sql.fetch", "apigw_sql.readonly"):
            continue
        seen.add(name)
        module = importlib.import_module(name)
        tree = ast.parse(Path(module.__file__).read_text())
        package = name if Path(module.__file__).name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                if base.startswith("apigw_sql"):
                    todo.append(base)
                    if hasattr(importlib.import_module(base), "__path__"):  # from a package: maybe its modules
                        todo += [f"{base}.{a.name}" for a in node.names
                                 if importlib.util.find_spec(f"{base}.{a.name}") is not None]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("apigw_sql")]
    return seen


def test_explicit_reads_equal_what_the_rows_functions_call(clients):
    """Each explicit entry that names a module is called there; each call a rows module names is allowed."""
    for (service, operation), user in EXPLICIT_READS.items():
        if user.startswith("apigw_sql."):
            assert operation in _string_literals(user), f"{service}:{operation} is not called in {user}: drop it"
    operations = {op for client in clients.values() for op in client.meta.service_model.operation_names}
    allowed = {op for _, op in allowed_reads()}
    modules = _rows_modules()
    assert {"apigw_sql.linked", "apigw_sql.cloudtrail.log_files", "apigw_sql.cloudtrail.trail"} <= modules
    for module in sorted(modules):
        named = _string_literals(module, call_arguments_only=True) & operations
        assert named <= allowed, f"{module} calls {sorted(named - allowed)}: add them to EXPLICIT_READS"


SECRET_TABLE = '''name = "{name}"
description = "A table that should never be answered."
service = "{service}"

[fetch]
operation = "{operation}"
params = {params}

[[columns]]
name = "value"
type = "VARCHAR"
path = "SecretString"
description = "What the call returned."
'''


SECRET = "guard-test-not-to-be-shown"


@pytest.fixture(scope="module")
def secrets(sandbox):
    """A secret and a SecureString parameter in the sandbox: what the old guard let a table file read."""
    sandbox.client("secretsmanager", "us-east-1").create_secret(Name="guard-test/db", SecretString=SECRET)
    sandbox.client("ssm", "us-east-1").put_parameter(Name="/guard-test/db", Value=SECRET, Type="SecureString")


@pytest.mark.parametrize("service, operation, params, message", [
    ("secretsmanager", "GetSecretValue", '{ SecretId = "guard-test/db" }', "never fetches secret values"),
    ("ssm", "GetParametersByPath", '{ Path = "/guard-test", WithDecryption = true }', "never fetches secret values"),
    ("ssm", "DescribeParameters", "{}", "no apigw-sql table reads it"),
])
def test_a_table_file_that_reads_a_secret_is_a_one_line_error(sandbox, secrets, tmp_path, service, operation,
                                                              params, message):
    name = f"custom_{operation.lower()}"
    (tmp_path / f"{name}.toml").write_text(SECRET_TABLE.format(name=name, service=service, operation=operation,
                                                               params=params))
    env = {**os.environ, "APIGW_SQL_TABLES": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "query", f"SELECT * FROM {name}",
                           "--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1", "--max-attempts", "1",
                           "--no-rate-limit"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    # The line names the table file to fix, then what was refused and why.
    assert line.startswith(f"error: {name}: refused {service}:{operation}") and message in line
    assert str(tmp_path / f"{name}.toml") in line
    events = sandbox.client("cloudtrail", "us-east-1").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": operation}])["Events"]
    assert events == []  # nothing was sent
