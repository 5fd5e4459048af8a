"""纸面销号 signs in the photos themselves, from the facts kept on each evidence row (models.photos):
- photo_time: taken further from when it is said to be taken than the policy allows. A 整改前
  photo is said to be taken when the team recorded the row (the phone's time, else the 检查日期);
  a 整改后 photo between the problem's assignment and its upload;
- photo_place: taken further from the problem's village than the policy allows;
- similar_photo: a resized or recompressed copy of another problem's photo (perceptual hash
  within the policy's bits), or a 整改后 photo that is the problem's own 整改前 one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from rectify.models.calendar import SHANGHAI, local_date
from rectify.models.enums import Action
from rectify.models.inspections import Finding
from rectify.models.issues import Evidence, Issue, IssueEvent
from rectify.models.photos import distance_km, hash_distance
from rectify.models.places import Village
from rectify.models.policy import Policy

BEFORE = (Action.RECORD.value,)  # photos taken at inspection: 整改前
AFTER = ("submit", "send_to_head", "progress", "submit_stage")  # the unit's photos: 整改后
HASH_BITS = 64


@dataclass(frozen=True)
class Photo:
    id: int
    issue_id: int
    code: str
    name: str
    sha256: str
    action: str
    uploaded_at: datetime
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None
    phash: str | None

    @property
    def before(self) -> bool:
        return self.action in BEFORE


def _photos(session: Session, *conditions) -> list[Photo]:
    rows = session.execute(
        select(Evidence.id, Evidence.issue_id, Issue.code, Evidence.name, Evidence.sha256, IssueEvent.action,
               Evidence.uploaded_at, Evidence.taken_at, Evidence.latitude, Evidence.longitude, Evidence.phash)
        .join(IssueEvent, and_(IssueEvent.id == Evidence.event_id, IssueEvent.action.in_(BEFORE + AFTER)))
        .join(Issue, Issue.id == Evidence.issue_id)
        .where(Evidence.media_type.like("image/%"), *conditions)).all()
    return [Photo(*row) for row in rows]


def before_and_after(issue: Issue) -> tuple[list[Evidence], list[Evidence], list[Evidence]]:
    """A problem's files as the verifier holds them side by side: taken at inspection (整改前),
    sent by the unit (整改后), and the rest (a recheck's workbook, say)."""
    sides: tuple[list[Evidence], list[Evidence], list[Evidence]] = ([], [], [])
    for event in issue.events:
        side = sides[0] if event.action in BEFORE else sides[1] if event.action in AFTER else sides[2]
        side.extend(event.evidence)
    return sides


def km_from_village(evidence: Evidence, issue: Issue) -> float | None:
    village = issue.village
    if village is None or village.latitude is None or village.longitude is None or evidence.latitude is None \
            or evidence.longitude is None:
        return None
    return distance_km(evidence.latitude, evidence.longitude, village.latitude, village.longitude)


def photo_signs(session: Session, issues: list[Issue], policy: Policy):
    """(issue id, kind, message, other problem's code) for every sign in these problems' photos."""
    by_id = {i.id: i for i in issues}
    mine: list[Photo] = []
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        mine += _photos(session, Evidence.issue_id.in_(ids[start:start + 500]))
    if not mine:
        return
    recorded = _recorded_times(session, sorted({p.issue_id for p in mine if p.before}))
    villages = _village_positions(session, sorted({v for p in mine if (v := by_id[p.issue_id].village_id) is not None}))
    slack = timedelta(hours=policy.photo_time_hours)
    for photo in mine:
        issue = by_id[photo.issue_id]
        wrong = _time_sign(photo, issue, recorded.get(issue.id), slack)
        if wrong:
            yield issue.id, "photo_time", wrong, None
        where = villages.get(issue.village_id) if issue.village_id is not None else None
        if where and photo.latitude is not None and photo.longitude is not None:
            km = distance_km(photo.latitude, photo.longitude, *where)
            if km > policy.photo_distance_km:
                village = issue.village.name if issue.village else "村"
                yield issue.id, "photo_place", (f"照片「{photo.name}」的拍摄位置距{village}约 {km:.0f} 公里"
                                                f"(超过 {policy.photo_distance_km:g} 公里)"), None
    yield from _similar(session, [p for p in mine if p.phash], policy.photo_hash_bits)


def _recorded_times(session: Session, issue_ids: list[int]) -> dict[int, tuple[datetime | None, object]]:
    found: dict[int, tuple[datetime | None, object]] = {}
    for start in range(0, len(issue_ids), 500):
        for issue_id, captured_at, checked_on in session.execute(
                select(Finding.issue_id, Finding.captured_at, Finding.checked_on)
                .where(Finding.issue_id.in_(issue_ids[start:start + 500]))):
            found[issue_id] = (captured_at, checked_on)
    return found


def _village_positions(session: Session, village_ids: list[int]) -> dict[int, tuple[float, float]]:
    found = {}
    for start in range(0, len(village_ids), 500):
        for vid, lat, lon in session.execute(
                select(Village.id, Village.latitude, Village.longitude)
                .where(Village.id.in_(village_ids[start:start + 500]), Village.latitude.is_not(None),
                       Village.longitude.is_not(None))):
            found[vid] = (float(lat), float(lon))
    return found


def _shown(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _time_sign(photo: Photo, issue: Issue, recorded, slack: timedelta) -> str | None:
    if photo.taken_at is None:
        return None
    if photo.before:
        captured_at, checked_on = recorded or (None, None)
        if captured_at is not None:
            start = end = captured_at
            said = f"记录时间 {_shown(captured_at)}"
        elif checked_on is not None:
            start = datetime.combine(checked_on, time.min, SHANGHAI)
            end = start + timedelta(days=1)
            said = f"检查日期 {checked_on.isoformat()}"
        else:
            return None
    else:
        start, end = issue.assigned_at or issue.created_at, photo.uploaded_at
        said = f"交办({local_date(start).isoformat()})至上传({_shown(end)})期间"
    if start - slack <= photo.taken_at <= end + slack:
        return None
    return f"照片「{photo.name}」拍摄于 {_shown(photo.taken_at)},与{said}相差过远"


def _bands(bits: int) -> list[tuple[int, int]]:
    """bits+1 slices of the 64-bit hash: two hashes within `bits` agree on at least one slice."""
    count = min(bits + 1, HASH_BITS)
    edges = [round(i * HASH_BITS / count) for i in range(count + 1)]
    return [(lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]


def _band_keys(phash: str, bands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    value = int(phash, 16)
    return [(i, (value >> lo) & ((1 << (hi - lo)) - 1)) for i, (lo, hi) in enumerate(bands)]


def _similar(session: Session, mine: list[Photo], bits: int):
    if not mine:
        return
    bands = _bands(bits)
    index: dict[tuple[int, int], list[Photo]] = defaultdict(list)
    for photo in _photos(session, Evidence.phash.is_not(None)):
        for key in _band_keys(photo.phash or "0", bands):
            index[key].append(photo)
    seen: set[tuple[int, str]] = set()
    for photo in sorted(mine, key=lambda p: p.id):
        mine_hash = photo.phash or "0"
        candidates = {c.id: c for key in _band_keys(mine_hash, bands) for c in index[key]}
        for other in sorted(candidates.values(), key=lambda p: p.id):
            if other.id == photo.id or hash_distance(mine_hash, other.phash or "0") > bits:
                continue
            message = _similar_message(photo, other)
            if message and (photo.issue_id, message) not in seen:
                seen.add((photo.issue_id, message))
                yield photo.issue_id, "similar_photo", message, other.code if other.issue_id != photo.issue_id else None


def _similar_message(photo: Photo, other: Photo) -> str | None:
    if other.issue_id == photo.issue_id:
        # The problem's own photos: only a 整改后 that is its 整改前 says nothing was done.
        if photo.before == other.before or photo.before:
            return None
        return f"整改后照片「{photo.name}」与本问题的整改前照片「{other.name}」几乎相同"
    if photo.sha256 == other.sha256 and photo.action in AFTER and other.action in AFTER:
        return None  # the same file uploaded twice by units: 佐证材料重复 says so already
    same = "完全相同" if photo.sha256 == other.sha256 else "几乎相同(缩放或重新压缩的副本)"
    return f"照片「{photo.name}」与问题 {other.code} 的照片「{other.name}」{same}"
