"""A patient record as the API shows it, and the choices of the enrolment form."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, Patient, Program, Role, User
from cm_tracker.services.core.enrollments import current_enrollment


def enrollment_to_dict(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id, "program_id": enrollment.program_id, "start_date": enrollment.start_on.isoformat(),
        "end_date": enrollment.end_on.isoformat() if enrollment.end_on else None,
        "status": enrollment.status.value, "visit_days": list(enrollment.visit_days or []),
        "visit_plan": enrollment.visit_plan,
    }


def patient_to_dict(patient: Patient) -> dict[str, Any]:
    current = current_enrollment(patient)
    return {
        "id": patient.id, "display_name": patient.display_name, "record_number": patient.record_number,
        "counselor_id": patient.counselor_id, "version": patient.version,
        "created_at": patient.created_at.isoformat() if patient.created_at else None,
        "enrollment": enrollment_to_dict(current) if current else None,
        "enrollments": [enrollment_to_dict(e) for e in patient.enrollments],
    }


def enrolment_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The programmes a patient may join (not archived) and the enabled counselors whose caseload may take them."""
    programs = db.session.execute(select(Program.id, Program.name).where(Program.is_archived.is_(False))
                                  .order_by(Program.name)).all()
    counselors = db.session.execute(select(User.id, User.display_name).where(
        User.role == Role.COUNSELOR, User.is_disabled.is_(False)).order_by(User.display_name)).all()
    return [(i, n) for i, n in programs], [(i, n) for i, n in counselors]
