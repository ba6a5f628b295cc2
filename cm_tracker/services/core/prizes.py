"""Prizes won in draws (docs/rules.md 4.2): which draw won a prize, and what the programme still owes.

A winning draw entitles the patient to an item of its tier; until the item is handed over, the prize is owed, a
liability of the programme like unredeemed points (the balance API's `prizes`, the rewards desk, the manager
overview, the budget and outcome reports' outstanding money). Every reader asks here, so a "good job" slip or a
slip the cap cut to nothing is never counted as a prize in one place and not in another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from cm_tracker.engine.caps import GOOD_JOB
from cm_tracker.extensions import db
from cm_tracker.models import Draw, Enrollment

# A draw won a prize: a tier other than "good job" that kept a value after the cap (docs/rules.md 5).
WON = and_(Draw.tier != GOOD_JOB.tier, Draw.value_cents > 0)
WAITING = and_(WON, Draw.handed_over_at.is_(None))


def is_prize(draw: Draw) -> bool:
    return draw.tier != GOOD_JOB.tier and draw.value_cents > 0


@dataclass(frozen=True, slots=True)
class PrizesOwed:
    """Prizes won and not handed over yet, and their nominal value."""

    waiting: int = 0
    value_cents: int = 0


@dataclass(frozen=True, slots=True)
class PrizeTotals:
    """Prizes won, handed over and still owed, with their nominal values."""

    won: int = 0
    won_cents: int = 0
    handed_over: int = 0
    handed_over_cents: int = 0

    @property
    def waiting(self) -> int:
        return self.won - self.handed_over

    @property
    def waiting_cents(self) -> int:
        return self.won_cents - self.handed_over_cents


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cents(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, Draw.value_cents), else_=0)), 0)


def owed_query() -> Any:
    """Per patient: prizes waiting and their value. A grouped select, so a reader of many balances (or the balance
    statement itself, as a subquery joined by patient) reads every patient's prizes at once."""
    return (select(Draw.patient_id, func.count().label("waiting"), func.sum(Draw.value_cents).label("value_cents"))
            .where(WAITING).group_by(Draw.patient_id))


def owed_by_enrollment_query() -> Any:
    """The same per enrolment (`enrollment_id`, `waiting`, `value_cents`): the shape of the balance statement's
    ledger sums (core.balances._standing_query), so it can be outer-joined there on Enrollment.id and summed over a
    patient's enrolments like the points, folding the balance API's prize read into its one balance statement."""
    return (select(Draw.enrollment_id, func.count().label("waiting"), func.sum(Draw.value_cents).label("value_cents"))
            .where(WAITING).group_by(Draw.enrollment_id))


def owed_to(patient_ids: Iterable[int]) -> dict[int, PrizesOwed]:
    """Every patient's prizes waiting, in one statement; a patient with none gets PrizesOwed()."""
    ids = list(dict.fromkeys(patient_ids))
    found = {pid: PrizesOwed() for pid in ids}
    if ids:
        for pid, waiting, cents in db.session.execute(owed_query().where(Draw.patient_id.in_(ids))):
            found[pid] = PrizesOwed(int(waiting), int(cents or 0))
    return found


def owed_of(patient_id: int) -> PrizesOwed:
    return owed_to([patient_id])[patient_id]


def _totals() -> tuple[Any, ...]:
    handed = and_(WON, Draw.handed_over_at.is_not(None))
    return _count(WON), _cents(WON), _count(handed), _cents(handed)


def totals_by_program() -> dict[int, PrizeTotals]:
    """Per programme, over every enrolment: prizes won and handed over, in one grouped query."""
    query = (select(Enrollment.program_id, *_totals())
             .join(Enrollment, Draw.enrollment_id == Enrollment.id).group_by(Enrollment.program_id))
    return {pid: PrizeTotals(*(int(v) for v in row)) for pid, *row in db.session.execute(query)}


def totals_of(patient_id: int) -> PrizeTotals:
    """One patient's prizes won, handed over and still owed, over every enrolment."""
    row = db.session.execute(select(*_totals()).where(Draw.patient_id == patient_id)).one()
    return PrizeTotals(*(int(v) for v in row))


def owed_at(patient_id: int, moment: datetime) -> int:
    """Prizes the patient had won and not collected at `moment` (a receipt's "still to collect")."""
    owed = and_(WON, Draw.drawn_at <= moment, or_(Draw.handed_over_at.is_(None), Draw.handed_over_at > moment))
    return int(db.session.scalar(select(func.count()).where(Draw.patient_id == patient_id, owed)) or 0)


def totals_by_enrollment(enrollment_ids: Any, start: datetime | None,
                         end: datetime) -> dict[int, tuple[int, int, int]]:
    """Per enrolment (ids, or a select of them), the value of prizes won from `start` (the beginning when None) to
    before `end`, of prizes handed over in the same span, and of prizes won before `end` and still owed at `end`
    (not handed over by then)."""
    won_in = Draw.drawn_at < end
    handed_in = and_(Draw.handed_over_at.is_not(None), Draw.handed_over_at < end)
    if start is not None:
        won_in, handed_in = and_(won_in, Draw.drawn_at >= start), and_(handed_in, Draw.handed_over_at >= start)
    owed_at_end = and_(Draw.drawn_at < end, or_(Draw.handed_over_at.is_(None), Draw.handed_over_at >= end))
    query = (select(Draw.enrollment_id, _cents(won_in), _cents(handed_in), _cents(owed_at_end))
             .where(WON, Draw.enrollment_id.in_(enrollment_ids)).group_by(Draw.enrollment_id))
    return {eid: (int(w), int(h), int(o)) for eid, w, h, o in db.session.execute(query)}
