"""Signs of 纸面销号 (closure on paper) that a verifier must see before deciding.

Three checks on the submission, each a rule over what is already recorded, and three on
its photos (models.photo_checks):
- reused evidence: a file the unit uploaded (same sha256) was uploaded for another problem too;
- similar measures: the measures text, normalised, is nearly the same as another problem's of
  the same check item at a different place (similarity threshold in policy);
- too fast: submitted sooner after assignment than the item can be fixed (minutes in policy).
The same functions serve one problem (the verifier's screen, recorded with the decision) and
many (`rectify suspicious`), so both always agree.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from rectify.models.enums import Status
from rectify.models.issues import Evidence, Issue, IssueEvent
from rectify.models.photo_checks import photo_signs
from rectify.models.policy import Policy

KIND_LABELS = {"reused_evidence": "佐证材料重复", "similar_measures": "整改措施雷同", "too_fast": "销号过快",
               "photo_time": "照片时间不符", "photo_place": "照片位置不符", "similar_photo": "照片雷同"}
# Evidence the unit itself uploaded; a recheck workbook attached to many reopenings is not.
UNIT_UPLOADS = ("submit", "send_to_head", "progress")
# Problems whose submission a verifier has judged or will judge.
SUBMITTED_OR_CLOSED = (Status.SUBMITTED, Status.CLOSED)


@dataclass(frozen=True)
class Suspicion:
    kind: str
    message: str
    other: str | None = None  # the other problem's code

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def normalise_measures(text: str) -> str:
    """Full-width folded, lower-cased, without whitespace, punctuation or symbols."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZSC")


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def suspicions(session: Session, issue: Issue, policy: Policy) -> list[Suspicion]:
    """Everything suspicious about one problem's current submission (none while it has none
    waiting or closed)."""
    if issue.status not in SUBMITTED_OR_CLOSED:
        return []
    return find_suspicions(session, [issue], policy).get(issue.id, [])


def find_suspicions(session: Session, issues: list[Issue], policy: Policy) -> dict[int, list[Suspicion]]:
    found: dict[int, list[Suspicion]] = defaultdict(list)
    for chunk in (issues[i:i + 1000] for i in range(0, len(issues), 1000)):
        for issue_id, suspicion in _reused_evidence(session, [i.id for i in chunk]):
            found[issue_id].append(suspicion)
    for issue_id, suspicion in _similar_measures(session, issues, policy.measures_similarity):
        found[issue_id].append(suspicion)
    for issue in issues:
        fast = _too_fast(issue, policy)
        if fast is not None:
            found[issue.id].append(fast)
    for issue_id, kind, message, other in photo_signs(session, issues, policy):
        found[issue_id].append(Suspicion(kind, message, other))
    return dict(found)


def current_suspicions(
    session: Session, policy: Policy, *, county_id: int | None = None
) -> list[tuple[Issue, list[Suspicion]]]:
    """Submitted and closed problems (optionally of one county) with at least one warning."""
    query = select(Issue).where(Issue.status.in_(SUBMITTED_OR_CLOSED)).order_by(Issue.code)
    if county_id is not None:
        query = query.where(Issue.county_id == county_id)
    issues = list(session.scalars(query))
    found = find_suspicions(session, issues, policy)
    return [(i, found[i.id]) for i in issues if i.id in found]


def _reused_evidence(session: Session, issue_ids: list[int]):
    # Two indexed look-ups (these problems' files by issue, then the same files elsewhere by
    # hash) rather than one join: SQLite planned the join from the events table, a full scan
    # of every step at 100,000 problems for a problem page that has no file at all.
    mine = session.execute(
        select(Evidence.issue_id, Evidence.name, Evidence.sha256)
        .join(IssueEvent, and_(IssueEvent.id == Evidence.event_id, IssueEvent.action.in_(UNIT_UPLOADS)))
        .where(Evidence.issue_id.in_(issue_ids))).all()
    if not mine:
        return
    theirs: dict[str, set[tuple[int, str]]] = defaultdict(set)
    hashes = sorted({row.sha256 for row in mine})
    for start in range(0, len(hashes), 500):
        for sha256, issue_id, code in session.execute(
                select(Evidence.sha256, Evidence.issue_id, Issue.code)
                .join(IssueEvent, and_(IssueEvent.id == Evidence.event_id, IssueEvent.action.in_(UNIT_UPLOADS)))
                .join(Issue, Issue.id == Evidence.issue_id)
                .where(Evidence.sha256.in_(hashes[start:start + 500]))):
            theirs[sha256].add((issue_id, code))
    rows = sorted({(issue_id, name, code) for issue_id, name, sha256 in mine
                   for other_id, code in theirs[sha256] if other_id != issue_id})
    for issue_id, name, other_code in rows:
        yield issue_id, Suspicion("reused_evidence", f"佐证材料「{name}」与问题 {other_code} 的材料完全相同(同一文件)",
                                  other_code)


def _place(row) -> tuple:
    return (row.county_id, row.township_id, row.village_id, row.household_id)


def _similar_measures(session: Session, issues: list[Issue], threshold: float):
    """Compare each submission with the other submissions of the same check item."""
    wanted = [i for i in issues if i.measures]
    if not wanted:
        return
    items = sorted({i.check_item_id for i in wanted})
    others: dict[int, list] = defaultdict(list)
    for start in range(0, len(items), 500):
        for row in session.execute(
            select(Issue.id, Issue.code, Issue.check_item_id, Issue.county_id, Issue.township_id,
                   Issue.village_id, Issue.household_id, Issue.measures)
            .where(Issue.check_item_id.in_(items[start:start + 500]), Issue.measures.is_not(None))
        ):
            others[row.check_item_id].append((row, normalise_measures(row.measures)))
    # The length bound: ratio = 2M / (la + lb) <= 2 min / (la + lb).
    for issue in wanted:
        mine = normalise_measures(issue.measures or "")
        if not mine:
            continue
        place = _place(issue)
        best: tuple[float, str] | None = None
        for row, theirs in others[issue.check_item_id]:
            if row.id == issue.id or _place(row) == place or not theirs:
                continue
            if 2 * min(len(mine), len(theirs)) / (len(mine) + len(theirs)) < threshold:
                continue
            matcher = SequenceMatcher(None, mine, theirs, autojunk=False)
            if matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold and (best is None or ratio > best[0]):
                best = (ratio, row.code)
        if best is not None:
            yield issue.id, Suspicion(
                "similar_measures", f"整改措施与另一地点的问题 {best[1]} 几乎相同(相似度 {best[0]:.0%})", best[1])


def _duration(minutes: int) -> str:
    if minutes >= 1440 and minutes % 1440 == 0:
        return f"{minutes // 1440} 天"
    if minutes >= 60:
        return f"{minutes / 60:.0f} 小时"
    return f"{minutes} 分钟"


def _too_fast(issue: Issue, policy: Policy) -> Suspicion | None:
    least = policy.fix_minutes(issue.check_item)
    if least is None or issue.submitted_at is None or issue.assigned_at is None:
        return None
    taken = int((issue.submitted_at - issue.assigned_at).total_seconds() // 60)
    if taken >= least:
        return None
    return Suspicion("too_fast", f"交办后 {_duration(max(taken, 0))}即申请销号;「{issue.check_item.title}」"
                                 f"按规定一般至少需要 {_duration(least)}")
