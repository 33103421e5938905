"""The wheel, installed as a user installs it: built from the source tree, installed into a fresh virtual
environment, and run from a directory that has nothing of the project in it.

Offline and quick: the fresh environment reaches the dependencies this interpreter already has (as
``--system-site-packages`` would) and the wheel is installed with ``--no-deps --no-index``; only the
isolated build of the wheel needs setuptools from the package index (or the local wheel cache).
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _source_copy(target: Path) -> Path:
    """The project's files (tracked or new, not ignored), copied: the build leaves no build/ in the checkout."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:  # not a git checkout (an sdist): take the folders the wheel is built from
        names = [str(p.relative_to(ROOT)) for folder in ("apigw_sql", "tables", "queries")
                 for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        names += ["pyproject.toml", "README.md"]
    for name in names:
        if (ROOT / name).is_file():  # a file deleted but not yet committed is skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = _source_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("apigw_sql-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin/ folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies: this interpreter's site-packages, after the venv's own (where the wheel goes).
    (purelib / "_apigw_sql_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return env_dir / "bin"


def _run(bin_dir: Path, cwd: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "APIGW_SQL_TABLES", "APIGW_SQL_QUERIES")}
    env["XDG_CONFIG_HOME"] = str(cwd)  # no user configuration
    return subprocess.run([str(bin_dir / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_ships_every_module_table_and_control(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "apigw_sql").rglob("*.py")}
    expected |= {f"apigw_sql/{p.relative_to(ROOT)}" for folder in ("tables", "queries")
                 for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert sorted(expected - names) == []


def test_the_installed_tool_runs_from_any_directory(installed, tmp_path):
    where = _run(installed, tmp_path, "python", "-c", "import apigw_sql; print(apigw_sql.__file__)")
    assert where.stdout.startswith(str(installed.parent)), where  # the wheel's copy, not the checkout

    tables = _run(installed, tmp_path, "apigw-sql", "tables")
    assert tables.returncode == 0, tables.stderr
    assert "aws_api_gateway_stage" in tables.stdout and "aws_cloudtrail_trail" in tables.stdout

    controls = _run(installed, tmp_path, "apigw-sql", "controls")
    assert controls.returncode == 0, controls.stderr
    assert "apigateway_stage_xray_tracing_enabled" in controls.stdout
    assert "cloudtrail_trail_enabled" in controls.stdout

    check = _run(installed, tmp_path, "apigw-sql", "check", "apigateway", "--sandbox", "--regions", "eu-west-1")
    assert check.returncode == 1, check.stderr  # the demo estate is partly insecure: alarms, no error
    assert "Traceback" not in check.stderr
    assert "apigw-sql check:" in check.stdout and "Totals" in check.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # it wrote nothing where it ran
