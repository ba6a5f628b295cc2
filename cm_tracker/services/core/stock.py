"""Stock on hand and the lock that serialises one item's stock changes; which programmes an item is offered to.

Stock is never a stored counter: it is the sum of StockMovement.quantity for the item, like a ledger
(usecases.catalog explains counts and their corrections).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from cm_tracker.extensions import db
from cm_tracker.models import Reward, StockMovement


def stock_levels(reward_ids: Iterable[int]) -> dict[int, int]:
    ids = list(reward_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(StockMovement.reward_id, func.coalesce(func.sum(StockMovement.quantity), 0))
        .where(StockMovement.reward_id.in_(ids)).group_by(StockMovement.reward_id)
    ).all()
    found = {int(rid): int(total) for rid, total in rows}
    return {rid: found.get(rid, 0) for rid in ids}


def stock_of(reward_id: int) -> int:
    return stock_levels([reward_id])[reward_id]


def is_offered_to(reward: Reward, program_id: int) -> bool:
    return reward.is_active and reward.program_id in (None, program_id)


def lock_reward(reward_id: int) -> None:
    """Serialise stock changes of one item: a write, so it takes the row lock (PostgreSQL) or the write lock
    (SQLite) until commit, and the stock read after it sees every committed movement (docs/security.md traps)."""
    db.session.execute(update(Reward).where(Reward.id == reward_id).values(version=Reward.version + 1))
