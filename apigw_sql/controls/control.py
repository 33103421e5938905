"""`Control`: one audit control, read from one `.sql` file whose header carries its metadata.

A header is a block of ``-- key: value`` lines at the top of the file; a line ``--`` followed by
two or more spaces continues the previous key (remediation steps, long descriptions). The SQL
below the header is plain DuckDB SQL that runs as-is in ``apigw-sql query -f FILE``.

>>> text = '''-- id: demo_control
... -- title: A demo control
... -- description: Shows the header format.
... -- severity: low
... -- resource_type: REST stage
... -- remediation: Do the thing.
... --   CLI: aws apigateway update-stage ...
... -- frameworks: fsbp: APIGateway.3, config: api-gw-xray-enabled
... -- aliases: other_tool_name
... -- parameters: max_age_days BIGINT = 90
... -- also_in: usage
... SELECT 1'''
>>> header, sql = split_header(text, "demo_control.sql")
>>> header["remediation"]
'Do the thing.\\nCLI: aws apigateway update-stage ...'
>>> parse_frameworks(header["frameworks"], "f")
{'fsbp': ['APIGateway.3'], 'config': ['api-gw-xray-enabled']}
>>> parse_parameters(header["parameters"], "f")
[Parameter(name='max_age_days', type='BIGINT', default='90')]
>>> header["also_in"]
'usage'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UserError

SEVERITIES = ("critical", "high", "medium", "low", "informational")
STATUSES = ("ok", "alarm", "info", "skip", "error")
HEADER_KEYS = ("id", "title", "description", "severity", "resource_type", "remediation", "frameworks",
               "aliases", "parameters", "also_in")
# Keys a header may leave out: ``also_in`` names benchmarks the control belongs to besides its home folder's
# (a control lives in one folder and is listed, never copied, elsewhere).
OMITTABLE_KEYS = frozenset({"also_in"})
# Keys that may be left empty: a control need not map to a framework, have aliases or take parameters.
OPTIONAL_VALUE_KEYS = frozenset({"frameworks", "aliases", "parameters"})
# Keys whose continuation lines keep their line breaks (steps); others read as one paragraph.
MULTILINE_KEYS = frozenset({"remediation", "parameters"})
# Framework keys a header may use. fsbp, cis_v5 and cis_v6 also make the control a member of that benchmark.
FRAMEWORKS = {
    "fsbp": "AWS Security Hub Foundational Security Best Practices",
    "cis_v5": "CIS AWS Foundations Benchmark v5.0",
    "cis_v6": "CIS AWS Foundations Benchmark v6.0",
    "config": "AWS Config managed rule",
    "cloudsploit": "CloudSploit plugin",
    "checkov": "Checkov check (templates only)",
}
MEMBERSHIP_FRAMEWORKS = ("fsbp", "cis_v5", "cis_v6")
PARAMETER_TYPES = ("BIGINT", "DOUBLE", "VARCHAR", "BOOLEAN", "VARCHAR[]")

_KEY_LINE = re.compile(r"^-- ([a-z_]+):(?: (.*))?$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAMETER = re.compile(r"^([a-z][a-z0-9_]*)\s+([A-Za-z\[\]]+)\s*=\s*(.+)$")


class ControlError(UserError, ValueError):
    """A control file is invalid; the message names the file and the key at fault."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str  # a DuckDB literal, e.g. 30, 'PRIVATE', ['TLS_1_2']


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    description: str
    severity: str
    resource_type: str
    remediation: str
    frameworks: dict[str, list[str]]
    aliases: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    home: str          # the benchmark folder the file lives in
    sql: str           # the whole file: it runs as-is
    file: str
    benchmarks: tuple[str, ...] = field(default=())
    also_in: tuple[str, ...] = field(default=())  # benchmarks named in the header besides the home folder's

    @property
    def severity_rank(self) -> int:
        """0 for critical ... 4 for informational: sorts the most severe first."""
        return SEVERITIES.index(self.severity)

    def framework_refs(self) -> list[str]:
        """``fsbp: APIGateway.1``-style references, in header order."""
        return [f"{k}: {v}" for k, values in self.frameworks.items() for v in values]

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def split_header(text: str, file: str) -> tuple[dict[str, str], str]:
    """The header's keys and values (continuations joined by newlines) and the SQL after it."""
    header: dict[str, str] = {}
    lines = text.splitlines()
    last: str | None = None
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.startswith("--"):
            body_start = number - 1
            break
        key_match = _KEY_LINE.match(line)
        continuation = _CONTINUATION.match(line)
        if continuation and last is not None:
            joiner = "\n" if last in MULTILINE_KEYS else " "
            header[last] = (header[last] + joiner + continuation.group(1).rstrip()).strip()
        elif key_match:
            key, value = key_match.group(1), (key_match.group(2) or "").strip()
            if key not in HEADER_KEYS:
                raise ControlError(f"{file}:{number}: {key}: unknown key (allowed: {', '.join(HEADER_KEYS)})")
            if key in header:
                raise ControlError(f"{file}:{number}: {key}: given twice")
            header[key] = value
            last = key
        elif line.strip() == "--":
            continue
        else:
            raise ControlError(f"{file}:{number}: header lines are '-- key: value' (or '--   ' to continue "
                               f"the previous key), got {line!r}")
    for key in HEADER_KEYS:
        if key not in header and key in OMITTABLE_KEYS:
            continue
        if key not in header:
            raise ControlError(f"{file}: {key}: missing from the header")
        if not header[key] and key not in OPTIONAL_VALUE_KEYS:
            raise ControlError(f"{file}: {key}: empty")
    return header, "\n".join(lines[body_start:])


def parse_frameworks(value: str, file: str) -> dict[str, list[str]]:
    """``fsbp: APIGateway.1, cis_v5: 3.2`` as {framework: [reference, ...]}, checking the framework keys."""
    frameworks: dict[str, list[str]] = {}
    for entry in _entries(value, ","):
        name, sep, ref = entry.partition(":")
        name, ref = name.strip(), ref.strip()
        if not sep or not ref:
            raise ControlError(f"{file}: frameworks: {entry!r} must be 'framework: reference', e.g. 'fsbp: APIGateway.1'")
        if name not in FRAMEWORKS:
            raise ControlError(f"{file}: frameworks: unknown framework {name!r} (known: {', '.join(FRAMEWORKS)})")
        frameworks.setdefault(name, []).append(ref)
    return frameworks


def parse_aliases(value: str, file: str) -> tuple[str, ...]:
    aliases = tuple(_entries(value, ","))
    for alias in aliases:
        if not _ID.match(alias):
            raise ControlError(f"{file}: aliases: {alias!r} is not an identifier (lower_snake_case)")
    return aliases


def parse_parameters(value: str, file: str) -> list[Parameter]:
    """``name TYPE = default`` entries separated by ``;`` or by continuation lines."""
    parameters: list[Parameter] = []
    for entry in _entries(value, ";"):
        match = _PARAMETER.match(entry)
        if not match:
            raise ControlError(f"{file}: parameters: {entry!r} must be 'name TYPE = default', e.g. 'max_age_days BIGINT = 90'")
        name, ptype, default = match.group(1), match.group(2).upper(), match.group(3).strip()
        if ptype not in PARAMETER_TYPES:
            raise ControlError(f"{file}: parameters: {name}: type {ptype} is not one of {', '.join(PARAMETER_TYPES)}")
        if any(p.name == name for p in parameters):
            raise ControlError(f"{file}: parameters: {name} is declared twice")
        parameters.append(Parameter(name, ptype, default))
    return parameters


def _entries(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    for line in value.splitlines():
        parts += [p.strip() for p in line.split(separator)]
    return [p for p in parts if p and p.lower() != "none"]


def parse_control(text: str, file: str, home: str) -> Control:
    """A Control from a file's text; raises ControlError naming the file and key at fault."""
    from pathlib import Path

    header, body = split_header(text, file)
    stem = Path(file).stem
    control_id = header["id"]
    if not _ID.match(control_id):
        raise ControlError(f"{file}: id: {control_id!r} must be lower_snake_case")
    if control_id != stem:
        raise ControlError(f"{file}: id: {control_id!r} differs from the file name {stem!r}")
    severity = header["severity"].lower()
    if severity not in SEVERITIES:
        raise ControlError(f"{file}: severity: {header['severity']!r} is not one of {', '.join(SEVERITIES)}")
    for key in ("title", "description"):
        if header[key].endswith(".") != (key == "description"):
            rule = "a sentence ending with a period" if key == "description" else "a phrase without a final period"
            raise ControlError(f"{file}: {key}: must be {rule}")
    if not body.strip():
        raise ControlError(f"{file}: no SQL after the header")
    parameters = parse_parameters(header["parameters"], file)
    used = set(re.findall(r"getvariable\(\s*'([^']+)'\s*\)", body, flags=re.IGNORECASE))
    declared = {p.name for p in parameters}
    if used - declared:
        raise ControlError(f"{file}: parameters: the SQL reads {', '.join(sorted(used - declared))} "
                           "with getvariable() but the header does not declare it")
    if declared - used:
        raise ControlError(f"{file}: parameters: {', '.join(sorted(declared - used))} is declared but the SQL "
                           "never reads it with getvariable()")
    return Control(id=control_id, title=header["title"], description=header["description"], severity=severity,
                   resource_type=header["resource_type"], remediation=header["remediation"],
                   frameworks=parse_frameworks(header["frameworks"], file),
                   aliases=parse_aliases(header["aliases"], file), parameters=tuple(parameters), home=home,
                   sql=text, file=file, also_in=tuple(_entries(header.get("also_in", ""), ",")))
