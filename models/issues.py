"""Problems (整改问题), their append-only event trail and their evidence."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime, enum_column
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Severity, Status, Supervision
from rectify.models.inspections import Inspection
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Township, Village

_status_type, _status_check = enum_column(Status, "status")
_severity_type, _severity_check = enum_column(Severity, "severity")
_supervision_type, _supervision_check = enum_column(Supervision, "supervision")
_from_type, _from_check = enum_column(Status, "from_status")
_to_type, _to_check = enum_column(Status, "to_status")


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (
        _status_check,
        _severity_check,
        _supervision_check,
        Index("ix_issues_status_deadline", "status", "deadline"),
        # The list pages filter by county or unit, often by state, and page by deadline.
        Index("ix_issues_unit_status_deadline", "unit_id", "status", "deadline"),
        Index("ix_issues_county_status_deadline", "county_id", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    # The field team's own number, kept for re-imports.
    external_ref: Mapped[str | None] = mapped_column(String(40))

    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    check_item_id: Mapped[int] = mapped_column(ForeignKey("check_items.id"), index=True)

    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(_severity_type)
    good_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[Status] = mapped_column(_status_type)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    original_deadline: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    supervision: Mapped[Supervision] = mapped_column(_supervision_type, default=Supervision.NORMAL)
    extension_requested_until: Mapped[date | None] = mapped_column(Date)
    # 暂缓整改: the day asked to resume on while the request waits; while paused, the day it
    # began and the day it ends by itself. Working days paused (ended pauses) are kept for the
    # figures; each ended pause also moved the deadline by its working days.
    pause_requested_until: Mapped[date | None] = mapped_column(Date)
    paused_on: Mapped[date | None] = mapped_column(Date)
    paused_until: Mapped[date | None] = mapped_column(Date)
    paused_workdays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    measures: Mapped[str | None] = mapped_column(Text)
    # The latest submission's 原因分析, 举一反三 (other places checked for the same problem) and
    # 建章立制 (rules or mechanisms made); which of them a submission must carry is policy.
    cause: Mapped[str | None] = mapped_column(Text)
    spread_note: Mapped[str | None] = mapped_column(Text)
    rules_note: Mapped[str | None] = mapped_column(Text)
    on_site_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Kept by the lifecycle for the figures, so a report "as of now" is one GROUP BY over this
    # table; a report as of a past moment recounts them from the events instead.
    sign_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late_sign_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    extension_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    submit_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    return_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    days_to_close: Mapped[int | None] = mapped_column(Integer)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cosigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    triage_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rectifying_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_on_site_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Set by transition(); the UPDATE still checks the version it read.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    inspection: Mapped[Inspection | None] = relationship()
    county: Mapped[County] = relationship()
    township: Mapped[Township | None] = relationship()
    village: Mapped[Village | None] = relationship()
    household: Mapped[Household | None] = relationship()
    check_item: Mapped[CheckItem] = relationship()
    unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    cosigned_by: Mapped[User | None] = relationship(foreign_keys=[cosigned_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    events: Mapped[list["IssueEvent"]] = relationship(
        back_populates="issue", order_by="IssueEvent.seq"
    )
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="issue", order_by="Evidence.id"
    )
    # 协办单位: units that help the lead (主办, `unit`): they see the problem, report progress on
    # it and hear of it in their digests; only the lead signs for and submits, and the figures
    # by unit count the lead.
    assisting_units: Mapped[list[Unit]] = relationship(secondary="issue_assists", order_by="Unit.name")
    stages: Mapped[list["IssueStage"]] = relationship(order_by="IssueStage.seq", cascade="all, delete-orphan")

    @property
    def stage_progress(self) -> str | None:
        """阶段性完成 k/N while a staged problem has verified some stages but not the last."""
        done = sum(1 for s in self.stages if s.state == "verified")
        if not self.stages or done == 0 or done == len(self.stages):
            return None
        return f"阶段性完成 {done}/{len(self.stages)}"

    def assisted_by(self, unit_id: int | None) -> bool:
        """Whether that unit is one of the problem's assisting units (协办)."""
        return unit_id is not None and any(u.id == unit_id for u in self.assisting_units)

    @property
    def place_name(self) -> str:
        parts = [self.county.name]
        if self.township is not None:
            parts.append(self.township.name)
        if self.village is not None:
            parts.append(self.village.name)
        if self.household is not None:
            parts.append(self.household.registry_no)
        return " / ".join(parts)


class IssueStage(Base):
    """One milestone of a staged rectification (阶段性整改): a house rebuilt over a season is
    拆除旧房, 主体完工, 竣工入住, each with its deadline and evidence. The last stage is the problem's
    own submission and verification; the earlier ones are reported and verified one by one."""

    __tablename__ = "issue_stages"
    __table_args__ = (UniqueConstraint("issue_id", "seq"),
                      CheckConstraint("state IN ('open', 'submitted', 'verified')", name="state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order they are done
    title: Mapped[str] = mapped_column(String(80))
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the accepted (last) report
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # its accepted report came by its deadline

    @property
    def state_label(self) -> str:
        return STAGE_LABELS[self.state]


STAGE_LABELS = {"open": "未完成", "submitted": "待核验", "verified": "已核验"}


class IssueAssist(Base):
    """One assisting unit (协办单位) of a problem."""

    __tablename__ = "issue_assists"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class IssueEvent(Base):
    """One step of a problem's life. Rows are only ever inserted."""

    __tablename__ = "issue_events"
    __table_args__ = (UniqueConstraint("issue_id", "seq"), _from_check, _to_check,
                      Index("ix_issue_events_action_at", "action", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    # The issue's version after this event: two writers of the same version collide here too.
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    from_status: Mapped[Status | None] = mapped_column(_from_type)
    to_status: Mapped[Status] = mapped_column(_to_type)
    note: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    issue: Mapped[Issue] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    evidence: Mapped[list["Evidence"]] = relationship(back_populates="event")


class Evidence(Base):
    """A file attached to a step (佐证材料); the bytes live content-addressed by sha256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("issue_events.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A photo's own facts (models.photos): when and where it was taken, its perceptual hash.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phash: Mapped[str | None] = mapped_column(String(16))

    issue: Mapped[Issue] = relationship(back_populates="evidence")
    event: Mapped[IssueEvent] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User | None] = relationship()


class IssueCodeCounter(Base):
    """The last number handed out per code prefix and year (GZ-2016-00042)."""

    __tablename__ = "issue_code_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
