"""Two people acting on the same problem at once: one wins, the other is told, nothing is lost."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from rectify.flows import issue_actions as act
from rectify.flows.context import Context, engine_for, unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.db import session_factory
from rectify.models.errors import Conflict
from rectify.models.issues import IssueEvent
from rectify.models.lookup import get_issue

T0 = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture()
def open_issue(fresh_db):
    with unit_of_work(T0) as ctx:
        issue = act.record(ctx, actor="督导员01", county="康定市", item="减贫实施方案",
                           description="方案未细化", severity="较重", unit="康定市")
        act.sign(ctx, issue.code, actor="康定市经办人")
        return issue.code


def test_overlapping_writers_one_wins_the_other_gets_a_conflict(open_issue):
    make_session = session_factory(engine_for())
    with make_session() as one, make_session() as two:
        first, second = Context(one, T0), Context(two, T0)
        # Both hold the problem as read inside their transactions before either writes.
        held = [get_issue(one, open_issue), get_issue(two, open_issue)]
        act.progress(second, open_issue, actor="康定市经办人", note="第二人的进展")
        two.commit()
        with pytest.raises(Conflict, match="已被他人修改"):
            act.void(first, open_issue, actor="州督查办", reason="第一人的撤销")
        one.rollback()
        assert held[0].code == held[1].code
    with unit_of_work(T0) as check:
        issue = get_issue(check.session, open_issue)
        assert issue.status.value == "rectifying"
        notes = [e.note for e in issue.events]
        assert "第二人的进展" in notes and "第一人的撤销" not in notes
        assert check.session.scalar(
            select(func.count()).select_from(IssueEvent).where(IssueEvent.issue_id == issue.id)
        ) == issue.version


def test_a_form_read_earlier_is_refused_after_someone_else_acted(open_issue):
    with unit_of_work(T0) as page:
        seen_version = get_issue(page.session, open_issue).version
    with unit_of_work(T0) as other:
        act.progress(other, open_issue, actor="康定市经办人", note="先到")
    with pytest.raises(Conflict):
        with unit_of_work(T0) as late:
            act.progress(late, open_issue, actor="康定市经办人", note="后到", expected_version=seen_version)
    with unit_of_work(T0) as check:
        assert [e.note for e in get_issue(check.session, open_issue).events][-1] == "先到"


def test_concurrent_writers_in_one_county_keep_the_running_totals_exact(fresh_db):
    """Four people recording and signing for problems of the same county at once all move the
    same running-total rows (models.tallies): none waits forever, none is lost or counted twice."""
    import random
    import time
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    from rectify.models import tallies
    from rectify.models.tallies import IssueTally

    def retried(step):
        # On SQLite a transaction that read before another writer committed is refused with
        # Conflict ("请重试"); the person retries a moment later, as here.
        for attempt in range(50):
            try:
                with unit_of_work(T0) as ctx:
                    return step(ctx)
            except Conflict:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise AssertionError("still refused after 50 tries")

    def work(n: int) -> None:
        for k in range(5):
            def record(ctx, description=f"并发 {n}-{k}"):
                return act.record(ctx, actor="督导员01", county="康定市", item="减贫实施方案",
                                  description=description, severity="较重", unit="康定市").code

            code = retried(record)
            retried(lambda ctx, code=code: act.sign(ctx, code, actor="康定市经办人"))

    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(work, n) for n in range(4)]:
            done.result(timeout=120)

    def totals(session):
        return sorted(tuple(r) for r in session.execute(text("SELECT * FROM issue_tallies")).all())

    with unit_of_work(T0) as ctx:
        kept = totals(ctx.session)
        counted = ctx.session.scalar(select(func.sum(IssueTally.n)).where(
            IssueTally.dimension == "county", IssueTally.kind == "state"))
        tallies.refill(ctx.session.connection())
        assert counted == 20 and totals(ctx.session) == kept
