"""What the rewards desk shows for one patient, and the printable receipts of redemptions and prize hand-overs.

Reads only: every figure (what the patient can afford, how many of an item, the balance after a receipt) is
computed here so that templates only display.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cm_tracker.engine.text import count, join_words
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
from cm_tracker.money import format_cents
from cm_tracker.services.core.balances import Balance, balance_of
from cm_tracker.services.core.context import clinic_settings
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.prizes import PrizeTotals, is_prize, owed_at, totals_of
from cm_tracker.services.core.spending import free_points, most_of, pending_points
from cm_tracker.services.queries.catalog import CatalogItem, catalog
from cm_tracker.services.queries.ledger_order import posted_newest_first
from cm_tracker.services.queries.prizes import PrizeGroup, group_by_tier, recent_draws, waiting_prizes
from cm_tracker.services.queries.redemptions import redemptions_of


@dataclass(frozen=True)
class Offer:
    """A catalog voucher as the desk sees it for this patient."""

    item: CatalogItem
    most: int  # how many the free points, the stock and the per-request limit allow now (0 = not now)
    short_by: int  # points still missing for one (0 when the free points cover it)

    @property
    def affordable(self) -> bool:
        return self.most > 0


@dataclass(frozen=True)
class Desk:
    patient: Patient
    enrollment: Enrollment | None
    program: Program | None
    balance: Balance
    pending_points: int
    offers: list[Offer]
    requests: list[Redemption]
    prizes: list[Draw]  # waiting to be handed over, oldest first
    groups: list[PrizeGroup]  # the same, one group per tier
    prize_totals: PrizeTotals  # won, handed over and still owed, over every enrolment
    draws: list[Draw]
    redeemed: list[Redemption]
    handed_over: list[Draw]
    entries: list[LedgerEntry]
    has_bowl: bool
    in_draws: bool = False  # a prize programme holding no points: the desk leads with draws and prizes

    @property
    def value_cents(self) -> int:
        return self.balance.value_cents

    @property
    def available_points(self) -> int:
        return free_points(self.balance.points, self.pending_points)

    @property
    def affordable(self) -> list[Offer]:
        return [o for o in self.offers if o.affordable]


def _offer(item: CatalogItem, points: int, held: int) -> Offer:
    """What the patient can take of one voucher: the points held by waiting requests are not free (core.spending)."""
    most = most_of(item.reward.cost_points, points, held, item.stock)
    return Offer(item, most.items, most.short_by)


def desk_for(patient: Patient) -> Desk:
    enrollment = current_enrollment(patient)
    program = enrollment.program if enrollment else None
    balance = balance_of(patient.id)
    vouchers = catalog(program_id=program.id, kind=RewardKind.VOUCHER, active_only=True) if program else []
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == patient.id)
                                      .order_by(*posted_newest_first()).limit(15)))
    handed = [d for d in recent_draws(patient.id, 50) if d.handed_over_at is not None][:10]
    waiting = waiting_prizes(patient.id)
    has_bowl = bool(program and rules_for(program).bowl)
    held = pending_points(patient.id)
    return Desk(
        patient=patient, enrollment=enrollment, program=program, balance=balance,
        pending_points=held, offers=[_offer(item, balance.points, held) for item in vouchers],
        requests=redemptions_of(patient.id, status=RedemptionStatus.REQUESTED),
        prizes=waiting, groups=group_by_tier(waiting), prize_totals=totals_of(patient.id),
        draws=recent_draws(patient.id, 12),
        redeemed=redemptions_of(patient.id, status=RedemptionStatus.FULFILLED, limit=10),
        handed_over=handed, entries=entries, has_bowl=has_bowl, in_draws=has_bowl and balance.points == 0,
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
    prizes_after: int = 0  # a prize receipt: the prizes still to collect right after the hand-over


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
    _, draws = _balance_at(draw.patient_id, int(last or 0))
    patient, enrollment = _patient_and_enrollment(draw.patient_id, draw.enrollment_id)
    return Receipt(
        number=f"P-{draw.id:06d}", title="Prize hand-over", clinic=clinic_settings().name,
        program=enrollment.program.name,
        patient_name=patient.display_name, record_number=patient.record_number, item=draw.reward.name, quantity=1,
        points=None, value_cents=draw.value_cents, balance_after=0, draws_after=draws,
        at=draw.handed_over_at, staff=_name(draw.handed_over_by_id) or "", confirmer=_name(draw.confirmed_by_id),
        tier=draw.tier.replace("_", " "), prizes_after=owed_at(draw.patient_id, draw.handed_over_at))


def _patient_and_enrollment(patient_id: int, enrollment_id: int) -> tuple[Patient, Enrollment]:
    patient, enrollment = db.session.get(Patient, patient_id), db.session.get(Enrollment, enrollment_id)
    assert patient is not None and enrollment is not None  # foreign keys
    return patient, enrollment


def draw_summary(made: list[Draw], *, replayed: bool = False) -> str:
    """'3 draws: a small prize, good job and good job.' for the desk's message after drawing; a resent form says
    that these draws were made already and nothing new was drawn."""
    words = [("good job" if d.tier == "good_job" else f"a {d.tier.replace('_', ' ')} prize") for d in made]
    won = sum(1 for d in made if is_prize(d))
    tail = f" Let the patient choose {'a prize' if won == 1 else f'{won} prizes'} below." if won else ""
    head = "Already drawn (the form was sent again; nothing new was drawn): " if replayed else ""
    return f"{head}{count(len(made), 'draw')}: {join_words(words)}.{tail}"


def handover_summary(handed: list[Draw]) -> str:
    """'Handed over 5 x Water bottle (small prizes, $5.00).' after a grouped hand-over."""
    item = handed[0].reward.name if handed[0].reward else handed[0].tier
    value = format_cents(sum(d.value_cents for d in handed))
    return f"Handed over {len(handed)} x {item} ({handed[0].tier.replace('_', ' ')} prizes, {value})."
