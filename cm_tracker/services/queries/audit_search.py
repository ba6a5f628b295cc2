"""Reading the audit trail (admins): by patient, user, clinic date range, action and outcome, newest first.

Looking at the trail is itself recorded; usecases.audit_search.search reads through here and audits the search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, AuditOutcome, Patient
from cm_tracker.validation import is_decimal, is_row_id

PAGE_SIZE = 50
LAST_PAGE = 1_000_000  # keeps the offset a number the database takes; no trail is that long


@dataclass(frozen=True, slots=True)
class AuditCriteria:
    patient: str = ""  # a record number or a patient id
    username: str = ""
    date_from: date | None = None  # clinic calendar dates, both ends included
    date_to: date | None = None
    action: str = ""  # an exact action, or a family such as "patient" or "user."
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    record_numbers: dict[int, str]
    page: int
    has_next: bool
    patient_found: bool


def matching_patient_ids(term: str) -> list[int]:
    """Patients whose record number is `term`, or whose id is `term` when it is a number."""
    term = term.strip()
    condition = Patient.record_number == term
    if is_decimal(term) and is_row_id(int(term)):
        condition = or_(condition, Patient.id == int(term))
    return list(db.session.scalars(select(Patient.id).where(condition)))


def clinic_day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _filtered(criteria: AuditCriteria, timezone: str, patient_ids: list[int] | None) -> Any:
    query = select(AuditEvent)
    if patient_ids is not None:
        # A list's or a report's row names its patients in `patient_ids` rather than `patient_id`.
        query = query.where(AuditEvent.names_any(patient_ids))
    if criteria.username.strip():
        query = query.where(AuditEvent.username == criteria.username.strip().lower())
    if criteria.date_from:
        query = query.where(AuditEvent.occurred_at >= clinic_day_start(criteria.date_from, timezone))
    if criteria.date_to:
        query = query.where(AuditEvent.occurred_at < clinic_day_start(criteria.date_to + timedelta(days=1), timezone))
    if action := criteria.action.strip().rstrip("."):
        query = query.where(or_(AuditEvent.action == action, AuditEvent.action.startswith(action + ".")))
    if criteria.outcome:
        query = query.where(AuditEvent.outcome == AuditOutcome(criteria.outcome))
    return query


def find(criteria: AuditCriteria, *, page: int, timezone: str) -> AuditPage:
    """One page of matching events, newest first (a page beyond the range is clamped into it)."""
    page = min(max(page, 1), LAST_PAGE)
    patient_ids = matching_patient_ids(criteria.patient) if criteria.patient.strip() else None
    query = _filtered(criteria, timezone, patient_ids).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    rows = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    events = rows[:PAGE_SIZE]
    shown = {e.patient_id for e in events if e.patient_id is not None}
    rows_of_numbers = db.session.execute(select(Patient.id, Patient.record_number).where(Patient.id.in_(shown)))
    numbers = {pid: number for pid, number in rows_of_numbers}
    return AuditPage(events, numbers, page, len(rows) > PAGE_SIZE, patient_ids is None or bool(patient_ids))
