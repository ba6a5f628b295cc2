"""Manual adjustments by managers and admins: points or draws with a required reason, reported apart for fidelity.

A manual credit is an award like any other for the cap (docs/rules.md 5): one that would pass the cap is refused with
the reason (not cut, since a person chose the amount and should choose again). A manual debit may not take the
balance below zero: taking back what was already spent is not possible (docs/rules.md 6).
"""

from __future__ import annotations

from typing import NoReturn

from cm_tracker.engine.caps import limit_phrase
from cm_tracker.engine.text import count
from cm_tracker.extensions import db
from cm_tracker.models import EntryKind, LedgerEntry, Patient, User
from cm_tracker.money import format_cents, points_value_cents
from cm_tracker.services.core import audit
from cm_tracker.services.core.balances import balance_of, cap_used_cents
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ServiceError, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.timeutil import utcnow

MAX_POINTS = 10_000
MAX_DRAWS = 50
MAX_REASON = 500


def _refuse(error: ServiceError) -> NoReturn:
    db.session.rollback()
    raise error


def _check(points: int, draws: int, reason: str) -> None:
    fields: dict[str, str] = {}
    if not -MAX_POINTS <= points <= MAX_POINTS:
        fields["points"] = f"From -{MAX_POINTS:,} to {MAX_POINTS:,} points."
    if not -MAX_DRAWS <= draws <= MAX_DRAWS:
        fields["draws"] = f"From -{MAX_DRAWS} to {MAX_DRAWS} draws."
    if points == 0 and draws == 0 and not fields:
        fields["points"] = "Give the points (or draws) to add, or a negative number to take away."
    if not reason.strip():
        fields["reason"] = "Say why: manual adjustments are reviewed."
    elif len(reason) > MAX_REASON:
        fields["reason"] = f"Keep the reason under {MAX_REASON} characters."
    if fields:
        raise ValidationFailed("The adjustment was not posted.", fields=fields)


def _amount(points: int, draws: int) -> str:
    parts = [count(points, "point")] if points else []
    if draws:
        parts.append(count(draws, "draw"))
    return " and ".join(parts)


def post_adjustment(patient: Patient, *, points: int, draws: int, reason: str, actor: User) -> LedgerEntry:
    """Post one MANUAL ledger entry under the enrollment lock, within the cap and without a negative balance."""
    _check(points, draws, reason)
    enrollment = current_enrollment(patient)
    if enrollment is None:
        raise Conflict("This patient is not enrolled in a programme.", code="no_enrollment")
    program = enrollment.program
    value = points_value_cents(points, program.point_value_cents)
    lock_enrollment(enrollment.id)
    if value > 0:
        room = program.cap_cents - cap_used_cents(enrollment, program.cap_window, clinic_today())
        if value > room:
            _refuse(Conflict(f"{count(points, 'point')} ({format_cents(value)}) would pass "
                             f"{limit_phrase(program.cap_window, program.cap_cents)}: "
                             f"{format_cents(max(room, 0))} is left.", code="over_cap"))
    balance = balance_of(patient.id)
    if points < 0 and balance.points + points < 0:
        _refuse(Conflict(f"The balance is {count(balance.points, 'point')}; a manual adjustment cannot take it "
                         "below zero.", code="insufficient_balance"))
    if draws < 0 and balance.draws + draws < 0:
        _refuse(Conflict(f"Only {count(balance.draws, 'draw')} waiting; a manual adjustment cannot take more.",
                         code="insufficient_draws"))
    now = utcnow()
    entry = LedgerEntry(patient_id=patient.id, enrollment_id=enrollment.id, kind=EntryKind.MANUAL, points=points,
                        draws=draws, value_cents=value, occurred_at=now, created_by_id=actor.id,
                        reason=f"Manual adjustment by {actor.display_name}, {_amount(points, draws)}: {reason.strip()}")
    db.session.add(entry)
    db.session.flush()
    audit.record("ledger.manual", user=actor, patient_id=patient.id, object_type="ledger_entry", object_id=entry.id,
                 detail={"points": points, "draws": draws, "reason": reason.strip()})
    db.session.commit()
    return entry
