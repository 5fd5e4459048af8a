"""Commands that keep closure honest: warnings, 回头看 re-inspections, referrals, dossiers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from rectify.flows.cli.support import Actor, AsOf, ListFormat, console, edge, flow_run, print_rows
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.calendar import local_date
from rectify.models.lookup import get_county, get_issue

app = typer.Typer()
recheck_app = typer.Typer(help="回头看:抽取已销号和现场解决的问题复查,反弹的重开", no_args_is_help=True)
app.add_typer(recheck_app, name="recheck")


@app.command()
@edge
def suspicious(
    county: Annotated[str | None, typer.Option("--county", help="只看一个县(市)")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table / json / csv")] = ListFormat.table,
    as_of: AsOf = None,
) -> None:
    """纸面销号预警:待核验和已销号问题中,佐证材料重复、整改措施雷同、销号过快的。"""
    from rectify.models.suspicion import current_suspicions

    with unit_of_work(parse_instant(as_of)) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        found = current_suspicions(ctx.session, ctx.policy, county_id=wanted.id if wanted else None)
        rows = [{"code": issue.code, "status": issue.status.label, "county": issue.county.name,
                 "unit": issue.unit.name if issue.unit else None, "kind": w.kind, "label": w.label,
                 "message": w.message, "other": w.other}
                for issue, warnings in found for w in warnings]
    print_rows(rows, [("code", "问题编号"), ("status", "状态"), ("county", "县(市)"), ("unit", "责任单位"),
                      ("label", "预警"), ("message", "说明")],
               fmt=fmt.value, title="纸面销号预警" + (f"({wanted.name})" if wanted else ""))


@app.command()
@edge
def referrals(
    county: Annotated[str | None, typer.Option("--county", help="只看一个县(市)")] = None,
    include_closed: Annotated[bool, typer.Option("--all", help="也列出已办结的")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table / json / csv")] = ListFormat.table,
    as_of: AsOf = None,
) -> None:
    """问责线索:挂牌督办或两次以上反弹的问题(移交纪检的清单)。"""
    from rectify.models.issues import Issue
    from rectify.models.referrals import REASONS, Referral

    with unit_of_work(parse_instant(as_of)) as ctx:
        query = select(Referral).join(Issue).order_by(Referral.created_at, Referral.id)
        if county:
            query = query.where(Issue.county_id == get_county(ctx.session, county).id)
        if not include_closed:
            query = query.where(Referral.closed_at.is_(None))
        rows = [{"code": r.issue.code, "county": r.issue.county.name,
                 "unit": r.issue.unit.name if r.issue.unit else None, "reason": r.reason,
                 "reason_label": REASONS.get(r.reason, r.reason), "note": r.note,
                 "status": r.issue.status.label, "supervision": r.issue.supervision.label,
                 "reopen_count": r.issue.reopen_count, "referred_on": local_date(r.created_at).isoformat()}
                for r in ctx.session.scalars(query)]
    print_rows(rows, [("code", "问题编号"), ("county", "县(市)"), ("unit", "责任单位"), ("reason_label", "原因"),
                      ("status", "问题状态"), ("supervision", "督办级别"), ("reopen_count", "反弹次数"),
                      ("referred_on", "移交日期")],
               fmt=fmt.value, title="问责线索" + ("" if include_closed else "(未办结)"))


@app.command()
@edge
def dossier(
    code: Annotated[str, typer.Argument(help="问题编号")],
    out: Annotated[Path, typer.Option("--out", help="写出的 .xlsx 文件")],
    as_of: AsOf = None,
) -> None:
    """导出一个问题的全部案卷(经过、佐证材料及哈希、核验预警、问责线索),供纪检部门使用。"""
    from rectify.flows.reports.dossier import write_dossier

    with unit_of_work(parse_instant(as_of)) as ctx:
        issue = get_issue(ctx.session, code)
        write_dossier(ctx.session, issue, out, policy=ctx.policy, today=ctx.today)
    console.print(f"已导出问题 {code} 的案卷:{out}")


@recheck_app.command("plan")
@edge
def recheck_plan(
    share: Annotated[str, typer.Option("--share", help="抽取比例,如 10%")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子(同一种子抽取结果相同)")],
    out: Annotated[Path, typer.Option("--out", help="写出的回头看工作簿 .xlsx")],
    actor: Actor,
    name: Annotated[str | None, typer.Option("--name", help="批次名称(默认:回头看-日期-种子)")] = None,
    county: Annotated[list[str], typer.Option("--county", help="只抽这些县(市),可多次指定")] = [],  # noqa: B006
    callback: Annotated[bool, typer.Option(
        "--callback", help="改为群众满意度回访:抽已销号的户级问题,电话回访")] = False,
    as_of: AsOf = None,
) -> None:
    """按县分层抽取已销号和现场解决的问题,写出回头看工作簿;--callback 抽取满意度回访。"""
    from rectify.flows.recheck import parse_share, run_plan
    from rectify.models.rechecks import CALLBACK, FOLLOW_UPS, RECHECK

    kind = CALLBACK if callback else RECHECK
    moment = parse_instant(as_of)
    batch = name or f"{FOLLOW_UPS[kind].title}-{local_date(moment).isoformat()}-{seed}"
    with flow_run("plan-recheck"):
        plan = run_plan(batch, parse_share(share), seed, out, moment, actor, list(county) or None, kind)
    verb = "沿用已有批次" if plan.reused else "已抽取"
    console.print(f"{verb}「{plan.name}」:{plan.sampled} 个问题("
                  + "、".join(f"{c} {n}" for c, n in plan.per_county.items()) + f");工作簿:{plan.out}")


@recheck_app.command("import")
@edge
def recheck_import(
    file: Annotated[Path, typer.Argument(help="填好的回头看工作簿")],
    actor: Actor,
    as_of: AsOf = None,
) -> None:
    """导入回头看或满意度回访结果:「还在」或「不满意」的问题反弹重开并通知责任单位,记录反弹率、满意率。"""
    from rectify.flows.recheck import run_recheck_import
    from rectify.models.rechecks import FOLLOW_UPS

    with flow_run("import-recheck"):
        result = run_recheck_import(file, parse_instant(as_of), actor)
    title = FOLLOW_UPS[result.kind].title
    console.print(f"{title}「{result.name}」:本次导入 {result.checked} 个,反弹重开 {len(result.reopened)} 个"
                  + (f"({'、'.join(result.reopened)})" if result.reopened else "")
                  + f";此前已导入 {result.unchanged} 个,未填结果 {result.unfilled} 个")
    _print_rates(result.rates, f"{title}「{result.name}」", kind=result.kind)


@recheck_app.command("rates")
@edge
def recheck_rates(
    name: Annotated[str | None, typer.Option("--name", help="只看一个批次")] = None,
    callback: Annotated[bool, typer.Option("--callback", help="改为满意度回访的满意率")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table / json / csv")] = ListFormat.table,
) -> None:
    """各县、各责任单位的反弹率(复查中发现问题仍在的比例);--callback 为满意度回访的满意率。"""
    from rectify.models.errors import NotFound
    from rectify.models.rechecks import CALLBACK, FOLLOW_UPS, RECHECK, Recheck, rebound_rates

    kind = CALLBACK if callback else RECHECK
    with unit_of_work(parse_instant(None)) as ctx:
        batch_id = None
        if name:
            batch_id = ctx.session.scalar(select(Recheck.id).where(Recheck.name == name, Recheck.kind == kind))
            if batch_id is None:
                raise NotFound(f"{FOLLOW_UPS[kind].title}批次", name)
        rates = rebound_rates(ctx.session, batch_id, kind=kind)
    _print_rates(rates, f"({name})" if name else f"(全部{FOLLOW_UPS[kind].title})", fmt=fmt.value, kind=kind)


def _print_rates(rates, title: str, fmt: str = "table", kind: str = "recheck") -> None:
    """回头看: 反弹率; 回访: 满意率 (满意 and 基本满意 over the answers), with the 不满意 that reopened."""
    def shown(value: float):
        return round(value, 4) if fmt == "json" else f"{value:.1%}"

    if kind == "callback":
        rows = [{"county": r.county, "unit": r.unit, "checked": r.checked, "unsatisfied": r.still,
                 "satisfaction_rate": shown(r.satisfaction)} for r in rates]
        columns = [("county", "县(市)"), ("unit", "原责任单位"), ("checked", "回访"), ("unsatisfied", "不满意"),
                   ("satisfaction_rate", "满意率")]
        print_rows(rows, columns, fmt=fmt, title="满意率" + title)
        return
    rows = [{"county": r.county, "unit": r.unit, "checked": r.checked, "still": r.still, "rate": shown(r.rate)}
            for r in rates]
    print_rows(rows, [("county", "县(市)"), ("unit", "原责任单位"), ("checked", "复查"), ("still", "反弹"),
                      ("rate", "反弹率")], fmt=fmt, title="反弹率" + title)
