"""The voucher catalog and the prize cabinet: items, stock on hand (a sum of movements), restocks and counts.

Stock is never a stored counter: it is the sum of StockMovement.quantity for the item, like a ledger. A count that
disagrees with that sum keeps the count (expected and counted) and posts a COUNT_CORRECTION movement for the
difference, so shrinkage and miscounts stay visible in the history instead of disappearing into an edited number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from cm_tracker.engine.caps import GOOD_JOB
from cm_tracker.extensions import db
from cm_tracker.models import Program, Reward, RewardKind, StockCount, StockMovement, StockMovementKind, User
from cm_tracker.services import audit
from cm_tracker.services.errors import Conflict, NotFound, ValidationFailed
from cm_tracker.services.evaluation import rules_for

MAX_NAME = 120
MAX_NOTE = 500
MAX_VALUE_CENTS = 1_000_000
MAX_COST_POINTS = 1_000_000
MAX_STOCK_CHANGE = 100_000


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
class RewardInput:
    """What a manager types for an item; exactly one of cost_points (voucher) and tier (prize)."""

    name: str
    value_cents: int
    cost_points: int | None = None
    tier: str | None = None
    description: str = ""
    program_id: int | None = None
    low_stock_threshold: int = 3
    is_active: bool = True
    # Vouchers only: whether stock is counted. Prize cabinet items are always counted.
    is_stocked: bool = True


@dataclass(frozen=True)
class CountRow:
    count: StockCount
    counted_by: str

    @property
    def discrepancy(self) -> int:
        return self.count.counted - self.count.expected


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


def is_offered_to(reward: Reward, program_id: int) -> bool:
    return reward.is_active and reward.program_id in (None, program_id)


def lock_reward(reward_id: int) -> None:
    """Serialise stock changes of one item: a write, so it takes the row lock (PostgreSQL) or the write lock
    (SQLite) until commit, and the stock read after it sees every committed movement (docs/security.md traps)."""
    db.session.execute(update(Reward).where(Reward.id == reward_id).values(version=Reward.version + 1))


def _check(data: RewardInput) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > MAX_NAME:
        fields["name"] = f"Give a name of 1 to {MAX_NAME} characters."
    if not 0 <= data.value_cents <= MAX_VALUE_CENTS:
        fields["value_cents"] = "Give the nominal value in cents, from 0 to 1,000,000."
    if (data.cost_points is None) == (data.tier is None):
        fields["cost_points"] = "Give either a cost in points (a voucher) or a prize tier (a prize), not both."
    elif data.cost_points is not None and not 1 <= data.cost_points <= MAX_COST_POINTS:
        fields["cost_points"] = f"The cost must be from 1 to {MAX_COST_POINTS:,} points."
    elif data.tier is not None and not data.tier.strip():
        fields["tier"] = "Name the prize tier (small, large, jumbo...)."
    elif data.tier is not None and data.tier.strip() == GOOD_JOB.tier:
        fields["tier"] = "\"Good job\" slips win no prize; choose a winning tier."
    if not 0 <= data.low_stock_threshold <= MAX_STOCK_CHANGE:
        fields["low_stock_threshold"] = "Give a threshold from 0 up."
    if len(data.description) > 2000:
        fields["description"] = "Keep the description under 2,000 characters."
    if data.program_id is not None:
        fields.update(_check_program(data))
    return fields


def _check_program(data: RewardInput) -> dict[str, str]:
    program = db.session.get(Program, data.program_id)
    if program is None:
        return {"program_id": "No such programme."}
    if data.tier is not None:
        bowl = rules_for(program).bowl
        tiers = [t.tier for t in bowl or () if t.value_cents > 0]
        if not tiers:
            return {"tier": f"{program.name} has no prize bowl; offer this prize to a programme with one."}
        if data.tier.strip() not in tiers:
            return {"tier": f"{program.name}'s bowl has the winning tiers {', '.join(tiers)}."}
    return {}


def create_reward(data: RewardInput, *, opening_stock: int | None = None, actor: User) -> Reward:
    """A catalog or cabinet item; `opening_stock` is posted as a RESTOCK. A voucher without one is unlimited."""
    fields = _check(data)
    if opening_stock is not None and not 0 <= opening_stock <= MAX_STOCK_CHANGE:
        fields["stock"] = f"The opening stock must be from 0 to {MAX_STOCK_CHANGE:,}."
    if fields:
        raise ValidationFailed("The item could not be saved.", fields=fields)
    is_prize = data.tier is not None
    reward = Reward(kind=RewardKind.PRIZE if is_prize else RewardKind.VOUCHER, name=data.name.strip(),
                    description=data.description.strip(), cost_points=data.cost_points,
                    tier=data.tier.strip() if data.tier else None, value_cents=data.value_cents,
                    program_id=data.program_id, low_stock_threshold=data.low_stock_threshold,
                    is_active=data.is_active,
                    is_stocked=is_prize or data.is_stocked or opening_stock is not None)
    db.session.add(reward)
    db.session.flush()
    if opening_stock:
        db.session.add(StockMovement(reward_id=reward.id, kind=StockMovementKind.RESTOCK, quantity=opening_stock,
                                     note="Opening stock", created_by_id=actor.id))
    audit.record("reward.create", user=actor, object_type="reward", object_id=reward.id,
                 detail={"name": reward.name, "kind": str(reward.kind), "stock": opening_stock})
    db.session.commit()
    return reward


def update_reward(reward: Reward, data: RewardInput, *, version: int, actor: User) -> Reward:
    """Edit an item; its kind stays (a voucher does not become a prize). A stale form is refused."""
    fields = _check(data)
    if fields:
        raise ValidationFailed("The item could not be saved.", fields=fields)
    if (reward.kind == RewardKind.PRIZE) != (data.tier is not None):
        raise ValidationFailed("The item could not be saved.",
                               fields={"tier": "A voucher stays a voucher and a prize a prize; add a new item."})
    lock_reward(reward.id)
    db.session.refresh(reward)
    if reward.version != version + 1:
        db.session.rollback()
        raise Conflict("This item changed since you opened it (a hand-over, restock or edit); reload and try again.",
                       code="stale_version")
    reward.name, reward.description = data.name.strip(), data.description.strip()
    reward.cost_points, reward.tier = data.cost_points, data.tier.strip() if data.tier else None
    reward.value_cents, reward.program_id = data.value_cents, data.program_id
    reward.low_stock_threshold, reward.is_active = data.low_stock_threshold, data.is_active
    if reward.kind == RewardKind.VOUCHER:
        reward.is_stocked = data.is_stocked
    audit.record("reward.update", user=actor, object_type="reward", object_id=reward.id,
                 detail={"name": reward.name, "active": reward.is_active})
    db.session.commit()
    return reward


def restock(reward: Reward, quantity: int, note: str, *, actor: User) -> StockMovement:
    if not 1 <= quantity <= MAX_STOCK_CHANGE:
        raise ValidationFailed("Nothing was restocked.", fields={"quantity": "Add at least 1."})
    if len(note) > MAX_NOTE:
        raise ValidationFailed("Nothing was restocked.", fields={"note": f"Keep the note under {MAX_NOTE} characters."})
    if not reward.is_stocked:
        raise Conflict("This voucher's stock is not counted (unlimited); turn on stock counting first.",
                       code="not_stocked")
    lock_reward(reward.id)
    movement = StockMovement(reward_id=reward.id, kind=StockMovementKind.RESTOCK, quantity=quantity,
                             note=note.strip(), created_by_id=actor.id)
    db.session.add(movement)
    audit.record("reward.restock", user=actor, object_type="reward", object_id=reward.id,
                 detail={"quantity": quantity})
    db.session.commit()
    return movement


def record_count(reward: Reward, counted: int, note: str, *, actor: User) -> StockCount:
    """A physical count; any discrepancy is kept and corrected by a movement, under the item's lock."""
    if not 0 <= counted <= MAX_STOCK_CHANGE:
        raise ValidationFailed("The count was not saved.",
                               fields={"counted": "Give the number on the shelf, 0 or more."})
    if len(note) > MAX_NOTE:
        raise ValidationFailed("The count was not saved.",
                               fields={"note": f"Keep the note under {MAX_NOTE} characters."})
    if not reward.is_stocked:
        raise Conflict("This voucher's stock is not counted (unlimited).", code="not_stocked")
    lock_reward(reward.id)
    expected = stock_of(reward.id)
    count = StockCount(reward_id=reward.id, expected=expected, counted=counted, note=note.strip(),
                       counted_by_id=actor.id)
    db.session.add(count)
    if counted != expected:
        db.session.add(StockMovement(reward_id=reward.id, kind=StockMovementKind.COUNT_CORRECTION,
                                     quantity=counted - expected, created_by_id=actor.id,
                                     note=f"Count: expected {expected}, counted {counted}. {note.strip()}".strip()))
    audit.record("reward.count", user=actor, object_type="reward", object_id=reward.id,
                 detail={"expected": expected, "counted": counted})
    db.session.commit()
    return count


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


def parse_dollars(text: str) -> int | None:
    """'10', '10.5', '$1,000.00' -> cents as an integer; None when it is not an amount (no floats involved)."""
    cleaned = text.strip().removeprefix("$").replace(",", "")
    whole, _, part = cleaned.partition(".")
    if not whole.isdigit() and not (whole == "" and part.isdigit()):
        return None
    if part and not (part.isdigit() and len(part) <= 2):
        return None
    return int(whole or "0") * 100 + int(part.ljust(2, "0") or "0")


def dollars(cents: int) -> str:
    """Cents as a form value: 1050 -> '10.50'."""
    return f"{cents // 100}.{cents % 100:02d}"


def count_message(count: StockCount) -> str:
    difference = count.counted - count.expected
    if difference == 0:
        return f"Count saved: {count.counted} on the shelf, as expected."
    word = "more" if difference > 0 else "fewer"
    return (f"Count saved: {count.counted} on the shelf, {abs(difference)} {word} than the {count.expected} "
            "expected. The stock was corrected and the discrepancy is kept in the history.")


def program_names() -> dict[int, str]:
    return {int(i): str(n) for i, n in db.session.execute(select(Program.id, Program.name)).all()}
