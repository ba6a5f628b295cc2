"""The sessions a counselor can call the roll of, and who is on each roster (their caseload, actively enrolled)."""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.models import EnrollmentStatus, Patient, TargetKind, User
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.queries.caseload import caseload_patients


@dataclass(frozen=True)
class Session:
    """A kind of session: a programme's attendance target."""

    program_id: int
    program: str
    target_key: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.program_id}:{self.target_key}"


def sessions_for(user: User) -> list[Session]:
    """The attendance targets of the programmes the user's caseload is enrolled in."""
    found: dict[str, Session] = {}
    for patient in caseload_patients(user):
        enrollment = current_enrollment(patient)
        if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
            continue
        for t in enrollment.program.targets:
            if t.kind == TargetKind.ATTENDANCE:
                session = Session(enrollment.program_id, enrollment.program.name, t.key, t.label)
                found[session.key] = session
    return sorted(found.values(), key=lambda s: (s.program, s.label))


def roster(user: User, session: Session) -> list[Patient]:
    """The user's patients actively enrolled in the session's programme."""
    return [p for p in caseload_patients(user)
            if (e := current_enrollment(p)) is not None and e.status == EnrollmentStatus.ACTIVE
            and e.program_id == session.program_id]
