"""The use cases on problems, shared by the CLI and the web: names in, one guarded step, the issue out.

Each function resolves what the user typed (with close matches when it misses), then
calls the rule in models.lifecycle. The caller's unit of work commits.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rectify.flows.clock import parse_date
from rectify.flows.context import Context
from rectify.flows.evidence_store import check_batch, check_upload, keep
from rectify.models import lifecycle, recording
from rectify.models.enums import Severity, Supervision
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.issues import Issue
from rectify.models.lookup import (
    find_inspection,
    get_county,
    get_household,
    get_issue,
    get_item,
    get_township,
    get_unit,
    get_user,
    get_village,
)
from rectify.models.responsibility import PlaceRef


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError:
        raise InvalidInput(f"严重程度「{text}」无效,应为:{'/'.join(Severity.choices())}") from None


def record(
    ctx: Context,
    *,
    actor: str,
    county: str,
    item: str,
    description: str,
    severity: str,
    township: str | None = None,
    village: str | None = None,
    household: str | None = None,
    unit: str | None = None,
    deadline: date | None = None,
    on_site: str | None = None,
    cosign: str | None = None,
    inspection: str | None = None,
) -> Issue:
    s = ctx.session
    user = get_user(s, actor)
    place_county = get_county(s, county)
    place_township = get_township(s, place_county, township) if township else None
    place_village = get_village(s, place_county, village, place_township) if village else None
    if household and place_village is None:
        raise InvalidInput("指明户时必须同时指明村", field="village")
    place_household = get_household(s, place_village, household) if household and place_village else None
    if place_village is not None and place_township is None:
        place_township = place_village.township
    the_inspection = None
    if inspection:
        the_inspection = find_inspection(s, inspection)
        if the_inspection is None:
            raise NotFound("督导", inspection)
    if cosign and on_site is None:
        raise InvalidInput("--cosign 只用于现场解决的问题,请同时填写 --on-site")
    return recording.record_issue(
        s,
        actor=user,
        now=ctx.now,
        policy=ctx.policy,
        calendar=ctx.calendar,
        place=PlaceRef(place_county, place_township, place_village, place_household),
        item=get_item(s, item),
        description=description,
        severity=_severity(severity),
        inspection=the_inspection,
        unit=get_unit(s, unit) if unit else None,
        deadline=deadline,
        on_site_note=on_site,
        cosigner=get_user(s, cosign) if cosign else None,
    )


def _load(ctx: Context, code: str, actor: str):
    return get_issue(ctx.session, code), get_user(ctx.session, actor)


def assign(ctx: Context, code: str, *, actor: str, unit: str, deadline: date | None = None,
           expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.assign(ctx.session, issue, actor=user, now=ctx.now, unit=get_unit(ctx.session, unit),
                     deadline=deadline, policy=ctx.policy, calendar=ctx.calendar,
                     expected_version=expected_version)
    return issue


def sign(ctx: Context, code: str, *, actor: str, expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.sign(ctx.session, issue, actor=user, now=ctx.now, policy=ctx.policy,
                   calendar=ctx.calendar, expected_version=expected_version)
    return issue


def send_back(ctx: Context, code: str, *, actor: str, reason: str,
              expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.send_back(ctx.session, issue, actor=user, now=ctx.now, reason=reason,
                        expected_version=expected_version)
    return issue


def _with_evidence(ctx: Context, files, user, step) -> None:
    """Check every file first, let `step(rows)` take the lifecycle step, then keep the files."""
    uploads = [f if not isinstance(f, (str, Path)) else check_upload(Path(f), ctx.policy) for f in files]
    check_batch(len(uploads), sum(u.size for u in uploads), ctx.policy)
    step([u.row(uploader=user, now=ctx.now) for u in uploads])
    for upload in uploads:
        keep(upload)


def progress(ctx: Context, code: str, *, actor: str, note: str, evidence=(),
             expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.check_allowed(issue, lifecycle.Action.PROGRESS, user)
    _with_evidence(ctx, evidence, user, lambda rows: lifecycle.progress(
        ctx.session, issue, actor=user, now=ctx.now, note=note, evidence=rows, expected_version=expected_version))
    return issue


def request_extension(ctx: Context, code: str, *, actor: str, until: date, reason: str,
                      expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.request_extension(ctx.session, issue, actor=user, now=ctx.now, until=until,
                                reason=reason, expected_version=expected_version)
    return issue


def decide_extension(ctx: Context, code: str, *, actor: str, approve: bool, note: str | None = None,
                     expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.decide_extension(ctx.session, issue, actor=user, now=ctx.now, approve=approve,
                               note=note, expected_version=expected_version)
    return issue


def request_pause(ctx: Context, code: str, *, actor: str, until: date, reason: str,
                  expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.request_pause(ctx.session, issue, actor=user, now=ctx.now, until=until, reason=reason,
                            expected_version=expected_version)
    return issue


def decide_pause(ctx: Context, code: str, *, actor: str, approve: bool, note: str | None = None,
                 expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.decide_pause(ctx.session, issue, actor=user, now=ctx.now, approve=approve, note=note,
                           expected_version=expected_version)
    return issue


def resume(ctx: Context, code: str, *, actor: str, note: str | None = None,
           expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.resume(ctx.session, issue, actor=user, now=ctx.now, calendar=ctx.calendar, note=note,
                     expected_version=expected_version)
    return issue


def set_assists(ctx: Context, code: str, *, actor: str, units: list[str],
                expected_version: int | None = None) -> Issue:
    """协办单位 by name (none: remove them all)."""
    issue, user = _load(ctx, code, actor)
    chosen = [get_unit(ctx.session, name) for name in units if name.strip()]
    lifecycle.set_assists(ctx.session, issue, actor=user, now=ctx.now, units=chosen, expected_version=expected_version)
    return issue


def parse_stages(text: str) -> list[tuple[date, str]]:
    """Stages as a form or the CLI gives them: one a line, "YYYY-MM-DD 名称" (blank lines skipped)."""
    stages = []
    for n, line in enumerate((line.strip() for line in text.splitlines() if line.strip()), start=1):
        day, _, title = line.partition(" ")
        stages.append((parse_date(day, what=f"第 {n} 阶段的时限"), title.strip()))
    return stages


def set_stages(ctx: Context, code: str, *, actor: str, stages: list[tuple[date, str]],
               expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.set_stages(ctx.session, issue, actor=user, now=ctx.now, stages=stages, expected_version=expected_version)
    return issue


def submit_stage(ctx: Context, code: str, *, actor: str, note: str, evidence,
                 expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.check_allowed(issue, lifecycle.Action.SUBMIT_STAGE, user)
    _with_evidence(ctx, evidence, user, lambda rows: lifecycle.submit_stage(
        ctx.session, issue, actor=user, now=ctx.now, note=note, evidence=rows, expected_version=expected_version))
    return issue


def decide_stage(ctx: Context, code: str, *, actor: str, approve: bool, note: str,
                 expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.decide_stage(ctx.session, issue, actor=user, now=ctx.now, approve=approve, note=note,
                           expected_version=expected_version)
    return issue


def submit(ctx: Context, code: str, *, actor: str, measures: str, evidence, cause: str | None = None,
           spread: str | None = None, rules: str | None = None, expected_version: int | None = None) -> Issue:
    """`evidence`: file paths, or Upload objects already checked (the web's uploads)."""
    issue, user = _load(ctx, code, actor)
    lifecycle.check_allowed(issue, lifecycle.Action.SUBMIT, user)
    _with_evidence(ctx, evidence, user, lambda rows: lifecycle.submit(
        ctx.session, issue, actor=user, now=ctx.now, measures=measures, evidence=rows, policy=ctx.policy,
        cause=cause, spread=spread, rules=rules, expected_version=expected_version))
    return issue


def approve_review(ctx: Context, code: str, *, actor: str, note: str | None = None,
                   expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.approve_review(ctx.session, issue, actor=user, now=ctx.now, note=note,
                             expected_version=expected_version)
    return issue


def head_return(ctx: Context, code: str, *, actor: str, reason: str,
                expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.head_return(ctx.session, issue, actor=user, now=ctx.now, reason=reason,
                          expected_version=expected_version)
    return issue


def verify(ctx: Context, code: str, *, actor: str, note: str,
           expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.verify(ctx.session, issue, actor=user, now=ctx.now, note=note, calendar=ctx.calendar,
                     policy=ctx.policy, expected_version=expected_version)
    return issue


def return_submission(ctx: Context, code: str, *, actor: str, reason: str,
                      expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.return_submission(ctx.session, issue, actor=user, now=ctx.now, reason=reason,
                                policy=ctx.policy, expected_version=expected_version)
    return issue


def reopen(ctx: Context, code: str, *, actor: str, reason: str, evidence,
           unit: str | None = None, deadline: date | None = None,
           expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.check_allowed(issue, lifecycle.Action.REOPEN, user)
    responsible = get_unit(ctx.session, unit) if unit else None
    _with_evidence(ctx, evidence, user, lambda rows: lifecycle.reopen(
        ctx.session, issue, actor=user, now=ctx.now, reason=reason, evidence=rows, unit=responsible,
        deadline=deadline, policy=ctx.policy, calendar=ctx.calendar, expected_version=expected_version))
    return issue


def void(ctx: Context, code: str, *, actor: str, reason: str,
         expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    lifecycle.void(ctx.session, issue, actor=user, now=ctx.now, reason=reason,
                   expected_version=expected_version)
    return issue


def escalate(ctx: Context, code: str, *, actor: str, level: str, note: str | None = None,
             expected_version: int | None = None) -> Issue:
    issue, user = _load(ctx, code, actor)
    try:
        supervision = Supervision.parse(level)
    except ValueError:
        raise InvalidInput(f"督办级别「{level}」无效,应为:{'/'.join(Supervision.choices()[1:])}") from None
    lifecycle.escalate(ctx.session, issue, actor=user, now=ctx.now, level=supervision, note=note,
                       expected_version=expected_version)
    return issue
