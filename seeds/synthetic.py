"""A SYNTHETIC registry shaped like the 2016 targets of 甘孜州: 281 villages planned to exit,
about 8,000 households and 32,000 people, plus the units and users to work them.

Every township, village, household, person and user here is invented (seeded random,
so the same rows every time); only the county names and the kinds of units are real.
"""

from __future__ import annotations

import math
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.models.enums import Role, UnitKind
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Township, Village
from rectify.models.policy import PolicySetting
from rectify.seeds.loader import SeedReport
from rectify.seeds.sync import sync_rows

EXIT_YEAR = 2016
EXIT_VILLAGES = 281
EXIT_HOUSEHOLDS = 8000
TOWNSHIPS_PER_COUNTY = 4
LATER_VILLAGES_PER_COUNTY = 3  # planned for 2017-2019, so sampling has a choice

DEPARTMENTS = [
    "教育局", "卫生和计划生育局", "住房和城乡规划建设局", "交通运输局", "水务局",
    "农牧和科技局", "文化广播影视新闻出版局", "人力资源和社会保障局", "民政局", "扶贫和移民工作局",
]
PREFECTURE_OFFICES = [
    "甘孜州委督查室", "甘孜州政府督查室", "甘孜州脱贫攻坚领导小组办公室", "甘孜州扶贫和移民工作局",
    "甘孜州教育局", "甘孜州卫生和计划生育委员会", "甘孜州住房和城乡规划建设局", "甘孜州交通运输局",
    "甘孜州水务局", "甘孜州农牧业和科技局", "甘孜州发展和改革委员会", "甘孜州财政局",
]
PLACE_SYLLABLES = list("呷拉甲根坝朋布西俄然日扎格卡贡麦洛尔让达瓦孜曲龙德色措")
GIVEN = ["扎西", "卓玛", "次仁", "格桑", "拉姆", "泽仁", "央宗", "尼玛", "多吉", "益西", "降措", "曲珍",
         "土登", "群培", "登珠", "洛绒", "仁青", "巴姆", "志玛", "阿布"]
FAMILY = ["王", "李", "张", "杨", "罗", "刘", "陈", "赵"]


def _place_name(rng: random.Random, suffix: str, taken: set[str]) -> str:
    while True:
        name = "".join(rng.sample(PLACE_SYLLABLES, 2)) + suffix
        if name not in taken:
            taken.add(name)
            return name


def _person(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return rng.choice(GIVEN) + rng.choice(GIVEN)
    return rng.choice(FAMILY) + rng.choice(GIVEN)


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# Each county's seat (degrees, rounded): the synthetic villages lie within SCATTER_KM of it.
SEATS = {"513301": (30.05, 101.96), "513322": (29.91, 102.23), "513323": (30.88, 101.89),
         "513324": (29.00, 101.51), "513325": (30.03, 101.01), "513326": (30.98, 101.12),
         "513327": (31.39, 100.68), "513328": (31.62, 99.99), "513329": (30.94, 100.31),
         "513330": (31.81, 98.58), "513331": (31.21, 98.82), "513332": (32.98, 98.10),
         "513333": (32.27, 100.33), "513334": (30.00, 100.27), "513335": (30.01, 99.11),
         "513336": (28.93, 99.80), "513337": (29.04, 100.30), "513338": (28.71, 99.29),
         "513399": (29.58, 102.00)}
SCATTER_KM = 40


def village_position(county: County, name: str) -> tuple[float, float] | None:
    """A synthetic village's position: a point near its county's seat, drawn from its own seed
    (the registry's other draws are not disturbed)."""
    seat = SEATS.get(county.admin_code)
    if seat is None:
        return None
    rng = random.Random(f"{county.admin_code}/{name}")
    north, east = (rng.uniform(-SCATTER_KM, SCATTER_KM) for _ in range(2))
    lat = seat[0] + north / 111.2
    return round(lat, 5), round(seat[1] + east / (111.2 * math.cos(math.radians(lat))), 5)


def load_synthetic(session: Session, report: SeedReport) -> SeedReport:
    rng = random.Random(EXIT_YEAR)
    counties = list(session.scalars(select(County).order_by(County.sort_order)))
    if not counties:
        raise RuntimeError("load_reference must run first")

    _, count = sync_rows(session, PolicySetting, ["key"], [{"key": "registry_synthetic", "value": True}])
    report.add("policy_settings", count)

    unit_rows = [{"name": n, "kind": UnitKind.PREFECTURE_OFFICE, "county_id": None} for n in PREFECTURE_OFFICES]
    for county in counties:
        unit_rows += [
            {"name": f"{county.name}{d}", "kind": UnitKind.COUNTY_DEPARTMENT, "county_id": county.id}
            for d in DEPARTMENTS
        ]
    units, count = sync_rows(session, Unit, ["name"], unit_rows)
    report.add("units", count)

    township_rows, township_units = [], []
    for county in counties:
        taken: set[str] = set()
        for _ in range(TOWNSHIPS_PER_COUNTY):
            name = _place_name(rng, rng.choice(["乡", "镇"]), taken)
            township_rows.append({"county_id": county.id, "name": name})
            township_units.append({"name": f"{county.name}{name}", "kind": UnitKind.TOWNSHIP, "county_id": county.id})
    townships, count = sync_rows(session, Township, ["county_id", "name"], township_rows)
    report.add("townships", count)
    more_units, count = sync_rows(session, Unit, ["name"], township_units)
    units.update(more_units)
    report.add("units", count)

    village_rows, plan = [], []
    exit_per_county = _spread(EXIT_VILLAGES, len(counties))
    # The two 督查 offices and the 脱贫攻坚办 (whose staff verify) assist no village.
    prefecture_units = [units[(n,)] for n in PREFECTURE_OFFICES[3:]]
    for county, n_exit in zip(counties, exit_per_county, strict=True):
        county_townships = [t for (cid, _), t in townships.items() if cid == county.id]
        county_units = [units[(f"{county.name}{d}",)] for d in DEPARTMENTS] + prefecture_units
        taken: set[str] = set()
        for i in range(n_exit + LATER_VILLAGES_PER_COUNTY):
            township = county_townships[i % len(county_townships)]
            year = EXIT_YEAR if i < n_exit else EXIT_YEAR + 1 + i % 3
            name = _place_name(rng, "村", taken)
            position = village_position(county, name) or (None, None)
            village_rows.append({
                "township_id": township.id,
                "name": name,
                "is_poor": True,
                "planned_exit_year": year,
                "assisting_unit_id": rng.choice(county_units).id,
                "county_leader": _person(rng),
                "first_secretary": _person(rng),
                "work_team": f"{name}驻村工作组",
                "agronomist": _person(rng),
                "latitude": position[0],
                "longitude": position[1],
            })
            plan.append((county, township, name, year))
    villages, count = sync_rows(session, Village, ["township_id", "name"], village_rows)
    report.add("villages", count)

    household_rows = []
    exit_sizes = _spread(EXIT_HOUSEHOLDS, EXIT_VILLAGES)
    exit_index = 0
    for seq, (county, township, name, year) in enumerate(plan, start=1):
        village = villages[(township.id, name)]
        if year == EXIT_YEAR:
            n_households = exit_sizes[exit_index] + rng.randint(-3, 3)
            exit_index += 1
        else:
            n_households = rng.randint(15, 30)
        for h in range(1, n_households + 1):
            household_rows.append({
                "village_id": village.id,
                "registry_no": f"{county.admin_code}{seq:04d}{h:04d}",
                "head_name": _person(rng),
                "size": rng.choice([2, 3, 3, 4, 4, 4, 5, 5, 6]),
                "planned_exit_year": year,
            })
    _, count = sync_rows(session, Household, ["registry_no"], household_rows)
    report.add("households", count)

    report.add("users", _users(session, counties, units))
    return report


def _users(session: Session, counties: list[County], units: dict):
    def unit_id(name: str) -> int:
        return units[(name,)].id

    rows = [
        {"name": "州督查办", "display_name": "州督查办协调员", "role": Role.COORDINATOR,
         "unit_id": unit_id("甘孜州委督查室"), "linked_county_id": None, "active": True},
        {"name": "管理员", "display_name": "系统管理员", "role": Role.ADMIN,
         "unit_id": None, "linked_county_id": None, "active": True},
    ]
    for i in range(1, 6):
        rows.append({"name": f"核验员{i:02d}", "display_name": f"州脱贫攻坚办核验员{i:02d}",
                     "role": Role.VERIFIER, "unit_id": unit_id("甘孜州脱贫攻坚领导小组办公室"),
                     "linked_county_id": None, "active": True})
    all_units = list(session.scalars(select(Unit).order_by(Unit.name)))
    county_government = {u.county_id: u for u in all_units if u.kind is UnitKind.COUNTY_GOVERNMENT}
    for i, county in enumerate(counties, start=1):
        gov = county_government[county.id]
        rows += [
            {"name": f"州领导{i:02d}", "display_name": f"州领导{i:02d}(联系{county.name})", "role": Role.LEADER,
             "unit_id": None, "linked_county_id": county.id, "active": True},
            {"name": f"{county.name}领导", "display_name": f"{county.name}主要负责人", "role": Role.LEADER,
             "unit_id": gov.id, "linked_county_id": None, "active": True},
            {"name": f"{county.name}督查办", "display_name": f"{county.name}督查办协调员", "role": Role.COORDINATOR,
             "unit_id": gov.id, "linked_county_id": None, "active": True},
            {"name": f"督导组长{i:02d}", "display_name": f"第{i}督导组组长", "role": Role.TEAM_LEADER,
             "unit_id": None, "linked_county_id": None, "active": True},
            {"name": f"督导员{i:02d}", "display_name": f"第{i}督导组成员", "role": Role.INSPECTOR,
             "unit_id": None, "linked_county_id": None, "active": True},
        ]
    rows += [
        {"name": f"{u.name}经办人", "display_name": f"{u.name}经办人", "role": Role.UNIT,
         "unit_id": u.id, "linked_county_id": None, "active": True}
        for u in all_units
    ]
    _, count = sync_rows(session, User, ["name"], rows)
    return count
