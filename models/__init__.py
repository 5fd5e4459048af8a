"""Data and the rules on it. Importing the package registers every table on Base.metadata."""

from rectify.models.accounts import ApiToken, LoginAttempt
from rectify.models.base import Base
from rectify.models.calendar import HolidayOverride
from rectify.models.catalogue import CheckItem
from rectify.models.deliveries import Channel, Delivery, ReminderCursor
from rectify.models.documents import IssuedDocument
from rectify.models.inspections import Finding, Inspection, InspectionSample
from rectify.models.issues import Evidence, Issue, IssueCodeCounter, IssueEvent
from rectify.models.org import Unit, User
from rectify.models.places import County, Household, Township, Village
from rectify.models.policy import PolicySetting
from rectify.models.rechecks import Recheck, RecheckItem
from rectify.models.referrals import Referral
from rectify.models.tallies import IssueTally

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
    "IssuedDocument",
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
