"""Figures on a small campaign whose every number is known in advance."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from samples import ANALYSIS, image
from sqlalchemy import select
from typer.testing import CliRunner

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.places import County, Township, Village

COUNTY = "色达县"
COORDINATOR, VERIFIER, INSPECTOR, LEADER = "色达县督查办", "核验员01", "督导员13", "督导组长13"
runner = CliRunner()


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


@pytest.fixture()
def campaign(fresh_db, tmp_path):
    """Nine problems of 色达县 walked to known states (see each comment)."""
    photo = tmp_path / "整改照片.png"
    photo.write_bytes(image(b"1"))
    with unit_of_work(at("2016-08-22")) as ctx:
        village = ctx.session.scalars(select(Village).join(Township).join(County)
                                      .where(County.name == COUNTY).order_by(Village.id)).first()
        unit = village.assisting_unit.name
        place = {"county": COUNTY, "village": village.name}
    handler = f"{unit}经办人"

    def step(day: str, fn, *args, **kwargs):
        with unit_of_work(at(day)) as ctx:
            return fn(ctx, *args, **kwargs).code

    def record(**kwargs):
        return step("2016-08-22", act.record, actor=INSPECTOR, item="作战图", severity="一般", **place, **kwargs)

    # P1: closed on time, 3 working days after assignment.
    p1 = record(description="P1", unit=unit)
    step("2016-08-23", act.sign, p1, actor=handler)
    step("2016-08-24", act.submit, p1, actor=handler, **ANALYSIS, measures="已整改", evidence=[photo])
    step("2016-08-25", act.verify, p1, actor=VERIFIER, note="销号")
    # P2: resolved on site.
    record(description="P2", on_site="当场整改", cosign=LEADER)
    # P3: signed late, extended, returned once, closed after its original deadline (8 working days).
    p3 = record(description="P3", unit=unit, deadline=date(2016, 8, 26))
    step("2016-08-26", act.sign, p3, actor=handler)
    step("2016-08-26", act.request_extension, p3, actor=handler, until=date(2016, 9, 2), reason="材料未到")
    step("2016-08-26", act.decide_extension, p3, actor=COORDINATOR, approve=True)
    step("2016-08-29", act.submit, p3, actor=handler, **ANALYSIS, measures="已整改", evidence=[photo])
    step("2016-08-30", act.return_submission, p3, actor=VERIFIER, reason="照片不清")
    step("2016-08-31", act.submit, p3, actor=handler, **ANALYSIS, measures="已整改并补照片", evidence=[photo])
    step("2016-09-01", act.verify, p3, actor=VERIFIER, note="销号")
    # P4: never signed; overdue after 2016-08-24.
    record(description="P4", unit=unit, deadline=date(2016, 8, 24))
    # P5: in triage.
    record(description="P5")
    # P6: voided: not counted anywhere.
    p6 = record(description="P6")
    step("2016-08-23", act.void, p6, actor=COORDINATOR, reason="重复")
    # P7: closed, then found again (反弹) and back in rectification with a new deadline.
    p7 = record(description="P7", unit=unit)
    step("2016-08-23", act.sign, p7, actor=handler)
    step("2016-08-24", act.submit, p7, actor=handler, **ANALYSIS, measures="已整改", evidence=[photo])
    step("2016-08-25", act.verify, p7, actor=VERIFIER, note="销号")
    step("2016-08-30", act.reopen, p7, actor=VERIFIER, reason="回头看发现反弹", evidence=[photo])
    # P8: paused from Tuesday 23 to Monday 29 August (Wed-Fri: 3 working days), resumed: its
    # deadline moved from 31 August to Monday 5 September, so it is not overdue on the 5th.
    p8 = record(description="P8", unit=unit, deadline=date(2016, 8, 31))
    step("2016-08-23", act.sign, p8, actor=handler)
    step("2016-08-23", act.request_pause, p8, actor=handler, until=date(2016, 8, 29), reason="建材未到")
    step("2016-08-23", act.decide_pause, p8, actor=COORDINATOR, approve=True)
    step("2016-08-29", act.resume, p8, actor=handler)
    # P9: paused from 25 August until 19 September: its deadline (26 August) passed while it was
    # paused, and it is not overdue.
    p9 = record(description="P9", unit=unit, deadline=date(2016, 8, 26))
    step("2016-08-23", act.sign, p9, actor=handler)
    step("2016-08-24", act.request_pause, p9, actor=handler, until=date(2016, 9, 19), reason="冬季停工")
    step("2016-08-25", act.decide_pause, p9, actor=COORDINATOR, approve=True)
    return unit


def report(*args: str) -> list[dict]:
    result = runner.invoke(app, ["report", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_figure_of_a_known_campaign(campaign):
    [row] = report("--by", "county", "--county", COUNTY, "--as-of", "2016-09-05 10:00")
    # 3 of 8 closed or solved on site: Wilson's interval (0.137, 0.694), too few to rank firmly.
    uncertainty = row.pop("uncertainty")
    assert uncertainty["closure_interval"] == pytest.approx([0.13684, 0.69426], abs=1e-4)
    assert uncertainty["rank_range"] == [1, 1] and uncertainty["too_small"] is True
    assert row == {
        "key": COUNTY, "total": 8, "resolved_on_site": 1, "assigned": 6, "submitted": 0, "closed": 2,
        "closure_rate": 0.375, "closure_rate_excl_on_site": 2 / 7, "rectified_rate": 0.375, "on_time_rate": 0.5,
        "overdue": 1, "sign_on_time_rate": 0.8, "extension_rate": 1 / 6, "return_rate": 0.25,
        "rebound_rate": 0.25, "median_days_to_close": 5.5, "verification_late": 0, "rank": 1,
        # P9 paused now (its passed deadline not overdue); P8's ended pause took 3 working days.
        "paused": 1, "paused_days": 3,
        # No callback and no staged problem yet (test_callbacks.py extends this campaign with them).
        "callbacks": 0, "satisfaction_rate": None, "stages_verified": 0, "stage_on_time_rate": None,
    }


def test_figures_as_of_an_earlier_moment_use_the_state_then(campaign):
    [row] = report("--by", "county", "--county", COUNTY, "--as-of", "2016-08-26 18:00")
    # P1 and P7 closed, P3 rectifying with its extension; P7 not yet reopened; P8 and P9 paused.
    assert (row["closed"], row["submitted"], row["rebound_rate"]) == (2, 0, 0.0)
    assert row["total"] == 8 and row["overdue"] == 1 and row["on_time_rate"] == 1.0
    assert (row["paused"], row["paused_days"]) == (2, 0)
    assert row["median_days_to_close"] == 3.0


def test_zero_denominators_are_null_not_zero_or_one(fresh_db):
    with unit_of_work(at("2016-08-22")) as ctx:
        act.record(ctx, actor=INSPECTOR, county="康定市", item="减贫实施方案", description="未细化", severity="一般")
    [row] = report("--by", "county", "--county", "康定市", "--as-of", "2016-08-23")
    assert row["total"] == 1 and row["closure_rate"] == 0.0
    for key in ("on_time_rate", "sign_on_time_rate", "extension_rate", "return_rate", "rebound_rate",
                "median_days_to_close"):
        assert row[key] is None, key
    table = runner.invoke(app, ["report", "--county", "康定市", "--as-of", "2016-08-23"]).stdout
    assert "—" in table and "0.0%" in table


def test_slices_add_up_and_the_best_comes_first(campaign):
    by_severity = report("--by", "severity", "--as-of", "2016-09-05 10:00")
    assert [r["key"] for r in by_severity] == ["一般"] and by_severity[0]["total"] == 8
    by_unit = report("--by", "unit", "--county", COUNTY, "--as-of", "2016-09-05 10:00")
    assert {r["key"]: r["total"] for r in by_unit} == {campaign: 6, "(未指定)": 2}
    # Rank 1, the best, first: 1 of 2 unassigned solved on site against the unit's 2 of 6.
    assert [(r["key"], r["rank"], r["closure_rate"]) for r in by_unit] == [("(未指定)", 1, 0.5), (campaign, 2, 2 / 6)]
    by_leader = report("--by", "leader", "--as-of", "2016-09-05 10:00")
    assert by_leader[0]["key"] == "州领导13"


def test_the_workbook_has_the_same_numbers(campaign, tmp_path):
    out = tmp_path / "统计.xlsx"
    result = runner.invoke(app, ["report", "--county", COUNTY, "--as-of", "2016-09-05 10:00", "--format", "xlsx",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    headers = [c.value for c in sheet[2]]
    values = dict(zip(headers, [c.value for c in sheet[3]], strict=True))
    assert values["名称"] == COUNTY and values["问题数"] == 8 and values["销号率"] == 0.375
    assert values["暂缓中"] == 1 and values["暂缓工作日"] == 3
    assert values["按期销号率"] == 0.5 and values["退回率"] == 0.25


def test_an_unknown_slice_is_refused():
    result = runner.invoke(app, ["report", "--by", "township2"])
    assert result.exit_code != 0 and "township2" in result.output + (result.stderr or "")


def test_the_ledger_workbook_reads_back_with_the_report_numbers(campaign, tmp_path):
    out = tmp_path / "台账.xlsx"
    result = runner.invoke(app, ["ledger", "--county", COUNTY, "--out", str(out), "--as-of", "2016-09-05 10:00"])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["汇总", COUNTY]
    sheet = workbook[COUNTY]
    headers = [c.value for c in sheet[2]]
    rows = [dict(zip(headers, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=3)]
    assert len(rows) == 8 and [r["序号"] for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    by_text = {r["问题描述"]: r for r in rows}
    assert "P6" not in by_text  # void
    assert (
        by_text["P1"]["状态"] == "已销号"
        and by_text["P1"]["核验人"] == VERIFIER
        and by_text["P1"]["销号时间"] == "2016-08-25"
    )
    assert by_text["P3"]["原整改时限"].date() == date(2016, 8, 26) and by_text["P3"]["现整改时限"].date() == date(
        2016, 9, 2
    )
    assert by_text["P4"]["灯"] == "红" and by_text["P7"]["灯"] in ("绿", "黄") and by_text["P2"]["灯"] is None
    light_column = headers.index("灯") + 1
    red_row = next(i for i, r in enumerate(rows, start=3) if r["灯"] == "红")
    assert sheet.cell(row=red_row, column=light_column).fill.fgColor.rgb.endswith("F4B6B6")
    assert sheet.freeze_panes == "C3" and sheet.auto_filter.ref == "A2:R10"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9

    summary = workbook["汇总"]
    labels = [c.value for c in summary[2]]
    figures_row = dict(zip(labels, [c.value for c in summary[3]], strict=True))
    [reported] = report("--by", "county", "--county", COUNTY, "--as-of", "2016-09-05 10:00")
    assert figures_row["问题数"] == reported["total"] and figures_row["销号率"] == reported["closure_rate"]
    assert figures_row["逾期"] == reported["overdue"] and figures_row["按期签收率"] == reported["sign_on_time_rate"]


def test_the_weekly_bulletin_is_published_and_reaches_leadership(campaign, prefect_harness):
    import io

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from standins import Mailbox, Robots

    from rectify.models.deliveries import Channel
    from rectify.models.lookup import get_user

    with Mailbox() as mailbox, Robots() as robots:
        with unit_of_work(at("2016-09-05")) as ctx:
            ctx.session.add(Channel(user=get_user(ctx.session, "州领导13"), url=mailbox.url("leader13@example.com"),
                                    kind="email", priority=1, active=True, created_at=ctx.now))
            ctx.session.add(Channel(user=get_user(ctx.session, "州督查办"), url=f"rwecombot://dcb?api={robots.api}",
                                    kind="wecombot", priority=1, active=True, created_at=ctx.now))
        result = runner.invoke(app, ["bulletin", "--as-of", "2016-09-05 09:00"])
        assert result.exit_code == 0, result.output
        [mail] = mailbox.messages
        assert mail["to"] == ["leader13@example.com"] and "整改周通报" in mail["subject"]
        assert COUNTY in mail["body"] and "逾期最久" in mail["body"]
        attached = mail["attachments"]
        assert sorted(n.rsplit(".", 1)[1] for n in attached) == ["docx", "xlsx"]
        workbook = next(content for name, content in attached.items() if name.endswith(".xlsx"))
        ranking = load_workbook(io.BytesIO(workbook))["县(市)排名"]
        assert [c.value for c in ranking[2]][1:4] == [COUNTY, 8, 0.375]
        # The .docx bulletin (公文) carries the same ranking, numbered as the week's bulletin.
        from docx import Document

        document = Document(io.BytesIO(next(c for n, c in attached.items() if n.endswith(".docx"))))
        assert document.paragraphs[0].text == "甘孜州督查办文件"
        assert any(p.text.startswith("甘督通〔2016〕1号") for p in document.paragraphs)
        [row] = [r for r in document.tables[0].rows[1:] if r.cells[1].text == COUNTY]
        assert [c.text for c in row.cells][:4] == ["1", COUNTY, "8", "37.5%"]
        short = robots.of("wecombot")[0]["body"]["markdown"]["content"]
        assert "整改周通报" in short and len(short.encode()) <= 2048 and "销号率" in short
        again = runner.invoke(app, ["bulletin", "--as-of", "2016-09-05 10:00"])
        assert again.exit_code == 0 and len(mailbox.messages) == 1  # the same week's bulletin is sent once
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["weekly-bulletin", "weekly-bulletin-ranking"])))}
    assert keys == {"weekly-bulletin", "weekly-bulletin-ranking"}


@pytest.mark.parametrize("scope", [COUNTY, None])
def test_the_running_totals_the_present_state_and_the_event_log_give_the_same_figures(campaign, scope):
    from rectify.models.figures import DIMENSIONS, figures_from_events, present_figures, tallied_figures
    from rectify.models.lookup import get_county

    moment = at("2016-09-05")
    with unit_of_work(moment) as ctx:
        for by in DIMENSIONS:
            kwargs = {"by": by, "county": get_county(ctx.session, scope) if scope else None}
            # Overdue is counted from the passed deadlines or from the others, whichever are
            # fewer: before any deadline, now (one of two passed), after every deadline.
            for today in (date(2016, 8, 20), ctx.today, date(2016, 12, 31)):
                tallied = tallied_figures(ctx.session, today=today, **kwargs)
                scanned = present_figures(ctx.session, today=today, **kwargs)
                assert tallied and [r.as_dict() for r in tallied] == [r.as_dict() for r in scanned], (by, today)
            scanned = present_figures(ctx.session, today=ctx.today, **kwargs)
            recounted = figures_from_events(ctx.session, as_of=moment, calendar=ctx.calendar, **kwargs)
            assert [r.as_dict() for r in scanned] == [r.as_dict() for r in recounted], by


def test_the_triggers_keep_the_totals_whatever_writes_the_problems(campaign):
    """Lifecycle steps (the campaign), a bulk Core update, a delete: the totals the triggers
    kept equal a recount from the problems (`rectify db recount`, after the totals were lost),
    and void problems count nowhere."""
    from sqlalchemy import delete, text, update

    from rectify.models import tallies
    from rectify.models.issues import Issue, IssueEvent

    def totals(session):
        return sorted(tuple(r) for r in session.execute(text("SELECT * FROM issue_tallies")).all())

    with unit_of_work(at("2016-09-05")) as ctx:
        s = ctx.session
        p4 = s.scalars(select(Issue).where(Issue.description == "P4")).one()
        s.execute(update(Issue).where(Issue.id == p4.id).values(deadline=date(2016, 9, 30), sign_count=1))
        p5 = s.scalars(select(Issue.id).where(Issue.description == "P5")).one()
        s.execute(delete(IssueEvent).where(IssueEvent.issue_id == p5))
        s.execute(delete(Issue).where(Issue.id == p5))
    with unit_of_work(at("2016-09-05")) as ctx:
        kept = totals(ctx.session)
        t = tallies.IssueTally  # 9 recorded, one void, one deleted:
        assert sum(ctx.session.scalars(select(t.n).where(t.dimension == "county", t.kind == "state"))) == 7
        ctx.session.execute(delete(t))
    recount = runner.invoke(app, ["db", "recount"])
    assert recount.exit_code == 0 and "7 个问题" in recount.stdout, recount.output
    with unit_of_work(at("2016-09-05")) as ctx:
        assert totals(ctx.session) == kept


def test_the_dashboard_counts_closures_per_week(campaign):
    """P1 and P7 closed on Thursday 25 August (P7 reopened since: its closure still happened),
    P3 on Thursday 1 September; weeks start on Monday, Asia/Shanghai."""
    from rectify.web.dashboard import WEEKS, dashboard

    with unit_of_work(at("2016-09-05")) as ctx:
        board = dashboard(ctx.session, now=ctx.now, calendar=ctx.calendar, policy=ctx.policy, url="weekly-closures")
    weeks = dict(board.weekly_closures)
    assert len(weeks) == WEEKS and max(weeks) == date(2016, 9, 5)
    assert (weeks[date(2016, 8, 22)], weeks[date(2016, 8, 29)], weeks[date(2016, 9, 5)]) == (2, 1, 0)
    assert sum(weeks.values()) == 3


def test_rank_one_is_the_best_on_every_surface():
    from rectify.models.figures import FigureRow, ranked

    def row(key, closure, on_time, overdue):
        return FigureRow(key, 10, 0, 10, 0, 5, closure, closure, closure, on_time, overdue, 0,
                         None, None, None, None, None)

    rows = [row("甲", 0.5, 0.9, 1), row("乙", 0.8, 0.5, 0), row("丙", None, None, 0), row("丁", 0.5, 0.9, 0),
            row("戊", 0.5, 0.2, 0)]
    assert [r.key for r in ranked(rows)] == ["乙", "丁", "甲", "戊", "丙"]
