"""Configurable rules (deadline days, reminder cadence, evidence limits) stored as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rectify.models.base import Base
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Severity, Supervision
from rectify.models.errors import NotFound


class PolicySetting(Base):
    __tablename__ = "policy_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


@dataclass(frozen=True)
class Policy:
    code_prefix: str
    deadline_days: dict[Severity, int]
    due_soon_days: int
    sign_within_days: int
    escalation_days: dict[Supervision, int]
    evidence_max_bytes: int
    evidence_media_types: tuple[str, ...]
    # Keyed by item code or by category; the item code wins. See docs/verification.md.
    evidence_photos_required: dict[str, int] = field(default_factory=dict)
    min_fix_minutes: dict[str, int] = field(default_factory=dict)
    measures_similarity: float = 0.9
    # 核验时限: working days a verifier has for a submission; past it the verifiers are told,
    # past the second number the 督查办 too. Databases seeded before these keys use the defaults.
    verify_within_days: int = 5
    verify_escalate_days: int = 10
    # One step's files together (a form or an API call), and how many.
    evidence_max_request_bytes: int = 50 << 20
    evidence_max_files: int = 10
    # A 督办单 asks for the rectification within these working days of its date, per level.
    urge_within_days: dict[Supervision, int] = field(default_factory=lambda: {
        Supervision.YELLOW: 5, Supervision.RED: 3, Supervision.LISTED: 2})
    # A message on a channel that reports reads (DingTalk work notices, Feishu) still unread
    # after these working hours goes again on the recipient's next channel (SMS, say).
    unread_fallback_hours: int = 4
    # 基层减负: what the grassroots may be asked to bear. Digests a unit receives in a day (later
    # ones wait for the next day); times a village / a household is sampled in one campaign.
    reminders_per_unit_per_day: int = 3
    visits_per_village_per_campaign: int = 2
    visits_per_household_per_campaign: int = 1
    # 暂缓整改 longer than this many working days (asked for, or lasting) is flagged to the 督查办.
    pause_flag_workdays: int = 60
    # What a submission (申请销号) must carry beyond its measures, per field (cause 原因分析,
    # spread 举一反三, rules 建章立制), and which submissions first go to the unit's head
    # (单位负责人审核). Each is a list of scopes: a severity, an item code, a category, or "*".
    analysis_required: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "cause": ("*",), "spread": ("grave",), "rules": ("grave",)})
    head_review: tuple[str, ...] = ()
    # 纸面销号 checks on photos: a capture time further than these hours from when the photo is
    # said to be taken; a position further than these km from the registered village; a
    # perceptual hash within these bits of another problem's photo (a resized or recompressed copy).
    photo_time_hours: int = 48
    photo_distance_km: float = 5.0
    photo_hash_bits: int = 6

    def default_deadline_days(self, severity: Severity) -> int:
        return self.deadline_days[severity]

    def photos_required(self, item: CheckItem) -> int:
        return int(_for_item(self.evidence_photos_required, item) or 0)

    def asks(self, item: CheckItem, severity: Severity) -> list[str]:
        """The analysis fields (ANALYSIS_FIELDS) a submission on such a problem must fill."""
        return [f for f in ANALYSIS_FIELDS if _in_scope(self.analysis_required.get(f, ()), item, severity)]

    def head_reviews(self, item: CheckItem, severity: Severity) -> bool:
        return _in_scope(self.head_review, item, severity)

    def fix_minutes(self, item: CheckItem) -> int | None:
        minutes = _for_item(self.min_fix_minutes, item)
        return int(minutes) if minutes is not None else None


# The analysis a submission carries, with the labels the edges show.
ANALYSIS_FIELDS = {"cause": "原因分析", "spread": "举一反三", "rules": "建章立制"}


def _in_scope(scopes, item: CheckItem, severity: Severity) -> bool:
    return bool({"*", severity.value, item.code, item.category} & set(scopes))


def _for_item(rules: dict[str, Any], item: CheckItem) -> Any:
    return rules.get(item.code, rules.get(item.category))


def _optional(rows: dict[str, Any]) -> dict[str, Any]:
    """Keys added after a database was seeded: the defaults stand until the operator sets them."""
    found: dict[str, Any] = {}
    if "urge_within_days" in rows:
        found["urge_within_days"] = {Supervision(k): int(v) for k, v in rows["urge_within_days"].items()}
    for key in ("unread_fallback_hours", "reminders_per_unit_per_day", "visits_per_village_per_campaign",
                "visits_per_household_per_campaign", "pause_flag_workdays", "photo_time_hours", "photo_hash_bits"):
        if key in rows:
            found[key] = int(rows[key])
    if "analysis_required" in rows:
        found["analysis_required"] = {k: tuple(v) for k, v in rows["analysis_required"].items()}
    if "head_review" in rows:
        found["head_review"] = tuple(rows["head_review"])
    if "photo_distance_km" in rows:
        found["photo_distance_km"] = float(rows["photo_distance_km"])
    return found


def load_policy(session: Session) -> Policy:
    rows = dict(session.execute(select(PolicySetting.key, PolicySetting.value)).tuples().all())
    try:
        return Policy(
            code_prefix=rows["code_prefix"],
            deadline_days={Severity(k): int(v) for k, v in rows["deadline_days"].items()},
            due_soon_days=int(rows["due_soon_days"]),
            sign_within_days=int(rows["sign_within_days"]),
            escalation_days={Supervision(k): int(v) for k, v in rows["escalation_days"].items()},
            evidence_max_bytes=int(rows["evidence_max_bytes"]),
            evidence_media_types=tuple(rows["evidence_media_types"]),
            evidence_photos_required=dict(rows.get("evidence_photos_required", {})),
            min_fix_minutes=dict(rows.get("min_fix_minutes", {})),
            measures_similarity=float(rows.get("measures_similarity", 0.9)),
            verify_within_days=int(rows.get("verify_within_days", 5)),
            verify_escalate_days=int(rows.get("verify_escalate_days", 10)),
            evidence_max_request_bytes=int(rows.get("evidence_max_request_bytes", 50 << 20)),
            evidence_max_files=int(rows.get("evidence_max_files", 10)),
            **_optional(rows),
        )
    except KeyError as missing:
        raise NotFound("政策设置", str(missing), hint="请先运行 rectify seed") from None
