"""`rectify plan`: draw an inspection's sample and write the field workbook for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from rectify.flows.context import Context
from rectify.flows.intake.workbooks import add_instructions, add_sheet, plan_keys
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Role
from rectify.models.errors import InvalidInput
from rectify.models.inspections import Inspection
from rectify.models.lookup import find_inspection, get_county, get_user
from rectify.models.places import County
from rectify.models.sampling import CountySample, draw_sample


@dataclass
class PlanResult:
    inspection: Inspection
    samples: list[CountySample]
    rows: dict[str, int]  # per sheet
    created: bool


def get_or_create_inspection(ctx: Context, name: str, *, county: str | None, campaign: str | None,
                             leader: str | None, team: str | None) -> tuple[Inspection, bool]:
    inspection = find_inspection(ctx.session, name)
    county_row = get_county(ctx.session, county) if county else None
    leader_row = get_user(ctx.session, leader) if leader else None
    if leader_row is not None and leader_row.role is not Role.TEAM_LEADER:
        raise InvalidInput(f"组长 {leader} 是{leader_row.role.label},不是督导组组长")
    if inspection is not None:
        if county_row is not None and inspection.county is not None and inspection.county_id != county_row.id:
            raise InvalidInput(f"督导「{name}」是 {inspection.county.name} 的,不能用于 {county_row.name}")
        if leader_row is not None:
            inspection.leader = leader_row
        return inspection, False
    inspection = Inspection(
        name=name.strip(), campaign=(campaign or f"{ctx.today.year}年脱贫攻坚督导").strip(), county=county_row,
        leader=leader_row, team=team or name.strip(), start_date=ctx.today,
    )
    ctx.session.add(inspection)
    ctx.session.flush()
    return inspection, True


def make_plan(ctx: Context, *, inspection: str, county: str | None, villages: int, households: int, seed: int,
              out: Path, campaign: str | None = None, leader: str | None = None) -> PlanResult:
    found, created = get_or_create_inspection(ctx, inspection, county=county, campaign=campaign, leader=leader,
                                              team=None)
    counties = [found.county] if found.county else list(ctx.session.scalars(select(County).order_by(County.sort_order)))
    year = found.start_date.year if found.start_date else ctx.today.year
    samples = [draw_sample(ctx.session, inspection=found, county=c, villages=villages, households=households,
                           seed=seed, year=year) for c in counties]
    rows = write_plan(ctx, found, samples, out)
    return PlanResult(found, samples, rows, created)


def make_followup_plan(ctx: Context, *, source: str, inspection: str, villages: int, households: int, out: Path,
                       leader: str | None = None) -> PlanResult:
    """举一反三: the next inspection's plan, in each county where `source` found problems, at the
    unsampled villages and households most like those where they were found, checking the
    problem types found there (models.sampling.draw_followup)."""
    from rectify.models.lookup import get_inspection
    from rectify.models.sampling import draw_followup

    found_in = get_inspection(ctx.session, source)
    target, created = get_or_create_inspection(ctx, inspection, county=found_in.county.name if found_in.county
                                               else None, campaign=found_in.campaign, leader=leader,
                                               team=None)
    if target.id == found_in.id:
        raise InvalidInput("举一反三的督导不能与发现问题的督导同名", field="inspection")
    counties = [found_in.county] if found_in.county else list(
        ctx.session.scalars(select(County).order_by(County.sort_order)))
    followups = [f for c in counties if (f := draw_followup(ctx.session, inspection=target, source=found_in, county=c,
                                                            villages=villages, households=households)) is not None]
    if not followups:
        raise InvalidInput(f"督导「{found_in.name}」没有发现村、户两级的问题,无需举一反三抽样", field="inspection")
    samples = [f.sample for f in followups]
    rows = write_plan(ctx, target, samples, out, only={f.sample.county.id: f.items for f in followups})
    return PlanResult(target, samples, rows, created)


def write_plan(ctx: Context, inspection: Inspection, samples: list[CountySample], out: Path,
               only: dict[int, set[int]] | None = None) -> dict[str, int]:
    """The field workbook: every active item at every sampled place, or, with `only` (per county
    id, check item ids), those items alone (the county sheet then stays empty)."""
    items = {level: list(ctx.session.scalars(
        select(CheckItem).where(CheckItem.active.is_(True), CheckItem.level == level).order_by(CheckItem.code)))
        for level in Level}
    team = inspection.team or inspection.name
    rows: dict[str, list[list[object]]] = {"县": [], "村": [], "户": []}

    def add(sheet: str, place: Sequence[object], item: CheckItem) -> None:
        ref = f"{'CVH'['县村户'.index(sheet)]}{len(rows[sheet]) + 1:04d}"
        rows[sheet].append([ref, team, None, None, *place, f"{item.code} {item.title}", item.standard])

    for sample in samples:
        wanted = only.get(sample.county.id, set()) if only is not None else None

        def kept(level: Level, wanted: set[int] | None = wanted) -> list[CheckItem]:
            return [i for i in items[level] if wanted is None or i.id in wanted]

        for item in kept(Level.COUNTY):
            add("县", [sample.county.name], item)
        for village in sample.villages:
            place = [sample.county.name, village.township.name, village.name]
            for item in kept(Level.VILLAGE):
                add("村", place, item)
            for household in sample.households.get(village.id, []):
                for item in kept(Level.HOUSEHOLD):
                    add("户", [*place, household.registry_no, household.head_name], item)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, level_rows in rows.items():
        add_sheet(workbook, sheet, plan_keys(sheet), level_rows)
    add_instructions(workbook)
    try:
        workbook.save(out)
    except OSError as exc:
        raise InvalidInput(f"无法写入 {out}:{exc.strerror}") from None
    return {sheet: len(r) for sheet, r in rows.items()}
