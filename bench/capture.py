"""Benchmark: one county's sample recorded on the phone, synced to `rectify web` on loopback (issue 20).

The sample is an inspection of 康定市 (default 10 villages, 8 households each: 1,257
checks); every check is recorded, about one in twelve as a problem, and 200 photos (default)
are shared among the problems. `rectify web` runs in its own process with a Prefect server;
this process is the phone, speaking the capture page's calls. Measured in the same run:

  page           the capture page and its files, as a phone first loads them (goal < 200 KB)
  floor          the photos checked and stored in this process (decode, EXIF, hash, keep): no HTTP
  photos         the same photos uploaded one by one, as the page sends them
  sync           the batch of records, imported by the flow with its photos (goal: photos + sync < 30 s)
  repeat         the same batch again (the answer was lost): nothing written twice
  workbook       the same rows as a findings workbook, checked and imported from the browser's page
  server peak    the web process's peak memory over the run (goal < 500 MB)

Run: .venv/bin/python bench/capture.py [--villages 10] [--households 8] [--photos 200] [--side 2400]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import scratch, start_prefect_server, start_web, stop  # noqa: E402

WORK = scratch("rectify-bench-capture-")
os.environ["RECTIFY_DATABASE_URL"] = f"sqlite:///{WORK / 'rectify.db'}"

import httpx  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from sqlalchemy import select  # noqa: E402

from rectify.flows.clock import parse_instant  # noqa: E402
from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.flows.demo_findings import phone_records  # noqa: E402
from rectify.flows.evidence_store import check_upload, keep  # noqa: E402
from rectify.flows.intake.capture import phone_sample  # noqa: E402
from rectify.flows.intake.columns import COLUMNS  # noqa: E402
from rectify.flows.intake.plan import make_plan  # noqa: E402
from rectify.models import migrate  # noqa: E402
from rectify.models.accounts import set_password  # noqa: E402
from rectify.models.calendar import SHANGHAI  # noqa: E402
from rectify.models.inspections import Inspection  # noqa: E402
from rectify.models.lookup import get_user  # noqa: E402
from rectify.models.policy import load_policy  # noqa: E402
from rectify.seeds.loader import SeedReport, load_reference  # noqa: E402
from rectify.seeds.synthetic import load_synthetic  # noqa: E402

NOW = "2016-08-23 10:00"
INSPECTION, LEADER, COORDINATOR, PASSWORD = "手机采集基准", "督导组长01", "州督查办", "bench-password"
PAGE_FILES = ["/capture", "/static/capture.js", "/static/capture.css", "/static/style.css",
              "/capture/manifest.webmanifest", "/capture/sw.js", "/static/capture-icon.svg"]


def prepare(villages: int, households: int) -> dict:
    migrate.upgrade()
    with unit_of_work(parse_instant("2016-08-19")) as ctx:
        load_reference(ctx.session)
        load_synthetic(ctx.session, SeedReport())
    with unit_of_work(parse_instant("2016-08-22 09:00")) as ctx:
        make_plan(ctx, inspection=INSPECTION, county="康定市", villages=villages, households=households, seed=1,
                  out=WORK / "plan.xlsx", leader=LEADER)
        for name in (LEADER, COORDINATOR):
            set_password(get_user(ctx.session, name), PASSWORD)
        inspection = ctx.session.scalars(select(Inspection).where(Inspection.name == INSPECTION)).one()
        return phone_sample(ctx.session, inspection)


def make_photos(count: int, side: int) -> list[bytes]:
    """Photos shaped like a phone's: `side` pixels wide, 4:3, noisy enough to weigh what one does."""
    photos = []
    for seed in range(count):
        rng = random.Random(seed)
        size = (side, side * 3 // 4)
        image = Image.merge("RGB", [Image.effect_noise(size, 40).point(lambda v, k=k: (v + k) % 256)
                                    for k in (rng.randrange(256) for _ in range(3))])
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            draw.rectangle((x, y, x + size[0] // 3, y + size[1] // 3), fill=tuple(rng.randrange(256) for _ in range(3)))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        photos.append(out.getvalue())
    return photos


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def signed_in(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
    client.headers["X-CSRF-Token"] = client.get("/capture/session").json()["csrf"]
    return client


def workbook_of(records: list[dict]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in COLUMNS])
    for r in records:
        sheet.append([r.get("id") if c.key == "ref" else r.get(c.key) for c in COLUMNS])
    path = WORK / "same-rows.xlsx"
    book.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--villages", type=int, default=10)
    parser.add_argument("--households", type=int, default=8)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--side", type=int, default=2400)
    args = parser.parse_args()

    sample = prepare(args.villages, args.households)
    records = phone_records(sample, seed=7, inspector=LEADER, recorded_at=datetime(2016, 8, 23, 9, 0, tzinfo=SHANGHAI),
                            prefix="MBENCH1", fail_share=1 / 12)
    problems = [r for r in records if r["result"] == "不符合"]
    photos = make_photos(args.photos, args.side)
    megabytes = sum(map(len, photos)) / 1048576
    print(f"sample: {len(records)} checks, {len(problems)} problems, {len(photos)} photos ({megabytes:.0f} MB)")

    # The floor: the same photos checked and kept in this process (a scratch store).
    os.environ["RECTIFY_EVIDENCE_DIR"] = str(WORK / "floor-evidence")
    with unit_of_work(parse_instant(NOW)) as ctx:
        policy = load_policy(ctx.session)
    start = time.perf_counter()
    for n, data in enumerate(photos):
        path = WORK / f"floor-{n}.jpg"
        path.write_bytes(data)
        keep(check_upload(path, policy))
    floor = time.perf_counter() - start
    shutil.rmtree(WORK / "floor-evidence")
    del os.environ["RECTIFY_EVIDENCE_DIR"]

    prefect, api_url, _ = start_prefect_server()
    server, base = start_web(WORK, NOW, PREFECT_API_URL=api_url)
    try:
        phone = signed_in(base, LEADER)
        weight = sum(len(phone.get(path).content) for path in PAGE_FILES)
        print(f"page           {weight / 1024:8.1f} KB for the capture page and its files (goal < 200 KB)")
        print(f"floor          {floor:8.2f} s  photos checked and kept in-process (1.00x floor)")

        start = time.perf_counter()
        shas = []
        for n, data in enumerate(photos):
            answer = phone.post("/capture/photos", files={"photo": (f"现场{n}.jpg", data, "image/jpeg")})
            assert answer.status_code == 200, answer.text
            shas.append(answer.json()["sha256"])
        uploaded = time.perf_counter() - start
        for n, sha in enumerate(shas):
            problems[n % len(problems)]["photos"].append({"sha256": sha, "name": f"现场{n}.jpg",
                                                          "taken_at": "2016-08-23T09:00:00+08:00"})
        body = {"inspection": INSPECTION, "records": records}
        start = time.perf_counter()
        answer = phone.post("/capture/sync", json=body)
        synced = time.perf_counter() - start
        assert answer.status_code == 200, answer.text[:2000]
        created = answer.json()["created"]
        start = time.perf_counter()
        again = phone.post("/capture/sync", json=body)
        repeated = time.perf_counter() - start
        assert again.status_code == 200 and again.json()["created"] == 0, again.text[:2000]
        print(f"photos         {uploaded:8.2f} s  {len(photos)} uploads ({uploaded / floor:.2f}x floor)")
        print(f"sync           {synced:8.2f} s  {len(records)} records, {created} problems "
              f"({synced / floor:.2f}x floor); photos + sync {uploaded + synced:.2f} s (goal < 30 s)")
        print(f"repeat         {repeated:8.2f} s  nothing written twice "
              f"({again.json()['unchanged']} rows already there; {repeated / synced:.2f}x sync)")

        # The same rows as a workbook, through the coordinator's import page, into a fresh inspection.
        for r in records:
            r["id"] = r["id"].replace("MBENCH1", "WBENCH1")
        path = workbook_of(records)
        coordinator = signed_in(base, COORDINATOR)
        token = re.search(r'name="csrf" value="([^"]+)"', coordinator.get("/coordinator/import").text).group(1)
        start = time.perf_counter()
        done = coordinator.post("/coordinator/import", data={"inspection": INSPECTION, "mode": "import",
                                                             "csrf": token},
                                files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
        workbook = time.perf_counter() - start
        assert done.status_code == 200, done.text[-2000:]
        print(f"workbook       {workbook:8.2f} s  the same rows as a workbook from the import page, no photos "
              f"({synced / workbook:.2f}x workbook for the sync)")
        print(f"server peak    {peak_mb(server.pid):8.0f} MB  rectify web over the run (goal < 500 MB)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        stop(prefect)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
