"""Checking each findings row against the registry, the catalogue, the units and the sample.

The registry is loaded once per import into dictionaries (a county's places on first use),
so validating 10,000 rows costs no query per row.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.flows.intake import normalise
from rectify.flows.intake.source import RowError, SourceRow
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Result, Role, Severity
from rectify.models.inspections import Inspection, InspectionSample
from rectify.models.lifecycle import RECORD_ROLES
from rectify.models.lookup import closest
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Township, Village
from rectify.models.responsibility import PlaceRef, why_unit_may_not_take
from rectify.models.text import text_problem

if TYPE_CHECKING:
    from rectify.flows.intake.capture import PhoneFacts


@dataclass
class Candidate:
    """A valid row, resolved to the objects it names, ready to be written."""

    key: str
    ref: str | None  # the team's 问题编号
    content_hash: str
    source: str
    result: Result
    place: PlaceRef
    item: CheckItem
    creator: User
    description: str = ""
    severity: Severity = Severity.NORMAL
    unit: Unit | None = None
    deadline: date | int | None = None  # a date or a number of working days
    on_site_note: str | None = None
    cosigner: User | None = None
    checked_on: date | None = None
    inspector: str | None = None
    team: str | None = None
    phone: PhoneFacts | None = None  # a capture page's record: its time, position and photos


class _Reject(Exception):
    def __init__(self, column: str, message: str, value: object = None) -> None:
        self.column, self.message, self.value = column, message, value


def _suggest(what: str, value: str, names) -> str:
    near = closest(value, list(names))
    return f"找不到{what}「{value}」" + (f",您是不是要找:{'、'.join(near)}" if near else "")


_CODE = re.compile(r"^([A-Za-z]\d{2,3})(?:\s|$)")


class Registry:
    """Counties, items, units and users up front; a county's places when first needed."""

    def __init__(self, session: Session, inspection: Inspection) -> None:
        self.session = session
        self.inspection = inspection
        self.counties = {c.name: c for c in session.scalars(select(County))}
        items = list(session.scalars(select(CheckItem).where(CheckItem.active.is_(True))))
        self.items_by_code = {i.code: i for i in items}
        self.items_by_title: dict[str, list[CheckItem]] = defaultdict(list)
        for item in items:
            self.items_by_title[item.title].append(item)
        self.units = {u.name: u for u in session.scalars(select(Unit))}
        self.users = {u.name: u for u in session.scalars(select(User).where(User.active.is_(True)))}
        self._places: dict[int, _CountyPlaces] = {}
        rows = session.execute(
            select(InspectionSample.county_id, InspectionSample.village_id, InspectionSample.household_id)
            .where(InspectionSample.inspection_id == inspection.id)
        ).tuples().all()
        self.sampled_counties = {c for c, _, _ in rows}
        self.sampled_villages = {v for _, v, _ in rows}
        self.sampled_households = {h for _, _, h in rows if h is not None}
        if inspection.county_id is not None and not rows:
            self.sampled_counties = {inspection.county_id}

    def county(self, name: str) -> County:
        county = self.counties.get(name)
        if county is None:
            raise _Reject("county", _suggest("县(市)", name, self.counties), name)
        if self.sampled_counties and county.id not in self.sampled_counties:
            raise _Reject("county", "不是本次督导的县(市)", name)
        return county

    def item(self, raw: str) -> CheckItem:
        match = _CODE.match(raw)
        if match and match[1].upper() in self.items_by_code:
            return self.items_by_code[match[1].upper()]
        folded = normalise.name(raw)
        if folded.upper() in self.items_by_code:
            return self.items_by_code[folded.upper()]
        titled = self.items_by_title.get(folded, [])
        if len(titled) == 1:
            return titled[0]
        if len(titled) > 1:
            raise _Reject("item", "多个层级有此项目,请填编号:" + "、".join(i.code for i in titled), raw)
        raise _Reject("item", _suggest("检查项目", raw, [*self.items_by_title, *self.items_by_code]), raw)

    def unit(self, name: str) -> Unit:
        unit = self.units.get(name)
        if unit is None:
            raise _Reject("unit", _suggest("责任单位", name, self.units), name)
        return unit

    def user(self, column: str, name: str, *, role: Role | None = None) -> User:
        user = self.users.get(name)
        if user is None:
            candidates = [n for n, u in self.users.items() if role is None or u.role is role]
            raise _Reject(column, _suggest("用户", name, candidates), name)
        if role is not None and user.role is not role:
            raise _Reject(column, f"{name} 是{user.role.label},不是{role.label}", name)
        return user

    def places(self, county: County) -> _CountyPlaces:
        if county.id not in self._places:
            self._places[county.id] = _CountyPlaces(self.session, county)
        return self._places[county.id]

    def county_unit(self, county: County) -> Unit | None:
        return self.units.get(county.name)


class _CountyPlaces:
    def __init__(self, session: Session, county: County) -> None:
        self.county = county
        self.townships = {t.name: t for t in session.scalars(select(Township).where(Township.county_id == county.id))}
        self.villages: dict[str, list[Village]] = defaultdict(list)
        ids = {t.id for t in self.townships.values()}
        for village in session.scalars(select(Village).where(Village.township_id.in_(ids))):
            self.villages[village.name].append(village)
        self.by_registry: dict[tuple[int, str], Household] = {}
        self.by_head: dict[tuple[int, str], list[Household]] = defaultdict(list)
        village_ids = [v.id for vs in self.villages.values() for v in vs]
        for household in session.scalars(select(Household).where(Household.village_id.in_(village_ids))):
            self.by_registry[(household.village_id, household.registry_no.upper())] = household
            self.by_head[(household.village_id, household.head_name)].append(household)

    def township(self, name: str) -> Township:
        township = self.townships.get(name)
        if township is None:
            raise _Reject("township", _suggest(f"{self.county.name}的乡(镇)", name, self.townships), name)
        return township

    def village(self, name: str, township: Township | None) -> Village:
        found = [v for v in self.villages.get(name, []) if township is None or v.township_id == township.id]
        if not found:
            where = township.name if township else self.county.name
            names = [n for n, vs in self.villages.items() if any(township is None or v.township_id == township.id
                                                                  for v in vs)]
            raise _Reject("village", _suggest(f"{where}的村", name, names), name)
        if len(found) > 1:
            raise _Reject("village", "有多个同名村,请填写乡(镇):" + "、".join(v.township.name for v in found), name)
        return found[0]

    def household(self, village: Village, number: str, head: str) -> Household:
        if number:
            household = self.by_registry.get((village.id, number.upper()))
            if household is None:
                elsewhere = any(n == number.upper() for _, n in self.by_registry)
                why = "不属于" if elsewhere else "不在"
                numbers = [n for (v, n) in self.by_registry if v == village.id]
                message = f"户编号 {number} {why}{village.name}" if elsewhere else _suggest(
                    f"{village.name}的户编号", number, numbers)
                raise _Reject("household_no", message, number)
            if head and household.head_name != head:
                raise _Reject("household_head", f"与户编号 {number} 的户主({household.head_name})不一致", head)
            return household
        matches = self.by_head.get((village.id, head), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise _Reject("household_head", f"{village.name}有 {len(matches)} 户户主同名,请填写户编号", head)
        heads = [h for (v, h) in self.by_head if v == village.id]
        raise _Reject("household_head", _suggest(f"{village.name}的户主", head, heads), head)


def date_outside(day: date, inspection: Inspection, today: date) -> str | None:
    """Why a 检查日期 cannot be right: after today (the import's day), after the inspection's
    end, or in another year than the inspection's (its start is the day its sample was drawn,
    and teams' paper forms may carry earlier days of the same campaign)."""
    if day > today:
        return f"检查日期晚于今天({today.isoformat()}),请核对年份"
    start, end = inspection.start_date, inspection.end_date
    if end and day > end:
        return f"检查日期晚于督导「{inspection.name}」的结束日期 {end.isoformat()}"
    if start and day.year != start.year:
        return f"检查日期不在督导「{inspection.name}」的年份({start.year} 年)内,请核对年份"
    return None


def content_hash(row: SourceRow) -> str:
    """What the row says, independent of spacing, full-width forms and its position."""
    text = "\x1f".join(f"{key}={value}" for key, value in sorted(row.clean.items()) if key != "ref" and value)
    return hashlib.sha256(text.encode()).hexdigest()


def row_key(row: SourceRow, digest: str) -> str:
    ref = row.name("ref")
    return f"ref:{ref}" if ref else f"row:{digest[:40]}"


def validate_row(row: SourceRow, registry: Registry, *, year: int, today: date,
                 importer: User | None) -> tuple[Candidate | None, list[RowError]]:
    """The row resolved to a Candidate, or every error found in it."""
    errors: list[RowError] = []
    values = row.values

    def fail(column: str, message: str, value: object = None) -> None:
        shown = values.get(column) if value is None else value
        errors.append(RowError(row.sheet, row.row, message, column, row.letters.get(column), shown))

    if row.formulas:  # nothing else in the row can be judged while these cells have no value
        for column, formula in row.formulas.items():
            fail(column, "是公式,但文件中没有它的计算结果(文件由程序生成,未经 Excel 计算保存);"
                         "请在 Excel 中打开并保存后重试,或复制后「粘贴为数值」", f"={formula}" if formula else "公式")
        return None, errors

    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _Reject as reject:
            fail(reject.column, reject.message, reject.value)
        return None

    def parse(column: str, parser, **kwargs):
        try:
            return parser(values.get(column), **kwargs)
        except ValueError as exc:
            fail(column, str(exc))
            return None

    for column, text in row.clean.items():  # the text rule of every edge (models/text.py)
        problem = text_problem(text)
        if problem is not None:
            fail(column, problem)
    result = parse("result", normalise.result)
    county_name = row.name("county")
    county = attempt(registry.county, county_name) if county_name else None
    if not county_name:
        fail("county", "必须填写县(市)")
    item_text = row.text("item")
    item = attempt(registry.item, item_text) if item_text else None
    if not item_text:
        fail("item", "必须填写检查项目")

    place = None
    if county is not None and item is not None:
        place = _place(row, registry, county, item, attempt, fail)

    inspector = row.name("inspector") or None
    creator = None
    if inspector and inspector in registry.users and registry.users[inspector].role in RECORD_ROLES:
        creator = registry.users[inspector]
    elif importer is not None:
        creator = importer
    else:
        fail("inspector", "检查人不是系统中的督导组成员,也没有导入人可以代为登记")

    checked_on = None
    if row.text("checked_on"):
        checked_on = parse("checked_on", normalise.a_date, year=year)
        wrong = checked_on and date_outside(checked_on, registry.inspection, today)
        if wrong:
            fail("checked_on", wrong, checked_on.isoformat())
            checked_on = None

    candidate = None
    digest = content_hash(row)
    if result is not None and county is not None and item is not None and place is not None and creator:
        candidate = Candidate(
            key=row_key(row, digest),
            ref=row.name("ref") or None,
            content_hash=digest,
            source=f"{row.sheet}!{row.row}",
            result=result,
            place=place,
            item=item,
            creator=creator,
            checked_on=checked_on,
            inspector=inspector,
            team=row.text("team") or None,
        )
    if result in (Result.FAIL, Result.GOOD):
        description = row.text("description")
        if not description:
            fail("description", "结果为「不符合」或「典型经验」时必须填写问题描述")
        elif candidate is not None:
            candidate.description = description
    if result is Result.FAIL:
        _problem_fields(row, registry, candidate, county, place, year, today, parse, attempt, fail)
    return (candidate if not errors else None), errors


def _place(row, registry: Registry, county: County, item: CheckItem, attempt, fail) -> PlaceRef | None:
    if item.level is Level.COUNTY:
        return PlaceRef(county=county)
    places = registry.places(county)
    township_name = row.name("township")
    township = attempt(places.township, township_name) if township_name else None
    if township_name and township is None:
        return None
    village_name = row.name("village")
    if not village_name:
        fail("village", f"「{item.title}」是{item.level.label}级项目,必须填写村")
        return None
    village = attempt(places.village, village_name, township)
    if village is None:
        return None
    if registry.sampled_villages and village.id not in registry.sampled_villages:
        fail("village", "不在本次督导的抽样村名单中")
        return None
    household = None
    if item.level is Level.HOUSEHOLD:
        number = row.name("household_no")
        head = row.name("household_head")
        if not number and not head:
            fail("household_no", f"「{item.title}」是户级项目,必须填写户编号或户主姓名")
            return None
        household = attempt(places.household, village, number, head)
        if household is None:
            return None
        if registry.sampled_households and household.id not in registry.sampled_households:
            fail("household_no", f"该户不在{village.name}的本次抽样户名单中", number or head)
            return None
    return PlaceRef(county=county, township=village.township, village=village, household=household)


def _problem_fields(row, registry: Registry, candidate: Candidate | None, county, place, year: int,
                    today: date, parse, attempt, fail) -> None:
    severity = parse("severity", normalise.severity) if row.text("severity") else None
    if severity is None and not row.text("severity"):
        fail("severity", "结果为「不符合」时必须填写严重程度(一般 / 较重 / 严重)")
    on_site = parse("on_site", normalise.yes_no)
    note = row.text("on_site_note")
    cosigner = None
    if on_site:
        if not note:
            fail("on_site_note", "现场解决的问题必须填写现场解决情况")
        leader = row.name("leader")
        if not leader:
            fail("leader", "现场解决必须由督导组组长会签,请填写组长")
        else:
            cosigner = attempt(registry.user, "leader", leader, role=Role.TEAM_LEADER)
    unit = None
    unit_name = row.name("unit")
    if unit_name:
        unit = attempt(registry.unit, unit_name)
        refusal = why_unit_may_not_take(unit, county) if unit is not None and county is not None else None
        if refusal is not None:
            fail("unit", refusal)
            unit = None
    elif place is not None:
        unit = place.default_unit(registry.county_unit(county))
    deadline = None
    if row.text("deadline"):
        deadline = parse("deadline", normalise.deadline, year=year)
        if isinstance(deadline, date) and deadline <= today:
            fail("deadline", f"整改时限必须晚于导入当天({today})")
    if candidate is not None:
        candidate.severity = severity or Severity.NORMAL
        candidate.unit = unit
        candidate.deadline = deadline
        candidate.on_site_note = note if on_site else None
        candidate.cosigner = cosigner
