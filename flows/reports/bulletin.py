"""The `weekly-bulletin` Prefect flow (周通报): the county ranking with last week's change, the
worst-overdue problems and the units with most cards; written as Markdown and .xlsx, published
as Prefect artifacts, and sent to leadership through the delivery ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from rectify.flows.context import unit_of_work
from rectify.flows.reports.cells import append_row
from rectify.flows.reports.columns import shown
from rectify.flows.reports.gongwen import Gongwen
from rectify.flows.reports.official import Written
from rectify.flows.runs import command_run
from rectify.models.burden import county_burden
from rectify.models.calendar import local_date, moment_text
from rectify.models.db import rectify_home
from rectify.models.deliveries import user_key
from rectify.models.documents import register
from rectify.models.enums import DocumentKind, MessageKind, Supervision
from rectify.models.estimates import interval_text, per_hundred_by_county, rank_bands
from rectify.models.figures import carded_units, figures, rate, worst_overdue
from rectify.models.org import PREFECTURE_OFFICE, leader_ids, prefecture_coordinator_ids
from rectify.models.overlays import days_to
from rectify.models.places import place_of
from rectify.notifications.ledger import Directory, Notice, deliver_standalone, queue
from rectify.notifications.links import base_url
from rectify.notifications.messages import render_page
from rectify.notifications.send import RateLimiter


@dataclass
class Bulletin:
    week: str
    today: str
    moment: str  # the moment counted at, as every surface states it
    totals: dict
    ranking: list[dict]
    overdue: list[dict]
    units: list[dict]
    now: datetime | None = None  # the moment counted at
    burden: list[dict] = field(default_factory=list)  # per county, the past 7 days (models.burden)
    caps: dict = field(default_factory=dict)
    markdown: Path | None = None
    workbook: Path | None = None
    document: Path | None = None
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def compile_bulletin(now: datetime) -> Bulletin:
    with unit_of_work(now) as ctx:
        session, today = ctx.session, ctx.today
        current = figures(session, by="county", as_of=now, calendar=ctx.calendar, policy=ctx.policy)
        before = {r.key: r for r in figures(session, by="county", as_of=now - timedelta(days=7), calendar=ctx.calendar,
                                            policy=ctx.policy)}
        per_hundred = per_hundred_by_county(session, as_of=now)
        bands = rank_bands(current)
        ranking = []
        for r in current:
            previous = before.get(r.key)
            change = None
            if previous is not None and r.closure_rate is not None and previous.closure_rate is not None:
                change = f"{(r.closure_rate - previous.closure_rate) * 100:+.1f} 个百分点"
            sampled = per_hundred.get(r.key)
            band = bands[r.key]
            ranking.append({"rank": r.rank, "key": r.key, "total": r.total,
                            "closure": shown("closure_rate", r.closure_rate), "closure_rate": r.closure_rate,
                            "change": change or "—",
                            "on_time": shown("on_time_rate", r.on_time_rate), "overdue": r.overdue,
                            "verification_late": r.verification_late,
                            "satisfaction": shown("satisfaction_rate", r.satisfaction_rate), "callbacks": r.callbacks,
                            "closure_interval": band.interval, "ranks": band.ranks,
                            "apart": band.apart_from_next, "too_small": band.too_small,
                            "per_hundred": "—" if sampled is None or sampled.value is None
                            else f"{sampled.value:.1f}",
                            "per_hundred_interval": "—" if sampled is None
                            else interval_text(sampled, percent=False)})
        total = sum(r.total for r in current)
        closed = sum(r.closed for r in current)
        on_site = sum(r.resolved_on_site for r in current)
        totals = {"total": total, "closed": closed, "on_site": on_site, "overdue": sum(r.overdue for r in current),
                  "verification_late": sum(r.verification_late for r in current),
                  "closure": shown("closure_rate", rate(closed + on_site, total))}
        overdue = [
            {
                "code": i.code,
                "place": place_of(i),
                "item": i.check_item.title,
                "unit": i.unit.name if i.unit else "未交办",
                "deadline": i.deadline.isoformat(),
                "days": -days_to(i.deadline, today=today, calendar=ctx.calendar),
                "supervision": None if i.supervision is Supervision.NORMAL else i.supervision.label,
            }
            for i in worst_overdue(session, today=today)
            if i.deadline is not None
        ]
        units = [{"name": n, "yellow": y, "red": r, "listed": listed} for n, y, r, listed in carded_units(session)]
        loads = county_burden(session, since=now - timedelta(days=7), until=now, policy=ctx.policy)
        burden = [{"county": r.key, **loads.get(r.key, {"village_visits": 0, "household_visits": 0,
                                                        "evidence_requests": 0, "reminders": 0, "over_cap": 0}),
                   "closure": shown("closure_rate", r.closure_rate)} for r in current]
        caps = {"reminders": ctx.policy.reminders_per_unit_per_day,
                "village": ctx.policy.visits_per_village_per_campaign,
                "household": ctx.policy.visits_per_household_per_campaign}
        week = f"{today.isocalendar().year} 年第 {today.isocalendar().week} 周"
    return Bulletin(week=week, today=today.isoformat(), moment=moment_text(now), totals=totals, ranking=ranking,
                    overdue=overdue, units=units, now=now, burden=burden, caps=caps)


def write_files(bulletin: Bulletin, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    bulletin.markdown = folder / f"整改周通报-{bulletin.today}.md"
    bulletin.markdown.write_text(render_page("bulletin_full.md.j2", **_values(bulletin)) + "\n", encoding="utf-8")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "县(市)排名"
    sheet.append(["名次", "县(市)", "问题数", "销号率", "较上周", "按期销号率", "逾期", "核验超时", "每百项问题",
                  "销号率95%区间", "名次区间", "每百项问题95%区间", "满意率", "回访户数"])
    for index, r in enumerate(bulletin.ranking, start=1):
        sheet.append([r["rank"], r["key"], r["total"], r["closure_rate"], r["change"], r["on_time"], r["overdue"],
                      r["verification_late"], r["per_hundred"], r["closure_interval"], r["ranks"],
                      r["per_hundred_interval"], r["satisfaction"], r["callbacks"]])
        sheet.cell(row=index + 1, column=4).number_format = "0.0%"
    overdue = workbook.create_sheet("逾期最久")
    overdue.append(["问题编号", "县(市)", "检查项目", "责任单位", "整改时限", "逾期工作日", "督办"])
    for i in bulletin.overdue:
        append_row(overdue, [i["code"], i["place"], i["item"], i["unit"], i["deadline"], i["days"], i["supervision"]])
    load = workbook.create_sheet("基层负担")
    load.append(["县(市)", "销号率", "督导到村(次)", "督导到户(次)", "佐证要求", "发给单位的提醒", "超过上限"])
    for b in bulletin.burden:
        append_row(load, [b["county"], b["closure"], b["village_visits"], b["household_visits"],
                          b["evidence_requests"], b["reminders"], b["over_cap"]])
    units = workbook.create_sheet("督办最多的单位")
    units.append(["单位", "挂牌督办", "红牌", "黄牌"])
    for u in bulletin.units:
        append_row(units, [u["name"], u["listed"], u["red"], u["yellow"]])
    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        ws.column_dimensions["B"].width = 18
    bulletin.workbook = folder / f"整改周通报-{bulletin.today}.xlsx"
    workbook.save(bulletin.workbook)
    assert bulletin.now is not None  # set by compile_bulletin
    bulletin.document = write_document(bulletin, folder / f"整改周通报-{bulletin.today}.docx", now=bulletin.now).path


def title_of(bulletin: Bulletin) -> str:
    return f"甘孜州脱贫攻坚督查问题整改周通报({bulletin.week})"


def write_document(bulletin: Bulletin, path: Path, *, now: datetime) -> Written:
    """The bulletin as an official document (.docx, GB/T 9704), numbered in the register once per week."""
    title = title_of(bulletin).replace("(", "（").replace(")", "）")
    with unit_of_work(now) as ctx:
        reference = register(ctx.session, kind=DocumentKind.BULLETIN, subject=f"week:{bulletin.week}",
                             issuer=PREFECTURE_OFFICE, title=title, now=now).reference
    doc = Gongwen(issuer=PREFECTURE_OFFICE, reference=reference, title=title,
                  addressee="各县（市）党委、政府，州级有关部门",
                  author=PREFECTURE_OFFICE, created=now)
    t = bulletin.totals
    doc.paragraph(f"截至{bulletin.moment}，全州督导发现问题 {t['total']} 个，已销号 {t['closed']} 个，"
                  f"现场解决 {t['on_site']} 个，销号率 {t['closure']}；逾期 {t['overdue']} 个，"
                  f"核验超时 {t['verification_late']} 个。现将各县（市）整改情况通报如下。")
    doc.heading("一、县（市）排名")
    doc.table(["名次", "县（市）", "问题数", "销号率", "95% 区间", "名次区间", "较上周（百分点）", "按期销号率", "逾期",
               "核验超时", "每百项问题", "满意率"],
              [[r["rank"], r["key"], r["total"], r["closure"], r["closure_interval"], r["ranks"],
                r["change"].replace(" 个百分点", ""), r["on_time"], r["overdue"], r["verification_late"],
                r["per_hundred"], r["satisfaction"]] for r in bulletin.ranking],
              [10, 18, 12, 18, 28, 12, 18, 18, 10, 12, 14, 14])
    doc.heading("二、逾期最久的问题")
    if bulletin.overdue:
        doc.table(["问题编号", "地点", "检查项目", "责任单位", "整改时限", "逾期工作日", "督办"],
                  [[i["code"], i["place"], i["item"], i["unit"], i["deadline"], i["days"], i["supervision"] or "—"]
                   for i in bulletin.overdue], [28, 34, 22, 28, 22, 14, 16])
    else:
        doc.paragraph("本期没有逾期的问题。")
    doc.heading("三、基层负担（近 7 天）")
    doc.table(["县（市）", "销号率", "督导到村（次）", "督导到户（次）", "佐证要求", "发给单位的提醒", "超过上限"],
              [[b["county"], b["closure"], b["village_visits"], b["household_visits"], b["evidence_requests"],
                b["reminders"], b["over_cap"]] for b in bulletin.burden], [26, 18, 22, 22, 18, 24, 18])
    doc.heading("四、督办最多的单位")
    if bulletin.units:
        doc.table(["单位", "挂牌督办", "红牌", "黄牌"], [[u["name"], u["listed"], u["red"], u["yellow"]]
                                                   for u in bulletin.units], [60, 20, 20, 20])
    else:
        doc.paragraph("本期没有黄牌、红牌或挂牌督办的问题。")
    doc.paragraph("名次第 1 名最好（销号率最高，其次按期销号率、逾期最少）。销号率的 95% 区间按各县问题数计算；"
                  "两县区间重叠的，名次之差可能只是偶然，「名次区间」是按区间该县可能的名次。")
    doc.signature(PREFECTURE_OFFICE, local_date(now))
    return Written(doc.save(path), DocumentKind.BULLETIN, reference, title, len(bulletin.overdue))


def _values(bulletin: Bulletin) -> dict:
    return {"week": bulletin.week, "today": bulletin.today, "moment": bulletin.moment, "totals": bulletin.totals,
            "ranking": bulletin.ranking, "overdue": bulletin.overdue, "units": bulletin.units, "base_url": base_url(),
            "burden": bulletin.burden, "caps": bulletin.caps}


def leadership(session) -> list[str]:
    """Who receives the bulletin: every leader, and the prefecture coordinators."""
    return [user_key(i) for i in sorted(set(leader_ids(session)) | set(prefecture_coordinator_ids(session)))]


def send_bulletin(bulletin: Bulletin, now: datetime) -> None:
    title = title_of(bulletin)
    assert bulletin.markdown is not None  # written before it is sent
    body = bulletin.markdown.read_text(encoding="utf-8")
    short = render_page("bulletin_short.md.j2", **_values(bulletin))
    with unit_of_work(now) as ctx:
        day = local_date(now)
        queue(ctx.session, [Notice(r, MessageKind.BULLETIN, f"周通报 {bulletin.today}", day, [])
                            for r in leadership(ctx.session)], now=now)
    with unit_of_work(now) as ctx:
        outcomes = deliver_standalone(ctx.session, kind=MessageKind.BULLETIN, now=now,
                                      outbox=rectify_home() / "outbox", limiter=RateLimiter(),
                                      directory=Directory.load(ctx.session), title=title, body=body, short=short,
                                      attach=[p for p in (bulletin.workbook, bulletin.document) if p is not None])
    bulletin.sent = sum(1 for o in outcomes if o.ok)
    bulletin.failed = [f"{o.recipient}:{o.attempts[-1].detail}" for o in outcomes if not o.ok]


@task(name="compile", cache_policy=NO_CACHE)
def _compile_task(now: datetime) -> Bulletin:
    return compile_bulletin(now)


@task(name="send", cache_policy=NO_CACHE)
def _send_task(bulletin: Bulletin, now: datetime) -> None:
    send_bulletin(bulletin, now)


@flow(name="weekly-bulletin")
def weekly_bulletin(now: datetime | None = None) -> Bulletin:
    now = now or datetime.now(UTC)
    bulletin = _compile_task(now)
    write_files(bulletin, rectify_home() / "bulletins")
    create_table_artifact([{k: r[k] for k in ("rank", "key", "total", "closure", "closure_interval", "ranks", "change",
                                               "on_time", "overdue", "verification_late", "per_hundred",
                                               "per_hundred_interval")} for r in bulletin.ranking],
                          key="weekly-bulletin-ranking", description=f"县(市)排名 {bulletin.week}")
    assert bulletin.markdown is not None  # written before it is published
    create_markdown_artifact(bulletin.markdown.read_text(encoding="utf-8"), key="weekly-bulletin",
                             description=f"整改周通报 {bulletin.week}")
    _send_task(bulletin, now)
    get_run_logger().info("周通报 %s:已发送 %s 人,失败 %s", bulletin.week, bulletin.sent, len(bulletin.failed))
    return bulletin


def run_bulletin(now: datetime) -> Bulletin:
    with command_run("bulletin"):
        return weekly_bulletin(now)
