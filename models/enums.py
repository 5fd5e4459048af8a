"""Stable codes of the domain, each with the Chinese label users see."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Labelled(StrEnum):
    """A StrEnum whose members carry a Chinese label; parse() accepts either."""

    @property
    def label(self) -> str:
        return _LABELS[type(self).__name__][self.value]

    @classmethod
    def parse(cls, text: str) -> Self:
        wanted = text.strip()
        for member in cls:
            if wanted in (member.value, member.label):
                return member
        raise ValueError(wanted)

    @classmethod
    def choices(cls) -> list[str]:
        return [m.label for m in cls]


class Status(Labelled):
    TRIAGE = "triage"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    PAUSED = "paused"
    REVIEWING = "reviewing"
    SUBMITTED = "submitted"
    CLOSED = "closed"
    RESOLVED_ON_SITE = "resolved_on_site"
    VOID = "void"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.TRIAGE, Status.ASSIGNED, Status.RECTIFYING, Status.PAUSED, Status.REVIEWING,
                           Status.SUBMITTED})
# The unit's clock runs from assignment until its submission reaches the verifiers (where the
# policy asks for the unit head's sign-off, 单位负责人审核, that is at the head's approval); a
# returned submission restarts it. Waiting for verification (待核验) is the verifier's time, never
# the unit's overdue; an approved pause (暂缓整改) stops it too, and its working days are added
# to the deadline on resuming.
UNIT_CLOCK_STATUSES = frozenset({Status.ASSIGNED, Status.RECTIFYING, Status.REVIEWING})


class Role(Labelled):
    INSPECTOR = "inspector"
    TEAM_LEADER = "team_leader"
    COORDINATOR = "coordinator"
    UNIT = "unit"
    VERIFIER = "verifier"
    LEADER = "leader"
    ADMIN = "admin"


class Severity(Labelled):
    NORMAL = "normal"
    SERIOUS = "serious"
    GRAVE = "grave"


class Level(Labelled):
    """Where a check item applies, and the level of a place."""

    COUNTY = "county"
    VILLAGE = "village"
    HOUSEHOLD = "household"


class Supervision(Labelled):
    NORMAL = "normal"
    YELLOW = "yellow"
    RED = "red"
    LISTED = "listed"


class UnitKind(Labelled):
    COUNTY_GOVERNMENT = "county_government"
    COUNTY_DEPARTMENT = "county_department"
    TOWNSHIP = "township"
    PREFECTURE_OFFICE = "prefecture_office"
    ASSISTING_UNIT = "assisting_unit"


class Action(Labelled):
    """A step in a problem's life; the allowed moves are in models.lifecycle."""

    RECORD = "record"
    ASSIGN = "assign"
    SIGN = "sign"
    SEND_BACK = "send_back"
    PROGRESS = "progress"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    REQUEST_PAUSE = "request_pause"
    APPROVE_PAUSE = "approve_pause"
    DENY_PAUSE = "deny_pause"
    RESUME = "resume"
    SET_ASSISTS = "set_assists"
    SET_STAGES = "set_stages"
    SUBMIT_STAGE = "submit_stage"
    VERIFY_STAGE = "verify_stage"
    RETURN_STAGE = "return_stage"
    SEND_TO_HEAD = "send_to_head"
    HEAD_RETURN = "head_return"
    SUBMIT = "submit"
    VERIFY = "verify"
    RETURN = "return"
    REOPEN = "reopen"
    VOID = "void"
    ESCALATE = "escalate"


class Result(Labelled):
    """What a field team recorded for one place × check item."""

    PASS = "pass"
    FAIL = "fail"
    GOOD = "good"


class MessageKind(Labelled):
    """What a delivery says; each kind has one template in notifications/."""

    ASSIGNMENT = "assignment"
    SIGN_REMINDER = "sign_reminder"
    DUE_SOON = "due_soon"
    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"
    YELLOW = "yellow"
    RED = "red"
    LISTED = "listed"
    RETURNED = "returned"
    CLOSED = "closed"
    EXTENSION_DECIDED = "extension_decided"
    REOPENED = "reopened"
    VERIFY_LATE = "verify_late"  # to the verifiers: submissions past the 核验时限
    VERIFY_ESCALATED = "verify_escalated"  # to the 督查办: submissions waiting far past it
    BULLETIN = "bulletin"
    TEST = "test"


class DeliveryStatus(Labelled):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class DocumentKind(Labelled):
    """An official document (公文) rectify writes; each issued one is numbered in a register."""

    NOTICE = "notice"
    URGE = "urge"
    RECONCILE = "reconcile"
    REPORT = "report"
    BULLETIN = "bulletin"


class ReadState(Labelled):
    """What a channel that reports reads (DingTalk work notices, Feishu) says of a sent message."""

    UNREAD = "unread"
    READ = "read"
    FELL_BACK = "fell_back"


class DayKind(Labelled):
    """An operator's entry in the holiday table."""

    OFF = "off"
    WORK = "work"


_LABELS: dict[str, dict[str, str]] = {
    "Status": {
        "triage": "待交办",
        "assigned": "已交办",
        "rectifying": "整改中",
        "paused": "暂缓整改",
        "reviewing": "单位审核中",
        "submitted": "待核验",
        "closed": "已销号",
        "resolved_on_site": "现场解决",
        "void": "已撤销",
    },
    "Role": {
        "inspector": "督导组成员",
        "team_leader": "督导组组长",
        "coordinator": "督查办协调员",
        "unit": "责任单位经办人",
        "verifier": "核验人",
        "leader": "领导",
        "admin": "管理员",
    },
    "Severity": {"normal": "一般", "serious": "较重", "grave": "严重"},
    "Level": {"county": "县", "village": "村", "household": "户"},
    "Supervision": {"normal": "普通", "yellow": "黄牌", "red": "红牌", "listed": "挂牌督办"},
    "UnitKind": {
        "county_government": "县级政府",
        "county_department": "县直部门",
        "township": "乡镇",
        "prefecture_office": "州级部门",
        "assisting_unit": "帮扶单位",
    },
    "DayKind": {"off": "休", "work": "班"},
    "Result": {"pass": "符合", "fail": "不符合", "good": "典型经验"},
    "MessageKind": {
        "assignment": "交办通知",
        "sign_reminder": "签收提醒",
        "due_soon": "即将到期提醒",
        "due_tomorrow": "到期提醒",
        "overdue": "逾期通报",
        "yellow": "黄牌督办",
        "red": "红牌督办",
        "listed": "挂牌督办",
        "returned": "退回重改",
        "closed": "销号通知",
        "extension_decided": "延期审批结果",
        "reopened": "反弹重开",
        "verify_late": "核验超时提醒",
        "verify_escalated": "核验超时督办",
        "bulletin": "整改周通报",
        "test": "测试消息",
    },
    "DeliveryStatus": {"queued": "待发送", "sent": "已发送", "failed": "发送失败"},
    "DocumentKind": {"notice": "整改通知书", "urge": "督办单", "reconcile": "对账销号单", "report": "整改情况报告",
                     "bulletin": "整改周通报"},
    "ReadState": {"unread": "未读", "read": "已读", "fell_back": "未读,已改用下一渠道"},
    "Action": {
        "record": "登记",
        "assign": "交办",
        "sign": "签收",
        "send_back": "退回改派",
        "progress": "报告进展",
        "request_extension": "申请延期",
        "approve_extension": "批准延期",
        "deny_extension": "驳回延期",
        "request_pause": "申请暂缓",
        "approve_pause": "批准暂缓",
        "deny_pause": "驳回暂缓",
        "resume": "恢复整改",
        "set_assists": "设置协办单位",
        "set_stages": "设置整改阶段",
        "submit_stage": "报送阶段成果",
        "verify_stage": "阶段核验通过",
        "return_stage": "阶段退回",
        "send_to_head": "报单位负责人审核",
        "head_return": "单位负责人退回",
        "submit": "申请销号",
        "verify": "核验销号",
        "return": "退回重改",
        "reopen": "反弹重开",
        "void": "撤销",
        "escalate": "提级督办",
    },
}
