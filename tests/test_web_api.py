"""The JSON API: token auth, every step and its refusals, visibility, figures, and a fuzzed schema."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from samples import ANALYSIS
from sqlalchemy import func, select
from webworld import DAY0, PNG, build

from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.figures import figures
from rectify.models.issues import Evidence
from rectify.web.app import create_app

AS_OF = "2016-08-23 10:00"


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


@pytest.fixture()
def client(world):
    with TestClient(create_app(url=world.url, as_of=AS_OF)) as c:
        yield c


def call(client, world, who: str, method: str, path: str, **kw):
    return client.request(method, "/api" + path, headers={"Authorization": f"Bearer {world.tokens[who]}"}, **kw)


def test_no_or_bad_token_is_401(client, world):
    assert client.get("/api/me").status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer rt_nope"})
    assert bad.status_code == 401 and "令牌" in bad.json()["error"]
    me = call(client, world, world.handler, "GET", "/me").json()
    assert me == {"name": world.handler, "role": "unit", "role_label": "责任单位经办人", "unit": world.unit}


def test_a_unit_lists_and_reads_only_its_own_problems(client, world):
    mine = call(client, world, world.handler, "GET", "/issues").json()
    assert {i["code"] for i in mine["items"]} == {world.codes[k] for k in ("assigned", "assigned2", "household")}
    assert mine["total"] == 3 and all(i["unit"] == world.unit for i in mine["items"])
    other = call(client, world, world.handler, "GET", f"/issues/{world.codes['other']}")
    assert other.status_code == 404 and world.codes["other"] in other.json()["error"]
    step = call(client, world, world.handler, "POST", f"/issues/{world.codes['other']}/sign")
    assert step.status_code == 404
    everything = call(client, world, world.leader, "GET", "/issues", params={"page_size": 500}).json()
    assert {world.codes["other"], world.codes["triage"]} <= {i["code"] for i in everything["items"]}


def test_households_are_hidden_from_leaders(client, world):
    code = world.codes["household"]
    seen = call(client, world, world.coordinator, "GET", f"/issues/{code}").json()
    assert seen["household"] and seen["household_head"].endswith("*")
    hidden = call(client, world, world.leader, "GET", f"/issues/{code}").json()
    assert hidden["household"] is None and hidden["household_head"] is None
    listed = call(client, world, world.leader, "GET", "/issues", params={"page_size": 500}).json()["items"]
    assert all(i["household"] is None for i in listed)


def test_the_whole_path_through_the_api(client, world):
    code = world.codes["assigned"]
    for who, step, data in [
        (world.handler, "sign", {}),
        (world.handler, "progress", {"note": "已制作作战图"}),
        (world.handler, "extend", {"until": "2016-09-30", "reason": "等待印刷"}),
        (world.coordinator, "approve_extension", {"note": "同意"}),
    ]:
        response = call(client, world, who, "POST", f"/issues/{code}/{step}", data=data)
        assert response.status_code == 200, response.text
    done = call(client, world, world.handler, "POST", f"/issues/{code}/submit",
                data={**ANALYSIS, "measures": "作战图已上墙"}, files=[("files", ("作战图.png", PNG, "image/png"))])
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    detail = call(client, world, world.verifier, "GET", f"/issues/{code}").json()
    assert detail["events"][-1]["evidence"][0]["name"] == "作战图.png" and "warnings" in detail
    returned = call(client, world, world.verifier, "POST", f"/issues/{code}/return", data={"reason": "看不清"})
    assert returned.json()["status"] == "rectifying"
    call(client, world, world.handler, "POST", f"/issues/{code}/submit", data={**ANALYSIS, "measures": "重新拍照"},
         files=[("files", ("清晰.png", PNG + b"2", "image/png"))])
    closed = call(client, world, world.verifier, "POST", f"/issues/{code}/verify", data={"note": "属实"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_coordinator_steps_assign_void_escalate_and_deny(client, world):
    triage = world.codes["triage"]
    assigned = call(client, world, world.coordinator, "POST", f"/issues/{triage}/assign",
                    data={"unit": world.unit, "deadline": "2016-09-09"})
    assert assigned.status_code == 200 and assigned.json()["deadline"] == "2016-09-09"
    raised = call(client, world, world.coordinator, "POST", f"/issues/{triage}/escalate", data={"level": "黄牌"})
    assert raised.json()["supervision_level"] == "yellow"
    code = world.codes["assigned2"]
    call(client, world, world.handler, "POST", f"/issues/{code}/sign")
    # The pages read dates as the CLI and the workbooks do (2016/9/30, 2016年9月30日, 2016-09-30).
    call(client, world, world.handler, "POST", f"/issues/{code}/extend", data={"until": "2016/9/30", "reason": "雨季"})
    denied = call(client, world, world.coordinator, "POST", f"/issues/{code}/deny_extension", data={"reason": "不充分"})
    assert denied.status_code == 200 and denied.json()["extension_requested_until"] is None
    back = call(client, world, world.handler, "POST", f"/issues/{code}/send_back", data={"reason": "不归本单位"})
    assert back.json()["status"] == "triage"
    voided = call(client, world, world.coordinator, "POST", f"/issues/{code}/void", data={"reason": "重复"})
    assert voided.json()["status"] == "void"


@pytest.mark.parametrize(("who", "step", "data", "status", "words"), [
    ("coordinator", "sign", {}, 403, "无权"),                      # wrong role
    ("verifier", "sign", {}, 403, "无权"),                         # only the unit signs
    ("verifier", "verify", {"note": "x"}, 409, "已交办"),           # wrong state
    ("handler", "extend", {"until": "明天", "reason": "x"}, 400, "不是可识别的日期"),
    ("handler", "extend", {"until": "9月30日", "reason": "x"}, 400, "须写明年份"),
    ("handler", "fly", {}, 422, "step"),                           # no such step
    ("coordinator", "escalate", {"level": "紫牌"}, 400, "督办级别"),
    ("coordinator", "assign", {"unit": "不存在的局"}, 404, "不存在的局"),
])
def test_each_refusal_is_a_clear_error(client, world, who, step, data, status, words):
    user = {"coordinator": world.coordinator, "handler": world.handler, "verifier": world.verifier}[who]
    response = call(client, world, user, "POST", f"/issues/{world.codes['assigned']}/{step}", data=data)
    assert response.status_code == status
    assert words in response.text


def test_stale_version_is_a_conflict_and_changes_nothing(client, world):
    code = world.codes["assigned"]
    version = call(client, world, world.handler, "GET", f"/issues/{code}").json()["version"]
    call(client, world, world.handler, "POST", f"/issues/{code}/sign", data={"expected_version": version})
    stale = call(client, world, world.handler, "POST", f"/issues/{code}/progress",
                 data={"note": "x", "expected_version": version})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["error"]


def test_a_disallowed_upload_stores_nothing(client, world):
    code = world.codes["assigned"]
    call(client, world, world.handler, "POST", f"/issues/{code}/sign")
    bare = call(client, world, world.handler, "POST", f"/issues/{code}/submit", data={**ANALYSIS, "measures": "已整改"})
    # The page's own hint, not the command line's option.
    assert bare.status_code == 400 and "请在「佐证材料」处选择文件上传" in bare.json()["error"]
    assert "--" not in bare.json()["error"]
    refused = call(
        client,
        world,
        world.handler,
        "POST",
        f"/issues/{code}/submit",
        data={**ANALYSIS, "measures": "已整改"},
        files=[("files", ("ok.png", PNG, "image/png")), ("files", ("run.exe", b"MZ", "application/x-msdownload"))],
    )
    assert refused.status_code == 400 and "run.exe" in refused.json()["error"]
    with unit_of_work(DAY0, url=world.url) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_figures_are_the_reports(client, world):
    rows = call(client, world, world.leader, "GET", "/figures", params={"by": "county"}).json()
    from rectify.models.estimates import rank_bands

    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        found = figures(ctx.session, by="county", as_of=ctx.now, calendar=ctx.calendar, policy=ctx.policy)
        bands = rank_bands(found)
        expected = [{**r.as_dict(), "uncertainty": bands[r.key].as_dict()} for r in found]
    assert rows == expected and any(r["key"] == world.county for r in rows)


def test_figures_answer_within_the_callers_scope(client, world):
    from rectify.flows import issue_actions as act

    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:  # another county has problems too
        act.record(ctx, actor="督导员13", county="理塘县", item="C01", description="别县", severity="一般",
                   unit="理塘县")
    everyone = call(client, world, world.leader, "GET", "/figures", params={"by": "county"}).json()
    assert {r["key"] for r in everyone} >= {world.county, "理塘县"}
    county = call(client, world, world.coordinator, "GET", "/figures", params={"by": "county"}).json()
    assert [r["key"] for r in county] == [world.county]
    assert call(client, world, world.coordinator, "GET", "/figures", params={"county": "理塘县"}).status_code == 404
    units = call(client, world, world.coordinator, "GET", "/figures", params={"by": "unit"}).json()
    assert "理塘县" not in {r["key"] for r in units}
    refused = call(client, world, world.handler, "GET", "/figures", params={"by": "county"})
    assert refused.status_code == 403 and "本单位" in refused.json()["error"]
    own = call(client, world, world.handler, "GET", "/figures", params={"by": "unit"}).json()
    assert [r["key"] for r in own] == [world.unit] and own[0]["total"] >= 1


def test_the_openapi_schema_documents_the_api_only(client):
    schema = client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {"/api/me", "/api/figures", "/api/estimates", "/api/issues", "/api/issues/{code}",
                                    "/api/issues/{code}/{step}"}
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert {"200", "401", "403", "404", "409"} <= set(operation["responses"]), (path, method)


def test_unknown_routes_and_methods_answer_as_their_side_does(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "页面不存在" in page.text
    wrong = client.delete("/dashboard")
    assert wrong.status_code == 405 and "text/html" in wrong.headers["content-type"]
    api = client.get("/api/no-such-endpoint")
    assert api.status_code == 404 and api.json() == {"error": "页面不存在"}


def test_tokens_end_can_be_listed_and_revoked_and_a_password_change_may_revoke_them(client, world):
    from sqlalchemy import select, update
    from typer.testing import CliRunner

    from rectify.flows.cli import app as cli
    from rectify.models.accounts import ApiToken

    runner = CliRunner()
    me = call(client, world, world.handler, "GET", "/me")
    assert me.status_code == 200
    listed = runner.invoke(cli, ["user", "token", world.handler, "--list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert row["state"] == "有效" and row["last_used"] != "从未使用" and row["label"] == "tests"
    assert world.tokens[world.handler] not in listed.stdout  # the token itself is never shown again
    # Expired (on the real clock): refused.
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        ctx.session.execute(update(ApiToken).where(ApiToken.id == row["id"]).values(expires_at=ApiToken.created_at))
    assert call(client, world, world.handler, "GET", "/me").status_code == 401
    fresh = runner.invoke(cli, ["user", "token", world.handler, "--label", "新对接", "--days", "30"])
    assert fresh.exit_code == 0 and fresh.stdout.strip().startswith("rt_")
    headers = {"Authorization": f"Bearer {fresh.stdout.strip()}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        newest = ctx.session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
    revoked = runner.invoke(cli, ["user", "token", world.handler, "--revoke", str(newest)])
    assert revoked.exit_code == 0 and "1 个" in revoked.output
    assert client.get("/api/me", headers=headers).status_code == 401
    # A password change ends the sessions and, only when asked, the tokens.
    other = world.leader
    kept = runner.invoke(cli, ["user", "passwd", other, "--password-stdin"], input="another-password-2016\n")
    assert kept.exit_code == 0 and "仍有 1 个有效的 API 令牌" in kept.output, kept.output
    assert call(client, world, other, "GET", "/me").status_code == 200
    changed = runner.invoke(cli, ["user", "passwd", other, "--password-stdin", "--revoke-tokens"],
                            input="a-new-password-2016\n")
    assert changed.exit_code == 0, changed.output
    assert call(client, world, other, "GET", "/me").status_code == 401
