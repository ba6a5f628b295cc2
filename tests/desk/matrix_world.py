"""Rows the access matrix needs for the desk routes: an open test visit, a session mark and a goal activity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def desk_world(personas: Any) -> dict[str, int]:
    """Call inside an app context. Written directly: the matrix tests reach, not the services' rules."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AttendanceRecord,
        AttendanceStatus,
        Enrollment,
        GoalActivity,
        ProgramTarget,
        ScheduledVisit,
        ScheduleVersion,
        TargetKind,
        VisitKind,
    )
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.timeutil import utcnow

    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
    for key, kind in (("groups", TargetKind.ATTENDANCE), ("goals", TargetKind.ACTIVITY)):
        if db.session.scalar(select(ProgramTarget.id).where(ProgramTarget.program_id == personas.program,
                                                            ProgramTarget.key == key)) is None:
            target = ProgramTarget(program_id=personas.program, key=key, label=key, kind=kind, position=5)
            target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1),
                                                            schedule={"kind": "fixed", "points": 5}))
            db.session.add(target)
    visit = ScheduledVisit(enrollment_id=enrollment.id, due_on=clinic_today() - timedelta(days=1), kind=VisitKind.TEST)
    mark = AttendanceRecord(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="groups",
                            occurred_at=utcnow() - timedelta(days=2), status=AttendanceStatus.ATTENDED)
    activity = GoalActivity(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="goals",
                            week_of=date(2026, 11, 16), description="Job interview", verification="Signed letter")
    db.session.add_all([visit, mark, activity])
    db.session.commit()
    return {"visit": visit.id, "attendance": mark.id, "activity": activity.id}
