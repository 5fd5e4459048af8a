"""The pages over HTTP (in process): login and its limits, the session cookie, who sees what,
the list's filters and export, and a stale form."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from samples import ANALYSIS
from webworld import DAY0, PASSWORD, PNG, build

from rectify.flows.context import unit_of_work
from rectify.models.accounts import set_password
from rectify.models.lookup import get_user
from rectify.web.app import create_app


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


@pytest.fixture()
def app(world):
    return create_app(url=world.url, as_of="2016-08-23 10:00")


def browser(app) -> TestClient:
    return TestClient(app)


def csrf(client: TestClient, path: str = "/login") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def login(app, name: str, password: str = PASSWORD) -> TestClient:
    client = browser(app)
    response = client.post("/login", data={"name": name, "password": password, "csrf": csrf(client)})
    assert response.status_code == 200, response.text
    return client


def test_login_sets_a_signed_httponly_samesite_cookie_and_lands_on_the_role_home(app, world):
    client = browser(app)
    response = client.post("/login", data={"name": world.handler, "password": PASSWORD, "csrf": csrf(client)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/workbench"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "rectify_session=" in cookie


def test_login_without_csrf_is_refused(app, world):
    client = browser(app)
    client.get("/login")
    refused = client.post("/login", data={"name": world.handler, "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.text


def test_pages_need_a_login_and_the_right_role(app, world):
    anonymous = browser(app)
    bounced = anonymous.get("/issues?county=色达县", follow_redirects=False)
    assert bounced.status_code == 303 and bounced.headers["location"].startswith("/login?next=/issues")
    unit = login(app, world.handler)
    assert unit.get("/coordinator").status_code == 403
    assert unit.get("/dashboard", follow_redirects=False).headers["location"] == "/workbench"
    assert world.codes["triage"] in login(app, world.coordinator).get("/coordinator").text


def test_a_password_change_ends_the_session(app, world):
    client = login(app, world.leader)
    assert client.get("/dashboard").status_code == 200
    with unit_of_work(DAY0, url=world.url) as ctx:
        set_password(get_user(ctx.session, world.leader), "a-new-password")
    assert "/login" in str(client.get("/dashboard").url)


def test_leaders_see_no_household_and_the_export_follows_the_filter(app, world):
    leader = login(app, world.leader)
    page = leader.get("/issues", params={"county": world.county, "sort": "code"}).text
    assert "<th>户</th>" not in page and world.codes["household"] in page
    coordinator = login(app, world.coordinator)
    assert "<th>户</th>" in coordinator.get("/issues", params={"county": world.county}).text
    export = coordinator.get("/issues.xlsx", params={"county": world.county, "status": "triage"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][5] == "户(建档立卡号)" and [r[0] for r in rows[1:]] == [world.codes["triage"]]
    # Formatted like the ledger: a header that stays and filters, widths, wrapped text, A4 landscape.
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:M2" and sheet["A1"].font.b
    assert sheet.column_dimensions["I"].width == 40 and sheet["I2"].alignment.wrap_text
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    leader_rows = list(load_workbook(io.BytesIO(leader.get("/issues.xlsx").content)).active.iter_rows(values_only=True))
    assert "户(建档立卡号)" not in leader_rows[0] and len(leader_rows) > 5


def test_list_filters_light_overdue_and_paging(app, world):
    client = login(app, world.leader)
    green = client.get("/issues", params={"county": world.county, "light": "green"}).text
    assert world.codes["assigned"] in green
    assert world.codes["assigned"] not in client.get("/issues", params={"county": world.county, "overdue": "1"}).text
    total = int(re.search(r'id="total">(\d+)<', client.get("/issues").text).group(1))
    assert total > 0
    nowhere = client.get("/issues", params={"county": "不存在县"}).text
    assert 'id="total">0<' in nowhere


def test_a_stale_form_says_so_and_changes_nothing(app, world):
    unit = login(app, world.handler)
    code = world.codes["assigned"]
    page = unit.get(f"/issues/{code}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    first = unit.post(f"/issues/{code}/act/sign", data={"csrf": token, "version": version})
    assert "已签收" in first.text
    again = unit.post(f"/issues/{code}/act/progress", data={"csrf": token, "version": version, "note": "进展"})
    assert "已被他人修改" in again.text and "进展" not in again.text.split("处理经过")[1]


def test_a_unit_cannot_fetch_another_units_evidence(app, world):
    owner = TestClient(app)
    with unit_of_work(DAY0, url=world.url) as ctx:
        from rectify.flows import issue_actions as act

        act.sign(ctx, world.codes["other"], actor=world.other_handler)
    other = login(app, world.other_handler)
    page = other.get(f"/issues/{world.codes['other']}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    done = other.post(f"/issues/{world.codes['other']}/act/submit",
                      data={"csrf": token, "version": version, **ANALYSIS, "measures": "已上墙"},
                      files=[("files", ("照片.png", PNG, "image/png"))])
    assert "已申请销号" in done.text
    link = re.search(r'href="(/evidence/\d+/[^"]+)"', done.text).group(1)
    assert other.get(link).content == PNG
    assert login(app, world.handler).get(link).status_code == 404
    assert owner.get(link, follow_redirects=False).status_code == 303


def test_the_coordinator_sees_every_extension_request_however_many_problems_are_open(app, world):
    from datetime import date

    from rectify.flows import issue_actions as act

    with unit_of_work(DAY0, url=world.url) as ctx:
        codes = []
        for i in range(105):
            issue = act.record(ctx, actor="督导员13", county=world.county, item="C01", description=f"批量问题{i}",
                               severity="一般", unit=world.unit)
            act.sign(ctx, issue.code, actor=world.handler)
            codes.append(issue.code)
        # The request is on the problem due last: beyond the first 100 by deadline.
        act.request_extension(ctx, codes[-1], actor=world.handler, until=date(2016, 10, 31), reason="冬季停工")
    page = login(app, world.coordinator).get("/coordinator").text
    assert codes[-1] in page and "2016-10-31" in page


def test_a_county_coordinators_dashboard_is_its_county_and_every_link_on_it_works(app, world):
    """Its cards, its townships, its longest overdue; the prefecture's ranking stands beside
    without links. Asking the list for another county finds nothing, under that county's name."""
    from rectify.flows import issue_actions as act

    with unit_of_work(DAY0, url=world.url) as ctx:  # a problem of another county, long overdue
        other = act.record(ctx, actor="督导员13", county="理塘县", item="C01", description="别县的问题",
                           severity="一般", unit="理塘县")
    client = login(app, world.coordinator)
    board = client.get("/dashboard").text
    assert f"{world.county}整改情况看板" in board and "各乡(镇)排名" in board and "全州各县(市)排名" in board
    assert other.code not in board
    links = set(re.findall(r'href="(/issues[^"]*)"', board.replace("&amp;", "&")))
    assert len(links) >= 10
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert "理塘县" not in link
    listed = client.get("/issues?county=理塘县&counted=1").text
    assert re.search(r'id="total">0<', listed) and other.code not in listed
    own = client.get(f"/issues?county={world.county}&counted=1").text
    assert not re.search(r'id="total">0<', own)
    assert client.get(f"/issues/{other.code}").status_code == 404


def test_every_answer_carries_the_security_headers_and_pages_need_no_inline_script(app, world):
    client = login(app, world.coordinator)
    for path in ("/login", "/dashboard", "/issues", f"/issues/{world.codes['assigned']}", "/coordinator",
                 "/no-such-page"):
        response = client.get(path)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "same-origin", path
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        # The policy allows no inline script or style: the pages carry none.
        assert not re.search(r"<script(?![^>]*\ssrc=)|\son[a-z]+=|\sstyle=", response.text), path
    api = TestClient(app).get("/api/me")
    assert api.status_code == 401 and api.headers["x-content-type-options"] == "nosniff"


def test_hints_and_warnings_name_only_problems_the_viewer_may_open(app, world, tmp_path):
    from rectify.flows import issue_actions as act

    photo = tmp_path / "同一张照片.png"
    photo.write_bytes(PNG)
    with unit_of_work(DAY0, url=world.url) as ctx:
        act.sign(ctx, world.codes["assigned"], actor=world.handler)
        act.submit(ctx, world.codes["assigned"], actor=world.handler, **ANALYSIS, measures="已上墙", evidence=[photo])
        other = act.record(ctx, actor="督导员13", county="理塘县", item="C01", description="别县同图",
                           severity="一般", unit="理塘县")
        act.sign(ctx, other.code, actor="理塘县经办人")
        act.submit(ctx, other.code, actor="理塘县经办人", **ANALYSIS, measures="已上墙", evidence=[photo])
    coordinator = login(app, world.coordinator)
    page = coordinator.get(f"/issues/{world.codes['assigned']}").text
    assert "佐证材料重复" in page and other.code not in page and "权限范围外" in page
    # A hidden code and a missing one answer alike, and the hint offers only the viewer's own.
    def offered(response) -> set[str]:
        assert response.status_code == 404
        hint = re.search(r"您是不是要找:([^<]*)", response.text)
        return set(re.findall(r"GZ-\d{4}-\d{5}", hint.group(1))) if hint else set()

    hidden, missing = coordinator.get(f"/issues/{other.code}"), coordinator.get("/issues/GZ-2016-99999")
    assert hidden.text.replace(other.code, "X").count("找不到问题编号") == 1 and "不在其范围" not in hidden.text
    assert other.code not in offered(hidden) | offered(missing)
    assert offered(hidden) <= set(world.codes.values())
    unit = login(app, world.handler)  # the unit's own codes only: not the other unit's
    assert world.codes["other"] not in offered(unit.get("/issues/" + world.codes["other"][:-1] + "9"))


def test_a_cookie_kept_from_before_logout_or_past_its_hours_lets_nobody_in(app, world):
    from sqlalchemy import update

    from rectify.models.accounts import WebSession

    client = login(app, world.coordinator)
    kept = dict(client.cookies)
    assert client.get("/coordinator").status_code == 200
    assert client.post("/logout", data={"csrf": csrf(client, "/coordinator")}).status_code in (200, 303)
    thief = browser(app)
    thief.cookies.update(kept)
    for path in ("/coordinator", "/issues.xlsx"):
        answer = thief.get(path, follow_redirects=False)
        assert answer.status_code == 303 and "/login" in answer.headers["location"], path
    # A session ends by itself after its hours, on the real clock (the app runs as of 2016).
    again = login(app, world.coordinator)
    with unit_of_work(DAY0, url=world.url) as ctx:
        ctx.session.execute(update(WebSession).values(expires_at=WebSession.created_at))
    assert again.get("/coordinator", follow_redirects=False).status_code == 303


def test_every_user_changes_their_own_password_and_their_other_sessions_end(app, world):
    mine, elsewhere = login(app, world.handler), login(app, world.handler)
    page = "/account/password"
    assert "修改我的密码" in mine.get(page).text and 'href="/account/password"' in mine.get("/workbench").text

    def change(current: str, new: str, again: str | None = None):
        return mine.post(page, data={"csrf": csrf(mine, page), "current": current, "new": new,
                                     "again": new if again is None else again})

    assert "当前密码不正确" in change("wrong-password", "brand-new-pass").text
    assert "两次输入的新密码不一致" in change(PASSWORD, "brand-new-pass", "brand-new-pas5").text
    assert "至少 8 个字符" in change(PASSWORD, "short", "short").text
    done = change(PASSWORD, "brand-new-pass")
    assert done.status_code == 200 and "密码已修改" in done.text and "/workbench" in str(done.url)
    assert "/login" in str(elsewhere.get("/workbench").url)  # the other browser is logged out
    assert mine.get("/workbench").status_code == 200  # this one keeps working, on a fresh session
    stranger = browser(app)
    refused = stranger.post("/login", data={"name": world.handler, "password": PASSWORD, "csrf": csrf(stranger)})
    assert refused.status_code == 401
    login(app, world.handler, "brand-new-pass")


def test_an_administrator_manages_users_in_the_browser(app, world):
    from rectify.models.accounts import real_now, record_attempt
    from rectify.models.throttle import login_wait

    with unit_of_work(DAY0, url=world.url) as ctx:
        from rectify.models.accounts import add_user
        from rectify.models.enums import Role

        add_user(ctx.session, "系统管理员", role=Role.ADMIN, password=PASSWORD)
        for _ in range(7):
            record_attempt(ctx.session, world.verifier, address="203.0.113.5", now=real_now(), ok=False)
    admin = login(app, "系统管理员")
    page = "/admin/users"
    assert "用户管理" in admin.get(page).text
    assert login(app, world.coordinator).get(page).status_code == 403

    def post(path: str, **data):
        return admin.post(path, data={"csrf": csrf(admin, page), **data})

    added = post(page, name="新经办人", role="unit", unit=world.unit, password="first-pass-1")
    assert "已添加用户 新经办人" in added.text
    assert "必须指明所在单位" in post(page, name="无单位", role="unit", password="first-pass-1").text
    assert "已存在" in post(page, name="新经办人", role="unit", unit=world.unit).text
    login(app, "新经办人", "first-pass-1")
    other = login(app, "新经办人", "first-pass-1")
    assert "结束其登录会话 2 个" in post(f"{page}/新经办人/password", password="second-pass-2").text
    assert "/login" in str(other.get("/workbench").url)
    login(app, "新经办人", "second-pass-2")
    assert "清除失败记录 7 条" in post(f"{page}/{world.verifier}/unlock").text
    with unit_of_work(DAY0, url=world.url) as ctx:
        assert login_wait(ctx.session, world.verifier, "203.0.113.5", now=real_now()) is None
    assert "会话与令牌已全部结束" in post(f"{page}/{world.handler}/deactivate").text
    api = browser(app).get("/api/me", headers={"Authorization": f"Bearer {world.tokens[world.handler]}"})
    assert api.status_code == 401
    assert "不能停用自己的账号" in post(f"{page}/系统管理员/deactivate").text
    assert "已启用" in post(f"{page}/{world.handler}/activate").text
    login(app, world.handler)
    saved = post(f"{page}/{world.handler}/phone", phone="+86 139-0000-5678").text
    assert "139****5678" in saved and "13900005678" not in saved
    assert "11 位" in post(f"{page}/{world.handler}/phone", phone="12345").text
    with unit_of_work(DAY0, url=world.url) as ctx:
        from rectify.models.lookup import get_user

        assert get_user(ctx.session, world.handler).phone == "13900005678"


def test_an_administrator_adds_tests_and_removes_a_units_channel(app, world):
    from standins import Robots

    from rectify.models.accounts import add_user
    from rectify.models.enums import Role

    with unit_of_work(DAY0, url=world.url) as ctx:
        add_user(ctx.session, "渠道管理员", role=Role.ADMIN, password=PASSWORD)
    admin = login(app, "渠道管理员")
    page = "/admin/channels"
    token, secret = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "SEC-web-000000000000"
    with Robots() as robots:
        robots.secrets[token] = secret
        url = f"rdingtalk://{token}/{secret}?api={robots.api}"
        added = admin.post(page, data={"csrf": csrf(admin, page), "owner_kind": "unit", "owner": world.unit,
                                       "url": url, "priority": 1})
        assert f"已为 {world.unit} 添加" in added.text
        assert token not in added.text and secret not in added.text  # shown masked, never whole
        channel = re.search(r'action="/admin/channels/(\d+)/test"', added.text).group(1)
        tested = admin.post(f"{page}/{channel}/test", data={"csrf": csrf(admin, page)})
        assert "测试消息已送达" in tested.text
        assert "测试消息" in robots.of("dingtalk")[0]["body"]["markdown"]["text"]
        wrong = admin.post(page, data={"csrf": csrf(admin, page), "owner_kind": "unit", "owner": world.unit,
                                       "url": "wecom://abc"})
        assert "rwecombot://" in wrong.text
        removed = admin.post(f"{page}/{channel}/remove", data={"csrf": csrf(admin, page)})
        assert f"已删除渠道 #{channel}" in removed.text and f'/admin/channels/{channel}/test' not in removed.text
    assert login(app, world.coordinator).get(page).status_code == 403
