"""The reference data: idempotent, complete for domain.md, shaped like the 2016 targets."""

from __future__ import annotations

from sqlalchemy import func, select

from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, UnitKind
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Village
from rectify.seeds.loader import load_reference
from rectify.seeds.synthetic import load_synthetic

SPECIALS = ["基础设施", "农业产业", "旅游扶贫", "商务扶贫", "农村土地整治", "科技扶贫", "新村建设", "教育扶贫",
            "技能培训", "就业促进", "异地扶贫搬迁", "医疗卫生计生", "文化惠民", "社会保障", "社会扶贫", "财政金融"]

TABLES = [County, Unit, User, Village, Household, CheckItem]


def _counts(session) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def test_seeding_again_changes_nothing(session):
    before = _counts(session)
    report = load_reference(session)
    load_synthetic(session, report)
    assert not report.changed, {k: v for k, v in report.counts.items() if v.added or v.updated}
    assert _counts(session) == before


def test_nineteen_county_level_units_each_also_a_unit(session):
    names = session.scalars(select(County.name)).all()
    assert len(names) == 19 and "海螺沟景区管理局" in names and "康定市" in names
    governments = session.scalars(select(Unit.name).where(Unit.kind == UnitKind.COUNTY_GOVERNMENT)).all()
    assert sorted(governments) == sorted(names)


def test_catalogue_covers_every_item_named_in_the_domain(session):
    titles = set(session.scalars(select(CheckItem.title)).all())
    required = {
        "就业和经济收入", "不愁吃", "不愁穿", "基础教育", "基本医疗", "安全住房", "安全饮水", "生活用电",
        "广播电视", "明白卡", "帮扶责任落实", "帮扶满意度", "贫困发生率", "集体经济", "硬化路", "卫生室",
        "文化室", "网络", "养成好习惯", "形成好风气", "依法治藏推进", "作战图", "五个一到岗登记",
        "五个一工作日志", "县级领导到村", "帮扶单位到村", "精准识别台账", "帮扶方案", "公示公开",
        "资金使用管理", "农房建设开工", "基础设施建设", "产业发展", "村容村貌", "通水", "通电", "通讯",
        "教学点", "集体经济收入", "年度减贫任务分解落实", "减贫实施方案", "五个一批细化落实",
        "五个一批户数人数核实", "五个一机制建立", "管理制度和考核办法", "脱贫攻坚资料完备", "项目资金整合",
        "机构和人员配备",
    }
    assert required <= titles, required - titles
    # The 专项 named in domain.md (and the 2016 article); the catalogue has all 17.
    for name in SPECIALS:
        assert f"{name}专项年度计划" in titles, name
    assert sum(t.endswith("专项年度计划") for t in titles) == 17
    assert session.scalar(select(func.count()).select_from(CheckItem)) >= 40
    categories = set(session.scalars(select(CheckItem.category)).all())
    assert {"两不愁", "三保障", "三有", "五有", "四好", "五个一", "五个一批", "专项", "资料"} <= categories
    for level in Level:
        assert session.scalar(select(func.count()).select_from(CheckItem).where(CheckItem.level == level)) > 0


def test_synthetic_registry_matches_the_2016_targets(session):
    exit_villages = session.scalar(select(func.count()).select_from(Village).where(Village.planned_exit_year == 2016))
    assert exit_villages == 281
    households, people = session.execute(
        select(func.count(), func.sum(Household.size)).where(Household.planned_exit_year == 2016)
    ).one()
    assert 7800 <= households <= 8200
    assert 30000 <= people <= 34000
    assert session.scalar(select(func.count()).select_from(Village).where(Village.assisting_unit_id.is_(None))) == 0
    leaders = session.scalars(select(User).where(User.linked_county_id.is_not(None))).all()
    assert len({u.linked_county_id for u in leaders}) == 19
