"""Handing over prizes won in draws (docs/rules.md 4.2): the patient chooses an item of the tier won from the cabinet.

A hand-over takes the enrollment lock (so one draw is claimed once) and then the item's lock (so the last item on the
shelf goes to one patient), checks the stock and writes the HANDOVER movement with the draw's claim in one commit.
Programmes may require two-person control: a second, different, enabled staff member confirms each hand-over with
their own password, and both are recorded and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from cm_tracker.extensions import db
from cm_tracker.models import Draw, Enrollment, Reward, RewardKind, StockMovement, StockMovementKind, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import Conflict, ServiceError, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.stock import is_offered_to, lock_reward, stock_of
from cm_tracker.services.queries.prizes import is_prize
from cm_tracker.services.usecases.accounts import authenticate
from cm_tracker.timeutil import utcnow

STAFF_ROLES = ("admin", "manager", "counselor")


@dataclass(frozen=True)
class Credentials:
    """What the confirming staff member types on the same screen."""

    username: str
    password: str


def _refuse(error: ServiceError) -> NoReturn:
    db.session.rollback()
    raise error


def verify_confirmer(credentials: Credentials, *, actor: User) -> User:
    """The confirming staff member, if the password is theirs; one answer for an unknown name or a wrong password."""
    if not credentials.username.strip() or not credentials.password:
        raise ValidationFailed("A second staff member must confirm this hand-over.", fields={
            "confirmer_username": "The confirming staff member enters their username and password."})
    confirmer = authenticate(credentials.username, credentials.password)
    if confirmer is None:
        raise ValidationFailed("The confirmation was refused.",
                               fields={"confirmer_password": "Wrong username or password."})
    _check_confirmer(confirmer, actor)
    return confirmer


def _check_confirmer(confirmer: User, actor: User) -> None:
    if confirmer.id == actor.id:
        raise ValidationFailed("The confirmation was refused.", fields={
            "confirmer_username": "Someone other than the person handing over must confirm."})
    if confirmer.is_disabled or str(confirmer.role) not in STAFF_ROLES:
        raise ValidationFailed("The confirmation was refused.",
                               fields={"confirmer_username": "Only an enabled staff account can confirm."})


def _check_choice(draw: Draw, reward: Reward, program_id: int) -> None:
    if not is_prize(draw):
        raise Conflict("This draw won no prize.", code="no_prize")
    if reward.kind != RewardKind.PRIZE or reward.tier != draw.tier or not is_offered_to(reward, program_id):
        raise ValidationFailed("Choose an item of the tier won.",
                               fields={"reward_id": f"Choose a {draw.tier.replace('_', ' ')} prize from the cabinet."})


def hand_over_prize(draw: Draw, reward: Reward, actor: User, confirmed_by: User | None = None) -> Draw:
    """Give the patient the item they chose for a winning draw; stock goes down by one, atomically."""
    enrollment = db.session.get(Enrollment, draw.enrollment_id)
    assert enrollment is not None  # a foreign key
    _check_choice(draw, reward, enrollment.program_id)
    if confirmed_by is not None:
        _check_confirmer(confirmed_by, actor)
    elif enrollment.program.requires_two_person_handover:
        raise ValidationFailed("A second staff member must confirm this hand-over.", fields={
            "confirmer_username": "This programme requires two-person control of prize hand-overs."})
    lock_enrollment(enrollment.id)
    db.session.refresh(draw)
    if draw.handed_over_at is not None:
        _refuse(Conflict("This prize was already handed over.", code="already_handed_over"))
    lock_reward(reward.id)
    if stock_of(reward.id) < 1:
        _refuse(Conflict(f"{reward.name} is out of stock; choose another item of the tier.", code="out_of_stock"))
    db.session.add(StockMovement(reward_id=reward.id, kind=StockMovementKind.HANDOVER, quantity=-1,
                                 note=f"Prize of draw {draw.id}", created_by_id=actor.id))
    draw.reward_id, draw.handed_over_at, draw.handed_over_by_id = reward.id, utcnow(), actor.id
    draw.confirmed_by_id = confirmed_by.id if confirmed_by else None
    detail = {"reward_id": reward.id, "tier": draw.tier, "value_cents": draw.value_cents}
    audit.record("prize.handover", user=actor, patient_id=draw.patient_id, object_type="draw", object_id=draw.id,
                 detail={**detail, "confirmed_by": confirmed_by.username if confirmed_by else None})
    if confirmed_by is not None:
        audit.record("prize.handover.confirm", user=confirmed_by, patient_id=draw.patient_id, object_type="draw",
                     object_id=draw.id, detail={**detail, "handed_over_by": actor.username})
    db.session.commit()
    return draw


def hand_over_confirmed(draw: Draw, reward: Reward, *, actor: User, confirmer: Credentials | None) -> Draw:
    """The desk's hand-over: check the confirming staff member's password first (it writes its own audit row, so
    it must run before the transaction that takes the locks), then hand over."""
    confirmed_by = verify_confirmer(confirmer, actor=actor) if confirmer and confirmer.username.strip() else None
    return hand_over_prize(draw, reward, actor, confirmed_by)
