"""Handing over prizes won in draws (docs/rules.md 4.2): the patient chooses an item of the tier won from the cabinet.

A hand-over takes the enrollment lock (so one draw is claimed once) and then the item's lock (so the last item on the
shelf goes to one patient), checks the stock and writes the HANDOVER movement with the draw's claim in one commit.
Programmes may require two-person control: a second, different, enabled staff member confirms each hand-over with
their own password, and both are recorded and audited. A programme may also ask the staff member to confirm any
hand-over worth more than a value it sets (`confirm_handover_above_cents`): a dear prize is not handed over by a
slip of the finger. Several prizes of one tier are handed over at once (the patient chose five of the same item),
each draw claimed once, with one stock movement per draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from cm_tracker.extensions import db
from cm_tracker.models import (
    Draw,
    Enrollment,
    Patient,
    Program,
    Reward,
    RewardKind,
    StockMovement,
    StockMovementKind,
    User,
)
from cm_tracker.money import format_cents
from cm_tracker.services.core import audit
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ServiceError, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.prizes import is_prize
from cm_tracker.services.core.stock import is_offered_to, lock_reward, stock_of
from cm_tracker.services.queries.prizes import waiting_of_tier
from cm_tracker.services.usecases.accounts import authenticate
from cm_tracker.timeutil import utcnow

STAFF_ROLES = ("admin", "manager", "counselor")
MAX_CONFIRM_ABOVE_CENTS = 1_000_000  # $10,000: far above any nominal prize value


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


def needs_confirmation(program: Program, value_cents: int) -> bool:
    """The programme's rule: a hand-over worth more than its setting asks the staff member to confirm it."""
    limit = program.confirm_handover_above_cents
    return limit is not None and value_cents > limit


def _check_confirmed(program: Program, value_cents: int, confirmed: bool) -> None:
    if needs_confirmation(program, value_cents) and not confirmed:
        limit = format_cents(program.confirm_handover_above_cents or 0)
        raise ValidationFailed("Confirm this hand-over.", fields={
            "confirm": f"This hand-over is worth {format_cents(value_cents)}, above the programme's {limit}: "
                       "confirm it to hand it over."})


def _check_control(program: Program, actor: User, confirmed_by: User | None) -> None:
    if confirmed_by is not None:
        _check_confirmer(confirmed_by, actor)
    elif program.requires_two_person_handover:
        raise ValidationFailed("A second staff member must confirm this hand-over.", fields={
            "confirmer_username": "This programme requires two-person control of prize hand-overs."})


def hand_over_prize(draw: Draw, reward: Reward, actor: User, confirmed_by: User | None = None, *,
                    confirmed: bool = False) -> Draw:
    """Give the patient the item they chose for a winning draw; stock goes down by one, atomically."""
    enrollment = db.session.get(Enrollment, draw.enrollment_id)
    assert enrollment is not None  # a foreign key
    _check_choice(draw, reward, enrollment.program_id)
    _check_control(enrollment.program, actor, confirmed_by)
    _check_confirmed(enrollment.program, draw.value_cents, confirmed)
    lock_enrollment(enrollment.id)
    db.session.refresh(draw)
    if draw.handed_over_at is not None:
        _refuse(Conflict("This prize was already handed over.", code="already_handed_over"))
    _claim([draw], reward, actor, confirmed_by)
    db.session.commit()
    return draw


def hand_over_tier(patient: Patient, tier: str, reward: Reward, quantity: int, *, actor: User,
                   confirmed_by: User | None = None, confirmed: bool = False) -> list[Draw]:
    """Hand over `quantity` prizes of one tier at once, all the same chosen item: the oldest waiting draws of the
    tier are claimed, each once, and stock goes down by `quantity` (or nothing is handed over)."""
    enrollment = current_enrollment(patient)
    if enrollment is None:
        raise Conflict("This patient is not enrolled in a programme.", code="no_enrollment")
    lock_enrollment(enrollment.id)
    waiting = waiting_of_tier(patient.id, tier)
    if not waiting:
        _refuse(Conflict(f"No {tier.replace('_', ' ')} prize is waiting.", code="no_prize"))
    if not 1 <= quantity <= len(waiting):
        _refuse(ValidationFailed("Choose how many.", fields={"quantity": f"Choose 1 to {len(waiting)}."}))
    draws = waiting[:quantity]
    try:
        _check_choice(draws[0], reward, enrollment.program_id)
        _check_control(enrollment.program, actor, confirmed_by)
        _check_confirmed(enrollment.program, sum(d.value_cents for d in draws), confirmed)
    except ServiceError as error:
        _refuse(error)
    _claim(draws, reward, actor, confirmed_by)
    db.session.commit()
    return draws


def _claim(draws: Sequence[Draw], reward: Reward, actor: User, confirmed_by: User | None) -> None:
    """Under the enrolment's lock: take the item's lock, check the stock and write each draw's claim."""
    lock_reward(reward.id)
    on_hand = stock_of(reward.id)
    if on_hand < len(draws):
        what = "is out of stock" if on_hand < 1 else f"has only {on_hand} left"
        _refuse(Conflict(f"{reward.name} {what}; choose another item of the tier.", code="out_of_stock"))
    now = utcnow()
    for draw in draws:
        db.session.add(StockMovement(reward_id=reward.id, kind=StockMovementKind.HANDOVER, quantity=-1,
                                     note=f"Prize of draw {draw.id}", created_by_id=actor.id))
        draw.reward_id, draw.handed_over_at, draw.handed_over_by_id = reward.id, now, actor.id
        draw.confirmed_by_id = confirmed_by.id if confirmed_by else None
        _audit(draw, reward, actor, confirmed_by)


def _audit(draw: Draw, reward: Reward, actor: User, confirmed_by: User | None) -> None:
    detail = {"reward_id": reward.id, "tier": draw.tier, "value_cents": draw.value_cents}
    audit.record("prize.handover", user=actor, patient_id=draw.patient_id, object_type="draw", object_id=draw.id,
                 detail={**detail, "confirmed_by": confirmed_by.username if confirmed_by else None})
    if confirmed_by is not None:
        audit.record("prize.handover.confirm", user=confirmed_by, patient_id=draw.patient_id, object_type="draw",
                     object_id=draw.id, detail={**detail, "handed_over_by": actor.username})


def _confirmer(credentials: Credentials | None, actor: User) -> User | None:
    """Check the confirming staff member's password first: it writes its own audit row, so it must run before the
    transaction that takes the locks."""
    return verify_confirmer(credentials, actor=actor) if credentials and credentials.username.strip() else None


def hand_over_confirmed(draw: Draw, reward: Reward, *, actor: User, confirmer: Credentials | None,
                        confirmed: bool = False) -> Draw:
    """The desk's and the API's hand-over of one draw, with the second staff member's password when given."""
    return hand_over_prize(draw, reward, actor, _confirmer(confirmer, actor), confirmed=confirmed)


def hand_over_group(patient: Patient, tier: str, reward: Reward, quantity: int, *, actor: User,
                    confirmer: Credentials | None, confirmed: bool = False) -> list[Draw]:
    """The desk's hand-over of several prizes of one tier (the grouped form)."""
    return hand_over_tier(patient, tier, reward, quantity, actor=actor, confirmed_by=_confirmer(confirmer, actor),
                          confirmed=confirmed)


def set_confirmation_limit(program: Program, above_cents: int | None, *, actor: User) -> Program:
    """A manager sets the value above which a hand-over asks for confirmation (None: never asks)."""
    if above_cents is not None and not 0 <= above_cents <= MAX_CONFIRM_ABOVE_CENTS:
        raise ValidationFailed("The value could not be saved.", fields={
            "confirm_handover_above_cents": f"Give 0 to {format_cents(MAX_CONFIRM_ABOVE_CENTS)}, or leave it empty."})
    before = program.confirm_handover_above_cents
    program.confirm_handover_above_cents = above_cents
    audit.record("program.handover_confirmation", user=actor, object_type="program", object_id=program.id,
                 detail={"before": before, "after": above_cents})
    db.session.commit()
    return program
