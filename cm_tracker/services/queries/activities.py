"""A patient's goal activities and the activity targets a contract item may name, for the staff pages and the API."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, GoalActivity, Patient
from cm_tracker.services.core.clinic import clinic_today


def week_start(day: date) -> date:
    """The Monday of the day's ISO week: contracts are weekly."""
    return day - timedelta(days=day.weekday())


def activity_targets(enrollment: Enrollment) -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in enrollment.program.targets if t.kind == TargetKind.ACTIVITY]


def activities_of(patient: Patient) -> list[GoalActivity]:
    return list(db.session.scalars(select(GoalActivity).where(GoalActivity.patient_id == patient.id)
                                   .order_by(GoalActivity.week_of.desc(), GoalActivity.id.desc())))


def default_week() -> date:
    return week_start(clinic_today())
