"""All hub tables. Importing this package registers every model on `hub.db.Base.metadata`."""

from hub.models.audit import AuditEvent, AuditLeaf, AuditLogPurge, AuditTreeHead
from hub.models.console import ConsoleIntent, ConsoleSession
from hub.models.devices import Device, EnrolmentToken, OfficerDeviceLogin, Scan, ScanBatch
from hub.models.identity import ApiToken, OtpCode, Role, User
from hub.models.jobs import JobRun
from hub.models.line import LineBinding, LineConversation, LineEvent, LineSupportMessage
from hub.models.line_inbox import LineInboxEntry
from hub.models.organisations import Organisation, OrgKind, RegistrationClaim, ReviewState
from hub.models.passes import Pass
from hub.models.rosters import Employee, Officer
from hub.models.throttle import LoginThrottle
from hub.models.trust import IssuerKeyRecord, SignedDocument, StatusEntry
from hub.models.venues import Venue, Visit

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditLeaf",
    "AuditLogPurge",
    "AuditTreeHead",
    "ConsoleIntent",
    "ConsoleSession",
    "Device",
    "Employee",
    "EnrolmentToken",
    "RegistrationClaim",
    "IssuerKeyRecord",
    "JobRun",
    "LineBinding",
    "LineConversation",
    "LineEvent",
    "LineInboxEntry",
    "LineSupportMessage",
    "LoginThrottle",
    "Officer",
    "OfficerDeviceLogin",
    "OrgKind",
    "Organisation",
    "OtpCode",
    "Pass",
    "ReviewState",
    "Role",
    "Scan",
    "ScanBatch",
    "SignedDocument",
    "StatusEntry",
    "User",
    "Venue",
    "Visit",
]
