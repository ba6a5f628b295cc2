"""Rebuilding the report cache and the stored target state of every enrollment (`flask reports rebuild`: after an
upgrade, or to repair them)."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.evaluation import snapshot
from cm_tracker.services.core.target_states import store_states
from cm_tracker.services.queries.reports.cache import refresh_outcomes


def rebuild_all(chunk: int = 500) -> int:
    """Fill the cache and the state for every enrollment; returns how many were rebuilt. One commit per chunk of
    enrollments."""
    ids = list(db.session.scalars(select(Enrollment.id).order_by(Enrollment.id)))
    today = clinic_today()
    for start in range(0, len(ids), chunk):
        for enrollment in db.session.scalars(select(Enrollment).where(Enrollment.id.in_(ids[start:start + chunk]))):
            taken = snapshot(enrollment)
            evaluation = taken.evaluate()
            refresh_outcomes(enrollment, evaluation)
            store_states(enrollment, taken.rules, evaluation, taken.events, today)
        db.session.commit()
    return len(ids)
