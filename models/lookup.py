"""Finding reference rows by the names people type, with close matches when they miss."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from rectify.models.catalogue import CheckItem
from rectify.models.errors import NotFound
from rectify.models.inspections import Inspection
from rectify.models.issues import Issue
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Township, Village


def closest(name: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    matches = difflib.get_close_matches(name, candidates, n=n, cutoff=0.3)
    if not matches:
        matches = [c for c in candidates if name and (name in c or c in name)][:n]
    return matches


def get_county(session: Session, name: str) -> County:
    county = session.scalars(select(County).where(County.name == name.strip())).first()
    if county is None:
        names = session.scalars(select(County.name).order_by(County.sort_order)).all()
        raise NotFound("县(市)", name, suggestions=closest(name, names))
    return county


def get_township(session: Session, county: County, name: str) -> Township:
    township = session.scalars(
        select(Township).where(Township.county_id == county.id, Township.name == name.strip())
    ).first()
    if township is None:
        names = session.scalars(select(Township.name).where(Township.county_id == county.id)).all()
        raise NotFound(f"{county.name}的乡(镇)", name, suggestions=closest(name, names))
    return township


def get_village(session: Session, county: County, name: str, township: Township | None = None) -> Village:
    query = select(Village).join(Township).where(Township.county_id == county.id)
    if township is not None:
        query = query.where(Village.township_id == township.id)
    found = session.scalars(query.where(Village.name == name.strip())).all()
    where = township.name if township is not None else county.name
    if not found:
        names = session.scalars(query.with_only_columns(Village.name)).all()
        raise NotFound(f"{where}的村", name, suggestions=closest(name, names))
    if len(found) > 1:
        raise NotFound(
            f"{where}唯一的村",
            name,
            field="township",
            hint="有多个同名村,请指明乡(镇):"
            + "、".join(v.township.name for v in found),
        )
    return found[0]


def get_household(session: Session, village: Village, key: str) -> Household:
    """By 建档立卡 number, or by the head's name when it is unique in the village."""
    key = key.strip()
    in_village = select(Household).where(Household.village_id == village.id)
    household = session.scalars(in_village.where(Household.registry_no == key)).first()
    if household is not None:
        return household
    by_name = session.scalars(in_village.where(Household.head_name == key)).all()
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise NotFound(f"{village.name}唯一的户", key, hint="户主同名,请用建档立卡编号")
    numbers = session.scalars(in_village.with_only_columns(Household.registry_no)).all()
    raise NotFound(f"{village.name}的户(建档立卡编号或户主姓名)", key, suggestions=closest(key, numbers))


def get_unit(session: Session, name: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.name == name.strip())).first()
    if unit is None:
        names = session.scalars(select(Unit.name)).all()
        raise NotFound("责任单位", name, suggestions=closest(name, names))
    return unit


def find_county_unit(session: Session, county: County) -> Unit | None:
    """The county's own government unit (named as the county)."""
    return session.scalars(select(Unit).where(Unit.name == county.name)).first()


def find_user(session: Session, name: str) -> User | None:
    return session.scalars(
        select(User).options(joinedload(User.unit)).where(User.name == name.strip())
    ).first()


def get_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None or not user.active:
        names = session.scalars(select(User.name).where(User.active.is_(True))).all()
        raise NotFound("用户", name, suggestions=closest(name, names))
    return user


def get_item(session: Session, key: str) -> CheckItem:
    """By catalogue code or exact title."""
    key = key.strip()
    item = session.scalars(
        select(CheckItem).where(CheckItem.active.is_(True), CheckItem.code == key.upper())
    ).first()
    if item is None:
        titled = session.scalars(
            select(CheckItem).where(CheckItem.active.is_(True), CheckItem.title == key)
        ).all()
        if len(titled) > 1:
            raise NotFound(
                "唯一的检查项目", key, hint="多个层级有此项目,请用编号:" + "、".join(i.code for i in titled)
            )
        item = titled[0] if titled else None
    if item is None:
        rows = session.execute(select(CheckItem.code, CheckItem.title)).tuples().all()
        titles = closest(key, [t for _, t in rows])
        codes = closest(key.upper(), [c for c, _ in rows])
        raise NotFound("检查项目", key, suggestions=titles + codes)
    return item


def get_issue(session: Session, code: str) -> Issue:
    issue = session.scalars(select(Issue).where(Issue.code == code.strip().upper())).first()
    if issue is None:
        codes = session.scalars(select(Issue.code).order_by(Issue.id.desc()).limit(5000)).all()
        raise NotFound("问题编号", code, suggestions=closest(code.strip().upper(), codes))
    return issue


def find_inspection(session: Session, name: str) -> Inspection | None:
    return session.scalars(select(Inspection).where(Inspection.name == name.strip())).first()


def get_inspection(session: Session, name: str) -> Inspection:
    inspection = find_inspection(session, name)
    if inspection is None:
        names = session.scalars(select(Inspection.name)).all()
        raise NotFound("督导", name, suggestions=closest(name, names), hint="请先用 rectify plan 创建督导并生成抽样表")
    return inspection
