"""The review queue of held lab results (docs/labs.md "The review queue"): what waits, oldest first, with the lab's
specimen as it was read, and what was resolved lately. Who sees which result is the caller's `scope`
(permissions.lab_result_scope), so the rule has one owner; every page costs the same few statements whatever the
length of the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.orm import aliased

from cm_tracker.extensions import db
from cm_tracker.labs.codes import Measure, validity_from_measures
from cm_tracker.models import LabMessage, LabResult, Patient, ReviewStatus, User
from cm_tracker.timeutil import utcnow

PER_PAGE = 50
RECENT_DAYS = 30
RECENT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class LabReading:
    """The lab's specimen as read (LabResult.content), in the words the queue shows."""

    collected_at: datetime | None
    status: str
    results: tuple[tuple[str, str], ...]  # (analyte, "positive" / "negative"), as the lab sent them
    validity: str | None  # the lab's statement, else what its measured values say; None: nothing said
    validity_measured: bool  # the validity comes from the measured values (codes.validity_from_measures)
    measures: tuple[tuple[str, str], ...]  # (creatinine / ph / specific_gravity, the value as sent)
    unknown: tuple[str, ...]  # codes the map did not know when it arrived, results that were not read, a row's
    # problem (a CSV row with a bad date) and facts that disagree within the accession


@dataclass(frozen=True, slots=True)
class HeldRow:
    result: LabResult
    message: LabMessage
    sender: str  # the sending account's name, or "" (the MLLP listener, a command)
    patient: Patient | None
    reading: LabReading


@dataclass(frozen=True, slots=True)
class Queue:
    rows: list[HeldRow]
    total: int
    page: int
    code: str  # the unknown code the queue is filtered by, or ""

    @property
    def has_next(self) -> bool:
        return self.page * PER_PAGE < self.total


@dataclass(frozen=True, slots=True)
class ResolvedRow:
    result: LabResult
    reviewer: str
    patient: Patient | None
    applied: LabResult | None  # the row the match or the retry wrote (its action), if any


def reading_of(content: Mapping[str, Any]) -> LabReading:
    """The page's view of a stored specimen; keys the reader did not write are left out, never guessed."""
    results = content.get("results") or {}
    measures = content.get("measures") or {}
    unknown = [*([content["problem"]] if content.get("problem") else []), *(content.get("unknown") or ()),
               *(f"{a}: two codes disagree" for a in content.get("conflicts") or ()), *(content.get("others") or ())]
    stated = content.get("validity") or None
    measured = None if stated else _measured_validity(measures)
    return LabReading(
        collected_at=_moment(content.get("collected_at")), status=str(content.get("status") or ""),
        results=tuple(sorted((str(k), str(v)) for k, v in results.items())) if isinstance(results, dict) else (),
        validity=stated or measured, validity_measured=measured is not None,
        measures=tuple(sorted((str(k), str(v)) for k, v in measures.items())) if isinstance(measures, dict) else (),
        unknown=tuple(str(u) for u in unknown))


def _measured_validity(measures: object) -> str | None:
    """What the stored measures say of the specimen, as the applying code would read them."""
    if not isinstance(measures, dict):
        return None
    try:
        read = {Measure(k): Decimal(str(v)) for k, v in measures.items()}
    except (ValueError, ArithmeticError):
        return None
    found = validity_from_measures(read)
    return str(found) if found is not None else None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _held(scope: ColumnElement[bool], code: str) -> list[ColumnElement[bool]]:
    conditions = [LabResult.review_status == ReviewStatus.WAITING, scope]
    if code:
        # Held for that code: the reason names it, or the stored specimen lists it among its unknown codes.
        escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(or_(LabResult.reason.like(f"%{escaped}%", escape="\\"),
                              cast(LabResult.content, String).like(f'%"{escaped}%', escape="\\")))
    return conditions


def clamped_page(page: int, total: int, per_page: int) -> int:
    """A page number within the listing (1 to its last page): a typed or stale ?page= far beyond it, even one too
    large for the database's integers, shows the last page instead of failing."""
    return min(max(page, 1), max((total + per_page - 1) // per_page, 1))


def waiting(scope: ColumnElement[bool], *, page: int = 1, code: str = "") -> Queue:
    """One page of the held results waiting within `scope`, oldest first (two statements: the count, the rows)."""
    conditions = _held(scope, code)
    total = db.session.scalar(select(func.count(LabResult.id)).where(*conditions)) or 0
    page = clamped_page(page, int(total), PER_PAGE)
    sender = aliased(User)
    query = (select(LabResult, LabMessage, sender.display_name, Patient)
             .join(LabMessage, LabResult.message_id == LabMessage.id)
             .outerjoin(sender, LabMessage.sender_id == sender.id)
             .outerjoin(Patient, LabResult.patient_id == Patient.id)
             .where(*conditions).order_by(LabResult.created_at, LabResult.id)
             .offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    rows = [HeldRow(result, message, name or "", patient, reading_of(result.content))
            for result, message, name, patient in db.session.execute(query)]
    return Queue(rows, int(total), page, code)


def waiting_count(scope: ColumnElement[bool], *, code: str = "") -> int:
    """How many held results wait within `scope` (the caseload's line; held for `code`, after it was added to the
    map): one statement."""
    return int(db.session.scalar(select(func.count(LabResult.id)).where(*_held(scope, code))) or 0)


def held_row(result: LabResult) -> HeldRow:
    """One held result with its message, sender and patient, for the match page."""
    message = db.session.get(LabMessage, result.message_id)
    assert message is not None  # a result's message is a foreign key
    sender = db.session.get(User, message.sender_id) if message.sender_id is not None else None
    patient = db.session.get(Patient, result.patient_id) if result.patient_id is not None else None
    return HeldRow(result, message, sender.display_name if sender else "", patient, reading_of(result.content))


def recently_resolved(scope: ColumnElement[bool], *, days: int = RECENT_DAYS) -> list[ResolvedRow]:
    """The results matched or dismissed in the last `days`, newest first, with who did it and what it became."""
    reviewer, applied = aliased(User), aliased(LabResult)
    query = (select(LabResult, reviewer.display_name, Patient, applied)
             .outerjoin(reviewer, LabResult.reviewed_by_id == reviewer.id)
             .outerjoin(applied, LabResult.resolved_by_result_id == applied.id)
             .outerjoin(Patient, Patient.id == func.coalesce(LabResult.patient_id, applied.patient_id))
             .where(LabResult.review_status.in_([ReviewStatus.MATCHED, ReviewStatus.DISMISSED]),
                    LabResult.reviewed_at >= utcnow() - timedelta(days=days), scope)
             .order_by(LabResult.reviewed_at.desc(), LabResult.id.desc()).limit(RECENT_LIMIT))
    return [ResolvedRow(result, name or "", patient, done) for result, name, patient, done in db.session.execute(query)]


def patient_of(patient_id: int | None) -> Patient | None:
    """The patient an action applied a result to, for the sentence that says so."""
    return db.session.get(Patient, patient_id) if patient_id is not None else None


def no_longer_waiting(result: LabResult) -> str:
    """What the queue says of a result someone resolved meanwhile (a second tab, a double click)."""
    db.session.refresh(result)
    reviewer = db.session.get(User, result.reviewed_by_id) if result.reviewed_by_id is not None else None
    by = f" by {reviewer.display_name}" if reviewer else ""
    done = {ReviewStatus.MATCHED: "applied", ReviewStatus.DISMISSED: "dismissed"}.get(
        result.review_status, "resolved") if result.review_status else "resolved"
    return f"The result of accession {result.accession} was {done}{by} already: it is no longer waiting."
