"""How quickly the CLI answers, against the floor `python -c "import sqlalchemy"` measured in the same run.

    python bench/cli.py [--runs 15]

Each figure is the median and the best wall time of a fresh process (as a user's shell starts
it) over --runs runs: `rectify --help`, `rectify issue show CODE`, and `rectify issue sign CODE`
(a different assigned problem each run, so every run writes). Goal: each within 2x the floor
and under 1 s. The database is SQLite under a scratch folder, seeded with the synthetic
registry; its problems are recorded through the CLI beforehand and are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, scratch  # noqa: E402

RECTIFY = str(BIN / "rectify")
DAY = "2016-08-22 10:00"


def run(*args: str) -> str:
    done = subprocess.run([RECTIFY, *args], capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        raise SystemExit(f"rectify {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=os.environ)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return elapsed


def prepare(problems: int) -> tuple[list[str], str]:
    """Codes of assigned problems of 康定市 and the name of a user of that unit."""
    run("db", "upgrade")
    run("seed", "--synthetic", "--as-of", "2016-08-19")
    codes = []
    for i in range(problems):
        shown = run("issue", "add", "--county", "康定市", "--item", "C01", "--desc", f"测速问题{i}",
                    "--severity", "一般", "--unit", "康定市", "--as", "督导员01", "--as-of", DAY, "--format", "json")
        codes.append(json.loads(shown)["code"])
    users = json.loads(run("user", "list", "--format", "json"))
    signer = next(u["name"] for u in users if u["role"] == "unit" and u.get("unit") == "康定市")
    return codes, signer


def measure(runs: int) -> list[tuple[str, float, float]]:
    codes, signer = prepare(runs + 1)
    cases = {
        'python -c "import sqlalchemy" (floor)': lambda i: [sys.executable, "-c", "import sqlalchemy"],
        "rectify --help": lambda i: [RECTIFY, "--help"],
        "rectify issue show CODE": lambda i: [RECTIFY, "issue", "show", codes[0]],
        "rectify issue sign CODE": lambda i: [RECTIFY, "issue", "sign", codes[i + 1], "--as", signer,
                                              "--as-of", "2016-08-22 15:00"],
    }
    rows = []
    for name, argv in cases.items():
        times = [timed(argv(i)) for i in range(runs)]
        rows.append((name, statistics.median(times), min(times)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = scratch("rectify-bench-cli-")
    os.environ.pop("RECTIFY_DATABASE_URL", None)
    try:
        rows = measure(args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = rows[0][1]
    print(f"CLI start-up, {args.runs} runs each (median / best, ratio of medians to the floor)")
    ok = True
    for name, median, best in rows:
        ratio = median / floor
        misses = [text for text, bad in (("2x the floor", ratio > 2), ("1 s", median >= 1)) if bad]
        goal = "" if name.endswith("(floor)") else ("  misses " + " and ".join(misses) if misses else "  ok")
        ok = ok and "misses" not in goal
        print(f"  {name:<40} {median * 1000:7.0f} ms / {best * 1000:5.0f} ms  {ratio:4.2f}x{goal}")
    print("all within goal" if ok else "some figure misses its goal")


if __name__ == "__main__":
    main()
