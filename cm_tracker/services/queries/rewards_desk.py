"""What the rewards desk shows for one patient, and the printable receipts of redemptions and prize hand-overs.

Reads only: every figure (what the patient can afford, how many of an item, the balance after a receipt) is
computed here so that templates only display.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cm_tracker.engine.text import join_words
from cm_tracker.extensions import db
from cm_tracker.models import (
    Draw,
    Enrollment,
    LedgerEntry,
    Patient,
    Program,
    Redemption,
    RedemptionStatus,
    RewardKind,
    User,
)
from cm_tracker.services.core.balances import Balance, balance_of
from cm_tracker.services.core.context import clinic_settings
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.spending import MAX_QUANTITY, pending_points
from cm_tracker.services.queries.catalog import CatalogItem, catalog
from cm_tracker.services.queries.prizes import choices_for, recent_draws, waiting_prizes
from cm_tracker.services.queries.redemptions import redemptions_of


@dataclass(frozen=True)
class Offer:
    """A catalog voucher as the desk sees it for this patient."""

    item: CatalogItem
    most: int  # how many the balance and the stock allow now (0 = not now)
    short_by: int  # points still missing for one (0 when the balance covers it)

    @property
    def affordable(self) -> bool:
        return self.most > 0


@dataclass(frozen=True)
class WaitingPrize:
    draw: Draw
    choices: list[CatalogItem]


@dataclass(frozen=True)
class Desk:
    patient: Patient
    enrollment: Enrollment | None
    program: Program | None
    balance: Balance
    pending_points: int
    offers: list[Offer]
    requests: list[Redemption]
    prizes: list[WaitingPrize]
    draws: list[Draw]
    redeemed: list[Redemption]
    handed_over: list[Draw]
    entries: list[LedgerEntry]
    has_bowl: bool

    @property
    def value_cents(self) -> int:
        return self.balance.value_cents

    @property
    def available_points(self) -> int:
        return max(0, self.balance.points - self.pending_points)

    @property
    def affordable(self) -> list[Offer]:
        return [o for o in self.offers if o.affordable]


def _most(item: CatalogItem, points: int) -> int:
    cost = item.reward.cost_points or 0
    if cost <= 0 or points <= 0:
        return 0
    most = min(points // cost, MAX_QUANTITY)
    return min(most, item.stock) if item.stock is not None else most


def desk_for(patient: Patient) -> Desk:
    enrollment = current_enrollment(patient)
    program = enrollment.program if enrollment else None
    balance = balance_of(patient.id)
    vouchers = catalog(program_id=program.id, kind=RewardKind.VOUCHER, active_only=True) if program else []
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == patient.id)
                                      .order_by(LedgerEntry.id.desc()).limit(15)))
    handed = [d for d in recent_draws(patient.id, 50) if d.handed_over_at is not None][:10]
    return Desk(
        patient=patient, enrollment=enrollment, program=program, balance=balance,
        pending_points=pending_points(patient.id),
        offers=[Offer(item, _most(item, balance.points), max(0, (item.reward.cost_points or 0) - balance.points))
                for item in vouchers],
        requests=redemptions_of(patient.id, status=RedemptionStatus.REQUESTED),
        prizes=[WaitingPrize(d, choices_for(d)) for d in waiting_prizes(patient.id)],
        draws=recent_draws(patient.id, 12),
        redeemed=redemptions_of(patient.id, status=RedemptionStatus.FULFILLED, limit=10),
        handed_over=handed, entries=entries,
        has_bowl=bool(program and rules_for(program).bowl),
    )


@dataclass(frozen=True)
class Receipt:
    number: str
    title: str
    clinic: str
    program: str
    patient_name: str
    record_number: str
    item: str
    quantity: int
    points: int | None
    value_cents: int
    balance_after: int
    draws_after: int
    at: datetime
    staff: str
    confirmer: str | None
    tier: str | None = None


def _name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else None


def _balance_at(patient_id: int, last_entry_id: int) -> tuple[int, int]:
    """Points and draws held right after the entry `last_entry_id` (the ledger's id order is the writing order)."""
    row = db.session.execute(select(func.coalesce(func.sum(LedgerEntry.points), 0),
                                    func.coalesce(func.sum(LedgerEntry.draws), 0))
                             .where(LedgerEntry.patient_id == patient_id, LedgerEntry.id <= last_entry_id)).one()
    return int(row[0]), int(row[1])


def redemption_receipt(redemption_id: int) -> Receipt:
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or redemption.status != RedemptionStatus.FULFILLED or redemption.fulfilled_at is None:
        raise NotFound("No receipt: this redemption was not handed over.")
    entry_id = db.session.scalar(select(func.max(LedgerEntry.id)).where(LedgerEntry.redemption_id == redemption.id))
    points, draws = _balance_at(redemption.patient_id, int(entry_id or 0))
    patient, enrollment = _patient_and_enrollment(redemption.patient_id, redemption.enrollment_id)
    return Receipt(
        number=f"V-{redemption.id:06d}", title="Voucher redemption", clinic=clinic_settings().name,
        program=enrollment.program.name, patient_name=patient.display_name, record_number=patient.record_number,
        item=redemption.reward.name, quantity=redemption.quantity, points=redemption.points,
        value_cents=redemption.reward.value_cents * redemption.quantity, balance_after=points, draws_after=draws,
        at=redemption.fulfilled_at, staff=_name(redemption.fulfilled_by_id) or "",
        confirmer=_name(redemption.confirmed_by_id))


def prize_receipt(draw_id: int) -> Receipt:
    draw = db.session.get(Draw, draw_id)
    if draw is None or draw.handed_over_at is None or draw.reward is None:
        raise NotFound("No receipt: this prize was not handed over.")
    last = db.session.scalar(select(func.max(LedgerEntry.id)).where(LedgerEntry.patient_id == draw.patient_id,
                                                                    LedgerEntry.created_at <= draw.handed_over_at))
    points, draws = _balance_at(draw.patient_id, int(last or 0))
    patient, enrollment = _patient_and_enrollment(draw.patient_id, draw.enrollment_id)
    return Receipt(
        number=f"P-{draw.id:06d}", title="Prize hand-over", clinic=clinic_settings().name,
        program=enrollment.program.name,
        patient_name=patient.display_name, record_number=patient.record_number, item=draw.reward.name, quantity=1,
        points=None, value_cents=draw.value_cents, balance_after=points, draws_after=draws,
        at=draw.handed_over_at, staff=_name(draw.handed_over_by_id) or "", confirmer=_name(draw.confirmed_by_id),
        tier=draw.tier.replace("_", " "))


def _patient_and_enrollment(patient_id: int, enrollment_id: int) -> tuple[Patient, Enrollment]:
    patient, enrollment = db.session.get(Patient, patient_id), db.session.get(Enrollment, enrollment_id)
    assert patient is not None and enrollment is not None  # foreign keys
    return patient, enrollment


def draw_summary(made: list[Draw]) -> str:
    """'3 draws: a small prize, good job and good job.' for the desk's message after drawing."""
    words = [("good job" if d.tier == "good_job" else f"a {d.tier.replace('_', ' ')} prize") for d in made]
    won = sum(1 for d in made if d.tier != "good_job")
    tail = f" Let the patient choose {'a prize' if won == 1 else f'{won} prizes'} below." if won else ""
    return f"{len(made)} draw{'s' if len(made) != 1 else ''}: {join_words(words)}.{tail}"
