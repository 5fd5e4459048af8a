"""`rectify issue assign|sign|send-back|progress|extend|...|escalate`: the steps of a problem's life."""

from __future__ import annotations

from typing import Annotated

import typer

from rectify.flows import issue_actions
from rectify.flows.cli.issue import Code, Evidence, Fmt, _act, _date, issue_app
from rectify.flows.cli.support import Actor, AsOf, ExpectVersion, Format, edge
from rectify.flows.clock import parse_date
from rectify.models.enums import Status


@issue_app.command("assign")
@edge
def issue_assign(
    code: Code,
    unit: Annotated[str, typer.Option("--unit", help="责任单位")],
    actor: Actor,
    deadline: Annotated[str | None, typer.Option("--deadline", help="整改时限 YYYY-MM-DD(默认按严重程度)")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """交办:指定责任单位和整改时限(协调员)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已交办 {issue.unit.name},时限 {issue.deadline}",
        issue_actions.assign,
        code,
        actor=actor,
        unit=unit,
        deadline=_date(deadline, "整改时限"),
        expected_version=expect_version,
    )


@issue_app.command("sign")
@edge
def issue_sign(
    code: Code, actor: Actor, expect_version: ExpectVersion = None, fmt: Fmt = Format.table, as_of: AsOf = None
) -> None:
    """签收(责任单位)。"""
    _act(as_of, fmt, "已签收", issue_actions.sign, code, actor=actor, expected_version=expect_version)


@issue_app.command("send-back")
@edge
def issue_send_back(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回或改派理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """退回改派:责任单位认为不属于本单位,退回协调员重新交办。"""
    _act(
        as_of,
        fmt,
        "已退回协调员",
        issue_actions.send_back,
        code,
        actor=actor,
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("progress")
@edge
def issue_progress(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="整改进展")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006 - Typer needs a literal default
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """报告整改进展(责任单位)。"""
    _act(
        as_of,
        fmt,
        "已记录进展",
        issue_actions.progress,
        code,
        actor=actor,
        note=note,
        evidence=evidence,
        expected_version=expect_version,
    )


@issue_app.command("extend")
@edge
def issue_extend(
    code: Code,
    until: Annotated[str, typer.Option("--until", help="申请延期至 YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="延期理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """申请延期(责任单位,须在时限届满前)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已申请延期至 {until},待协调员审批",
        issue_actions.request_extension,
        code,
        actor=actor,
        until=parse_date(until, what="延期日期"),
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("approve-extension")
@edge
def issue_approve_extension(
    code: Code,
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="审批意见")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """批准延期(协调员);原时限保留用于按期销号统计。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已批准延期,新时限 {issue.deadline}",
        issue_actions.decide_extension,
        code,
        actor=actor,
        approve=True,
        note=note,
        expected_version=expect_version,
    )


@issue_app.command("deny-extension")
@edge
def issue_deny_extension(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="驳回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """驳回延期申请(协调员)。"""
    _act(
        as_of,
        fmt,
        "已驳回延期申请",
        issue_actions.decide_extension,
        code,
        actor=actor,
        approve=False,
        note=reason,
        expected_version=expect_version,
    )


@issue_app.command("pause")
@edge
def issue_pause(
    code: Code,
    until: Annotated[str, typer.Option("--until", help="暂缓至(恢复整改之日)YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="暂缓理由,如冬季停工、资金未到位")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """申请暂缓整改(责任单位,须在时限届满前):批准后暂停计时,到期自动恢复。"""
    _act(as_of, fmt, lambda issue: f"已申请暂缓至 {until},待协调员审批", issue_actions.request_pause, code,
         actor=actor, until=parse_date(until, what="暂缓至"), reason=reason, expected_version=expect_version)


@issue_app.command("approve-pause")
@edge
def issue_approve_pause(
    code: Code,
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="审批意见")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """批准暂缓(协调员):暂缓期间不计逾期、不提醒、不升级督办。"""
    _act(as_of, fmt, lambda issue: f"已批准暂缓至 {issue.paused_until}", issue_actions.decide_pause, code,
         actor=actor, approve=True, note=note, expected_version=expect_version)


@issue_app.command("deny-pause")
@edge
def issue_deny_pause(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="驳回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """驳回暂缓申请(协调员)。"""
    _act(as_of, fmt, "已驳回暂缓申请", issue_actions.decide_pause, code, actor=actor, approve=False, note=reason,
         expected_version=expect_version)


@issue_app.command("resume")
@edge
def issue_resume(
    code: Code,
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """提前恢复整改(责任单位或协调员);时限顺延暂缓的工作日数。"""
    _act(as_of, fmt, lambda issue: f"已恢复整改,时限顺延至 {issue.deadline}", issue_actions.resume, code,
         actor=actor, note=note, expected_version=expect_version)


@issue_app.command("assist")
@edge
def issue_assist(
    code: Code,
    actor: Actor,
    unit: Annotated[list[str], typer.Option("--unit", help="协办单位,可多次指定;不指定则取消全部协办单位")] = [],  # noqa: B006
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """设置协办单位(协调员):协办单位可查看、报告进展并收到提醒;签收和申请销号由主办单位办理。"""
    _act(as_of, fmt, lambda issue: "协办单位:" + ("、".join(u.name for u in issue.assisting_units) or "无"),
         issue_actions.set_assists, code, actor=actor, units=unit, expected_version=expect_version)


@issue_app.command("submit")
@edge
def issue_submit(
    code: Code,
    measures: Annotated[str, typer.Option("--measures", help="已采取的整改措施")],
    actor: Actor,
    cause: Annotated[str | None, typer.Option("--cause", help="原因分析(政策要求时必填)")] = None,
    spread: Annotated[str | None, typer.Option("--spread", help="举一反三:排查了哪些地方的同类问题")] = None,
    rules: Annotated[str | None, typer.Option("--rules", help="建章立制:建立或完善的制度、机制")] = None,
    evidence: Evidence = [],  # noqa: B006
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """申请销号:提交整改措施、原因分析和至少一份佐证材料(责任单位);政策要求单位负责人审核的,先报负责人。"""
    _act(as_of, fmt, lambda issue: f"已{'报单位负责人审核' if issue.status is Status.REVIEWING else '申请销号,待核验'}",
         issue_actions.submit, code, actor=actor, measures=measures, cause=cause, spread=spread, rules=rules,
         evidence=evidence, expected_version=expect_version)


@issue_app.command("stages")
@edge
def issue_stages(
    code: Code,
    actor: Actor,
    stage: Annotated[list[str], typer.Option(
        "--stage", help="一个阶段:「YYYY-MM-DD 名称」,按顺序可多次指定;不指定则取消分阶段")] = [],  # noqa: B006
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """设置整改阶段(协调员):长周期问题分阶段整改,最后一个阶段的时限即整改时限。"""
    _act(as_of, fmt, lambda issue: f"整改阶段:{len(issue.stages)} 个" if issue.stages else "已取消分阶段",
         issue_actions.set_stages, code, actor=actor, stages=issue_actions.parse_stages("\n".join(stage)),
         expected_version=expect_version)


@issue_app.command("submit-stage")
@edge
def issue_submit_stage(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="本阶段完成情况")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """报送阶段成果(责任单位):下一个未完成的阶段,附佐证材料;最后一个阶段请申请销号。"""
    _act(as_of, fmt, "已报送阶段成果,待核验", issue_actions.submit_stage, code, actor=actor, note=note,
         evidence=evidence, expected_version=expect_version)


@issue_app.command("verify-stage")
@edge
def issue_verify_stage(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="核验意见")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """阶段核验通过(核验人)。"""
    _act(as_of, fmt, lambda issue: issue.stage_progress or "阶段已核验", issue_actions.decide_stage, code,
         actor=actor, approve=True, note=note, expected_version=expect_version)


@issue_app.command("return-stage")
@edge
def issue_return_stage(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """退回阶段成果(核验人)。"""
    _act(as_of, fmt, "已退回阶段成果", issue_actions.decide_stage, code, actor=actor, approve=False, note=reason,
         expected_version=expect_version)


@issue_app.command("approve-review")
@edge
def issue_approve_review(
    code: Code,
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="审核意见")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """单位负责人审核通过,报核验(本单位整改计时截止)。"""
    _act(as_of, fmt, "单位负责人已审核通过,待核验", issue_actions.approve_review, code, actor=actor, note=note,
         expected_version=expect_version)


@issue_app.command("head-return")
@edge
def issue_head_return(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """单位负责人退回经办人重改(仍计入本单位时限)。"""
    _act(as_of, fmt, "已退回经办人重改", issue_actions.head_return, code, actor=actor, reason=reason,
         expected_version=expect_version)


@issue_app.command("verify")
@edge
def issue_verify(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="核验意见")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """核验销号(核验人,不得核验本单位或本人提交的问题)。"""
    _act(as_of, fmt, "已销号", issue_actions.verify, code, actor=actor, note=note, expected_version=expect_version)


@issue_app.command("return")
@edge
def issue_return(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """退回重改(核验人)。"""
    _act(
        as_of,
        fmt,
        "已退回责任单位重新整改",
        issue_actions.return_submission,
        code,
        actor=actor,
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("reopen")
@edge
def issue_reopen(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="反弹情况说明")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006
    unit: Annotated[str | None, typer.Option("--unit", help="责任单位(默认原单位)")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="新整改时限 YYYY-MM-DD")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """反弹重开:回头看发现已销号或现场解决的问题再次出现(核验人、协调员)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已重开,交 {issue.unit.name},时限 {issue.deadline}",
        issue_actions.reopen,
        code,
        actor=actor,
        reason=reason,
        evidence=evidence,
        unit=unit,
        deadline=_date(deadline, "整改时限"),
        expected_version=expect_version,
    )


@issue_app.command("void")
@edge
def issue_void(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="撤销理由(如不是问题、重复登记)")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """撤销问题(协调员,须说明理由)。"""
    _act(as_of, fmt, "已撤销", issue_actions.void, code, actor=actor, reason=reason, expected_version=expect_version)


@issue_app.command("escalate")
@edge
def issue_escalate(
    code: Code,
    level: Annotated[str, typer.Option("--level", help="黄牌 / 红牌 / 挂牌督办")],
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """提高督办级别(协调员、领导)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"督办级别已提至「{issue.supervision.label}」",
        issue_actions.escalate,
        code,
        actor=actor,
        level=level,
        note=note,
        expected_version=expect_version,
    )


