"""Draws and the prizes they won, as the rewards desk, the portal and the API show them, and the cabinet items a
draw may take. Which draw won a prize, and what is still owed, is services/core/prizes.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cm_tracker.extensions import db
from cm_tracker.models import Draw, Enrollment, Program, ProgramTarget, RewardKind
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.prizes import WAITING
from cm_tracker.services.queries.catalog import CatalogItem, catalog


@dataclass(frozen=True)
class PrizeGroup:
    """The prizes of one tier waiting for a patient: one line and one form at the desk, however many there are."""

    tier: str
    draws: list[Draw]  # oldest first: a hand-over of some claims these first
    choices: list[CatalogItem]

    @property
    def quantity(self) -> int:
        return len(self.draws)

    @property
    def draw_ids(self) -> list[int]:
        return [d.id for d in self.draws]

    @property
    def value_cents(self) -> int:
        """The nominal value of one prize (the cap may have cut a slip, so the largest of the group)."""
        return max(d.value_cents for d in self.draws)

    @property
    def total_cents(self) -> int:
        return sum(d.value_cents for d in self.draws)

    @property
    def first_won_at(self) -> datetime:
        return self.draws[0].drawn_at


def get_draw(draw_id: int) -> Draw:
    draw = db.session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("No such draw.")
    return draw


def waiting_prizes(patient_id: int) -> list[Draw]:
    """Prizes won and not yet collected, oldest first: they stay listed until handed over."""
    query = select(Draw).where(Draw.patient_id == patient_id, WAITING).order_by(Draw.drawn_at, Draw.id)
    return list(db.session.scalars(query))


def waiting_of_tier(patient_id: int, tier: str) -> list[Draw]:
    query = (select(Draw).where(Draw.patient_id == patient_id, Draw.tier == tier, WAITING)
             .order_by(Draw.drawn_at, Draw.id))
    return list(db.session.scalars(query))


def group_by_tier(waiting: list[Draw]) -> list[PrizeGroup]:
    """Waiting prizes grouped by tier, the dearest tier first, each with the cabinet items it may take."""
    tiers: dict[str, list[Draw]] = {}
    for draw in waiting:
        tiers.setdefault(draw.tier, []).append(draw)
    groups = [PrizeGroup(tier, draws, choices_for(draws[0])) for tier, draws in tiers.items()]
    return sorted(groups, key=lambda g: (-g.value_cents, g.tier))


def recent_draws(patient_id: int, limit: int = 20) -> list[Draw]:
    query = select(Draw).where(Draw.patient_id == patient_id).order_by(Draw.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def choices_for(draw: Draw) -> list[CatalogItem]:
    """The cabinet's items of the draw's tier that are in stock and offered in the draw's programme."""
    enrollment = db.session.get(Enrollment, draw.enrollment_id)
    assert enrollment is not None  # a foreign key
    return [item for item in catalog(program_id=enrollment.program_id, kind=RewardKind.PRIZE, active_only=True)
            if item.reward.tier == draw.tier and not item.is_out]


def prize_programmes() -> list[Program]:
    """The programmes with a prize bowl, not archived: the ones whose hand-overs a manager may ask to confirm."""
    query = (select(Program).where(Program.is_archived.is_(False)).order_by(Program.name)
             .options(selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))
    found = db.session.scalars(query)
    return [p for p in found if rules_for(p).bowl is not None]


def get_prize_programme(program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None or rules_for(program).bowl is None:
        raise NotFound("No such prize programme.")
    return program
