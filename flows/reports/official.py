"""The official documents (公文) government work moves on, in the GB/T 9704 layout (gongwen.py):

- 整改通知书 (notice): per unit per batch of assignments (an inspection's import, or a day's);
- 督办单 (urge): per unit per escalation (黄牌, 红牌, 挂牌督办 on a day), with the days overdue,
  the date to finish by and what follows if it is missed;
- 对账销号单 (reconcile): per unit, the problems closed in a period, with lines to sign;
- 整改情况报告 (report): for a county or an inspection, its figures (models.figures), typical
  problems, measures, 举一反三 and next steps;
- the weekly bulletin (bulletin.py writes it with the others).

Each is numbered once in the register (models.documents) and can be written again with the same
number. Problems and figures come from models/, at the moment `now`, as every other surface.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from rectify.flows.reports.columns import COLUMNS, shown
from rectify.flows.reports.gongwen import Gongwen, date_text
from rectify.models.calendar import SHANGHAI, WorkCalendar, local_date, moment_text
from rectify.models.documents import register
from rectify.models.enums import UNIT_CLOCK_STATUSES, DocumentKind, Severity, Status, Supervision
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.figures import FigureRow, figures
from rectify.models.inspections import Inspection
from rectify.models.issues import Issue, IssueEvent
from rectify.models.org import Unit, User, office_of
from rectify.models.overlays import days_to
from rectify.models.places import County, place_of
from rectify.models.policy import Policy
from rectify.notifications.links import workbench_url

LEADING_GROUP = "甘孜州脱贫攻坚领导小组"
EXAMPLES = 2


@dataclass(frozen=True)
class Written:
    path: Path
    kind: DocumentKind
    reference: str  # the 发文字号
    title: str
    problems: int  # rows listed


@dataclass(frozen=True)
class Clock:
    """What every document is counted with: the moment, its day, the calendar and the policy."""

    now: datetime
    calendar: WorkCalendar
    policy: Policy

    @property
    def today(self) -> date:
        return local_date(self.now)


def _problems(session: Session, *conditions) -> list[Issue]:
    return list(session.scalars(
        select(Issue).options(selectinload(Issue.county), selectinload(Issue.township), selectinload(Issue.village),
                              selectinload(Issue.household), selectinload(Issue.check_item),
                              selectinload(Issue.unit))
        .where(Issue.status != Status.VOID, *conditions).order_by(Issue.deadline, Issue.id)))


def _office(unit: Unit, problems: list[Issue], county: County | None) -> str:
    """The 督查办 that follows these problems up: the county's asked for, their county's when
    they are all in one (the office that assigned them), else the unit's own."""
    if county is not None:
        return office_of(county.name)
    counties = {p.county.name for p in problems}
    if len(counties) == 1:
        return office_of(counties.pop())
    return office_of(unit.county.name if unit.county else None)


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), SHANGHAI)
    return start, start + timedelta(days=1)


def _issue(session: Session, kind: DocumentKind, subject: str, issuer: str, title: str, clock: Clock,
           actor: User | None) -> str:
    entry = register(session, kind=kind, subject=subject, issuer=issuer, title=title, now=clock.now,
                     issued_by_id=actor.id if actor else None)
    return entry.reference


# -- 整改通知书 -----------------------------------------------------------------------------------
def latest_assignment_day(session: Session, unit: Unit, county: County | None = None) -> date | None:
    last = session.scalar(select(func.max(Issue.assigned_at)).where(Issue.unit_id == unit.id,
                                                                   Issue.status != Status.VOID, *_within(county)))
    return local_date(last) if last else None


def _within(county: County | None) -> tuple:
    """A county's 督查办 issues documents about its own county's problems only."""
    return (Issue.county_id == county.id,) if county is not None else ()


def _scope_key(county: County | None) -> str:
    return f"|county:{county.id}" if county is not None else ""


def notice(session: Session, unit: Unit, out: Path, *, clock: Clock, inspection: Inspection | None = None,
           day: date | None = None, county: County | None = None, actor: User | None = None) -> Written:
    """整改通知书: the problems handed to `unit` by one inspection, or on one day (the latest
    day it was handed problems when neither is given); `county` keeps to that county's."""
    if inspection is not None:
        problems = _problems(session, Issue.unit_id == unit.id, Issue.inspection_id == inspection.id,
                             Issue.assigned_at.is_not(None), *_within(county))
        subject, source = f"unit:{unit.id}|inspection:{inspection.id}", f"{inspection.name}督导检查情况"
    else:
        day = day or latest_assignment_day(session, unit, county)
        if day is None:
            raise NotFound("交办给该单位的问题", unit.name)
        start, end = _day_range(day)
        problems = _problems(session, Issue.unit_id == unit.id, Issue.assigned_at >= start, Issue.assigned_at < end,
                             *_within(county))
        subject, source = f"unit:{unit.id}|day:{day.isoformat()}", f"{date_text(day)}交办情况"
    subject += _scope_key(county)
    if not problems:
        raise NotFound("交办给该单位的问题", f"{unit.name}({inspection.name if inspection else day})")
    issuer = _office(unit, problems, county)
    title = "关于限期整改督导发现问题的通知"
    reference = _issue(session, DocumentKind.NOTICE, subject, issuer, title, clock, actor)
    doc = Gongwen(issuer=issuer, reference=reference, title=title, addressee=unit.name, author=issuer,
                  created=clock.now)
    counts = Counter(p.severity for p in problems)
    parts = "、".join(f"{s.label} {counts[s]} 个" for s in (Severity.GRAVE, Severity.SERIOUS, Severity.NORMAL)
                     if counts[s])
    doc.paragraph(f"根据{source}，现将你单位负责整改的问题 {len(problems)} 个（{parts}）交办如下，"
                  f"请按要求限期整改到位。")
    doc.heading("一、交办问题清单")
    doc.table(["序号", "问题编号", "地点", "检查项目", "问题描述", "严重程度", "整改时限"],
              [[n, p.code, place_of(p, household=True), p.check_item.title, p.description, p.severity.label,
                _date(p.deadline)] for n, p in enumerate(problems, start=1)],
              [10, 28, 30, 18, 42, 16, 24])
    policy = clock.policy
    ladder = policy.escalation_days
    doc.heading("二、整改要求")
    doc.subheading("（一）按时签收。")
    doc.paragraph(f"请于交办后 {policy.sign_within_days} 个工作日内在系统中签收，逾期签收的予以记录。")
    doc.subheading("（二）限期整改，报送佐证。")
    photos = sorted({p.check_item.title for p in problems if policy.photos_required(p.check_item)})
    doc.paragraph("整改完成后，在系统中填报整改措施，上传佐证材料，申请销号；经核验人核验后予以销号。"
                  + (f"其中{'、'.join(photos)}类问题须附整改前后照片。" if photos else ""))
    doc.subheading("（三）确需延期的，事前申请。")
    doc.paragraph("确因客观原因不能按期完成的，应在整改时限届满前申请延期，经督查办批准后执行；"
                  "原定时限仍作为按期销号的统计依据。")
    doc.subheading("（四）逾期督办。")
    doc.paragraph(f"逾期 {ladder[Supervision.YELLOW]} 个工作日的黄牌督办，"
                  f"{ladder[Supervision.RED]} 个工作日的红牌督办，"
                  f"{ladder[Supervision.LISTED]} 个工作日的挂牌督办并移交问责线索。")
    doc.paragraph(f"网上办理：{workbench_url()}")
    doc.signature(issuer, clock.today)
    path = doc.save(out)
    return Written(path, DocumentKind.NOTICE, reference, title, len(problems))


# -- 督办单 -------------------------------------------------------------------------------------
_NEXT = {Supervision.YELLOW: Supervision.RED, Supervision.RED: Supervision.LISTED}


def _escalated(session: Session, unit: Unit, level: Supervision, county: County | None) -> dict[date, set[int]]:
    """Per day, the unit's problems raised to `level` that day (from the events)."""
    days: dict[date, set[int]] = defaultdict(set)
    for issue_id, at, payload in session.execute(
            select(IssueEvent.issue_id, IssueEvent.at, IssueEvent.payload).join(Issue, Issue.id == IssueEvent.issue_id)
            .where(IssueEvent.action == "escalate", Issue.unit_id == unit.id, *_within(county))):
        if (payload or {}).get("to") == level.value:
            days[local_date(at)].add(issue_id)
    return days


def urge(session: Session, unit: Unit, level: Supervision, out: Path, *, clock: Clock, day: date | None = None,
         county: County | None = None, actor: User | None = None) -> Written:
    """督办单: the unit's problems raised to `level` on `day` (the latest such day by default)."""
    if level is Supervision.NORMAL:
        raise InvalidInput("督办单只用于黄牌、红牌或挂牌督办", field="supervision")
    days = _escalated(session, unit, level, county)
    day = day or (max(days) if days else None)
    if day is None or not days.get(day):
        raise NotFound(f"{level.label}的问题", f"{unit.name}({day or '无'})")
    problems = _problems(session, Issue.id.in_(days[day]))
    issuer = _office(unit, problems, county)
    title = f"{issuer}{level.label}督办单"
    reference = _issue(session, DocumentKind.URGE,
                       f"unit:{unit.id}|{level.value}|day:{day.isoformat()}{_scope_key(county)}", issuer, title,
                       clock, actor)
    doc = Gongwen(issuer=issuer, reference=reference, title=title, addressee=unit.name, author=issuer,
                  created=clock.now, masthead=f"{issuer}督办单")
    policy = clock.policy
    by = clock.calendar.add_workdays(max(day, clock.today), policy.urge_within_days[level])
    doc.paragraph(f"你单位负责整改的下列 {len(problems)} 个问题，"
                  f"逾期满 {policy.escalation_days[level]} 个工作日仍未整改到位，"
                  f"{date_text(day)}起予以{level.label}。截至{moment_text(clock.now)}的情况如下：")
    rows = []
    for n, p in enumerate(problems, start=1):
        overdue: int | str = "—"  # the unit's clock has stopped (submitted) or never ran
        if p.status in UNIT_CLOCK_STATUSES and p.deadline is not None:
            overdue = max(0, -days_to(p.deadline, today=clock.today, calendar=clock.calendar))
        rows.append([n, p.code, place_of(p, household=True), p.check_item.title, _date(p.original_deadline),
                     _date(p.deadline), overdue, p.status.label])
    doc.table(["序号", "问题编号", "地点", "检查项目", "原定时限", "现行时限", "逾期工作日", "状态"], rows,
              [10, 28, 30, 20, 24, 24, 16, 18])
    doc.heading("一、办理要求")
    doc.paragraph(f"请于{date_text(by)}前整改到位并在系统中申请销号，同时书面报告未按期整改的原因、责任人和整改措施。"
                  f"问题已申请销号的，请配合核验。")
    doc.heading("二、逾期后果")
    following = _NEXT.get(level)
    if following is not None:
        consequence = (f"逾期满 {policy.escalation_days[following]} 个工作日仍未整改到位的，升级为{following.label}"
                       + ("，报联系县的州领导。" if following is Supervision.RED else "，并移交问责线索。"))
    else:
        consequence = "已移交问责线索；整改仍不到位的，依规依纪追究相关单位和人员责任。"
    doc.paragraph(consequence)
    doc.paragraph(f"网上办理：{workbench_url()}")
    doc.signature(issuer, clock.today)
    return Written(doc.save(out), DocumentKind.URGE, reference, title, len(problems))


# -- 对账销号单 -----------------------------------------------------------------------------------
def _verifiers(session: Session, issue_ids: list[int]) -> dict[int, str]:
    """Per problem, who verified its latest closure."""
    found: dict[int, str] = {}
    for issue_id, name, display in session.execute(
            select(IssueEvent.issue_id, User.name, User.display_name).join(User, User.id == IssueEvent.actor_id)
            .where(IssueEvent.issue_id.in_(issue_ids), IssueEvent.action == "verify").order_by(IssueEvent.seq)):
        found[issue_id] = display or name
    return found


def reconcile(session: Session, unit: Unit, out: Path, *, clock: Clock, since: date, until: date,
              county: County | None = None, actor: User | None = None) -> Written:
    """对账销号单: the unit's problems closed from `since` to `until` (inclusive), to sign."""
    if until < since:
        raise InvalidInput(f"对账期间的结束日 {until} 早于开始日 {since}", field="period")
    start, end = _day_range(since)[0], _day_range(until)[1]
    problems = _problems(session, Issue.unit_id == unit.id, Issue.status == Status.CLOSED,
                         Issue.closed_at >= start, Issue.closed_at < end, Issue.closed_at <= clock.now,
                         *_within(county))
    problems.sort(key=lambda p: (p.closed_at, p.id))
    issuer = _office(unit, problems, county)
    title = f"{unit.name}整改问题对账销号单({since.isoformat()}至{until.isoformat()})"
    reference = _issue(session, DocumentKind.RECONCILE,
                       f"unit:{unit.id}|{since.isoformat()}|{until.isoformat()}{_scope_key(county)}", issuer, title,
                       clock, actor)
    doc = Gongwen(issuer=issuer, reference=reference, title=title, addressee=unit.name, author=issuer,
                  created=clock.now, masthead=f"{issuer}对账销号单")
    verifiers = _verifiers(session, [p.id for p in problems])
    on_time = sum(1 for p in problems if p.closed_on_time)
    doc.paragraph(f"{date_text(since)}至{date_text(until)}，你单位负责整改的问题经核验销号 {len(problems)} 个，"
                  f"其中按期销号 {on_time} 个。请核对下表，无误后签字盖章，报{issuer}存档。")
    doc.table(["序号", "问题编号", "地点", "检查项目", "申请销号", "核验人", "销号日期", "按期"],
              [[n, p.code, place_of(p, household=True), p.check_item.title, _day(p.submitted_at),
                verifiers.get(p.id, "—"), _day(p.closed_at), "是" if p.closed_on_time else "否"]
               for n, p in enumerate(problems, start=1)],
              [10, 28, 30, 20, 24, 18, 24, 10])
    doc.sign_lines([(f"责任单位：{unit.name}（盖章）", ["经办人", "单位负责人"]), (f"督查办：{issuer}", ["核对人"])])
    doc.signature(issuer, clock.today)
    return Written(doc.save(out), DocumentKind.RECONCILE, reference, title, len(problems))


# -- 整改情况报告 ---------------------------------------------------------------------------------
def report(session: Session, out: Path, *, clock: Clock, county: County | None = None,
           inspection: Inspection | None = None, actor: User | None = None) -> Written:
    """整改情况报告 for a county or an inspection: the figures, the main problems with
    examples, the measures taken, 举一反三 and the next steps."""
    if (county is None) == (inspection is None):
        raise InvalidInput("整改情况报告针对一个县(市)或一次督导,二者选一", field="scope")
    if county is not None:
        row = _figure(figures(session, by="county", as_of=clock.now, calendar=clock.calendar, policy=clock.policy,
                              county=county), county.name)
        scope, issuer, subject = county.name, office_of(county.name), f"county:{county.id}"
        problems = _problems(session, Issue.county_id == county.id)
    else:
        assert inspection is not None
        row = _figure(figures(session, by="inspection", as_of=clock.now, calendar=clock.calendar,
                              policy=clock.policy), inspection.name)
        scope = inspection.name
        issuer = office_of(inspection.county.name if inspection.county else None)
        subject = f"inspection:{inspection.id}"
        problems = _problems(session, Issue.inspection_id == inspection.id)
    subject += f"|{moment_text(clock.now)}"
    title = f"关于{scope}督导发现问题整改情况的报告"
    reference = _issue(session, DocumentKind.REPORT, subject, issuer, title, clock, actor)
    doc = Gongwen(issuer=issuer, reference=reference, title=title, addressee=LEADING_GROUP, author=issuer,
                  created=clock.now)
    moment = moment_text(clock.now)
    doc.paragraph(f"现将{scope}督导发现问题的整改情况报告如下（数据截至{moment}）。")
    doc.heading("一、基本情况")
    doc.paragraph(
        f"督导发现问题 {row.total} 个，其中现场解决 {row.resolved_on_site} 个，累计交办 {row.assigned} 个；"
        f"已销号 {row.closed} 个，待核验 {row.submitted} 个。销号率 {shown('closure_rate', row.closure_rate)}"
        f"（不含现场解决 {shown('closure_rate_excl_on_site', row.closure_rate_excl_on_site)}），"
        f"整改率 {shown('rectified_rate', row.rectified_rate)}，按期销号率 {shown('on_time_rate', row.on_time_rate)}；"
        f"逾期 {row.overdue} 个，核验超时 {row.verification_late} 个。")
    figures_shown = [(k, label) for k, label in COLUMNS if k not in ("key", "rank")]
    values = row.as_dict()
    doc.table(["指标", "数值"], [[label, shown(k, values[k])] for k, label in figures_shown], [60, 40])
    doc.heading("二、主要问题")
    categories: dict[str, list[Issue]] = defaultdict(list)
    for p in problems:
        categories[p.check_item.category].append(p)
    for n, (category, items) in enumerate(sorted(categories.items(), key=lambda kv: (-len(kv[1]), kv[0])), start=1):
        examples = "；".join(f"{place_of(p)}：{p.description}" for p in items[:EXAMPLES])
        doc.paragraph(f"{n}. {category}方面问题 {len(items)} 个。如{examples}。")
    if not categories:
        doc.paragraph("未发现问题。")
    doc.heading("三、整改措施")
    done = [p for p in problems if p.status is Status.CLOSED and p.measures][:5]
    for n, p in enumerate(done, start=1):
        doc.paragraph(f"{n}. {place_of(p)}{p.check_item.title}问题：{p.measures}")
    if not done:
        doc.paragraph("暂无已核验销号的问题。")
    doc.heading("四、举一反三")
    spread = _spread(problems)
    for title_, villages in spread:
        doc.paragraph(f"「{title_}」问题在 {villages} 个村发现，属共性问题。请相关责任单位对未抽查到的村、户举一反三、"
                      f"全面排查，同类问题一并整改。")
    if not spread:
        doc.paragraph("本次发现的问题未在两个以上村重复出现；请各责任单位对照问题清单自查。")
    doc.heading("五、下一步工作")
    overdue_units = Counter(p.unit.name for p in problems
                            if p.unit is not None and p.status in UNIT_CLOCK_STATUSES and p.deadline is not None
                            and p.deadline < clock.today)
    if overdue_units:
        names = "、".join(f"{name}（{count} 个）" for name, count in overdue_units.most_common(5))
        doc.paragraph(f"对逾期未整改的问题加大督办力度，重点督促{names}限期整改。")
    doc.paragraph(f"对待核验的 {row.submitted} 个问题及时核验，核验超时的予以通报；对已销号问题开展回头看，防止反弹。")
    doc.signature(issuer, clock.today)
    return Written(doc.save(out), DocumentKind.REPORT, reference, title, row.total)


def _figure(rows: list[FigureRow], key: str) -> FigureRow:
    found = next((r for r in rows if r.key == key), None)
    if found is None:
        raise NotFound("整改统计", key, hint="该范围内还没有登记问题")
    return found


def _spread(problems: list[Issue]) -> list[tuple[str, int]]:
    """Check items found in two or more villages, most widespread first."""
    villages: dict[str, set[int]] = defaultdict(set)
    for p in problems:
        if p.village_id is not None:
            villages[p.check_item.title].add(p.village_id)
    return sorted(((t, len(v)) for t, v in villages.items() if len(v) >= 2), key=lambda tv: (-tv[1], tv[0]))[:8]


def _date(day: date | None) -> str:
    return day.isoformat() if day else "—"


def _day(instant: datetime | None) -> str:
    return local_date(instant).isoformat() if instant else "—"
