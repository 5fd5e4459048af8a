"""The capture page's calls (issue 20), through the web app against a real database: the sample,
photos, a sync through the `import-findings` flow (all or nothing, each error against its
record, a repeat writing nothing twice), the 整改前 photos kept with the problem, and the three
photo warnings, each on a crafted case and quiet on a clean one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from photos import jpeg, recompressed
from samples import ANALYSIS
from sqlalchemy import func, select
from test_web_pages import login
from webworld import DAY0, PASSWORD, build

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.flows.intake.plan import make_plan
from rectify.models.accounts import set_password
from rectify.models.calendar import SHANGHAI
from rectify.models.inspections import Finding
from rectify.models.issues import Evidence, Issue
from rectify.models.lookup import get_user
from rectify.models.photos import distance_km
from rectify.models.suspicion import suspicions
from rectify.web.app import create_app

INSPECTION = "色达县手机督导"
LEADER = "督导组长14"
NOW = "2016-08-23 10:00"
RECORDED = datetime(2016, 8, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture()
def world(fresh_db, tmp_path):
    world = build(fresh_db)
    with unit_of_work(DAY0, url=fresh_db) as ctx:
        make_plan(ctx, inspection=INSPECTION, county="色达县", villages=2, households=2, seed=5,
                  out=tmp_path / "plan.xlsx", leader=LEADER)
        for name in (LEADER, "督导员13"):
            set_password(get_user(ctx.session, name), PASSWORD)
    return world


@pytest.fixture()
def app(world, prefect_harness):
    return create_app(url=world.url, as_of=NOW)


@pytest.fixture()
def phone(app):
    client = login(app, LEADER)
    client.headers["X-CSRF-Token"] = client.get("/capture/session").json()["csrf"]
    return client


def sample_of(phone) -> dict:
    answer = phone.get("/capture/sample", params={"inspection": INSPECTION})
    assert answer.status_code == 200, answer.text
    return answer.json()


def record(sample: dict, number: int, *, item: str = "V10", result: str = "不符合", village: int = 0,
           photos: list[dict] | None = None, **fields) -> dict:
    place = sample["villages"][village]
    row = {"id": f"MTEST01-{number:04d}", "county": place["county"], "township": place["township"],
           "village": place["village"], "item": item, "result": result, "team": sample["team"],
           "inspector": LEADER, "checked_on": "2016-08-23", "captured_at": RECORDED.isoformat(),
           "position": {"latitude": place["latitude"], "longitude": place["longitude"]}, "photos": photos or []}
    if result != "符合":
        row["description"] = f"第 {number} 条:作战图未上墙"
    if result == "不符合":
        row["severity"] = "较重"
    return {**row, **fields}


def upload(phone, data: bytes, name: str = "photo.jpg") -> dict:
    answer = phone.post("/capture/photos", files={"photo": (name, data, "image/jpeg")})
    assert answer.status_code == 200, answer.text
    return {"sha256": answer.json()["sha256"], "name": name, "taken_at": RECORDED.isoformat()}


def sync(phone, records: list[dict]):
    return phone.post("/capture/sync", json={"inspection": INSPECTION, "records": records})


def count(world, model, *where) -> int:
    with unit_of_work(DAY0, url=world.url) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_sample_is_the_plans_places_and_items_with_village_positions(phone):
    sample = sample_of(phone)
    assert sample["inspection"] == INSPECTION and sample["leader"] == LEADER
    assert len(sample["villages"]) == 2 and all(len(v["households"]) == 2 for v in sample["villages"])
    assert {i["level"] for i in sample["items"]} == {"county", "village", "household"}
    # The synthetic registry places each village within 40 km of 色达县's seat.
    assert all(distance_km(v["latitude"], v["longitude"], 32.27, 100.33) < 60 for v in sample["villages"])


def test_a_sync_writes_every_record_once_with_its_photos_as_before_pictures(phone, world):
    sample = sample_of(phone)
    photo = upload(phone, jpeg(1, taken=RECORDED.replace(tzinfo=None)), "墙上无作战图.jpg")
    records = [record(sample, 1, photos=[photo]), record(sample, 2, result="符合", item="V11"),
               record(sample, 3, result="典型经验", item="V12")]
    first = sync(phone, records)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["created"] == 1 and body["unchanged"] == 0
    code = body["records"]["MTEST01-0001"]["code"]
    assert code and all(r["synced"] for r in body["records"].values())
    # The same batch again (the answer was lost on the way back): nothing twice.
    again = sync(phone, records)
    assert again.status_code == 200 and again.json()["created"] == 0 and again.json()["unchanged"] == 3
    assert again.json()["records"]["MTEST01-0001"]["code"] == code
    assert count(world, Finding, Finding.row_key.like("ref:MTEST01-%")) == 3
    with unit_of_work(DAY0, url=world.url) as ctx:
        issue = ctx.session.scalars(select(Issue).where(Issue.code == code)).one()
        [kept] = issue.evidence
        assert kept.event.action == "record" and kept.name == "墙上无作战图.jpg" and kept.phash
        assert kept.taken_at == RECORDED and kept.latitude == pytest.approx(sample["villages"][0]["latitude"], abs=1e-3)
        finding = ctx.session.scalars(select(Finding).where(Finding.issue_id == issue.id)).one()
        assert finding.captured_at == RECORDED and finding.latitude is not None


def test_one_bad_record_writes_nothing_and_names_the_record_and_field(phone, world):
    sample = sample_of(phone)
    good = record(sample, 1)
    bad = record(sample, 2, unit="不存在的单位", deadline="2016-08-01")
    answer = sync(phone, [good, bad])
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {(e["record"], e["field"]) for e in errors} == {("MTEST01-0002", "unit"), ("MTEST01-0002", "deadline")}
    assert next(e for e in errors if e["field"] == "unit")["label"] == "责任单位"
    assert count(world, Finding, Finding.row_key.like("ref:MTEST01-%")) == 0
    # Corrected on the phone and synced again: both written.
    fixed = sync(phone, [good, {**bad, "unit": "", "deadline": ""}])
    assert fixed.status_code == 200 and fixed.json()["created"] == 2


def test_a_photo_not_uploaded_or_not_a_photo_is_refused_against_its_record(phone, world):
    sample = sample_of(phone)
    missing = {"sha256": "0" * 64, "name": "丢失.jpg"}
    answer = sync(phone, [record(sample, 1, photos=[missing])])
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "photos" and "尚未上传" in error["message"] and error["record"] == "MTEST01-0001"
    page = phone.post("/capture/photos", files={"photo": ("x.jpg", b"<html>not a photo</html>", "image/jpeg")})
    assert page.status_code == 400 and "x.jpg" in page.json()["error"]
    assert count(world, Evidence) == 0


@pytest.mark.parametrize("body, status", [(b"not json", 400), (b'{"inspection": "' + INSPECTION.encode() + b'"}', 400),
                                          (b'{"inspection": "no such", "records": []}', 400),
                                          (b'{"inspection": "' + INSPECTION.encode() + b'", "records": [1, 2]}', 409)])
def test_a_malformed_sync_is_refused_in_words(phone, body, status):
    answer = phone.post("/capture/sync", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and answer.json()["error"]


def test_the_calls_need_a_recorder_signed_in_and_the_csrf_token(app, phone, world):
    anonymous = login(app, world.handler)  # a unit's user may not record
    assert anonymous.get("/capture/session").status_code == 401
    assert anonymous.get("/capture/sample", params={"inspection": INSPECTION}).status_code == 401
    phone.headers.pop("X-CSRF-Token")
    assert phone.post("/capture/photos", files={"photo": ("a.jpg", jpeg(2), "image/jpeg")}).status_code == 403
    assert sync(phone, []).status_code == 403
    # The page itself opens for anyone (it must open offline from the worker's cache).
    stranger = TestClient(app)
    page = stranger.get("/capture")
    assert page.status_code == 200 and "手机采集" in page.text and stranger.get("/capture/session").status_code == 401
    worker = stranger.get("/capture/sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")


def _recorded_problem(phone, world, number: int, photo_bytes: bytes, *, village: int = 0, taken=RECORDED) -> str:
    sample = sample_of(phone)
    photo = upload(phone, photo_bytes, f"整改前{number}.jpg")
    photo["taken_at"] = taken.isoformat()
    answer = sync(phone, [record(sample, number, village=village, photos=[photo])])
    assert answer.status_code == 200, answer.text
    return answer.json()["records"][f"MTEST01-{number:04d}"]["code"]


def _submit(world, code: str, photo: bytes, name: str = "整改后.jpg", tmp=None) -> list:
    path = tmp / name
    path.write_bytes(photo)
    when = datetime(2016, 8, 26, 10, 0, tzinfo=SHANGHAI)
    with unit_of_work(when, url=world.url) as ctx:
        issue = ctx.session.scalars(select(Issue).where(Issue.code == code)).one()
        handler = f"{issue.unit.name}经办人"
        act.sign(ctx, code, actor=handler)
        act.submit(ctx, code, actor=handler, measures=f"已整改 {code}", evidence=[path], **ANALYSIS)
    with unit_of_work(when, url=world.url) as ctx:
        issue = ctx.session.scalars(select(Issue).where(Issue.code == code)).one()
        return [(w.kind, w.other) for w in suspicions(ctx.session, issue, ctx.policy)]


def test_the_photo_warnings_fire_on_crafted_cases_and_stay_quiet_on_clean_ones(phone, world, tmp_path):
    sample = sample_of(phone)
    village = sample["villages"][0]
    here = (village["latitude"], village["longitude"])
    before = jpeg(10, taken=RECORDED.replace(tzinfo=None), at=here)
    clean = _recorded_problem(phone, world, 1, before)
    # A 整改后 photo taken on the day of the work, at the village: nothing to say.
    assert _submit(world, clean, jpeg(11, taken=datetime(2016, 8, 25, 15, 0), at=here), tmp=tmp_path) == []

    # Taken a year before the problem was even assigned, 80 km away, and the other problem's
    # 整改前 photo shrunk and recompressed by a chat app: all three say so.
    other = _recorded_problem(phone, world, 2, jpeg(20, taken=RECORDED.replace(tzinfo=None), at=here))
    far = (here[0] + 0.72, here[1])
    old = jpeg(0, taken=datetime(2015, 8, 1, 12, 0), at=far)
    kinds = _submit(world, other, old, tmp=tmp_path)
    assert {k for k, _ in kinds} == {"photo_time", "photo_place"}
    copied = _recorded_problem(phone, world, 3, jpeg(30, taken=RECORDED.replace(tzinfo=None), at=here))
    warned = _submit(world, copied, recompressed(before), name="整改后-转发.jpg", tmp=tmp_path)
    assert ("similar_photo", clean) in warned

    # A 整改前 photo from the gallery, taken a week before the record says: photo_time.
    stale = _recorded_problem(phone, world, 4, jpeg(40, taken=(RECORDED - timedelta(days=7)).replace(tzinfo=None),
                                                   at=here))
    assert ("photo_time", None) in _submit(world, stale, jpeg(41, taken=datetime(2016, 8, 25, 9, 0), at=here),
                                            tmp=tmp_path)

    # The unit sends the problem's own 整改前 photo back as its 整改后 one.
    same = _recorded_problem(phone, world, 5, jpeg(50, taken=RECORDED.replace(tzinfo=None), at=here))
    with unit_of_work(DAY0, url=world.url) as ctx:
        blob = ctx.session.scalars(select(Evidence).join(Issue).where(Issue.code == same)).one()
        from rectify.flows.evidence_store import blob_path

        own = blob_path(blob.sha256).read_bytes()
    assert ("similar_photo", None) in _submit(world, same, recompressed(own, scale=0.8), tmp=tmp_path)


def test_the_verifier_sees_before_beside_after_on_the_page_and_in_the_dossier(app, phone, world, tmp_path):
    import io
    import re

    from openpyxl import load_workbook

    here = (sample_of(phone)["villages"][0]["latitude"], sample_of(phone)["villages"][0]["longitude"])
    code = _recorded_problem(phone, world, 1, jpeg(60, taken=RECORDED.replace(tzinfo=None), at=here))
    assert _submit(world, code, jpeg(61, taken=datetime(2016, 8, 25, 15, 0), at=here), tmp=tmp_path) == []
    verifier = login(app, world.verifier)
    page = verifier.get(f"/issues/{code}").text
    sides = re.findall(r'<div class="side"><h3>([^<]+)</h3>(.*?)</div>\s*(?=<div class="side">|</div>)', page, re.S)
    assert [title for title, _ in sides] == ["整改前(检查时拍摄)", "整改后(责任单位提交)"]
    assert "整改前1.jpg" in sides[0][1] and "<img" in sides[0][1] and "拍摄于 2016-08-23 09:00" in sides[0][1]
    assert "整改后.jpg" in sides[1][1] and "拍摄于 2016-08-25 15:00" in sides[1][1] and "距" in sides[1][1]
    dossier = verifier.get(f"/issues/{code}/dossier.xlsx")
    assert dossier.status_code == 200
    book = load_workbook(io.BytesIO(dossier.content))
    pairs = book["整改前后对照"]
    assert [c.value for c in pairs[1]] == ["整改前(检查时拍摄)", "整改后(责任单位提交)"]
    assert pairs["A2"].value.startswith("整改前1.jpg") and pairs["B2"].value.startswith("整改后.jpg")
    assert len(pairs._images) == 2
    listed = {row[3]: row[2] for row in book["佐证材料"].iter_rows(min_row=2, values_only=True)}
    assert listed == {"整改前1.jpg": "整改前", "整改后.jpg": "整改后"}


def test_a_plain_or_tiny_picture_gets_no_hash_so_two_of_them_are_not_called_copies():
    import io

    from PIL import Image

    from rectify.models.photos import facts_of, hash_distance

    plain = Image.new("RGB", (640, 480), (200, 200, 200))
    tiny = Image.open(io.BytesIO(jpeg(3, size=(24, 24))))
    assert facts_of(plain).phash is None and facts_of(tiny).phash is None
    photo = facts_of(Image.open(io.BytesIO(jpeg(3)))).phash
    copy = facts_of(Image.open(io.BytesIO(recompressed(jpeg(3))))).phash
    other = facts_of(Image.open(io.BytesIO(jpeg(4)))).phash
    assert photo and copy and other
    assert hash_distance(photo, copy) <= 6 < hash_distance(photo, other)
