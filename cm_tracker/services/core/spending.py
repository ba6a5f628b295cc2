"""What a patient may still ask for: the points set aside by voucher requests waiting at the desk (not debited until
handed over), and the most items of one voucher a request may take.

The one owner of "how many can they take": the portal's shelf, the rewards desk's "up to N" and the quantity both
of them refuse all come from `most_of`, so the desk never offers what the portal (or the debit) would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Redemption, RedemptionStatus, Reward
from cm_tracker.services.core.balances import balance_of
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.stock import stock_of

MAX_QUANTITY = 50  # the most items one request may take, whatever the balance: a typing error stops here


@dataclass(frozen=True)
class Most:
    """How many of one voucher a patient can take now, and the figures that limit it."""

    items: int  # 0: none now
    balance_points: int
    free_points: int  # the balance less the points held by requests waiting, never below zero
    held_points: int  # points set aside by requests waiting at the desk
    stock: int | None  # on hand; None for a voucher that is not counted
    short_by: int  # points still missing for one (0 when the free points cover one)


def pending_points(patient_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Redemption.points), 0)).where(
        Redemption.patient_id == patient_id, Redemption.status == RedemptionStatus.REQUESTED)) or 0)


def free_points(balance_points: int, held_points: int) -> int:
    """What new requests and desk redemptions may still spend: the balance less the points waiting requests hold."""
    return max(balance_points - held_points, 0)


def most_of(cost_points: int | None, balance_points: int, held_points: int, stock: int | None) -> Most:
    """The most of an item costing `cost_points` that one request may take: what the points free of waiting
    requests buy, no more than the stock on hand, and never more than MAX_QUANTITY. An item without a cost (a
    prize) cannot be bought: 0."""
    free = free_points(balance_points, held_points)
    cost = int(cost_points or 0)
    if cost <= 0:
        return Most(0, balance_points, free, held_points, stock, 0)
    items = min(free // cost, MAX_QUANTITY)
    if stock is not None:
        items = min(items, max(stock, 0))
    return Most(items, balance_points, free, held_points, stock, max(cost - free, 0))


def most_for(patient_id: int, reward: Reward) -> Most:
    """`most_of` from what is stored now (outside the debit's locks: for a message, not for the debit itself)."""
    stock = stock_of(reward.id) if reward.is_stocked else None
    return most_of(reward.cost_points, balance_of(patient_id).points, pending_points(patient_id), stock)


def check_quantity(quantity: int, patient_id: int, reward: Reward) -> None:
    """A quantity no request may take (below 1, above MAX_QUANTITY) is refused naming the patient's real limit,
    not the per-request one: "Choose 1 to 15", never "Choose 1 to 50" when 15 is what they can have."""
    if 1 <= quantity <= MAX_QUANTITY:
        return
    most = most_for(patient_id, reward).items
    why = f"Choose 1 to {most}." if most else f"None of {reward.name} can be taken now."
    raise ValidationFailed("Choose how many.", fields={"quantity": why})


def check_within(most: Most, name: str, quantity: int, points: int, *, choosing: bool = True) -> None:
    """Refuse `quantity` items costing `points` when `most` allows fewer, saying why and, when the quantity is being
    chosen (not a request already made), the real limit. The codes are the API's: points first, then stock."""
    if quantity <= most.items:
        return
    bound = f" Choose 1 to {most.items}." if choosing and most.items else ""
    if points > most.free_points:
        held = f", and {most.held_points} of them are held by requests waiting" if most.held_points else ""
        raise Conflict(f"{name} x {quantity} costs {points} points; the balance is {most.balance_points}{held}."
                       f"{bound}", code="insufficient_balance")
    if most.stock is not None and quantity > most.stock:
        raise Conflict(f"Only {max(most.stock, 0)} of {name} in stock.{bound}", code="out_of_stock")
    raise ValidationFailed("Choose how many.", fields={"quantity": f"Choose 1 to {most.items}."})
