"""The CLI as a coordinator, a unit and a verifier use it: JSON output, errors, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from samples import image
from typer.testing import CliRunner

from rectify.flows.cli import app

runner = CliRunner()
DAY0 = "2016-08-22 10:00"


def rectify(*args: str, ok: bool = True, stdin: str | None = None):
    result = runner.invoke(app, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def as_json(*args: str) -> dict:
    return json.loads(rectify(*args, "--format", "json").stdout)


@pytest.fixture()
def unit_name(fresh_db) -> str:
    villages = json.loads(rectify("place", "list", "--county", "色达县", "--format", "json").stdout)
    return villages[0]["assisting_unit"], villages[0]["village"]


def test_whole_lifecycle_through_the_cli(fresh_db, unit_name, tmp_path):
    unit, village = unit_name
    handler = f"{unit}经办人"
    added = as_json("issue", "add", "--county", "色达县", "--village", village, "--item", "V10",
                    "--desc", "作战图未上墙", "--severity", "较重", "--as", "督导员13", "--as-of", DAY0)
    code = added["code"]
    assert added["status"] == "triage" and added["unit"] is None
    assert [e["action"] for e in added["events"]] == ["record"]
    assigned = as_json("issue", "assign", code, "--unit", unit, "--as", "色达县督查办", "--as-of", DAY0)
    assert assigned["status"] == "assigned" and assigned["unit"] == unit
    assert assigned["original_deadline"] == assigned["deadline"] == "2016-08-31"
    assert as_json("issue", "sign", code, "--as", handler, "--as-of", "2016-08-23")["status"] == "rectifying"
    as_json("issue", "progress", code, "--note", "已制作", "--as", handler, "--as-of", "2016-08-24")
    extended = as_json("issue", "extend", code, "--until", "2016-09-09", "--reason", "印刷厂排期",
                       "--as", handler, "--as-of", "2016-08-24")
    assert extended["extension_requested_until"] == "2016-09-09"
    approved = as_json("issue", "approve-extension", code, "--as", "色达县督查办", "--as-of", "2016-08-25")
    assert approved["deadline"] == "2016-09-09" and approved["original_deadline"] == "2016-08-31"
    photo = tmp_path / "作战图.jpg"
    photo.write_bytes(image(b"map photo", "jpg"))
    no_cause = rectify("issue", "submit", code, "--measures", "作战图已上墙", "--evidence", str(photo),
                       "--as", handler, "--as-of", "2016-08-26", ok=False)
    assert no_cause.exit_code == 1 and "须填写原因分析(用 --cause 指明)" in no_cause.stderr
    bare = rectify("issue", "submit", code, "--measures", "作战图已上墙", "--cause", "张贴不及时", "--as", handler,
                   "--as-of", "2016-08-26", ok=False)
    assert bare.exit_code == 1 and "须附至少一份佐证材料(用 --evidence 指明)" in bare.stderr
    submitted = as_json("issue", "submit", code, "--measures", "作战图已上墙", "--cause", "张贴不及时",
                        "--evidence", str(photo),
                        "--as", handler, "--as-of", "2016-09-01")
    assert submitted["status"] == "submitted"
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert submitted["events"][-1]["evidence"][0]["sha256"] == sha
    stored = Path(os.environ["RECTIFY_HOME"]) / "evidence" / sha[:2] / sha
    assert stored.read_bytes() == photo.read_bytes()
    returned = as_json("issue", "return", code, "--reason", "照片模糊", "--as", "核验员02", "--as-of", "2016-09-02")
    assert returned["status"] == "rectifying"
    as_json("issue", "submit", code, "--measures", "重新拍摄", "--cause", "张贴不及时", "--evidence", str(photo),
            "--as", handler,
            "--as-of", "2016-09-05")
    closed = as_json("issue", "verify", code, "--note", "核实", "--as", "核验员02", "--as-of", "2016-09-06")
    assert closed["status"] == "closed"
    reopened = as_json("issue", "reopen", code, "--reason", "回头看作战图被撕", "--evidence", str(photo),
                       "--as", "核验员03", "--as-of", "2016-10-10")
    assert reopened["status"] == "rectifying" and reopened["reopen_count"] == 1
    shown = as_json("issue", "show", code, "--as-of", "2016-10-10")
    assert [e["action"] for e in shown["events"]] == [
        "record", "assign", "sign", "progress", "request_extension", "approve_extension",
        "submit", "return", "submit", "verify", "reopen"]
    assert {"code", "status", "unit", "original_deadline", "deadline", "supervision_level", "events"} <= set(shown)
    table = rectify("issue", "show", code, "--as-of", "2016-10-10").stdout
    assert code in table and "处理经过" in table and "反弹重开" in table


def test_on_site_void_send_back_and_escalate(fresh_db, unit_name):
    unit, village = unit_name
    on_site = as_json("issue", "add", "--county", "色达县", "--village", village, "--item", "卫生室",
                      "--desc", "药品过期", "--severity", "一般", "--as", "督导员13",
                      "--on-site", "当场清理过期药品", "--cosign", "督导组长13", "--as-of", DAY0)
    assert on_site["status"] == "resolved_on_site"
    county = as_json("issue", "add", "--county", "色达县", "--item", "减贫实施方案", "--desc", "未细化",
                     "--severity", "严重", "--unit", "色达县教育局", "--as", "督导员13", "--as-of", DAY0)
    assert county["status"] == "assigned" and county["deadline"] == "2016-08-25"
    back = as_json("issue", "send-back", county["code"], "--reason", "应由县政府牵头",
                   "--as", "色达县教育局经办人", "--as-of", DAY0)
    assert back["status"] == "triage" and back["unit"] is None
    up = as_json("issue", "escalate", back["code"], "--level", "挂牌督办", "--as", "州领导13", "--as-of", DAY0)
    assert up["supervision_level"] == "listed"
    voided = as_json("issue", "void", back["code"], "--reason", "重复", "--as", "色达县督查办", "--as-of", DAY0)
    assert voided["status"] == "void"


def test_list_filters_and_formats(fresh_db):
    for severity in ("严重", "一般"):
        rectify("issue", "add", "--county", "康定市", "--item", "C01", "--desc", f"{severity}问题",
                "--severity", severity, "--unit", "康定市", "--as", "督导员01", "--as-of", DAY0)
    rows = json.loads(rectify("issue", "list", "--county", "康定市", "--format", "json",
                              "--as-of", "2016-08-30").stdout)
    assert len(rows) == 2 and rows[0]["deadline"] <= rows[1]["deadline"]
    overdue = json.loads(rectify("issue", "list", "--overdue", "--format", "json", "--as-of", "2016-08-30").stdout)
    assert [r["description"] for r in overdue] == ["严重问题"]
    assert overdue[0]["traffic_light"] == "red" and overdue[0]["workdays_left"] == -3
    csv_text = rectify("issue", "list", "--status", "已交办", "--format", "csv", "--as-of", DAY0).stdout
    assert csv_text.splitlines()[0].startswith("问题编号,状态") and len(csv_text.splitlines()) == 3
    assert "问题清单" in rectify("issue", "list", "--as-of", DAY0).stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["issue", "add", "--county", "理唐县", "--item", "C01", "--desc", "x", "--severity", "一般",
          "--as", "督导员01"], ["县(市)「理唐县」", "理塘县"]),
        (["issue", "add", "--county", "康定市", "--item", "安全住", "--desc", "x", "--severity", "一般",
          "--as", "督导员01"], ["检查项目「安全住」", "安全住房"]),
        (["issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "很重",
          "--as", "督导员01"], ["严重程度「很重」", "一般/较重/严重"]),
        (["issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
          "--as", "督导员1"], ["用户「督导员1」", "您是不是要找:督导员"]),
        (["issue", "assign", "GZ-2016-99999", "--unit", "康定市", "--as", "州督查办"], ["问题编号「GZ-2016-99999」"]),
        (["issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
          "--unit", "康定教育", "--as", "督导员01"], ["责任单位「康定教育」", "康定市教育局"]),
        (["issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
          "--unit", "康定市", "--deadline", "2016-02-30", "--as", "督导员01"], ["整改时限「2016-02-30」"]),
        (["issue", "list", "--as-of", "yesterday"], ["时间「yesterday」"]),
        (["issue", "list", "--status", "done"], ["状态「done」", "closed"]),
        (["catalogue", "list", "--level", "省"], ["层级「省」"]),
        (["calendar", "add", "2027-02-08", "放"], ["类别「放」"]),
    ],
)
def test_bad_arguments_exit_non_zero_naming_the_value(fresh_db, args, expected):
    result = rectify(*args, ok=False)
    assert result.exit_code == 1
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_refused_move_is_explained_and_changes_nothing(fresh_db):
    code = as_json("issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
                   "--as", "督导员01", "--as-of", DAY0)["code"]
    result = rectify("issue", "verify", code, "--note", "ok", "--as", "核验员01", ok=False)
    assert result.exit_code == 1 and "待交办" in result.stderr and "核验销号" in result.stderr
    result = rectify("issue", "assign", code, "--unit", "康定市", "--as", "督导员01", ok=False)
    assert "无权" in result.stderr
    stale = rectify("issue", "assign", code, "--unit", "康定市", "--as", "州督查办", "--expect-version", "7",
                    ok=False)
    assert "已被他人修改" in stale.stderr
    assert as_json("issue", "show", code)["status"] == "triage"


def test_reference_listings(fresh_db):
    items = as_json("catalogue", "list", "--level", "户")
    assert {i["level"] for i in items} == {"household"} and any(i["title"] == "安全住房" for i in items)
    units = as_json("unit", "list", "--county", "泸定县")
    assert {"泸定县", "泸定县教育局"} <= {u["name"] for u in units}
    villages = as_json("place", "list", "--county", "泸定县")
    households = as_json("place", "list", "--county", "泸定县", "--village", villages[0]["village"])
    assert len(households) == villages[0]["households"] > 0
    assert "合成演示数据" in rectify("place", "list", "--county", "泸定县").stdout


def test_seed_is_idempotent_from_the_cli(fresh_db):
    result = rectify("seed", "--synthetic")
    assert "无变化" in result.stdout


def test_user_add_and_calendar_add(fresh_db):
    rectify("user", "add", "新经办人", "--role", "unit", "--unit", "康定市教育局", "--password-stdin",
            stdin="kangding-2016\n")
    users = as_json("user", "list", "--role", "unit")
    assert any(u["name"] == "新经办人" and u["unit"] == "康定市教育局" for u in users)
    assert (
        "必须指明所在单位(用 --unit 指明)"
        in rectify("user", "add", "无单位", "--role", "unit", "--password-stdin", stdin="whatever-1\n", ok=False).stderr
    )
    rectify("calendar", "add", "2027-01-01", "休", "--name", "元旦")
    assert as_json("calendar", "list", "--year", "2027") == [
        {"date": "2027-01-01", "kind": "off", "kind_label": "休", "name": "元旦"}]


def test_passwords_never_come_from_the_command_line(fresh_db):
    from rectify.flows.context import unit_of_work
    from rectify.models.accounts import password_matches
    from rectify.models.lookup import get_user

    assert "--password" not in rectify("user", "add", "--help").stdout.replace("--password-stdin", "")
    # No terminal and no --password-stdin: a clear error naming both ways out, never "Aborted.".
    refused = rectify("user", "add", "脚本用户", "--role", "coordinator", ok=False)
    assert refused.exit_code == 1 and "--password-stdin" in refused.stderr and "--no-login" in refused.stderr
    assert "Aborted" not in refused.output
    rectify("user", "add", "脚本用户", "--role", "coordinator", "--password-stdin", stdin="s3cret-pass\n")
    rectify("user", "add", "代办用户", "--role", "inspector", "--no-login")
    rectify("user", "passwd", "脚本用户", "--password-stdin", stdin="an0ther-pass\n")
    assert "没有密码" in rectify("user", "passwd", "脚本用户", "--password-stdin", stdin="", ok=False).stderr
    with unit_of_work(datetime(2016, 8, 22, tzinfo=UTC)) as ctx:
        assert password_matches(get_user(ctx.session, "脚本用户").password_hash, "an0ther-pass")
        assert get_user(ctx.session, "代办用户").password_hash is None


def test_wide_tables_fit_the_terminal_without_cutting_a_header(fresh_db, monkeypatch):
    from rectify.flows.cli import support
    from rectify.flows.reports.columns import COLUMNS

    rectify("issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
            "--unit", "康定市", "--as", "督导员01", "--as-of", DAY0)
    monkeypatch.setattr(support.console, "width", 100)
    narrow = rectify("report", "--by", "unit", "--as-of", DAY0).stdout
    assert "…" not in narrow and max(len(line) for line in narrow.splitlines()) <= 100
    flat = narrow.replace("\n", "")
    assert all(f"{label}:" in flat for _, label in COLUMNS[1:]) and "康定市" in flat
    monkeypatch.setattr(support.console, "width", 220)
    wide = rectify("report", "--by", "unit", "--as-of", DAY0).stdout
    assert "┃" in wide and all(label in wide for _, label in COLUMNS)


def test_uncovered_year_warns_but_works(fresh_db):
    result = rectify("issue", "add", "--county", "康定市", "--item", "C01", "--desc", "x", "--severity", "一般",
                     "--unit", "康定市", "--as", "督导员01", "--as-of", "2026-12-20", "--format", "json")
    assert json.loads(result.stdout)["deadline"] == "2027-01-08"
    assert "2027 年的节假日安排尚未录入" in result.stderr


def test_demo_imports_inspections_and_walks_every_state(fresh_db, prefect_harness, monkeypatch):
    from rectify.flows.cli import support

    monkeypatch.setattr(support.console, "width", 200)  # the logins' table unwrapped
    result = rectify("demo")
    assert "演示完成" in result.stdout and "各县各状态问题数" in result.stdout
    assert result.stdout.count("导入完成") == 3
    rows = json.loads(rectify("issue", "list", "--county", "理塘县", "--format", "json").stdout)
    walked = [r for r in rows if r["inspection"] is None]
    imported = [r for r in rows if r["inspection"] == "2016年第一批督导·理塘县"]
    assert len(walked) == 12 and len(imported) > 50  # 11 walked through the states, 1 waiting to be signed for
    reached, staged = set(), []
    for row in walked:
        shown = as_json("issue", "show", row["code"])
        reached |= {e["to"] for e in shown["events"]}
        if shown["status"] == "paused":  # the house rebuilt over a season, with an assisting unit
            assert shown["assisting_units"] == ["理塘县住房和城乡规划建设局"] and shown["paused_until"] == "2017-04-10"
        if shown["stages"]:  # the house rebuilt in stages
            staged.append((shown["stage_progress"], shown["deadline"]))
    assert staged == [("阶段性完成 1/3", "2016-10-31")]
    assert reached == {"triage", "assigned", "rectifying", "paused", "reviewing", "submitted", "closed",
                       "resolved_on_site", "void"}
    assert "回头看:抽取" in result.stdout and "反弹重开 2 个" in result.stdout
    assert "满意度回访:抽取" in result.stdout and "不满意反弹重开 1 个" in result.stdout
    warned = {r["kind"] for r in json.loads(rectify("suspicious", "--format", "json").stdout)}
    assert warned == {"reused_evidence", "similar_measures", "too_fast", "similar_photo"}  # the last: by phone
    assert "手机采集:" in result.stdout and "整改前照片" in result.stdout
    _every_demo_login_works_and_has_its_problem(result.stdout)
    again = rectify("demo")
    assert "不再重复登记" in again.stdout and "此前已导入 1497 行" in again.stdout and "此前已同步" in again.stdout
    assert len(json.loads(rectify("issue", "list", "--county", "理塘县", "--format", "json").stdout)) == len(rows)


def _every_demo_login_works_and_has_its_problem(stdout: str) -> None:
    """The table the demo ends with: each login opens the web app with the printed password, and
    a unit's problem to sign for is one it can sign for there."""
    import re

    from fastapi.testclient import TestClient

    from rectify.flows.demo import DEMO_END, DEMO_PASSWORD
    from rectify.web.app import create_app

    table = stdout[stdout.index("用下表任一用户登录"):]
    rows = [re.split(r"\s*│\s*", line.strip(" │")) for line in table.splitlines() if line.count("│") >= 4]
    logins = {row[1]: row[2] for row in rows if row[1] and row[1] != "登录名"}
    assert {"州领导13", "理塘县督查办", "核验员01"} <= set(logins) and sum("经办人" in n for n in logins) >= 2
    app = create_app(as_of=DEMO_END)
    for name, code in logins.items():
        client = TestClient(app)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        answer = client.post("/login", data={"name": name, "password": DEMO_PASSWORD, "csrf": token},
                             follow_redirects=False)
        assert answer.status_code == 303, (name, answer.text[:300])
        if code != "—":
            assert code in client.get(f"/issues/{code}").text, (name, code)
    signing = [row for row in rows if row[3:4] == ["签收"]]
    assert signing, rows
    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": signing[0][1], "password": DEMO_PASSWORD, "csrf": token})
    page = client.get(f"/issues/{signing[0][2]}").text
    assert 'id="form-sign"' in page
    head = next(row for row in rows if row[3:4] == ["单位负责人审核销号申请"])  # scene 9
    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": head[1], "password": DEMO_PASSWORD, "csrf": token})
    assert 'id="form-approve_review"' in client.get(f"/issues/{head[2]}").text


ENGLISH = ("Show this message", "[required]", "[default:", "Usage:", "<bool>", "<str>", "Options", "Commands",
           "Arguments", "…")


def _all_help_pages():
    from typer.core import TyperGroup

    from rectify.flows.cli import COMMANDS, load

    yield []
    for name in COMMANDS:
        command = load(name)
        yield [name]
        if isinstance(command, TyperGroup):
            for sub in command.commands:
                yield [name, sub]


def test_every_help_page_is_chinese_and_whole(monkeypatch):
    from rectify.flows.cli import support

    monkeypatch.setattr(support.console, "width", 100)
    pages = list(_all_help_pages())
    assert len(pages) > 40
    for path in pages:
        page = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert page.exit_code == 0, (path, page.output)
        found = [word for word in ENGLISH if word in page.stdout]
        assert not found, (path, found, page.stdout)
        assert "用法:" in page.stdout and "显示本帮助并退出" in page.stdout


def test_the_root_lists_every_command_without_importing_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys\nfrom rectify.flows.cli import main\nsys.argv = ['rectify', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('prefect', 'alembic', 'uvicorn', 'fastapi', 'openpyxl', 'sqlalchemy', 'apprise')"
            " if m in sys.modules]\nprint('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "100"})
    from rectify.flows.cli import COMMANDS

    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    assert all(name in done.stdout for name in COMMANDS)


def test_user_unlock_clears_the_failures_of_a_name_or_an_address(fresh_db):
    from rectify.flows.context import unit_of_work
    from rectify.models.accounts import real_now, record_attempt
    from rectify.models.throttle import login_wait

    with unit_of_work(real_now()) as ctx:
        for name in ("甲", "甲", "甲", "甲", "甲", "甲", "乙", "乙", "乙", "乙", "乙", "乙"):
            record_attempt(ctx.session, name, address="203.0.113.9", now=real_now(), ok=False)
    assert "清除失败记录 6 条" in rectify("user", "unlock", "甲").stdout
    assert "清除失败记录 6 条" in rectify("user", "unlock", "--address", "203.0.113.9").stdout
    with unit_of_work(real_now()) as ctx:
        assert login_wait(ctx.session, "乙", "203.0.113.9", now=real_now()) is None
    assert "用户名或地址" in rectify("user", "unlock", ok=False).stderr
