"""The steps a page form or an API call can take on a problem, by name: one table, shared by
both edges, each calling the same use case as the CLI."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from rectify.flows import issue_actions as act
from rectify.flows.clock import parse_date
from rectify.flows.context import Context
from rectify.models.enums import Action, Status
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.lifecycle import offered
from rectify.models.org import User
from rectify.web.access import visible_issue


def _date(text: str | None, what: str) -> date | None:
    if not text:
        return None
    return parse_date(text, what=what)


def _required_date(text: str | None, what: str) -> date:
    value = _date(text, what)
    if value is None:
        raise InvalidInput(f"请填写{what}")
    return value


def _names(text: str) -> list[str]:
    """Unit names as a form or an API call sends several in one field: one per line, or
    separated by 、 or commas."""
    return [name for name in re.split(r"[\n,，、]+", text) if name.strip()]


@dataclass(frozen=True)
class Step:
    action: Action
    run: Callable  # (ctx, code, actor, expected_version, fields, uploads) -> None
    fields: tuple[str, ...] = ()
    files: bool = False
    # Where two steps take the same action (申请销号 and the head's approval of it), the state
    # each one is for.
    status: Status | None = None


STEPS: dict[str, Step] = {
    "sign": Step(Action.SIGN, lambda c, code, a, v, f, u: act.sign(c, code, actor=a, expected_version=v)),
    "send_back": Step(Action.SEND_BACK, lambda c, code, a, v, f, u: act.send_back(
        c, code, actor=a, reason=f.get("reason", ""), expected_version=v), ("reason",)),
    "progress": Step(Action.PROGRESS, lambda c, code, a, v, f, u: act.progress(
        c, code, actor=a, note=f.get("note", ""), evidence=u, expected_version=v), ("note",), files=True),
    "extend": Step(Action.REQUEST_EXTENSION, lambda c, code, a, v, f, u: act.request_extension(
        c, code, actor=a, until=_required_date(f.get("until"), "延期至"), reason=f.get("reason", ""),
        expected_version=v), ("until", "reason")),
    "approve_extension": Step(Action.APPROVE_EXTENSION, lambda c, code, a, v, f, u: act.decide_extension(
        c, code, actor=a, approve=True, note=f.get("note") or None, expected_version=v), ("note",)),
    "deny_extension": Step(Action.DENY_EXTENSION, lambda c, code, a, v, f, u: act.decide_extension(
        c, code, actor=a, approve=False, note=f.get("reason", ""), expected_version=v), ("reason",)),
    "pause": Step(Action.REQUEST_PAUSE, lambda c, code, a, v, f, u: act.request_pause(
        c, code, actor=a, until=_required_date(f.get("until"), "暂缓至"), reason=f.get("reason", ""),
        expected_version=v), ("until", "reason")),
    "approve_pause": Step(Action.APPROVE_PAUSE, lambda c, code, a, v, f, u: act.decide_pause(
        c, code, actor=a, approve=True, note=f.get("note") or None, expected_version=v), ("note",)),
    "deny_pause": Step(Action.DENY_PAUSE, lambda c, code, a, v, f, u: act.decide_pause(
        c, code, actor=a, approve=False, note=f.get("reason", ""), expected_version=v), ("reason",)),
    "resume": Step(Action.RESUME, lambda c, code, a, v, f, u: act.resume(
        c, code, actor=a, note=f.get("note") or None, expected_version=v), ("note",)),
    "assist": Step(Action.SET_ASSISTS, lambda c, code, a, v, f, u: act.set_assists(
        c, code, actor=a, units=_names(f.get("assist", "")), expected_version=v), ("assist",)),
    "stages": Step(Action.SET_STAGES, lambda c, code, a, v, f, u: act.set_stages(
        c, code, actor=a, stages=act.parse_stages(f.get("stages", "")), expected_version=v), ("stages",)),
    "submit_stage": Step(Action.SUBMIT_STAGE, lambda c, code, a, v, f, u: act.submit_stage(
        c, code, actor=a, note=f.get("note", ""), evidence=u, expected_version=v), ("note",), files=True),
    "verify_stage": Step(Action.VERIFY_STAGE, lambda c, code, a, v, f, u: act.decide_stage(
        c, code, actor=a, approve=True, note=f.get("note", ""), expected_version=v), ("note",)),
    "return_stage": Step(Action.RETURN_STAGE, lambda c, code, a, v, f, u: act.decide_stage(
        c, code, actor=a, approve=False, note=f.get("reason", ""), expected_version=v), ("reason",)),
    "submit": Step(Action.SUBMIT, lambda c, code, a, v, f, u: act.submit(
        c, code, actor=a, measures=f.get("measures", ""), evidence=u, cause=f.get("cause") or None,
        spread=f.get("spread") or None, rules=f.get("rules") or None, expected_version=v),
        ("measures", "cause", "spread", "rules"), files=True, status=Status.RECTIFYING),
    "approve_review": Step(Action.SUBMIT, lambda c, code, a, v, f, u: act.approve_review(
        c, code, actor=a, note=f.get("note") or None, expected_version=v), ("note",), status=Status.REVIEWING),
    "head_return": Step(Action.HEAD_RETURN, lambda c, code, a, v, f, u: act.head_return(
        c, code, actor=a, reason=f.get("reason", ""), expected_version=v), ("reason",)),
    "verify": Step(Action.VERIFY, lambda c, code, a, v, f, u: act.verify(
        c, code, actor=a, note=f.get("note", ""), expected_version=v), ("note",)),
    "return": Step(Action.RETURN, lambda c, code, a, v, f, u: act.return_submission(
        c, code, actor=a, reason=f.get("reason", ""), expected_version=v), ("reason",)),
    "assign": Step(Action.ASSIGN, lambda c, code, a, v, f, u: act.assign(
        c, code, actor=a, unit=f.get("unit", ""), deadline=_date(f.get("deadline"), "整改时限"),
        expected_version=v), ("unit", "deadline")),
    "void": Step(Action.VOID, lambda c, code, a, v, f, u: act.void(
        c, code, actor=a, reason=f.get("reason", ""), expected_version=v), ("reason",)),
    "escalate": Step(Action.ESCALATE, lambda c, code, a, v, f, u: act.escalate(
        c, code, actor=a, level=f.get("level", ""), note=f.get("note") or None, expected_version=v),
        ("level", "note")),
}


def offered_steps(issue, user: User) -> list[str]:
    """The steps this user may take on this problem now, in the order of the table."""
    return [name for name, step in STEPS.items()
            if offered(issue, step.action, user) and step.status in (None, issue.status)]


def perform(ctx: Context, user: User, code: str, name: str, fields: Mapping[str, str], uploads=(),
            expected_version: int | None = None):
    """Take step `name` on problem `code` as `user`; a problem the user can't see is not found."""
    step = STEPS.get(name)
    if step is None:
        raise NotFound("操作", name, hint="可用的操作:" + "、".join(STEPS))
    issue = visible_issue(ctx.session, user, code)
    step.run(ctx, code, user.name, expected_version, {k: (v or "").strip() for k, v in fields.items()}, list(uploads))
    return issue
