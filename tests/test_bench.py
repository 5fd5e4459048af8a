"""Every benchmark also runs at a small size here, so none of them can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_cli_benchmark_runs_and_reports_each_command():
    done = subprocess.run([sys.executable, str(BENCH / "cli.py"), "--runs", "1"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("(floor)", "rectify --help", "rectify issue show CODE", "rectify issue sign CODE"):
        line = next(row for row in done.stdout.splitlines() if name in row)
        assert " ms /" in line and "x" in line
