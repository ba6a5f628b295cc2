"""Goal activities (docs/rules.md 3: activity targets): a weekly contract item, its evidence, and staff's verdict.

A verified activity is a success of its target and is paid by the target's schedule; a rejected one is neutral and
resets nothing. The verdict re-evaluates the enrollment under its lock, so the award posts in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cm_tracker.engine.outcomes import ActivityStatus
from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EventType, GoalActivity, LedgerEntry, Patient, RecordType, RecordVersion, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import enrollment_covering
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.queries.activities import activity_targets, week_start
from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh
from cm_tracker.services.usecases.specimens import FUTURE_TOLERANCE
from cm_tracker.timeutil import utcnow

OPEN = (ActivityStatus.PROPOSED, ActivityStatus.SUBMITTED)
MAX_TEXT = 1000


@dataclass(frozen=True)
class Decided:
    activity: GoalActivity
    awards: list[LedgerEntry]
    adjustments: list[LedgerEntry]


def _text(fields: dict[str, str], name: str, value: str, *, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > MAX_TEXT:
        fields[name] = f"Give 1 to {MAX_TEXT} characters." if required else f"Keep it under {MAX_TEXT} characters."
    return value


def propose_activity(patient: Patient, *, target_key: str, week_of: date, description: str, verification: str,
                     actor: User) -> GoalActivity:
    """Add an item to the week's contract: what the patient will do and how staff will verify it."""
    enrollment = enrollment_covering(patient, week_of)
    fields: dict[str, str] = {}
    if target_key not in {key for key, _ in activity_targets(enrollment)}:
        fields["target"] = "The programme has no such activity target."
    description = _text(fields, "description", description)
    verification = _text(fields, "verification", verification)
    if fields:
        raise ValidationFailed("The activity was not added.", fields=fields)
    activity = GoalActivity(patient_id=patient.id, enrollment_id=enrollment.id, target_key=target_key,
                            week_of=week_start(week_of), description=description, verification=verification,
                            created_by_id=actor.id)
    db.session.add(activity)
    db.session.flush()
    _version(activity, "proposed", actor)
    audit.record("activity.create", user=actor, patient_id=patient.id, object_type="activity", object_id=activity.id,
                 detail={"target": target_key, "week_of": activity.week_of.isoformat()})
    db.session.commit()
    return activity


def submit_evidence(activity: GoalActivity, *, version: int, evidence_note: str, actor: User) -> GoalActivity:
    """Note the evidence brought (a signed attendance sheet, a receipt); the activity awaits staff's verdict."""
    fields: dict[str, str] = {}
    note = _text(fields, "evidence_note", evidence_note)
    if fields:
        raise ValidationFailed("The evidence was not saved.", fields=fields)
    _claim_open(activity, version)
    activity.evidence_note, activity.status = note, ActivityStatus.SUBMITTED
    _version(activity, "evidence submitted", actor)
    audit.record("activity.evidence", user=actor, patient_id=activity.patient_id, object_type="activity",
                 object_id=activity.id)
    db.session.commit()
    return activity


def verify_activity(activity: GoalActivity, *, version: int, occurred_at: datetime | None, note: str,
                    actor: User) -> Decided:
    """Verify: the activity becomes a success of its target on the day it happened, and its award is posted."""
    when = occurred_at or utcnow()
    fields: dict[str, str] = {}
    note = _text(fields, "evidence_note", note, required=False)
    if when.tzinfo is None or when > utcnow() + FUTURE_TOLERANCE:
        fields["occurred_at"] = "Give a time, not in the future, with its offset."
    else:
        enrollment = db.session.get(Enrollment, activity.enrollment_id)
        if enrollment and (clinic_date(when) < enrollment.start_on or (enrollment.end_on and
                                                                      clinic_date(when) > enrollment.end_on)):
            fields["occurred_at"] = "That day is outside the patient's enrollment."
    if fields:
        raise ValidationFailed("The activity was not verified.", fields=fields)
    return _decide(activity, version, ActivityStatus.VERIFIED, when, note, actor)


def reject_activity(activity: GoalActivity, *, version: int, reason: str, actor: User) -> Decided:
    """Reject: neutral, it earns nothing and resets nothing (docs/rules.md 3); the reason is kept with the activity."""
    fields: dict[str, str] = {}
    reason = _text(fields, "reason", reason)
    if fields:
        raise ValidationFailed("The activity was not rejected.", fields=fields)
    return _decide(activity, version, ActivityStatus.REJECTED, None, reason, actor)


def _decide(activity: GoalActivity, version: int, status: ActivityStatus, when: datetime | None, note: str,
            actor: User) -> Decided:
    lock_enrollment(activity.enrollment_id)
    _claim_open(activity, version)
    activity.status, activity.occurred_at = status, when
    activity.decided_by_id, activity.decided_at = actor.id, utcnow()
    if note and status == ActivityStatus.VERIFIED:
        activity.evidence_note = f"{activity.evidence_note}\n{note}".strip()
    _version(activity, note or str(status), actor)
    enrollment = db.session.get(Enrollment, activity.enrollment_id)
    posted = reevaluate_and_refresh(enrollment, because=f"activity {status}", actor=actor) if enrollment else []
    audit.record(f"activity.{status}", user=actor, patient_id=activity.patient_id, object_type="activity",
                 object_id=activity.id, detail={"version": activity.version, "note": note[:200]})
    db.session.commit()
    mine = [e for e in posted if e.event_type == EventType.ACTIVITY and e.event_id == activity.id]
    return Decided(activity, mine, [e for e in posted if e not in mine])


def _claim_open(activity: GoalActivity, version: int) -> None:
    """Claim the version the editor saw, then read the activity again under that lock: of concurrent evidence and
    verdicts exactly one goes on (the rest 409, never a second version row with the same number)."""
    claim_version(activity, version, what="activity")
    db.session.refresh(activity)
    if activity.status not in OPEN:
        db.session.rollback()
        raise Conflict(f"This activity is already {activity.status}.", code="already_decided")


def _version(activity: GoalActivity, reason: str, actor: User) -> None:
    db.session.add(RecordVersion(
        record_type=RecordType.ACTIVITY, record_id=activity.id, version=activity.version, reason=reason[:500],
        changed_by_id=actor.id,
        data={"status": str(activity.status), "description": activity.description,
              "verification": activity.verification, "evidence_note": activity.evidence_note,
              "occurred_at": activity.occurred_at.isoformat() if activity.occurred_at else None,
              "week_of": activity.week_of.isoformat()}))
