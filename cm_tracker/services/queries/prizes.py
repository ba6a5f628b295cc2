"""Draws and the prizes they won, as the rewards desk and the API show them, and the cabinet items a draw may take."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.engine.caps import GOOD_JOB
from cm_tracker.extensions import db
from cm_tracker.models import Draw, Enrollment, RewardKind
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.queries.catalog import CatalogItem, catalog


def get_draw(draw_id: int) -> Draw:
    draw = db.session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("No such draw.")
    return draw


def is_prize(draw: Draw) -> bool:
    return draw.tier != GOOD_JOB.tier and draw.value_cents > 0


def waiting_prizes(patient_id: int) -> list[Draw]:
    """Prizes won and not yet collected, oldest first: they stay listed until handed over."""
    query = select(Draw).where(Draw.patient_id == patient_id, Draw.tier != GOOD_JOB.tier, Draw.value_cents > 0,
                               Draw.handed_over_at.is_(None)).order_by(Draw.drawn_at, Draw.id)
    return list(db.session.scalars(query))


def recent_draws(patient_id: int, limit: int = 20) -> list[Draw]:
    query = select(Draw).where(Draw.patient_id == patient_id).order_by(Draw.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def choices_for(draw: Draw) -> list[CatalogItem]:
    """The cabinet's items of the draw's tier that are in stock and offered in the draw's programme."""
    enrollment = db.session.get(Enrollment, draw.enrollment_id)
    assert enrollment is not None  # a foreign key
    return [item for item in catalog(program_id=enrollment.program_id, kind=RewardKind.PRIZE, active_only=True)
            if item.reward.tier == draw.tier and not item.is_out]
