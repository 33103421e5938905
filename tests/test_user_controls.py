"""A user's own controls: folders given with --controls-dir or controls_dirs in config.toml, read by
check, controls, benchmarks and the shell's .run alike; a folder name that is no benchmark is a new
one; a broken header is one line naming the file. And `apigw-sql controls ID`, a control in detail.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apigw_sql.cli import main

REGIONS = "us-east-1,eu-west-1"

NAMED_API = """\
    -- id: team_rest_api_named
    -- title: REST APIs follow the team's naming rule
    -- description: Alarms when a REST API's name does not end with a suffix of allowed_suffixes.
    -- severity: low
    -- resource_type: REST API
    -- remediation: Rename the API.
    -- frameworks:
    -- aliases: team_naming
    -- parameters: allowed_suffixes VARCHAR[] = ['-api']
    SELECT arn AS resource,
           CASE WHEN list_bool_or([ends_with(name, s) for s in getvariable('allowed_suffixes')]) THEN 'ok'
                ELSE 'alarm' END AS status,
           format('REST API {} is named {}.', api_id, name) AS reason, account_id, region
    FROM aws_api_gateway_rest_api;
    """

STAGE_CACHE = """\
    -- id: team_stage_cache_sized
    -- title: Stages with a cache use a small one
    -- description: Alarms when a REST stage's cache is larger than 0.5 GB.
    -- severity: medium
    -- resource_type: REST stage
    -- remediation: Resize the cache.
    -- frameworks:
    -- aliases:
    -- parameters:
    SELECT arn AS resource, CASE WHEN coalesce(cache_cluster_size, '0.5') = '0.5' THEN 'ok' ELSE 'alarm' END AS status,
           format('Stage {} has a {} GB cache.', name, coalesce(cache_cluster_size, 'no')) AS reason, account_id, region
    FROM aws_api_gateway_stage;
    """


@pytest.fixture()
def user_dir(tmp_path: Path, monkeypatch) -> Path:
    """DIR/team_rules/ (a new benchmark) and DIR/apigateway/ (joins the shipped one); no config file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "mine"
    (root / "team_rules").mkdir(parents=True)
    (root / "apigateway").mkdir()
    (root / "team_rules" / "team_rest_api_named.sql").write_text(textwrap.dedent(NAMED_API))
    (root / "apigateway" / "team_stage_cache_sized.sql").write_text(textwrap.dedent(STAGE_CACHE))
    return root


def _out(capsys) -> str:
    return capsys.readouterr().out


def test_a_folder_adds_controls_and_a_benchmark(user_dir, capsys):
    assert main(["benchmarks", "--controls-dir", str(user_dir), "-o", "csv"]) == 0
    rows = {r["benchmark"]: r for r in csv.DictReader(io.StringIO(_out(capsys)))}
    assert rows["team_rules"]["controls"] == "1" and rows["team_rules"]["title"].startswith("Your controls in ")
    assert main(["benchmarks", "-o", "csv"]) == 0
    shipped = {r["benchmark"]: r for r in csv.DictReader(io.StringIO(_out(capsys)))}
    assert "team_rules" not in shipped
    assert int(rows["apigateway"]["controls"]) == int(shipped["apigateway"]["controls"]) + 1

    assert main(["controls", "apigateway", "--controls-dir", str(user_dir), "-o", "json"]) == 0
    listed = {r["control"]: r for r in json.loads(_out(capsys))}
    assert listed["team_stage_cache_sized"]["benchmarks"] == "apigateway, all"
    assert main(["controls", "team_naming", "--controls-dir", str(user_dir)]) == 0  # by alias
    assert "team_rest_api_named: REST APIs follow the team's naming rule" in _out(capsys)


def test_check_runs_a_user_benchmark(user_dir, sandbox, capsys):
    argv = ["check", "team_rules", "--controls-dir", str(user_dir), "-o", "json", "--regions", REGIONS,
            "--endpoint-url", sandbox.endpoint_url, "--no-rate-limit", "--max-attempts", "1"]
    assert main(argv) == 1
    findings = json.loads(_out(capsys))
    assert {f["control_id"] for f in findings} == {"team_rest_api_named"}
    assert {f["status"] for f in findings} == {"ok", "alarm"}
    assert main([*argv, "--var", "allowed_suffixes=-api,-gateway,-reports,-inventory"]) == 0
    assert {f["status"] for f in json.loads(_out(capsys))} == {"ok"}


def test_controls_dirs_in_the_config_file(user_dir, tmp_path, capsys):
    config = tmp_path / "config" / "apigw-sql" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'controls_dirs = ["{user_dir / "team_rules"}"]\n')
    assert main(["controls", "team_rules", "-o", "json"]) == 0  # DIR itself holds the controls: its own name
    assert [r["control"] for r in json.loads(_out(capsys))] == ["team_rest_api_named"]
    config.write_text("controls_dirs = 3\n")
    assert main(["controls"]) == 3
    assert capsys.readouterr().err == f"error: {config}: controls_dirs must be a list of folders\n"


@pytest.mark.parametrize("breakage, message", [
    (lambda t: t.replace("-- severity: low\n", ""), "team_rest_api_named.sql: severity: missing from the header"),
    (lambda t: t.replace("-- severity: low", "-- severity: urgent"), "team_rest_api_named.sql: severity: 'urgent'"),
    (lambda t: t.replace("-- id: team_rest_api_named", "-- id: apigateway_stage_cache_enabled"),
     "differs from the file name"),
    (lambda t: "\xff\xfe" + t, None),
])
def test_a_bad_control_is_one_line_naming_the_file(user_dir, capsys, breakage, message):
    path = user_dir / "team_rules" / "team_rest_api_named.sql"
    path.write_bytes(breakage(path.read_text()).encode("latin-1"))
    for argv in (["controls"], ["benchmarks"], ["check", "team_rules", "--endpoint-url", "http://127.0.0.1:9"]):
        assert main([*argv, "--controls-dir", str(user_dir)]) == 3
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}") and err.count("\n") == 1 and "Traceback" not in err, err
        if message:
            assert message in err


def test_a_missing_folder_and_a_shipped_id_taken_again(user_dir, capsys):
    assert main(["controls", "--controls-dir", str(user_dir / "nope")]) == 3
    assert "controls folder" in capsys.readouterr().err
    shipped = user_dir / "apigateway" / "apigateway_stage_cache_enabled.sql"
    shipped.write_text(textwrap.dedent(STAGE_CACHE).replace("team_stage_cache_sized", "apigateway_stage_cache_enabled"))
    assert main(["controls", "--controls-dir", str(user_dir)]) == 3
    assert "'apigateway_stage_cache_enabled' is also claimed by" in capsys.readouterr().err


def test_the_shell_runs_user_controls(user_dir, sandbox, tmp_path):
    script = (f".run team_rules\n.export {tmp_path / 'found.json'}\n.run team_stage_cache_sized\n"
              ".controls team_naming\n")
    done = subprocess.run([str(Path(sys.executable).with_name("apigw-sql")), "shell", "--controls-dir",
                           str(user_dir), "--regions", REGIONS, "--endpoint-url", sandbox.endpoint_url,
                           "--no-rate-limit", "--max-attempts", "1"], input=script, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 control: 2 ok, 3 alarm, 0 info, 0 skip, 0 error" in done.stderr  # the new benchmark
    assert {f["control_id"] for f in json.loads((tmp_path / "found.json").read_text())} == {"team_rest_api_named"}
    assert "1 control: 5 ok, 1 alarm, 0 info, 0 skip, 0 error" in done.stderr  # a user control by id
    assert "allowed_suffixes │ VARCHAR[] │ ['-api']" in done.stdout  # .controls ID: its parameters


def test_controls_id_shows_the_parameters_and_their_defaults(capsys):
    assert main(["controls", "apigateway_domain_name_tls_policy_current"]) == 0
    out = _out(capsys)
    assert out.startswith("apigateway_domain_name_tls_policy_current: Custom domains refuse TLS 1.0 and 1.1\n")
    for text in ("severity: medium", "benchmarks: fsbp, apigateway, all", "frameworks: fsbp: APIGateway.11",
                 "tables: aws_api_gateway_domain_name, aws_api_gatewayv2_domain_name", "remediation:\n  Switch",
                 "allowed_security_policies │ VARCHAR[] │ ['TLS_1_2', 'SecurityPolicy_*']",
                 "example: apigw-sql check apigateway_domain_name_tls_policy_current "
                 "--var 'allowed_security_policies=TLS_1_2,SecurityPolicy_*'"):
        assert text in out, text
    assert main(["controls", "apigateway_api_key_rotated", "-o", "json"]) == 0
    [record] = json.loads(_out(capsys))
    assert record["parameters"] == {"max_age_days": {"type": "BIGINT", "default": "90"}}
    assert record["file"].endswith("queries/apigateway/apigateway_api_key_rotated.sql") and "sql" not in record
    assert main(["controls", "apigateway_stage_cache_enabled"]) == 0
    assert "parameters: none" in _out(capsys)
