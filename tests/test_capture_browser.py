"""The capture page in headless Chromium at a phone's size (issue 20): load the sample online, go
offline (the context's offline switch), reopen the page from the service worker, record rows
with photos at an emulated position, come back online and sync; a bad row is refused with
nothing written, corrected on the phone and synced; a sync cut off half-way (photos, then the
answer) and repeated writes everything once."""

from __future__ import annotations

import pytest
from photos import jpeg
from sqlalchemy import func, select
from test_web_browser import CHROMIUM, FLAGS, start_web  # noqa: F401  (CHROMIUM: the skip below)
from webworld import DAY0, PASSWORD, build

from rectify.flows.context import unit_of_work
from rectify.flows.intake.plan import make_plan
from rectify.models.accounts import set_password
from rectify.models.inspections import Finding
from rectify.models.issues import Evidence, Issue
from rectify.models.lookup import get_user

pytestmark = [pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (.ci/run installs it)")]
INSPECTION = "色达县手机督导"
LEADER = "督导组长14"
PAGE_LIMIT = 200 * 1024


@pytest.fixture(scope="module")
def field(backend, template_url, tmp_path_factory):
    url = backend.copy(template_url)
    build(url)
    with unit_of_work(DAY0, url=url) as ctx:
        plan = make_plan(ctx, inspection=INSPECTION, county="色达县", villages=2, households=2, seed=5,
                         out=tmp_path_factory.mktemp("plan") / "plan.xlsx", leader=LEADER)
        set_password(get_user(ctx.session, LEADER), PASSWORD)
        village = plan.samples[0].villages[0]
        where = {"latitude": village.latitude, "longitude": village.longitude}
        village_id = village.id
    server, base = start_web(url, tmp_path_factory.mktemp("capture-home"))
    yield url, base, where, village_id
    server.terminate()
    server.wait(timeout=10)


def written(url: str) -> tuple[int, int, int]:
    """Rows, problems and photos the phone's records made."""
    with unit_of_work(DAY0, url=url) as ctx:
        s = ctx.session
        rows = s.scalar(select(func.count()).select_from(Finding).where(Finding.row_key.like("ref:M%")))
        issues = s.scalar(select(func.count()).select_from(Issue).where(Issue.external_ref.like("M%")))
        photos = s.scalar(select(func.count()).select_from(Evidence).join(Issue)
                          .where(Issue.external_ref.like("M%")))
        return rows, issues, photos


def record(page, *, result: str, description: str = "", unit: str = "", photos: int = 0, item: int = 0) -> None:
    page.select_option("select[name=check]", index=item)
    page.check(f"input[name=result][value={result}]")
    if description:
        page.fill("textarea[name=description]", description)
    if unit:
        page.fill("input[name=unit]", unit)
    if photos:
        page.set_input_files("input[name=photos]", [
            {"name": f"现场{n}.jpg", "mimeType": "image/jpeg", "buffer": jpeg(100 + n + item * 10)}
            for n in range(photos)])
    page.click("#save")
    page.wait_for_selector("#notice:has-text('已保存')")


def test_record_offline_with_photos_and_sync_once_through_cuts_and_a_bad_row(field, tmp_path):
    from playwright.sync_api import sync_playwright

    url, base, where, village_id = field
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True,
                                       is_mobile=True, geolocation=where, permissions=["geolocation"])
        page = context.new_page()
        page.goto(base + "/login?next=/capture")
        page.fill("#name", LEADER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/capture")
        weight = []
        page.on("response", lambda r: weight.append(len(r.body())) if r.request.resource_type != "fetch" else None)
        page.reload()
        page.wait_for_selector(f"#inspection option[value='{INSPECTION}']", state="attached")
        page.select_option("#inspection", INSPECTION)
        page.click("#load-sample")
        page.wait_for_selector("#notice:has-text('已载入')")
        assert sum(weight) < PAGE_LIMIT, f"the capture page weighs {sum(weight)} bytes"
        page.wait_for_function("navigator.serviceWorker.controller !== null || "
                               "navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))", timeout=20000)

        # No signal: the page opens from the worker's cache, the sample from the phone.
        context.set_offline(True)
        reopened = page.reload()
        assert reopened.from_service_worker
        page.wait_for_selector("#net:has-text('离线')")
        assert "2 个村" in page.text_content("#sample-info")
        record(page, result="不符合", description="作战图未上墙", photos=2)
        record(page, result="符合", item=1)
        record(page, result="不符合", description="帮扶手册未填写", unit="不存在的帮扶单位", item=2)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "capture-offline.png"), full_page=True)
        page.click("#sync")
        page.wait_for_selector("#notice:has-text('现在离线')")
        assert written(url) == (0, 0, 0)

        # Back online, cut off after the first photo: nothing written.
        context.set_offline(False)
        uploads = []

        def one_photo_then_cut(route):
            if uploads:
                return route.abort()
            uploads.append(route.fetch())
            return route.fulfill(response=uploads[-1])

        page.route("**/capture/photos", one_photo_then_cut)
        page.click("#sync")
        page.wait_for_selector("#notice:has-text('同步中断')")
        assert written(url) == (0, 0, 0)
        page.unroute("**/capture/photos")

        # The bad row stops the whole sync and is shown against its record.
        page.click("#sync")
        page.wait_for_selector("#notice:has-text('需要修改')")
        assert written(url) == (0, 0, 0)
        bad = page.locator("#list li.error")
        assert bad.count() == 1 and "责任单位" in bad.text_content() and "不存在的帮扶单位" in bad.text_content()
        bad.locator("button[data-edit]").click()
        page.wait_for_selector("input[name=unit].field-error")  # the field to correct is marked
        assert page.input_value("input[name=unit]") == "不存在的帮扶单位"
        page.fill("input[name=unit]", "")
        page.click("#save")
        page.wait_for_selector("#notice:has-text('已修改')")

        # Cut off after the server wrote but before the phone heard: the rows are there, and
        # the phone, which still has them to send, sends them again.
        def answer_lost(route):
            route.fetch()
            route.abort()

        page.route("**/capture/sync", answer_lost)
        page.click("#sync")
        page.wait_for_selector("#notice:has-text('同步中断')")
        assert written(url) == (3, 2, 2)
        assert page.locator("#list li.synced").count() == 0
        page.unroute("**/capture/sync")

        page.click("#sync")
        page.wait_for_selector("#notice:has-text('同步完成')")
        assert "新建问题 0 个,此前已同步 3 条" in page.text_content("#notice")
        assert page.locator("#list li.synced").count() == 3
        assert written(url) == (3, 2, 2)
        codes = page.locator("#list li.synced").all_text_contents()
        assert sum("已同步 GZ-" in c for c in codes) == 2
        page.screenshot(path=str(tmp_path / "capture-synced.png"), full_page=True)
        chromium.close()
    with unit_of_work(DAY0, url=url) as ctx:
        village_ids = ctx.session.scalars(select(Finding.village_id).where(Finding.row_key.like("ref:M%"))).all()
        positions = ctx.session.scalars(select(Finding.latitude).where(Finding.row_key.like("ref:M%"))).all()
        assert positions == [pytest.approx(where["latitude"])] * 3
        assert village_ids == [village_id] * 3  # the first village of the sample, the page's first choice
        stamps = ctx.session.scalars(select(Evidence.taken_at).join(Issue).where(Issue.external_ref.like("M%"))).all()
        # The photos' times are the phone's, set to the server's clock (2016 in this world).
        assert len(stamps) == 2 and all(s.year == 2016 for s in stamps)
