"""Every benchmark also runs at a small size here, so none of them can rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_cli_benchmark_runs_and_reports_each_command():
    done = subprocess.run([sys.executable, str(BENCH / "cli.py"), "--runs", "1"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("(floor)", "rectify --help", "rectify issue show CODE", "rectify issue sign CODE"):
        line = next(row for row in done.stdout.splitlines() if name in row)
        assert " ms /" in line and "x" in line


# The others build their own databases (SQLite, and PostgreSQL where it answers at the default
# address): they run once, in the SQLite pass, at a size that takes seconds.
own_databases = pytest.mark.skipif(bool(os.environ.get("RECTIFY_TEST_DATABASE_URL")),
                                   reason="builds its own databases: runs in the SQLite pass")


def _bench(script: str, *args: str, timeout: int = 600) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _ratio(out: str, name: str, unit: str) -> float:
    line = next(row for row in out.splitlines() if name in row)
    return float(re.search(rf"([\d.]+)x {unit}", line).group(1))


@own_databases
def test_reports_benchmark_runs_and_reports_ratios():
    out = _bench("reports.py", "--issues", "3000")
    assert _ratio(out, "report --by county", "floor") > 0 and _ratio(out, "report --by unit", "floor") > 0
    assert _ratio(out, "ranking with intervals", "report --by county") > 0
    assert "ledger of 康定市" in out and "peak memory" in out


@own_databases
def test_reminders_benchmark_runs_the_flow_and_delivers():
    out = _bench("send_reminders.py", "--issues", "2000", "--units", "50")
    line = next(row for row in out.splitlines() if "send-reminders flow, end to end" in row)
    queued, delivered = map(int, re.search(r"(\d+) ledger rows, (\d+) delivered", line).groups())
    assert queued == delivered > 0 and " 0 failed" in line


@own_databases
def test_web_benchmark_serves_pages_without_errors():
    out = _bench("web.py", "--issues", "2000", "--clients", "4", "--seconds", "2", "--workers", "1")
    for page in ("dashboard", "list", "workbench", "problem"):
        line = next(row for row in out.splitlines() if row.strip().startswith(page))
        assert "errors 0" in line and _ratio(out, f"{page:<10} median", "baseline") > 0


@own_databases
def test_import_benchmark_runs_the_flow_and_the_command():
    out = _bench("import_findings.py", "--rows", "300")
    assert _ratio(out, "import use case", "floor") > 0 and "rectify import (command)" in out
    assert _ratio(out, "rejected: one bad last row", "the valid command") > 0


@own_databases
def test_login_flood_benchmark_keeps_pages_answering():
    out = _bench("login.py", "--issues", "1000", "--attackers", "40", "--seconds", "3")
    flood = next(row for row in out.splitlines() if "pages under flood" in row)
    assert "errors 0" in flood and _ratio(out, "pages under flood", "alone") > 0
    assert "503×" in out and "peak under flood" in out


@own_databases
def test_capture_benchmark_syncs_once_and_reports_its_figures():
    out = _bench("capture.py", "--villages", "1", "--households", "1", "--photos", "4", "--side", "640")
    assert _ratio(out, " uploads (", "floor") > 0 and _ratio(out, " records, ", "floor") > 0
    assert "nothing written twice" in out and re.search(r"page\s+[\d.]+ KB", out) and "server peak" in out
