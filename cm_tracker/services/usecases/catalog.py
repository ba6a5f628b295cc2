"""Changing the voucher catalog and the prize cabinet: adding and editing items, restocks and physical counts.

Stock is never a stored counter: it is the sum of StockMovement.quantity for the item, like a ledger. A count that
disagrees with that sum keeps the count (expected and counted) and posts a COUNT_CORRECTION movement for the
difference, so shrinkage and miscounts stay visible in the history instead of disappearing into an edited number.
"""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.engine.caps import GOOD_JOB
from cm_tracker.extensions import db
from cm_tracker.models import Program, Reward, RewardKind, StockCount, StockMovement, StockMovementKind, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.stock import lock_reward, stock_of
from cm_tracker.services.core.versions import claim_version

MAX_NAME = 120
MAX_NOTE = 500
MAX_VALUE_CENTS = 1_000_000
MAX_COST_POINTS = 1_000_000
MAX_STOCK_CHANGE = 100_000


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
    # What Spanish-speaking patients read instead of `name`; blank: they read `name`.
    name_es: str = ""


def _check(data: RewardInput) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > MAX_NAME:
        fields["name"] = f"Give a name of 1 to {MAX_NAME} characters."
    if len(data.name_es.strip()) > MAX_NAME:
        fields["name_es"] = f"Give a Spanish name of at most {MAX_NAME} characters, or leave it blank."
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
                    name_es=data.name_es.strip() or None, description=data.description.strip(),
                    cost_points=data.cost_points,
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
    # Hand-overs, restocks and counts move the version too (core.stock.lock_reward): any of them makes the form stale.
    claim_version(reward, version, what="item")
    db.session.refresh(reward)
    reward.name, reward.description = data.name.strip(), data.description.strip()
    reward.name_es = data.name_es.strip() or None
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
