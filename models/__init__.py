"""Data and the rules on it. Importing the package registers every table on Base.metadata."""

from models.accounts import ApiToken, LoginAttempt
from models.base import Base
from models.calendar import HolidayOverride
from models.catalogue import CheckItem
from models.deliveries import Channel, Delivery, ReminderCursor
from models.inspections import Finding, Inspection, InspectionSample
from models.issues import Evidence, Issue, IssueCodeCounter, IssueEvent
from models.org import Unit, User
from models.places import County, Household, Township, Village
from models.policy import PolicySetting
from models.rechecks import Recheck, RecheckItem
from models.referrals import Referral
from models.tallies import IssueTally

__all__ = [
    "ApiToken",
    "LoginAttempt",
    "Base",
    "Channel",
    "CheckItem",
    "County",
    "Delivery",
    "Evidence",
    "Finding",
    "HolidayOverride",
    "Household",
    "Inspection",
    "InspectionSample",
    "Issue",
    "IssueTally",
    "IssueCodeCounter",
    "IssueEvent",
    "PolicySetting",
    "Recheck",
    "RecheckItem",
    "Referral",
    "ReminderCursor",
    "Township",
    "Unit",
    "User",
    "Village",
]
