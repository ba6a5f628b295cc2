"""Tying a recorded event to the scheduled visit it fulfils, so "due", "overdue" and "missed" are one lookup.

A specimen or session mark names its visit when the desk records it from the visit; one recorded otherwise (the
API, a lab feed) takes the still-open visit of the same kind on the same clinic date, if there is one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, bindparam, exists, select

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, ScheduledVisit, Specimen, VisitKind
from cm_tracker.services.core.errors import Conflict, ValidationFailed


def is_open(visit_id: Any) -> ColumnElement[bool]:
    """Whether a visit has neither its specimen nor its session mark yet (a condition on a visit id column).

    Written as two NOT EXISTS joined by AND rather than NOT (EXISTS OR EXISTS): PostgreSQL plans each as an anti-join
    (a hash over the specimens' and marks' visit ids), where the negated OR is a filter run once per visit, about
    twice the time of the caseload's overdue count."""
    return and_(~exists().where(Specimen.visit_id == visit_id), ~exists().where(AttendanceRecord.visit_id == visit_id))


def visit_for(enrollment_id: int, kind: VisitKind, on: date, *, visit_id: int | None = None,
              target_key: str | None = None) -> int | None:
    """The visit an event of `kind` on `on` fulfils: the one named (checked), else the open one that day, else None."""
    if visit_id is not None:
        return _checked(enrollment_id, kind, visit_id, target_key)
    bound = {"enrollment_id": enrollment_id, "kind": kind, "on": on}
    if kind == VisitKind.SESSION:
        return db.session.scalar(_OPEN_SESSION, {**bound, "target_key": target_key})
    return db.session.scalar(_OPEN, bound)


# Built once, the values bound at execution: every desk entry looks its visit up, and building the statement and
# its cache key cost more than running it.
_OPEN_ON_DAY = select(ScheduledVisit.id).where(
    ScheduledVisit.enrollment_id == bindparam("enrollment_id"), ScheduledVisit.kind == bindparam("kind"),
    ScheduledVisit.due_on == bindparam("on", type_=Date()), is_open(ScheduledVisit.id))
_OPEN = _OPEN_ON_DAY.order_by(ScheduledVisit.id).limit(1)
_OPEN_SESSION = _OPEN_ON_DAY.where(ScheduledVisit.target_key == bindparam("target_key")).order_by(
    ScheduledVisit.id).limit(1)


def open_test_visits(days: Iterable[tuple[int, date]]) -> dict[tuple[int, date], int]:
    """visit_for(enrollment, TEST, day) for many (enrolment, day) pairs at once (a lab's file): the first open test
    visit of each, in statements of a few hundred enrolments. A caller recording two specimens of one pair gives the
    visit to the first only, as visit_for would once the first is written."""
    wanted = set(days)
    enrollments = sorted({e for e, _ in wanted})
    found: dict[tuple[int, date], int] = {}
    for start in range(0, len(enrollments), 500):
        part = set(enrollments[start:start + 500])
        rows = db.session.execute(select(ScheduledVisit.enrollment_id, ScheduledVisit.due_on, ScheduledVisit.id).where(
            ScheduledVisit.enrollment_id.in_(sorted(part)), ScheduledVisit.kind == VisitKind.TEST,
            ScheduledVisit.due_on.in_(sorted({d for e, d in wanted if e in part})), is_open(ScheduledVisit.id))
            .order_by(ScheduledVisit.id))
        for enrollment_id, due_on, visit_id in rows:
            if (enrollment_id, due_on) in wanted:
                found.setdefault((enrollment_id, due_on), visit_id)
    return found


def _checked(enrollment_id: int, kind: VisitKind, visit_id: int, target_key: str | None) -> int:
    visit = db.session.get(ScheduledVisit, visit_id)
    if visit is None or visit.enrollment_id != enrollment_id or visit.kind != kind or (
            kind == VisitKind.SESSION and visit.target_key != target_key):
        raise ValidationFailed("The visit does not match.",
                               fields={"visit_id": "This visit is not one of this enrollment's visits of that kind."})
    taken = db.session.scalar(select(Specimen.id).where(Specimen.visit_id == visit_id).limit(1)) or \
        db.session.scalar(select(AttendanceRecord.id).where(AttendanceRecord.visit_id == visit_id).limit(1))
    if taken:
        raise Conflict("This visit is already recorded; correct the record instead.", code="visit_recorded")
    return visit_id
