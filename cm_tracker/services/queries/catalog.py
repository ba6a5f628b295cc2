"""The voucher catalog and the prize cabinet as pages show them: items with their stock, counts and movements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from cm_tracker.extensions import db
from cm_tracker.models import Program, Reward, RewardKind, StockCount, StockMovement, User
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.stock import stock_levels


@dataclass(frozen=True)
class CatalogItem:
    """An item with its stock on hand; `stock` is None for an item whose stock is not counted (unlimited)."""

    reward: Reward
    stock: int | None

    @property
    def is_low(self) -> bool:
        return self.stock is not None and self.stock <= self.reward.low_stock_threshold

    @property
    def is_out(self) -> bool:
        return self.stock is not None and self.stock <= 0

    def can_supply(self, quantity: int) -> bool:
        return self.stock is None or self.stock >= quantity


@dataclass(frozen=True)
class CountRow:
    count: StockCount
    counted_by: str

    @property
    def discrepancy(self) -> int:
        return self.count.counted - self.count.expected


def items(rewards: Sequence[Reward]) -> list[CatalogItem]:
    levels = stock_levels(r.id for r in rewards if r.is_stocked)
    return [CatalogItem(r, levels[r.id] if r.is_stocked else None) for r in rewards]


def catalog(*, program_id: int | None = None, kind: RewardKind | None = None,
            active_only: bool = False) -> list[CatalogItem]:
    """Items offered to a programme (its own and those for every programme), vouchers first, cheapest first."""
    query = select(Reward)
    if program_id is not None:
        query = query.where(or_(Reward.program_id.is_(None), Reward.program_id == program_id))
    if kind is not None:
        query = query.where(Reward.kind == kind)
    if active_only:
        query = query.where(Reward.is_active.is_(True))
    query = query.order_by(Reward.kind.desc(), Reward.cost_points, Reward.value_cents, Reward.name, Reward.id)
    return items(list(db.session.scalars(query)))


def low_stock(items_: Iterable[CatalogItem]) -> list[CatalogItem]:
    return [i for i in items_ if i.reward.is_active and i.is_low]


def get_reward(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        raise NotFound("No such catalog item.")
    return reward


def count_history(reward_id: int | None = None, limit: int = 50) -> list[CountRow]:
    query = (select(StockCount, User.display_name).outerjoin(User, StockCount.counted_by_id == User.id)
             .order_by(StockCount.counted_at.desc(), StockCount.id.desc()).limit(limit))
    if reward_id is not None:
        query = query.where(StockCount.reward_id == reward_id)
    return [CountRow(c, name or "") for c, name in db.session.execute(query).all()]


@dataclass(frozen=True)
class MovementRow:
    movement: StockMovement
    by: str
    at: datetime


def movements(reward_id: int, limit: int = 50) -> list[MovementRow]:
    query = (select(StockMovement, User.display_name).outerjoin(User, StockMovement.created_by_id == User.id)
             .where(StockMovement.reward_id == reward_id).order_by(StockMovement.id.desc()).limit(limit))
    return [MovementRow(m, name or "", m.created_at) for m, name in db.session.execute(query).all()]


def programs_for_choice() -> list[Program]:
    return list(db.session.scalars(select(Program).where(Program.is_archived.is_(False)).order_by(Program.name)))


def count_message(count: StockCount) -> str:
    difference = count.counted - count.expected
    if difference == 0:
        return f"Count saved: {count.counted} on the shelf, as expected."
    word = "more" if difference > 0 else "fewer"
    return (f"Count saved: {count.counted} on the shelf, {abs(difference)} {word} than the {count.expected} "
            "expected. The stock was corrected and the discrepancy is kept in the history.")


def program_names() -> dict[int, str]:
    return {int(i): str(n) for i, n in db.session.execute(select(Program.id, Program.name)).all()}
