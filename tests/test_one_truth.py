"""One moment, one count, on every surface: a scripted campaign in 色达县 is stopped at several
moments (the end of a day, and between two steps of the same day), and at each the CLI report,
the API, the dashboards, the work queues, the list, the workbench, the ledger and the bulletin
must show the same numbers; afterwards `report --as-of` each moment recounts them from the
event log. A verifier who sits on a timely submission never makes its unit overdue."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from samples import ANALYSIS, image
from sqlalchemy import select
from typer.testing import CliRunner

from rectify.flows import issue_actions as act
from rectify.flows.cli import app as cli
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.reports.bulletin import compile_bulletin
from rectify.flows.reports.columns import COLUMNS, shown
from rectify.models.accounts import new_token, set_password
from rectify.models.lookup import get_user
from rectify.models.places import County, Township, Village
from rectify.web.app import create_app

COUNTY = "色达县"
COORDINATOR, VERIFIER, INSPECTOR, LEADER, TEAM_LEADER = "色达县督查办", "核验员01", "督导员13", "州领导13", "督导组长13"
PASSWORD = "one-truth-2016"
COUNTS = ("total", "resolved_on_site", "submitted", "closed", "overdue", "verification_late")
runner = CliRunner()


def moment(text: str) -> datetime:
    return parse_instant(text)


@pytest.fixture()
def people(fresh_db, tmp_path):
    photo = tmp_path / "整改照片.png"
    photo.write_bytes(image(b"1"))
    with unit_of_work(moment("2016-08-22 09:00")) as ctx:
        village = ctx.session.scalars(select(Village).join(Township).join(County)
                                      .where(County.name == COUNTY).order_by(Village.id)).first()
        unit = village.assisting_unit.name
        handler = f"{unit}经办人"
        for name in (COORDINATOR, VERIFIER, LEADER, handler):
            set_password(get_user(ctx.session, name), PASSWORD)
        ctx.session.flush()
        token = new_token(ctx.session, get_user(ctx.session, LEADER), label="one truth")
    return {"url": fresh_db, "unit": unit, "handler": handler, "village": village.name, "photo": photo,
            "token": token}


def _step(when: str, fn, *args, **kwargs) -> str:
    with unit_of_work(moment(when)) as ctx:
        return fn(ctx, *args, **kwargs).code


def _record(people, description: str, **kwargs) -> str:
    return _step("2016-08-22 10:00", act.record, actor=INSPECTOR, county=COUNTY, village=people["village"],
                 item="作战图", severity="一般", description=description, **kwargs)


def _campaign(people) -> dict[str, list]:
    """The steps, grouped by the moment after which the surfaces are read."""
    unit, handler, photo = people["unit"], people["handler"], people["photo"]
    submit = {"actor": handler, **ANALYSIS, "measures": "已整改并上墙", "evidence": [photo]}
    codes = {}

    def first():
        codes["A"] = _record(people, "A 从未签收", unit=unit, deadline=date(2016, 8, 26))
        codes["V"] = _record(people, "V 按时提交,核验人未核验", unit=unit, deadline=date(2016, 8, 31))
        codes["R"] = _record(people, "R 被退回,单位时限重新计算", unit=unit, deadline=date(2016, 8, 30))
        codes["C"] = _record(people, "C 按时提交,过了时限才核验", unit=unit, deadline=date(2016, 8, 31))
        codes["S"] = _record(people, "S 同一天的下午提交", unit=unit, deadline=date(2016, 9, 9))
        _record(people, "O 现场解决", on_site="当场整改", cosign=TEAM_LEADER)
        _record(people, "T 待交办")
        for code in ("V", "R", "C"):
            _step("2016-08-23 10:00", act.sign, codes[code], actor=handler)
        _step("2016-08-24 10:00", act.sign, codes["S"], actor=handler)
        _step("2016-08-25 10:00", act.submit, codes["R"], **submit)
        _step("2016-08-26 10:00", act.return_submission, codes["R"], actor=VERIFIER, reason="照片不清")
        _step("2016-08-29 10:00", act.submit, codes["V"], **submit)
        _step("2016-08-29 11:00", act.submit, codes["C"], **submit)

    def morning():
        _step("2016-09-07 10:00", act.verify, codes["C"], actor=VERIFIER, note="现场核实")

    def afternoon():
        _step("2016-09-07 15:00", act.submit, codes["S"], **submit)

    return {"2016-08-29": [first], "2016-09-07 12:00": [morning], "2016-09-07": [afternoon], "2016-09-20": []}


def _report(as_of: str) -> dict:
    result = runner.invoke(cli, ["report", "--by", "county", "--county", COUNTY, "--as-of", as_of,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    return row


def _figures_in(html: str) -> dict[str, str]:
    """The numbers a page marks as figures (data-figure), as the user reads them."""
    found = {}
    for name, inner in re.findall(r'data-figure="([\w-]+)"[^>]*>(.*?)</(?:td|div|span)>', html, flags=re.S):
        found.setdefault(name, re.sub(r"<[^>]+>", "", inner).strip())
    return found


def _login(app, name: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
    assert response.status_code == 200, response.text
    return client


def _surfaces(people, as_of: str, tmp_path) -> dict[str, dict]:
    """What each surface shows at `as_of` (the clock of every one of them)."""
    app = create_app(url=people["url"], as_of=as_of)
    seen: dict[str, dict] = {}
    leader = _login(app, LEADER)
    api = TestClient(app).get("/api/figures", params={"by": "county"},
                              headers={"Authorization": f"Bearer {people['token']}"})
    assert api.status_code == 200, api.text
    [seen["api"]] = [r for r in api.json() if r["key"] == COUNTY]
    board = leader.get("/dashboard").text
    row_html = re.search(rf'<tr data-key="{COUNTY}">(.*?)</tr>', board, flags=re.S).group(1)
    seen["dashboard ranking"] = _figures_in(row_html)
    seen["dashboard cards"] = _figures_in(board.split('<table id="ranking">')[0])
    assert f"截至 {as_of}" in board  # the page states the moment it counted at
    coordinator = _login(app, COORDINATOR)
    seen["county dashboard cards"] = _figures_in(coordinator.get("/dashboard").text.split('<table id="ranking">')[0])
    seen["coordinator queue"] = _figures_in(coordinator.get("/coordinator").text)
    seen["verifier queue"] = _figures_in(_login(app, VERIFIER).get("/verifier").text)
    seen["unit workbench"] = {"overdue": _figures_in(_login(app, people["handler"]).get("/workbench").text)
                              .get("light-red", "0")}
    seen["list"] = {key: re.search(r'id="total">(\d+)<', leader.get(f"/issues?counted=1&{query}").text).group(1)
                    for key, query in (("total", "county=" + COUNTY), ("overdue", "overdue=1"),
                                       ("verification_late", "verification_late=1"), ("submitted", "status=submitted"),
                                       ("closed", "status=closed"))}
    ledger = tmp_path / f"台账-{as_of.replace(':', '')}.xlsx"
    result = runner.invoke(cli, ["ledger", "--out", str(ledger), "--as-of", as_of])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(ledger)["汇总"]
    labels = [c.value for c in sheet[2]]
    keys = {label: key for key, label in COLUMNS}
    [ledger_row] = [dict(zip([keys[label] for label in labels], (c.value for c in row), strict=True))
                    for row in sheet.iter_rows(min_row=3) if row[0].value == COUNTY]
    seen["ledger summary"] = ledger_row
    bulletin = compile_bulletin(moment(as_of))
    [ranked] = [r for r in bulletin.ranking if r["key"] == COUNTY]
    seen["bulletin"] = {"total": ranked["total"], "overdue": ranked["overdue"],
                        "verification_late": ranked["verification_late"], "rank": ranked["rank"],
                        "closure_rate": ranked["closure"]}
    seen["bulletin totals"] = {"overdue": bulletin.totals["overdue"],
                               "verification_late": bulletin.totals["verification_late"]}
    assert bulletin.moment == as_of
    return seen


def _agree(report: dict, seen: dict[str, dict], *, at_least: int = 30) -> None:
    """Every figure a surface shows equals the report's, read as that surface writes it."""
    compared = 0
    for surface, figures in seen.items():
        for key, value in figures.items():
            if key not in report:
                continue
            expected = report[key]
            if isinstance(value, str):
                wanted = {shown(key, expected)} | ({str(expected)} if not isinstance(expected, float) else set())
                assert value in wanted, (surface, key, value, expected)
            elif isinstance(expected, float) and isinstance(value, float):
                assert value == pytest.approx(expected), (surface, key)
            else:
                assert value == expected or (value == "—" and expected is None), (surface, key, value, expected)
            compared += 1
    assert compared >= at_least


def _late_three_ways(as_of: str) -> None:
    """核验超时 from the running totals, from the problems and from the event log, by every slice."""
    from rectify.models.figures import DIMENSIONS, tallied_late, verification_late

    with unit_of_work(moment(as_of)) as ctx:
        for by in DIMENSIONS:
            common = {"by": by, "calendar": ctx.calendar, "policy": ctx.policy}
            tallied = tallied_late(ctx.session, today=ctx.today, **common)
            assert tallied == verification_late(ctx.session, as_of=ctx.now, **common), (as_of, by)
            assert tallied == verification_late(ctx.session, as_of=ctx.now, present=False, **common), (as_of, by)


def test_every_surface_shows_the_same_numbers_at_every_moment(people, tmp_path):
    seen_at: dict[str, dict] = {}
    for as_of, steps in _campaign(people).items():
        for step in steps:
            step()
        row = _report(as_of)
        _agree(row, _surfaces(people, as_of, tmp_path))
        seen_at[as_of] = row
        _late_three_ways(as_of)
    # The unit's clock and the verifier's, as hand-counted (docs/reports.md):
    m1, m2, m3, m4 = (seen_at[k] for k in seen_at)
    assert (m1["overdue"], m1["submitted"], m1["verification_late"]) == (1, 2, 0)  # A; R's clock restarted
    assert (m2["overdue"], m2["submitted"], m2["verification_late"], m2["closed"]) == (2, 1, 1, 1)  # C closed
    assert (m3["submitted"], m3["verification_late"]) == (2, 1)  # S submitted in the afternoon
    assert (m4["overdue"], m4["verification_late"], m4["on_time_rate"]) == (2, 2, 1.0)  # V and S wait; C on time
    assert m4["total"] == 7 and m4["rank"] == 1
    # Later, each moment recounted from the event log gives what the surfaces showed then;
    # the dashboard opened at a past moment counts at it, and says the lists show the present.
    for as_of, row in seen_at.items():
        assert _report(as_of) == row, as_of
    board = _login(create_app(url=people["url"], as_of="2016-08-29"), LEADER).get("/dashboard").text
    assert 'id="later-steps"' in board
    past = re.search(rf'<tr data-key="{COUNTY}">(.*?)</tr>', board, flags=re.S).group(1)
    _agree(seen_at["2016-08-29"], {"dashboard at a past moment": _figures_in(past)}, at_least=8)


def test_a_verifier_sitting_on_a_timely_submission_never_makes_the_unit_overdue(people):
    from rectify.flows.reminders import run_reminders
    from rectify.models.deliveries import Delivery
    from rectify.models.enums import MessageKind
    from rectify.models.issues import Issue

    code = _record(people, "按时提交,核验人一个月未核验", unit=people["unit"], deadline=date(2016, 9, 7))
    _step("2016-08-23 10:00", act.sign, code, actor=people["handler"])
    _step("2016-08-29 10:00", act.submit, code, actor=people["handler"], **ANALYSIS, measures="已整改",
          evidence=[people["photo"]])
    day = date(2016, 8, 30)
    while day <= date(2016, 9, 30):
        run_reminders(moment(f"{day} 08:30"), with_tasks=False)
        day += timedelta(days=1)
    row = _report("2016-09-30")
    assert (row["overdue"], row["verification_late"], row["submitted"]) == (0, 1, 1)
    with unit_of_work(moment("2016-09-30")) as ctx:
        deliveries = ctx.session.scalars(select(Delivery).where(Delivery.issue_codes.is_not(None))).all()
        kinds = {(d.kind, d.recipient.split(":")[0]) for d in deliveries if code in d.issue_codes}
    assert (MessageKind.OVERDUE, "unit") not in kinds  # the unit is never told it is overdue
    assert (MessageKind.VERIFY_LATE, "user") in kinds and (MessageKind.VERIFY_ESCALATED, "user") in kinds
    app = create_app(url=people["url"], as_of="2016-09-30")
    unit_page = _login(app, people["handler"]).get("/workbench").text
    assert _figures_in(unit_page).get("light-red", "0") == "0" and code in unit_page
    issue_page = _login(app, VERIFIER).get(f"/issues/{code}").text
    assert "核验超时" in issue_page and "不计入责任单位逾期" in issue_page
    # Verified a month late, it still closed on time: the unit submitted before its deadline.
    _step("2016-09-30 10:00", act.verify, code, actor=VERIFIER, note="现场核实,销号")
    with unit_of_work(moment("2016-09-30")) as ctx:
        assert ctx.session.scalars(select(Issue).where(Issue.code == code)).one().closed_on_time is True
    assert _report("2016-09-30")["on_time_rate"] == 1.0
