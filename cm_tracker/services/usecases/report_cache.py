"""Rebuilding the report cache of every enrollment (`flask reports rebuild`: after an upgrade, or to repair it)."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment
from cm_tracker.services.core.evaluation import snapshot
from cm_tracker.services.queries.reports.summaries import refresh_outcomes


def rebuild_all(chunk: int = 500) -> int:
    """Fill the cache for every enrollment; returns how many were rebuilt. One commit per chunk of enrollments."""
    ids = list(db.session.scalars(select(Enrollment.id).order_by(Enrollment.id)))
    for start in range(0, len(ids), chunk):
        for enrollment in db.session.scalars(select(Enrollment).where(Enrollment.id.in_(ids[start:start + chunk]))):
            refresh_outcomes(enrollment, snapshot(enrollment).evaluate())
        db.session.commit()
    return len(ids)
