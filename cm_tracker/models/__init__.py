"""The data model, one module per concept; importing this package registers every table."""

from cm_tracker.models.audit import AuditEvent, AuditOutcome
from cm_tracker.models.chain import ChainHead, ChainVerification
from cm_tracker.models.consents import (
    Consent,
    ConsentRevocation,
    ConsentRevocationRequest,
    Disclosure,
    DisclosurePacket,
    RecipientKind,
)
from cm_tracker.models.events import (
    ActivityStatus,
    AnalyteResult,
    AttendanceRecord,
    AttendanceStatus,
    GoalActivity,
    RecordType,
    RecordVersion,
    Specimen,
    SpecimenResult,
    SpecimenStatus,
    TestMethod,
    Validity,
)
from cm_tracker.models.labs import (
    LabAction,
    LabBody,
    LabFormat,
    LabMessage,
    LabMessageStatus,
    LabResult,
    LoincCode,
    ReviewStatus,
)
from cm_tracker.models.ledger import EntryKind, EventType, LedgerEntry
from cm_tracker.models.patient import (
    ClinicClosure,
    Enrollment,
    EnrollmentStatus,
    Excuse,
    Patient,
    ScheduledVisit,
    VisitKind,
)
from cm_tracker.models.program import CapWindow, DilutePolicy, Program, ProgramTarget, ScheduleVersion, TargetKind
from cm_tracker.models.reporting import EnrollmentSummary, EventOutcome
from cm_tracker.models.rewards import (
    Draw,
    DrawRequest,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardKind,
    StockCount,
    StockMovement,
    StockMovementKind,
)
from cm_tracker.models.state import TargetState
from cm_tracker.models.user import ApiToken, MfaRecoveryCode, Role, User, UserSession

__all__ = [
    "ActivityStatus", "AnalyteResult", "ApiToken", "AttendanceRecord", "AttendanceStatus", "AuditEvent",
    "AuditOutcome", "CapWindow",
    "ChainHead", "ChainVerification",
    "ClinicClosure", "Consent", "ConsentRevocation", "ConsentRevocationRequest",
    "DilutePolicy", "Disclosure", "DisclosurePacket",
    "Draw", "DrawRequest", "Enrollment",
    "EnrollmentStatus",
    "EnrollmentSummary",
    "EntryKind", "EventOutcome", "EventType", "Excuse", "GoalActivity", "LabAction", "LabBody", "LabFormat",
    "LabMessage", "LabMessageStatus", "LabResult",
    "LedgerEntry", "LoincCode", "MfaRecoveryCode", "Patient", "Program",
    "ProgramTarget",
    "RecipientKind", "RecordType", "RecordVersion", "Redemption", "RedemptionStatus", "ReviewStatus", "Reward",
    "RewardKind", "Role",
    "ScheduleVersion", "ScheduledVisit", "Specimen", "SpecimenResult", "SpecimenStatus", "StockCount",
    "StockMovement", "StockMovementKind", "TargetKind", "TargetState", "TestMethod", "User", "UserSession", "Validity",
    "VisitKind",
]
