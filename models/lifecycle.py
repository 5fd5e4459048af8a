"""The life of a problem: one table of allowed moves, one guarded transition().

Each move names the states it starts from, the state it leads to (None: it stays),
and the roles that may take it. transition() checks all of that plus who the actor
is in relation to the problem, stamps `<state>_at`, bumps the version and appends
the event. The per-action functions below add what each move must carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.enums import OPEN_STATUSES, Action, Role, Status, Supervision
from rectify.models.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from rectify.models.issues import Evidence, Issue, IssueEvent, IssueStage
from rectify.models.lookup import find_county_unit
from rectify.models.org import Unit, User, unit_has_head
from rectify.models.overlays import accepted_on_time
from rectify.models.policy import ANALYSIS_FIELDS, Policy
from rectify.models.referrals import refer
from rectify.models.responsibility import PlaceRef, check_unit_may_take, due_date
from rectify.models.suspicion import suspicions
from rectify.models.text import checked_text


@dataclass(frozen=True)
class Move:
    sources: frozenset[Status]
    target: Status | None
    roles: frozenset[Role]


def _move(sources, target, *roles: Role) -> Move:
    return Move(frozenset(sources), target, frozenset(roles))


S = Status
MOVES: dict[Action, Move] = {
    Action.ASSIGN: _move({S.TRIAGE}, S.ASSIGNED, Role.COORDINATOR),
    Action.SIGN: _move({S.ASSIGNED}, S.RECTIFYING, Role.UNIT),
    Action.SEND_BACK: _move({S.ASSIGNED, S.RECTIFYING}, S.TRIAGE, Role.UNIT),
    Action.PROGRESS: _move({S.RECTIFYING}, None, Role.UNIT),
    Action.REQUEST_EXTENSION: _move({S.RECTIFYING}, None, Role.UNIT),
    Action.APPROVE_EXTENSION: _move({S.RECTIFYING}, None, Role.COORDINATOR),
    Action.DENY_EXTENSION: _move({S.RECTIFYING}, None, Role.COORDINATOR),
    Action.REQUEST_PAUSE: _move({S.RECTIFYING}, None, Role.UNIT),
    Action.APPROVE_PAUSE: _move({S.RECTIFYING}, S.PAUSED, Role.COORDINATOR),
    Action.DENY_PAUSE: _move({S.RECTIFYING}, None, Role.COORDINATOR),
    Action.RESUME: _move({S.PAUSED}, S.RECTIFYING, Role.UNIT, Role.COORDINATOR),
    Action.SET_ASSISTS: _move({S.ASSIGNED, S.RECTIFYING, S.PAUSED, S.REVIEWING, S.SUBMITTED}, None,
                              Role.COORDINATOR),
    # 阶段性整改: the coordinator splits a long problem into stages; the unit reports each but the
    # last (which is the problem's own submission), a verifier verifies or returns each report.
    Action.SET_STAGES: _move({S.ASSIGNED, S.RECTIFYING}, None, Role.COORDINATOR),
    Action.SUBMIT_STAGE: _move({S.RECTIFYING}, None, Role.UNIT),
    Action.VERIFY_STAGE: _move({S.RECTIFYING, S.PAUSED}, None, Role.VERIFIER),
    Action.RETURN_STAGE: _move({S.RECTIFYING, S.PAUSED}, None, Role.VERIFIER),
    # 单位负责人审核: where the policy asks, the unit's submission goes to its head first, who
    # submits it on to the verifiers (the unit's clock stops then) or returns it inside the unit.
    Action.SEND_TO_HEAD: _move({S.RECTIFYING}, S.REVIEWING, Role.UNIT),
    Action.HEAD_RETURN: _move({S.REVIEWING}, S.RECTIFYING, Role.UNIT),
    Action.SUBMIT: _move({S.RECTIFYING, S.REVIEWING}, S.SUBMITTED, Role.UNIT),
    Action.VERIFY: _move({S.SUBMITTED}, S.CLOSED, Role.VERIFIER),
    Action.RETURN: _move({S.SUBMITTED}, S.RECTIFYING, Role.VERIFIER),
    Action.REOPEN: _move({S.CLOSED, S.RESOLVED_ON_SITE}, S.RECTIFYING, Role.VERIFIER, Role.COORDINATOR),
    Action.VOID: _move(OPEN_STATUSES, S.VOID, Role.COORDINATOR),
    Action.ESCALATE: _move(OPEN_STATUSES, None, Role.COORDINATOR, Role.LEADER),
}
# A problem found again this many times goes to the discipline office.
REFER_AFTER_REOPENS = 2
RECORD_ROLES = frozenset({Role.INSPECTOR, Role.TEAM_LEADER, Role.COORDINATOR})
# What an assisting unit (协办单位) may do on a problem: the rest is the lead's (主办).
ASSIST_ACTIONS = frozenset({Action.PROGRESS})
# What only the unit's head (单位负责人) may do on a submission waiting for the head.
HEAD_ACTIONS = frozenset({Action.SUBMIT, Action.HEAD_RETURN})
# Actions whose actor must be independent of the unit and of the submitter.
INDEPENDENT_ACTIONS = frozenset({Action.VERIFY, Action.RETURN, Action.REOPEN, Action.VERIFY_STAGE,
                                 Action.RETURN_STAGE})


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, move in MOVES.items() if status in move.sources]


# Requests a coordinator answers: the answer is offered while one waits, the request while none does.
_WAITING = {
    Action.REQUEST_EXTENSION: lambda i: i.extension_requested_until is None,
    Action.APPROVE_EXTENSION: lambda i: i.extension_requested_until is not None,
    Action.DENY_EXTENSION: lambda i: i.extension_requested_until is not None,
    Action.REQUEST_PAUSE: lambda i: i.pause_requested_until is None,
    Action.APPROVE_PAUSE: lambda i: i.pause_requested_until is not None,
    Action.DENY_PAUSE: lambda i: i.pause_requested_until is not None,
    Action.SET_STAGES: lambda i: all(s.state == "open" for s in i.stages),
    Action.SUBMIT_STAGE: lambda i: (s := next_stage(i)) is not None and s.state == "open",
    Action.VERIFY_STAGE: lambda i: reported_stage(i) is not None,
    Action.RETURN_STAGE: lambda i: reported_stage(i) is not None,
    Action.SUBMIT: lambda i: i.status is S.REVIEWING or unfinished_stage(i) is None,
}


def next_stage(issue: Issue) -> IssueStage | None:
    """The stage the unit reports next: the first not yet verified, unless it is the last (the
    last stage is the problem's own submission)."""
    stage = unfinished_stage(issue)
    return stage if stage is not None and stage is not issue.stages[-1] else None


def unfinished_stage(issue: Issue) -> IssueStage | None:
    """The first stage before the last that is not verified yet: the problem cannot be submitted
    for closure while there is one."""
    return next((s for s in issue.stages[:-1] if s.state != "verified"), None)


def reported_stage(issue: Issue) -> IssueStage | None:
    return next((s for s in issue.stages if s.state == "submitted"), None)


def offered(issue: Issue, action: Action, user: User) -> bool:
    """Whether a page should offer `action` on `issue` to `user` (the move is allowed from the
    problem's state to the user's role, any request it answers is waiting, and an assisting
    unit is offered only what it may do)."""
    move = MOVES[action]
    waiting = _WAITING.get(action, lambda i: True)
    if issue.status not in move.sources or user.role not in move.roles or not waiting(issue):
        return False
    if action is Action.SEND_TO_HEAD or (_head_only(issue, action) and not user.unit_head):
        return False  # the unit's 申请销号 goes to the head by itself where the policy asks
    return user.role is not Role.UNIT or user.unit_id == issue.unit_id or action in ASSIST_ACTIONS


def _head_only(issue: Issue, action: Action) -> bool:
    return issue.status is S.REVIEWING and action in HEAD_ACTIONS


def _describe_allowed(status: Status) -> str:
    actions = allowed_actions(status)
    if not actions:
        return "此状态下不能再执行任何操作"
    return "此状态下可执行:" + "、".join(
        f"{a.label}({'/'.join(r.label for r in sorted(MOVES[a].roles))})" for a in actions
    )


def check_allowed(issue: Issue, action: Action, actor: User) -> Move:
    """Raise unless `actor` may take `action` on `issue` now."""
    move = MOVES[action]
    if issue.status not in move.sources:
        raise InvalidTransition(
            f"问题 {issue.code} 当前状态为「{issue.status.label}」,不能「{action.label}」。"
            + _describe_allowed(issue.status)
        )
    if actor.role not in move.roles:
        raise PermissionDenied(
            f"用户 {actor.name}({actor.role.label})无权对问题 {issue.code}「{action.label}」;"
            f"此操作需要:{'、'.join(r.label for r in sorted(move.roles))}"
        )
    if actor.role is Role.UNIT and (actor.unit_id is None or actor.unit_id != issue.unit_id):
        if issue.assisted_by(actor.unit_id):
            if action not in ASSIST_ACTIONS:
                raise PermissionDenied(
                    f"{actor.name} 所在单位是问题 {issue.code} 的协办单位,只能报告进展;「{action.label}」由主办单位办理"
                )
        else:
            raise PermissionDenied(
                f"问题 {issue.code} 的责任单位不是 {actor.name} 所在单位,不能「{action.label}」"
            )
    if actor.role is Role.UNIT and _head_only(issue, action) and not actor.unit_head:
        raise PermissionDenied(f"问题 {issue.code} 的销号申请待单位负责人审核;{actor.name} 不是本单位负责人")
    if actor.role is Role.COORDINATOR and actor.unit is not None and actor.unit.county is not None:
        if actor.unit.county_id != issue.county_id:
            raise PermissionDenied(
                f"{actor.name} 只负责 {actor.unit.county.name} 的问题,问题 {issue.code} 不在其范围内"
            )
    if action in INDEPENDENT_ACTIONS and actor.role is Role.VERIFIER:
        if actor.unit_id is not None and actor.unit_id == issue.unit_id:
            raise PermissionDenied(
                f"核验人 {actor.name} 属于问题 {issue.code} 的责任单位,不能核验本单位的问题"
            )
        if issue.submitted_by_id is not None and actor.id == issue.submitted_by_id:
            raise PermissionDenied(f"{actor.name} 是问题 {issue.code} 的提交人,不能核验自己提交的整改")
    return move


def transition(
    session: Session,
    issue: Issue,
    action: Action,
    *,
    actor: User,
    now: datetime,
    note: str | None = None,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    apply=None,
) -> IssueEvent:
    """Take one guarded step. `apply(issue)` makes the action's own changes before the flush."""
    if expected_version is not None and expected_version != issue.version:
        raise Conflict(_conflict_message(issue.code))
    move = check_allowed(issue, action, actor)
    if note is not None:  # the optional notes (an approval's, an escalation's) follow the same rule
        note = checked_text(note, "说明", where=f"问题 {issue.code}:")
    before = issue.status
    # No autoflush: the UPDATE must happen in _flush, where a lost race becomes a Conflict.
    with session.no_autoflush:
        issue.version = issue.version + 1
        if apply is not None:
            apply(issue)
        if move.target is not None:
            issue.status = move.target
            setattr(issue, f"{move.target.value}_at", now)
        event = IssueEvent(
            issue=issue,
            seq=issue.version,
            action=action.value,
            actor=actor,
            at=now,
            from_status=before,
            to_status=issue.status,
            note=note,
            payload=payload or {},
        )
        session.add(event)
    _flush(session, issue.code)
    return event


def _conflict_message(code: str) -> str:
    return f"问题 {code} 已被他人修改(您看到的不是最新版本),请刷新后重试;您的操作未保存"


def _flush(session: Session, code: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(_conflict_message(code)) from None
    except OperationalError as exc:
        # SQLite refuses a write from a transaction whose snapshot another writer has moved past.
        if "locked" in str(exc.orig):
            raise Conflict(_conflict_message(code)) from None
        raise
    except IntegrityError as exc:
        if "issue_events" in str(exc.orig) or "seq" in str(exc.orig):
            raise Conflict(_conflict_message(code)) from None
        raise


def required_text(text: str | None, what: str, issue: Issue | None = None) -> str:
    where = f"问题 {issue.code}:" if issue is not None else ""
    if text is None or not text.strip():
        raise InvalidInput(f"{where}必须填写{what}")
    return checked_text(text.strip(), what, where=where)


# --- the moves ------------------------------------------------------------------------


def assign(session, issue, *, actor, now, unit: Unit, deadline: date | None, policy, calendar,
           expected_version=None) -> IssueEvent:
    check_unit_may_take(unit, issue.county)
    due = due_date(issue.code, deadline, now=now, severity=issue.severity, calendar=calendar, policy=policy)

    def apply(i: Issue) -> None:
        i.unit = unit
        i.original_deadline = due
        i.deadline = due

    return transition(session, issue, Action.ASSIGN, actor=actor, now=now, apply=apply,
                      payload={"unit": unit.name, "deadline": due.isoformat()},
                      expected_version=expected_version)


def sign(session, issue, *, actor, now, policy, calendar, expected_version=None) -> IssueEvent:
    assigned_on = local_date(issue.assigned_at or now)
    waited = calendar.workdays_between(assigned_on, local_date(now))
    late = waited > policy.sign_within_days

    def apply(i: Issue) -> None:
        i.sign_count = (i.sign_count or 0) + 1
        i.late_sign_count = (i.late_sign_count or 0) + (1 if late else 0)

    return transition(session, issue, Action.SIGN, actor=actor, now=now, apply=apply,
                      payload={"late": late, "workdays_waited": waited},
                      expected_version=expected_version)


def send_back(session, issue, *, actor, now, reason: str, expected_version=None) -> IssueEvent:
    reason = required_text(reason, "退回理由", issue)
    previous = {"unit": issue.unit.name if issue.unit else None,
                "deadline": issue.deadline.isoformat() if issue.deadline else None}

    def apply(i: Issue) -> None:
        i.unit = None
        i.deadline = None
        i.original_deadline = None
        i.extension_requested_until = None
        i.pause_requested_until = None
        i.assisting_units = []
        if all(stage.state == "open" for stage in i.stages):
            i.stages = []  # a plan not yet started goes with the unit; work verified stays

    return transition(session, issue, Action.SEND_BACK, actor=actor, now=now, note=reason,
                      payload=previous, apply=apply, expected_version=expected_version)


def progress(session, issue, *, actor, now, note: str, evidence: Sequence[Evidence] = (),
             expected_version=None) -> IssueEvent:
    note = required_text(note, "整改进展", issue)
    event = transition(session, issue, Action.PROGRESS, actor=actor, now=now, note=note,
                       expected_version=expected_version)
    _attach(session, issue, event, evidence)
    return event


def request_extension(session, issue, *, actor, now, until: date, reason: str,
                      expected_version=None) -> IssueEvent:
    reason = required_text(reason, "延期理由", issue)
    check_allowed(issue, Action.REQUEST_EXTENSION, actor)
    if issue.extension_requested_until is not None:
        raise InvalidTransition(
            f"问题 {issue.code} 已有待审批的延期申请(至 {issue.extension_requested_until})"
        )
    if local_date(now) > issue.deadline:
        raise InvalidTransition(
            f"问题 {issue.code} 已于 {issue.deadline} 到期,延期须在期限届满前申请"
        )
    if until <= issue.deadline:
        raise InvalidInput(f"问题 {issue.code}:延期至 {until} 必须晚于当前时限 {issue.deadline}")

    def apply(i: Issue) -> None:
        i.extension_requested_until = until

    return transition(session, issue, Action.REQUEST_EXTENSION, actor=actor, now=now, note=reason,
                      payload={"until": until.isoformat(), "deadline": issue.deadline.isoformat()},
                      apply=apply, expected_version=expected_version)


def decide_extension(session, issue, *, actor, now, approve: bool, note: str | None = None,
                     expected_version=None) -> IssueEvent:
    action = Action.APPROVE_EXTENSION if approve else Action.DENY_EXTENSION
    check_allowed(issue, action, actor)
    requested = issue.extension_requested_until
    if requested is None:
        raise InvalidTransition(f"问题 {issue.code} 没有待审批的延期申请")
    if not approve:
        note = required_text(note, "驳回理由", issue)
    previous = issue.deadline

    def apply(i: Issue) -> None:
        if approve:
            i.deadline = requested  # the original deadline stays for on-time figures
            i.extension_count = (i.extension_count or 0) + 1
        i.extension_requested_until = None

    return transition(session, issue, action, actor=actor, now=now, note=note, apply=apply,
                      payload={"until": requested.isoformat(), "previous_deadline": previous.isoformat()},
                      expected_version=expected_version)


def request_pause(session, issue, *, actor, now, until: date, reason: str, expected_version=None) -> IssueEvent:
    """暂缓整改: the unit asks to stop its clock until `until` (the day work resumes), with a reason."""
    reason = required_text(reason, "暂缓理由", issue)
    check_allowed(issue, Action.REQUEST_PAUSE, actor)
    if issue.pause_requested_until is not None:
        raise InvalidTransition(f"问题 {issue.code} 已有待审批的暂缓申请(至 {issue.pause_requested_until})")
    today = local_date(now)
    if issue.deadline is not None and today > issue.deadline:
        raise InvalidTransition(f"问题 {issue.code} 已于 {issue.deadline} 到期,暂缓须在期限届满前申请")
    if until <= today:
        raise InvalidInput(f"问题 {issue.code}:暂缓至 {until} 必须晚于今天 {today}", field="until")

    def apply(i: Issue) -> None:
        i.pause_requested_until = until

    return transition(session, issue, Action.REQUEST_PAUSE, actor=actor, now=now, note=reason, apply=apply,
                      payload={"until": until.isoformat()}, expected_version=expected_version)


def decide_pause(session, issue, *, actor, now, approve: bool, note: str | None = None,
                 expected_version=None) -> IssueEvent:
    """The coordinator approves a pause (the problem is 暂缓整改 until the day asked) or refuses it."""
    action = Action.APPROVE_PAUSE if approve else Action.DENY_PAUSE
    check_allowed(issue, action, actor)
    requested = issue.pause_requested_until
    if requested is None:
        raise InvalidTransition(f"问题 {issue.code} 没有待审批的暂缓申请")
    today = local_date(now)
    if approve and requested <= today:
        raise InvalidTransition(f"问题 {issue.code} 申请暂缓至 {requested},该日期已到,不能再批准;请驳回,由单位重新申请")
    if not approve:
        note = required_text(note, "驳回理由", issue)

    def apply(i: Issue) -> None:
        i.pause_requested_until = None
        if approve:
            i.paused_on = today
            i.paused_until = requested

    return transition(session, issue, action, actor=actor, now=now, note=note, apply=apply,
                      payload={"until": requested.isoformat()}, expected_version=expected_version)


def paused_workdays(paused_on: date, resumed_on: date, *, calendar: WorkCalendar) -> int:
    """The working days a pause took from the unit: those after the day it began and before the
    day work resumed (the unit worked on both of those days)."""
    if resumed_on <= paused_on:
        return 0
    return calendar.workdays_between(paused_on, resumed_on) - (1 if calendar.is_workday(resumed_on) else 0)


def resume(session, issue, *, actor, now, calendar: WorkCalendar, note: str | None = None,
           expected_version=None) -> IssueEvent:
    """The pause ends: by itself on its day (the reminder run), or earlier when the unit or the
    coordinator resumes. The deadline moves by the working days paused; the original deadline
    stays, so on time is still judged against it (as with an extension)."""
    check_allowed(issue, Action.RESUME, actor)
    assert issue.paused_on is not None and issue.paused_until is not None  # set when the pause was approved
    resumed_on = min(local_date(now), issue.paused_until)
    days = paused_workdays(issue.paused_on, resumed_on, calendar=calendar)
    previous = issue.deadline
    deadline = calendar.add_workdays(previous, days) if previous is not None and days else previous

    def apply(i: Issue) -> None:
        i.paused_workdays = (i.paused_workdays or 0) + days
        i.deadline = deadline
        i.paused_on = None
        i.paused_until = None

    return transition(session, issue, Action.RESUME, actor=actor, now=now, note=note, apply=apply,
                      payload={"workdays": days, "resumed_on": resumed_on.isoformat(),
                               "previous_deadline": previous.isoformat() if previous else None,
                               "deadline": deadline.isoformat() if deadline else None},
                      expected_version=expected_version)


def resume_ended_pauses(session: Session, *, actor: User, now: datetime, calendar: WorkCalendar) -> list[str]:
    """The reminder run's first step: every pause whose day has come ends by itself, so the
    problem is reminded and escalated again from today. Returns the codes resumed."""
    today = local_date(now)
    due = session.scalars(select(Issue).where(Issue.status == Status.PAUSED, Issue.paused_until <= today)
                          .order_by(Issue.id)).all()
    for issue in due:
        resume(session, issue, actor=actor, now=now, calendar=calendar,
               note=f"暂缓期满({issue.paused_until}),自动恢复整改")
    return [issue.code for issue in due]


def set_assists(session, issue, *, actor, now, units: Sequence[Unit], expected_version=None) -> IssueEvent:
    """The coordinator names the assisting units (协办单位); an empty list removes them all.
    Each must be able to take the county's problems, and none is the lead."""
    check_allowed(issue, Action.SET_ASSISTS, actor)
    chosen = sorted({u.id: u for u in units}.values(), key=lambda u: u.name)
    for unit in chosen:
        if unit.id == issue.unit_id:
            raise InvalidInput(f"问题 {issue.code}:{unit.name} 是主办单位,不能同时为协办单位", field="assist")
        check_unit_may_take(unit, issue.county)
    before = [u.name for u in issue.assisting_units]

    def apply(i: Issue) -> None:
        i.assisting_units = list(chosen)

    return transition(session, issue, Action.SET_ASSISTS, actor=actor, now=now, apply=apply,
                      payload={"assist": [u.name for u in chosen], "before": before},
                      expected_version=expected_version)


def analysis(issue: Issue, policy: Policy, **given: str | None) -> dict[str, str]:
    """The submission's 原因分析 / 举一反三 / 建章立制 (ANALYSIS_FIELDS): those the policy asks
    for on this problem must be filled; the others are kept when given."""
    asked = policy.asks(issue.check_item, issue.severity)
    found: dict[str, str] = {}
    for field, label in ANALYSIS_FIELDS.items():
        text = given.get(field)
        if field in asked and (text is None or not text.strip()):
            raise InvalidInput(f"问题 {issue.code}:{issue.severity.label}的「{issue.check_item.title}」类问题申请销号"
                               f"须填写{label}", field=field)
        if text is not None and text.strip():
            found[field] = checked_text(text.strip(), label, where=f"问题 {issue.code}:")
    return found


def head_review(session: Session, issue: Issue, actor: User, policy: Policy) -> str | None:
    """Whether `actor`'s submission goes to the unit head (单位负责人审核): None where the policy
    does not ask; "to_head" where it goes; "by_head" when the head submits; "no_head" when the
    unit has no active head account."""
    if not policy.head_reviews(issue.check_item, issue.severity):
        return None
    if actor.unit_head:
        return "by_head"
    return "to_head" if unit_has_head(session, issue.unit_id) else "no_head"


def set_stages(session, issue, *, actor, now, stages: Sequence[tuple[date, str]],
               expected_version=None) -> IssueEvent:
    """阶段性整改: the stages as (deadline, title), in order; none removes them. At least two, each
    deadline after the one before and not before today; the last one's is the problem's deadline
    (and the one on-time is judged against, as the plan replaces the single deadline)."""
    check_allowed(issue, Action.SET_STAGES, actor)
    if any(s.state != "open" for s in issue.stages):
        raise InvalidTransition(f"问题 {issue.code} 已有阶段报送或核验,不能重新设置阶段")
    if len(stages) == 1:
        raise InvalidInput(f"问题 {issue.code}:阶段性整改至少分两个阶段;不分阶段请全部留空", field="stages")
    today = local_date(now)
    planned: list[tuple[date, str]] = []
    for n, (deadline, title) in enumerate(stages, start=1):
        title = required_text(title, f"第 {n} 阶段的名称", issue)
        if len(title) > 80:
            raise InvalidInput(f"问题 {issue.code}:第 {n} 阶段的名称超过 80 字", field="stages")
        if deadline < today or (planned and deadline <= planned[-1][0]):
            raise InvalidInput(f"问题 {issue.code}:第 {n} 阶段的时限 {deadline} 须不早于今天,且晚于上一阶段的时限",
                               field="stages")
        planned.append((deadline, title))
    previous = issue.deadline

    def apply(i: Issue) -> None:
        i.stages = [IssueStage(seq=n, title=title, deadline=deadline, state="open")
                    for n, (deadline, title) in enumerate(planned, start=1)]
        if planned:
            i.deadline = i.original_deadline = planned[-1][0]

    return transition(session, issue, Action.SET_STAGES, actor=actor, now=now, apply=apply,
                      payload={"stages": [{"deadline": d.isoformat(), "title": t} for d, t in planned],
                               "previous_deadline": previous.isoformat() if previous else None},
                      expected_version=expected_version)


def submit_stage(session, issue, *, actor, now, note: str, evidence: Sequence[Evidence],
                 expected_version=None) -> IssueEvent:
    """The unit reports the next stage done, with evidence; a verifier then verifies it."""
    note = required_text(note, "阶段成果说明", issue)
    check_allowed(issue, Action.SUBMIT_STAGE, actor)
    stage = next_stage(issue)
    if stage is None:
        raise InvalidTransition(f"问题 {issue.code} 没有待报送的阶段" + ("(最后一个阶段完成后请申请销号)"
                                                                   if issue.stages else "(未分阶段整改)"))
    if stage.state == "submitted":
        raise InvalidTransition(f"问题 {issue.code} 第 {stage.seq} 阶段「{stage.title}」已报送,待核验")
    if not evidence:
        raise InvalidInput(f"问题 {issue.code}:报送阶段成果须附至少一份佐证材料", field="evidence")

    def apply(i: Issue) -> None:
        stage.state, stage.submitted_at = "submitted", now

    event = transition(session, issue, Action.SUBMIT_STAGE, actor=actor, now=now, note=note, apply=apply,
                       payload={"stage": stage.seq, "title": stage.title, "deadline": stage.deadline.isoformat()},
                       expected_version=expected_version)
    _attach(session, issue, event, evidence)
    return event


def decide_stage(session, issue, *, actor, now, approve: bool, note: str | None = None,
                 expected_version=None) -> IssueEvent:
    """A verifier verifies the reported stage (on time when its report came by its deadline) or
    returns it to the unit with a reason."""
    action = Action.VERIFY_STAGE if approve else Action.RETURN_STAGE
    check_allowed(issue, action, actor)
    stage = reported_stage(issue)
    if stage is None:
        raise InvalidTransition(f"问题 {issue.code} 没有待核验的阶段成果")
    note = required_text(note, "核验意见" if approve else "退回理由", issue)
    on_time = accepted_on_time(stage.submitted_at, stage.deadline)

    def apply(i: Issue) -> None:
        if approve:
            stage.state, stage.verified_at, stage.on_time = "verified", now, on_time
        else:
            stage.state, stage.submitted_at = "open", None

    return transition(session, issue, action, actor=actor, now=now, note=note, apply=apply,
                      payload={"stage": stage.seq, "title": stage.title, **({"on_time": on_time} if approve else {})},
                      expected_version=expected_version)


def submit(session, issue, *, actor, now, measures: str, evidence: list[Evidence], policy: Policy,
           cause: str | None = None, spread: str | None = None, rules: str | None = None,
           expected_version=None) -> IssueEvent:
    """申请销号. Where the policy asks for the unit head's sign-off and the submitter is not the
    head, it goes to the head first (报单位负责人审核); a unit without an active head account
    submits straight on, and the event says so (as an approval flow with no approver passes)."""
    measures = required_text(measures, "整改措施", issue)
    if issue.status is S.REVIEWING:
        raise InvalidTransition(f"问题 {issue.code} 的销号申请已报单位负责人审核,待其审核通过或退回")
    check_allowed(issue, Action.SUBMIT, actor)
    pending = unfinished_stage(issue)
    if pending is not None:
        raise InvalidTransition(f"问题 {issue.code} 分 {len(issue.stages)} 个阶段整改,第 {pending.seq} 阶段"
                                f"「{pending.title}」尚未核验通过,完成最后一个阶段时再申请销号")
    found = analysis(issue, policy, cause=cause, spread=spread, rules=rules)
    if not evidence:
        raise InvalidInput(f"问题 {issue.code}:申请销号须附至少一份佐证材料", field="evidence")
    photos = policy.photos_required(issue.check_item)
    if sum(1 for e in evidence if e.media_type.startswith("image/")) < photos:
        raise InvalidInput(
            f"问题 {issue.code}:「{issue.check_item.title}」类问题申请销号须附至少 {photos} 张现场照片(图片文件)"
        )
    review = head_review(session, issue, actor, policy)
    payload: dict[str, Any] = {**found, **({"head_review": review} if review else {})}
    to_head = review == "to_head"

    def apply(i: Issue) -> None:
        i.measures = measures
        i.cause, i.spread_note, i.rules_note = found.get("cause"), found.get("spread"), found.get("rules")
        i.submitted_by = actor
        i.pause_requested_until = None  # a pause asked for and not decided lapses with the submission
        if not to_head:
            i.submit_count = (i.submit_count or 0) + 1

    event = transition(session, issue, Action.SEND_TO_HEAD if to_head else Action.SUBMIT, actor=actor, now=now,
                       note=measures, payload=payload, apply=apply, expected_version=expected_version)
    _attach(session, issue, event, evidence)
    return event


def approve_review(session, issue, *, actor, now, note: str | None = None, expected_version=None) -> IssueEvent:
    """The unit head approves the submission: it goes on to the verifiers (申请销号) and the
    unit's clock stops now."""
    if issue.status is not S.REVIEWING:
        raise InvalidTransition(f"问题 {issue.code} 没有待单位负责人审核的销号申请")
    check_allowed(issue, Action.SUBMIT, actor)

    def apply(i: Issue) -> None:
        i.submit_count = (i.submit_count or 0) + 1

    return transition(session, issue, Action.SUBMIT, actor=actor, now=now, note=note or issue.measures, apply=apply,
                      payload={"head_review": "approved"}, expected_version=expected_version)


def head_return(session, issue, *, actor, now, reason: str, expected_version=None) -> IssueEvent:
    """The unit head returns the submission inside the unit: 整改中 again, the clock still running."""
    reason = required_text(reason, "退回理由", issue)
    return transition(session, issue, Action.HEAD_RETURN, actor=actor, now=now, note=reason,
                      expected_version=expected_version)


def _judged(session, issue, action: Action, actor, policy: Policy) -> dict[str, Any]:
    """The warnings the verifier saw, recorded with the decision."""
    check_allowed(issue, action, actor)
    return {"warnings": [w.to_dict() for w in suspicions(session, issue, policy)]}


def verify(session, issue, *, actor, now, note: str, calendar: WorkCalendar, policy: Policy,
           expected_version=None) -> IssueEvent:
    note = required_text(note, "核验意见", issue)
    closed_on = local_date(now)
    payload = _judged(session, issue, Action.VERIFY, actor, policy)

    def apply(i: Issue) -> None:
        i.closed_on_time = accepted_on_time(i.submitted_at, i.original_deadline)
        i.days_to_close = calendar.workdays_between(local_date(i.assigned_at or i.created_at), closed_on)
        if i.stages:  # the last stage is the problem's own submission
            last = i.stages[-1]
            last.state, last.submitted_at, last.verified_at = "verified", i.submitted_at, now
            last.on_time = accepted_on_time(i.submitted_at, last.deadline)

    return transition(session, issue, Action.VERIFY, actor=actor, now=now, note=note, apply=apply,
                      payload=payload, expected_version=expected_version)


def return_submission(session, issue, *, actor, now, reason: str, policy: Policy,
                      expected_version=None) -> IssueEvent:
    reason = required_text(reason, "退回理由", issue)
    payload = _judged(session, issue, Action.RETURN, actor, policy)

    def apply(i: Issue) -> None:
        i.return_count = (i.return_count or 0) + 1

    return transition(session, issue, Action.RETURN, actor=actor, now=now, note=reason, apply=apply,
                      payload=payload, expected_version=expected_version)


def reopen(session, issue, *, actor, now, reason: str, evidence: list[Evidence],
           unit: Unit | None, deadline: date | None, policy, calendar, callback: bool = False,
           expected_version=None) -> IssueEvent:
    """反弹重开, with evidence of the problem found again; a household's 不满意 on a callback
    (`callback`) is its own evidence: the answer and its note are kept with the callback."""
    reason = required_text(reason, "反弹情况说明", issue)
    check_allowed(issue, Action.REOPEN, actor)
    if not evidence and not callback:
        raise InvalidInput(f"问题 {issue.code}:反弹重开须附佐证材料", field="evidence")
    responsible = unit or issue.unit or PlaceRef(
        issue.county, issue.township, issue.village, issue.household
    ).default_unit(find_county_unit(session, issue.county))
    if responsible is None:
        raise InvalidInput(f"问题 {issue.code}:须指定责任单位", field="unit")
    check_unit_may_take(responsible, issue.county)
    due = due_date(issue.code, deadline, now=now, severity=issue.severity, calendar=calendar, policy=policy)

    def apply(i: Issue) -> None:
        i.unit = responsible
        i.original_deadline = due
        i.deadline = due
        i.reopen_count += 1
        i.submitted_by = None

    event = transition(session, issue, Action.REOPEN, actor=actor, now=now, note=reason, apply=apply,
                       payload={"unit": responsible.name, "deadline": due.isoformat(),
                                "reopen_count": issue.reopen_count + 1},
                       expected_version=expected_version)
    _attach(session, issue, event, evidence)
    if issue.reopen_count >= REFER_AFTER_REOPENS:
        refer(session, {issue.id}, reason="reopened", now=now,
              note=f"第 {issue.reopen_count} 次反弹重开,移交问责线索")
    return event


def void(session, issue, *, actor, now, reason: str, expected_version=None) -> IssueEvent:
    reason = required_text(reason, "撤销理由", issue)
    return transition(session, issue, Action.VOID, actor=actor, now=now, note=reason,
                      expected_version=expected_version)


SUPERVISION_ORDER = list(Supervision)


def escalate(session, issue, *, actor, now, level: Supervision, note: str | None = None,
             expected_version=None) -> IssueEvent:
    check_allowed(issue, Action.ESCALATE, actor)
    if SUPERVISION_ORDER.index(level) <= SUPERVISION_ORDER.index(issue.supervision):
        raise InvalidTransition(
            f"问题 {issue.code} 当前督办级别为「{issue.supervision.label}」,只能提级,不能改为「{level.label}」"
        )
    previous = issue.supervision

    def apply(i: Issue) -> None:
        i.supervision = level

    return transition(session, issue, Action.ESCALATE, actor=actor, now=now, note=note, apply=apply,
                      payload={"from": previous.value, "to": level.value},
                      expected_version=expected_version)


def escalate_many(session: Session, issue_ids: list[int], *, level: Supervision, actor: User, now: datetime,
                  note: str) -> list[int]:
    """The scheduled ladder: raise many open problems to `level` in bulk, each with its event.

    The same rule as escalate() (open problems only, the level only goes up) in one UPDATE
    per chunk; a problem changed meanwhile simply is not raised. Returns the ids raised.
    """
    if actor.role not in MOVES[Action.ESCALATE].roles:
        raise PermissionDenied(f"用户 {actor.name} 无权提级督办")
    lower = SUPERVISION_ORDER[: SUPERVISION_ORDER.index(level)]
    table, events = Issue.__table__, IssueEvent.__table__
    assert isinstance(table, Table) and isinstance(events, Table)  # declarative tables, for the checker
    raised: list[int] = []
    for start in range(0, len(issue_ids), 2000):
        rows = session.execute(
            update(table)
            .where(table.c.id.in_(issue_ids[start:start + 2000]), table.c.status.in_([s.value for s in OPEN_STATUSES]),
                   table.c.supervision.in_([s.value for s in lower]))
            .values(supervision=level.value, version=table.c.version + 1)
            .returning(table.c.id, table.c.version, table.c.status, table.c.supervision)
        ).all()
        if rows:
            session.execute(insert(events), [
                {"issue_id": r.id, "seq": r.version, "action": Action.ESCALATE.value, "actor_id": actor.id,
                 "at": now, "from_status": r.status, "to_status": r.status, "note": note,
                 "payload": {"to": level.value, "auto": True}} for r in rows])
        raised += [r.id for r in rows]
    return raised


def _attach(session: Session, issue: Issue, event: IssueEvent, evidence) -> None:
    for piece in evidence:
        piece.issue = issue
        piece.event = event
        session.add(piece)
    if evidence:
        session.flush()
