"""End to end in headless Chromium against `rectify web` started on 127.0.0.1: a leader reads the
dashboard, a unit signs for and submits with a photo, a verifier closes it, the dashboard
moves; another unit's problem is a 404; a form without its CSRF token is refused.

Screenshots land in $RECTIFY_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from webworld import DAY0, PASSWORD, PNG, build

from rectify.flows.context import unit_of_work
from rectify.models.issues import Issue

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(url: str, home: Path, as_of: str = "2016-08-23 10:00"):
    """`rectify web` on a free port of 127.0.0.1, as an operator starts it; (process, base URL)."""
    port = free_port()
    env = {**os.environ, "RECTIFY_DATABASE_URL": url, "RECTIFY_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-c", "from flows.cli import app; app()", "web", "--host", "127.0.0.1",
                               "--port", str(port), "--as-of", as_of], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("rectify web did not start: " + server.stdout.read().decode(errors="replace"))
        time.sleep(0.2)


@pytest.fixture(scope="module")
def site(backend, template_url, tmp_path_factory):
    url = backend.copy(template_url)
    world = build(url)
    home = tmp_path_factory.mktemp("web-home")
    server, base = start_web(url, home)
    world.web_home = home  # where the server writes its logs
    yield world, base
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("RECTIFY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def login(browser, base: str, name: str, width: int = 1366, height: int = 768):
    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
    page.goto(base + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()
    return page


def status_of(world, code: str) -> str:
    with unit_of_work(DAY0, url=world.url) as ctx:
        return ctx.session.scalars(select(Issue.status).where(Issue.code == code)).one().value


def test_unit_submits_verifier_closes_and_the_dashboard_moves(site, browser, shots, tmp_path):
    world, base = site
    code = world.codes["assigned"]
    leader = login(browser, base, world.leader)
    leader.goto(base + "/dashboard")
    closed_before = int(leader.text_content("#kpi-closed"))
    assert leader.locator("#ranking").get_by_text(world.county).count() == 1
    leader.screenshot(path=shots / "dashboard-before.png", full_page=True)

    unit = login(browser, base, world.handler)
    assert unit.url.endswith("/workbench")
    unit.click(f"text={code}")
    unit.click("#form-sign button")
    assert "已签收" in unit.text_content(".flash")
    photo = tmp_path / "作战图.png"
    photo.write_bytes(PNG)
    unit.fill("#form-submit textarea[name=measures]", "已制作作战图并上墙公示")
    unit.fill("#form-submit textarea[name=cause]", "作战图未随进度更新")
    unit.set_input_files("#form-submit input.files", str(photo))
    unit.click("#form-submit button")
    assert "已申请销号" in unit.text_content(".flash")
    assert unit.locator(".evidence img").evaluate("img => img.complete && img.naturalWidth") == 8
    unit.screenshot(path=shots / "unit-submitted.png", full_page=True)

    verifier = login(browser, base, world.verifier)
    verifier.goto(base + "/verifier")
    verifier.click(f"#queue >> text={code}")
    verifier.fill("#form-verify textarea[name=note]", "现场核实,作战图已上墙")
    verifier.click("#form-verify button")
    assert "已核验销号" in verifier.text_content(".flash")
    assert status_of(world, code) == "closed"

    leader.reload()
    assert int(leader.text_content("#kpi-closed")) == closed_before + 1
    leader.screenshot(path=shots / "dashboard-after.png", full_page=True)


def test_another_units_problem_is_not_found(site, browser):
    world, base = site
    unit = login(browser, base, world.handler)
    response = unit.goto(base + f"/issues/{world.codes['other']}")
    assert response.status == 404 and "找不到" in unit.text_content("main")
    listed = unit.goto(base + "/issues")
    assert listed.status == 200 and world.codes["other"] not in unit.content()
    # Each request is a line of the access log: time, client, request line, status.
    log = (world.web_home / "logs" / "access.log").read_text(encoding="utf-8")
    assert '127.0.0.1:' in log and f'"GET /issues/{world.codes["other"]} HTTP/1.1" 404' in log


def test_a_form_without_its_csrf_token_is_refused(site, browser):
    world, base = site
    code = world.codes["assigned2"]
    unit = login(browser, base, world.handler)
    unit.goto(base + f"/issues/{code}")
    unit.evaluate("document.querySelector('#form-sign input[name=csrf]').remove()")
    with unit.expect_response(lambda r: r.request.method == "POST") as answer:
        unit.click("#form-sign button")
    assert answer.value.status == 403
    assert "CSRF" in unit.text_content("main")
    assert status_of(world, code) == "assigned"


def test_no_page_is_wider_than_a_phone(site, browser):
    world, base = site
    pages = {world.coordinator: ["/dashboard", "/issues", "/coordinator", f"/issues/{world.codes['assigned']}"],
             world.handler: ["/workbench", f"/issues/{world.codes['assigned']}"], world.verifier: ["/verifier"]}
    for name, paths in pages.items():
        phone = login(browser, base, name, 390, 844)
        for path in paths:
            assert phone.goto(base + path).status == 200
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (name, path, width)


def test_the_list_filter_submits_on_change_under_the_content_security_policy(site, browser):
    world, base = site
    page = login(browser, base, world.coordinator)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(base + "/issues")
    with page.expect_navigation():
        page.select_option("select[name=county]", world.county)
    assert f"county={quote(world.county)}" in page.url or "county=" in page.url
    assert page.locator("select[name=township] option").count() > 1  # the county's townships now listed
    assert refused == []


def test_the_api_docs_show_every_operation_with_the_network_cut(site, browser):
    world, base = site
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    elsewhere: list[str] = []

    def only_this_host(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_host)
    page.goto(base + "/api/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    shown = page.locator(".opblock").count()
    operations = sum(len(ops) for ops in httpx.get(base + "/api/openapi.json").json()["paths"].values())
    assert shown == operations >= 5 and elsewhere == []


def test_on_a_phone_lists_are_cards_and_a_unit_does_its_work_by_tapping(site, browser, shots, tmp_path):
    world, base = site
    code = world.codes["assigned2"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2, locale="zh-CN")
    phone = context.new_page()
    phone.goto(base + "/login")
    phone.fill("#name", world.handler)
    phone.fill("#password", PASSWORD)
    phone.tap("button[type=submit]")
    phone.wait_for_url("**/workbench")
    # A card per problem: the header row hidden, every cell named by its column.
    assert phone.locator("table.cards thead").first.is_hidden()
    card = phone.locator(f"table.cards tr:has(a:text('{code}'))").first
    assert card.locator("td[data-label='整改时限']").is_visible()
    box = card.bounding_box()
    assert box is not None and box["width"] <= 390 and box["height"] > 80
    phone.screenshot(path=shots / "phone-workbench.png", full_page=True)
    with phone.expect_navigation():
        phone.tap(f"text={code}")
    with phone.expect_navigation():
        phone.tap("#form-sign button")
    assert "已签收" in phone.text_content(".flash")
    phone.fill("#form-progress textarea[name=note]", "已联系印刷厂,作战图三日内上墙")
    with phone.expect_navigation():
        phone.tap("#form-progress button")
    assert "进展" in phone.text_content(".flash")
    camera = phone.locator("#form-submit input.camera")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    phone.fill("#form-submit textarea[name=measures]", "作战图已上墙公示")
    phone.fill("#form-submit textarea[name=cause]", "作战图未随进度更新")
    camera.set_input_files(str(photo))
    with phone.expect_navigation():
        phone.tap("#form-submit button")
    assert "已申请销号" in phone.text_content(".flash")
    assert status_of(world, code) == "submitted"
    for button in phone.locator("main button:visible").all():
        assert button.bounding_box()["height"] >= 36  # thumb-sized
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=shots / "phone-submitted.png", full_page=True)


def test_every_page_weighs_under_100_kb_and_asks_no_other_host(site, browser):
    world, base = site
    pages = {world.coordinator: ["/dashboard", "/issues", "/coordinator", "/coordinator/import", "/coordinator/plan",
                                 "/coverage", "/downloads", "/documents", "/deliveries",
                                 f"/issues/{world.codes['assigned']}"],
             world.handler: ["/workbench", f"/issues/{world.codes['assigned']}", "/account/password", "/documents"],
             world.verifier: ["/verifier"], world.leader: ["/dashboard"]}
    for name, paths in pages.items():
        context = login(browser, base, name).context
        for path in paths:
            page, loaded = context.new_page(), []
            page.route("**/*", lambda route: route.continue_())  # routing turns the HTTP cache off: every byte counts
            page.on("requestfinished", lambda request, loaded=loaded: loaded.append(
                (request.url, len(request.response().body()) if request.response() else 0)))
            assert page.goto(base + path).status == 200, (name, path)
            page.wait_for_load_state("networkidle")
            page.close()
            elsewhere = [url for url, _ in loaded if not url.startswith(base)]
            weight = sum(size for _, size in loaded)
            assert not elsewhere and weight < 100_000, (name, path, weight, elsewhere)


AXE = Path(__file__).resolve().parent.parent / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (.ci/browser installs it)")
def test_no_page_has_a_serious_accessibility_violation(site, browser):
    world, base = site
    pages = {world.coordinator: ["/dashboard", "/issues", "/coordinator", "/coordinator/import", "/coordinator/plan",
                                 "/coverage", "/downloads", "/documents", "/deliveries",
                                 f"/issues/{world.codes['assigned']}"],
             world.handler: ["/workbench", f"/issues/{world.codes['assigned']}", "/account/password", "/documents"],
             world.verifier: ["/verifier"]}
    found = []
    for name, paths in pages.items():
        for width, height in ((1366, 768), (390, 844)):
            # The page's own policy would refuse an injected script: the test browser bypasses it.
            context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#name", name)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            for path in [*paths, "/login"]:
                page.goto(base + path)
                page.add_script_tag(path=str(AXE))
                violations = page.evaluate("async () => (await axe.run()).violations.map(v => "
                                           "({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))"
                                           ".slice(0, 3)}))")
                found += [(path, width, v["id"], v["nodes"]) for v in violations
                          if v["impact"] in ("serious", "critical")]
            context.close()
    assert found == [], "\n".join(map(str, found))


def test_screenshots_of_each_roles_pages_on_a_phone(site, browser, shots):
    """Not a check of looks (a person looks at them): each page loads at 390x844, is no wider,
    and is kept as a picture in $RECTIFY_SCREENSHOTS."""
    from rectify.models.accounts import add_user
    from rectify.models.enums import Role

    world, base = site
    with unit_of_work(DAY0, url=world.url) as ctx:
        add_user(ctx.session, "页面管理员", role=Role.ADMIN, password=PASSWORD)
    pages = {world.leader: ["/dashboard", "/documents"],
             world.handler: ["/documents"],
             world.coordinator: ["/coordinator", "/coordinator/import", "/coverage", "/downloads", "/documents",
                                 "/deliveries", "/coordinator/plan", "/recheck"],
             world.verifier: ["/verifier", "/recheck"], "页面管理员": ["/admin/users", "/admin/channels"]}
    for name, paths in pages.items():
        phone = login(browser, base, name, 390, 844)
        for path in paths:
            assert phone.goto(base + path).status == 200, (name, path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390, (name, path)
            phone.screenshot(path=shots / f"phone-{name}-{path.strip('/').replace('/', '-')}.png", full_page=True)
