"""The HTML report as a security team uses it: one self-contained file, collapsed control sections with
counts, breakdowns by region and account, filters, text search and sortable columns, driven in headless
Chromium over the DevTools protocol (a pipe, no extra package): typing in the search box changes the rows."""
from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from apigw_sql.controls import ControlResult, Finding, Report, load_controls, render_report

ACCOUNTS = ("123456789012", "210987654321")
REGIONS = ("eu-west-1", "us-east-1")
STATUSES = ("alarm", "ok", "info", "skip", "alarm", "ok")
HOSTILE = '<img src=x onerror="document.title=\'pwned\'"></script><b>&'


def build_report() -> Report:
    """Eight shipped controls, six findings each: alarms, oks, a muted alarm, one long and one hostile reason."""
    controls = load_controls()[:8]
    results = []
    for c_index, control in enumerate(controls):
        findings = []
        for i in range(6):
            region, account = REGIONS[i % 2], ACCOUNTS[i // 4]
            resource = f"arn:aws:apigateway:{region}::/restapis/api{c_index}x{i}/stages/stage{i}"
            reason = f"Stage stage{i} of API api{c_index}x{i} is {STATUSES[i]}."
            if c_index == 0 and i == 0:
                reason += " Stages: " + ", ".join(f"s{k:03d}" for k in range(100)) + "."
            if c_index == 1 and i == 1:
                reason += HOSTILE
            findings.append(Finding(control, resource, STATUSES[i], reason, account, region, control.severity,
                                    muted=i == 4, mute_reason="Accepted (SEC-1)." if i == 4 else None))
        results.append(ControlResult(control, findings))
    return Report(results, datetime(2026, 1, 2, tzinfo=timezone.utc), 2.0, 40, list(ACCOUNTS), list(REGIONS))


REPORT = build_report()


def test_the_report_is_one_self_contained_file_with_its_findings_embedded():
    html = render_report(REPORT, "html")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)  # nothing loaded from anywhere
    assert "default-src 'none'" in html  # and the browser is told so
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data  # a reason's "</script>" cannot end the element early
    doc = json.loads(data)
    assert len(doc["findings"]) == len(REPORT.findings) == 48 and len(doc["controls"]) == 8
    assert HOSTILE in {row[3].removeprefix("Stage stage1 of API api1x1 is ok.") for row in doc["findings"]}


def test_breakdowns_by_region_and_account_are_in_the_page_itself():
    html = render_report(REPORT, "html")
    region = re.search(r'<table class="breakdown" id="by-region">.*?</table>', html, re.S).group(0)
    account = re.search(r'<table class="breakdown" id="by-account">.*?</table>', html, re.S).group(0)
    assert '<a href="#region=eu-west-1">eu-west-1</a>' in region and '<a href="#account=210987654321">' in account
    # eu-west-1 holds findings 0, 2, 4 of each control: alarm, info, and the muted alarm.
    cells = re.search(r"eu-west-1</a></td>(.*?)</tr>", region).group(1)
    assert re.findall(r">(\d+)<", cells) == ["16", "0", "0", "8", "0", "8"]


# ---- in Chromium ------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Page:
    """A page in headless Chromium, driven over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, url: str, profile: Path):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child, before exec: the pipe ends go where Chromium expects them
            os.dup2(to_browser, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        target = self._send("Target.createTarget", {"url": url})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('control-list')")

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            while b"\0" not in self._buffer:
                ready, _, _ = select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise TimeoutError(f"Chromium did not answer {method}")
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise EOFError("Chromium closed the pipe")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def js(self, expression: str) -> Any:
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self._session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.js(f"!!({condition})"):
            if time.monotonic() > deadline:
                raise TimeoutError(condition)
            time.sleep(0.05)

    def type(self, selector: str, text: str) -> None:
        """Focus the field and type into it as a keyboard would (input events included)."""
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self._send("Input.insertText", {"text": text}, self._session)

    def click(self, selector: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def choose(self, select_id: str, value: str) -> None:
        self.js(f"(function(s){{s.value={json.dumps(value)};s.dispatchEvent(new Event('change'))}})"
                f"(document.getElementById({json.dumps(select_id)}))")

    def rows(self) -> list[dict[str, str]]:
        """The finding rows on the page, as the reader sees their cells."""
        return self.js("""Array.from(document.querySelectorAll('tr.finding')).map(function (tr) {
            var c = tr.cells; return {control: tr.closest('details').id, severity: c[0].innerText.trim(),
            status: c[1].innerText.trim(), resource: c[2].innerText.trim(), reason: c[3].innerText.trim(),
            account: c[4].innerText.trim(), region: c[5].innerText.trim()}; })""")

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a browser that will not close is killed
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


@pytest.fixture()
def page(tmp_path) -> Iterator[Page]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    report = tmp_path / "report.html"
    report.write_text(render_report(REPORT, "html"), encoding="utf-8")
    opened = Page(report.as_uri(), tmp_path / "profile")
    yield opened
    opened.close()


def test_controls_are_collapsed_sections_with_their_counts(page):
    assert page.rows() == []  # nothing expanded: a long audit opens on its summary
    sections = page.js("""Array.from(document.querySelectorAll('details.control')).map(function (d) {
        return [d.id, d.open, Array.from(d.querySelectorAll('summary .pill')).map(function (p) {
        return p.textContent; })]; })""")
    assert [s[0] for s in sections] == sorted((r.control.id for r in REPORT.results),
                                              key=lambda i: (next(r.control.severity_rank for r in REPORT.results
                                                                  if r.control.id == i), i))
    assert all(not is_open and pills == ["2 ok", "2 alarm", "1 info", "1 skip", "1 muted"]
               for _, is_open, pills in sections)
    page.click("details.control summary")
    page.wait_for("document.querySelectorAll('tr.finding').length === 6")
    assert "Remediation" in page.js("document.querySelector('details.control[open]').innerText")


def test_typing_in_the_search_box_changes_the_visible_rows(page):
    page.type("#search", "stage3")
    page.wait_for("document.querySelectorAll('tr.finding').length > 0")
    rows = page.rows()
    assert len(rows) == 8 and all(r["resource"].endswith("/stages/stage3") for r in rows)
    assert page.js("location.hash") == "#q=stage3"  # the view can be bookmarked
    assert page.js("document.getElementById('shown').textContent") == "8 of 48 findings match, in 8 of 8 controls."

    page.type("#search", " api2x")  # every word must match
    page.wait_for("document.querySelectorAll('tr.finding').length === 1")
    [row] = page.rows()
    assert row["resource"] == "arn:aws:apigateway:us-east-1::/restapis/api2x3/stages/stage3"
    assert page.js("document.querySelectorAll('details.control').length") == 1  # sections without a match go


def test_filters_by_severity_status_region_account_and_muted(page):
    page.click("#expand")
    page.wait_for("document.querySelectorAll('tr.finding').length === 48")
    page.choose("filter-status", "alarm")
    page.choose("filter-region", "eu-west-1")
    rows = page.rows()
    assert len(rows) == 16 and {(r["status"].split()[0], r["region"]) for r in rows} == {("alarm", "eu-west-1")}
    page.choose("filter-muted", "no")
    assert len(page.rows()) == 8
    page.choose("filter-muted", "")
    page.choose("filter-account", "210987654321")
    rows = page.rows()
    assert len(rows) == 8 and all(r["account"] == "210987654321" and "muted" in r["status"] for r in rows)
    severity = REPORT.results[0].control.severity
    page.choose("filter-severity", severity)
    assert {r["severity"].lower() for r in page.rows()} == {severity}
    page.click("#reset")
    page.wait_for("document.querySelectorAll('tr.finding').length === 0")


def test_breakdown_links_filter_by_region(page):
    page.js("location.hash = 'region=us-east-1&open=all'")
    page.wait_for("document.querySelectorAll('tr.finding').length === 24")
    assert {r["region"] for r in page.rows()} == {"us-east-1"}
    assert page.js("document.getElementById('filter-region').value") == "us-east-1"


def test_columns_sort_when_their_header_is_clicked(page):
    page.click("#expand")
    page.wait_for("document.querySelectorAll('tr.finding').length === 48")
    first = REPORT.results[0].control.id

    def resources() -> list[str]:
        return [r["resource"] for r in page.rows() if r["control"] == first]

    by_status = [r["status"].split()[0] for r in page.rows() if r["control"] == first]
    assert by_status == ["alarm", "alarm", "info", "skip", "ok", "ok"]  # the default: worst first
    page.click(f'details[id="{first}"] th[data-sort="resource"]')
    assert resources() == sorted(resources())
    page.click(f'details[id="{first}"] th[data-sort="resource"]')
    assert resources() == sorted(resources(), reverse=True)
    assert "sort=resource" in page.js("location.hash") and "dir=desc" in page.js("location.hash")


def test_a_findings_text_is_shown_as_text_never_as_markup(page):
    page.type("#search", "api1x1")
    page.wait_for("document.querySelectorAll('tr.finding').length === 1")
    [row] = page.rows()
    assert row["reason"].endswith(HOSTILE)
    assert page.js("document.querySelectorAll('#control-list img, #control-list b').length") == 0
    assert page.js("document.title") != "pwned"


def test_long_reasons_are_cut_until_asked(page):
    page.type("#search", "api0x0")
    page.wait_for("document.querySelectorAll('tr.finding').length === 1")
    [row] = page.rows()
    assert "s099" not in row["reason"] and "show all" in row["reason"]
    page.click("tr.finding button.more")
    [row] = page.rows()
    assert row["reason"].endswith("s098, s099.")
