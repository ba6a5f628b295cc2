"""Spending points on the voucher catalog: requests from the portal, fulfilment at the desk, direct redemptions.

The debit is atomic (docs/security.md traps): the enrollment lock is taken FIRST (a conditional write that holds the row
lock on PostgreSQL and the write lock on SQLite until commit), then the balance is read and checked, then the item's
lock and its stock, and only then are the redemption, its ledger entry and the stock movement written and committed
together. Twenty concurrent redemptions against a balance that covers one therefore debit once.

Retries are idempotent (services/core/idempotency.py, shared with prize draws): a client sends an Idempotency-Key;
the same key and body return the first response and write nothing; the same key with another body is refused (422).
Two requests with the same key racing each other are serialised by the lock, and the unique (patient_id,
idempotency_key) constraint catches anything that slips past. Clients should always send a key; without one there is
no replay protection (a retry is a second redemption).

Every attempt leaves an audit row (docs/security.md "Audit"): a redemption its own, a refusal (too few points, out
of stock, a key reused for another request...) one with the outcome "failure" and the refusal's code, committed at
once after the rollback, and a replay one ("redemption.replay") naming the redemption it answered with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.engine.text import count
from cm_tracker.extensions import db
from cm_tracker.models import (
    Enrollment,
    EntryKind,
    LedgerEntry,
    Patient,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardKind,
    StockMovement,
    StockMovementKind,
    User,
)
from cm_tracker.money import format_cents, points_value_cents
from cm_tracker.services.core import audit, idempotency, spending
from cm_tracker.services.core.balances import balance_of
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ServiceError, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.stock import is_offered_to, lock_reward, stock_of
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.timeutil import utcnow


@dataclass(frozen=True)
class Redeemed:
    """A fulfilled redemption and the points balance right after it; `replayed` when a retry returned it."""

    redemption: Redemption
    balance_after: int
    replayed: bool = False

    @property
    def response(self) -> dict[str, Any]:
        return {"id": self.redemption.id, "points": self.redemption.points, "balance_after": self.balance_after}


def fingerprint(reward_id: int, quantity: int) -> str:
    """What makes two requests the same request: the item and the quantity (the patient is in the key's scope)."""
    return idempotency.fingerprint({"reward_id": reward_id, "quantity": quantity})


def _refuse(error: ServiceError) -> NoReturn:
    """Release the locks and drop whatever was pending: a refused redemption writes nothing."""
    db.session.rollback()
    raise error


def _enrollment(patient: Patient) -> Enrollment:
    enrollment = current_enrollment(patient)
    if enrollment is None:
        raise Conflict("This patient is not enrolled in a programme.", code="no_enrollment")
    return enrollment


def _check_offered(reward: Reward, enrollment: Enrollment) -> None:
    if reward.kind != RewardKind.VOUCHER or reward.cost_points is None:
        raise ValidationFailed("Prizes are won in draws, not bought.",
                               fields={"reward_id": "Choose a voucher of the catalog."})
    if not is_offered_to(reward, enrollment.program_id):
        raise ValidationFailed("This item is not offered.",
                               fields={"reward_id": "This item is not offered in the patient's programme."})


def _stored(patient_id: int, key: str) -> Redemption | None:
    return db.session.scalar(select(Redemption).where(Redemption.patient_id == patient_id,
                                                      Redemption.idempotency_key == key))


def _replay(existing: Redemption, request_hash: str) -> Redeemed:
    response = idempotency.stored_response(existing.request_hash, existing.response, request_hash, what="redemption")
    return Redeemed(existing, int(response["balance_after"]), replayed=True)


def _reason(reward: Reward, quantity: int, points: int) -> str:
    what = reward.name if quantity == 1 else f"{quantity} x {reward.name}"
    return f"Redeemed {what} ({format_cents(reward.value_cents * quantity)}): {count(points, 'point')}"


def _debit(redemption: Redemption, reward: Reward, enrollment: Enrollment, *, actor: User,
           confirmed_by: User | None, now: datetime, held: int | None = None) -> int:
    """Check the balance and stock under the locks and write the debit; the caller holds the enrollment lock.

    `held`: for a quantity chosen at the desk, the points waiting requests set aside, which it may not spend. None
    when fulfilling a request: its own points are among those held, and the desk fulfils requests in any order.
    """
    balance = balance_of(redemption.patient_id).points
    if balance < 0:
        _refuse(Conflict(f"The balance is {balance} points after a correction; redemptions wait until later "
                         "earnings bring it back above zero.", code="insufficient_balance"))
    on_hand = None
    if reward.is_stocked:
        lock_reward(reward.id)
        on_hand = stock_of(reward.id)
    cost = redemption.points // redemption.quantity  # the price when it was asked for
    most = spending.most_of(cost, balance, held or 0, on_hand)
    try:
        spending.check_within(most, reward.name, redemption.quantity, redemption.points, choosing=held is not None)
    except ServiceError as exc:
        _refuse(exc)
    if reward.is_stocked:
        db.session.add(StockMovement(reward_id=reward.id, kind=StockMovementKind.HANDOVER,
                                     quantity=-redemption.quantity, created_by_id=actor.id,
                                     note=f"Redemption {redemption.id}"))
    db.session.add(LedgerEntry(
        patient_id=redemption.patient_id, enrollment_id=enrollment.id, kind=EntryKind.REDEMPTION,
        points=-redemption.points,
        value_cents=points_value_cents(-redemption.points, enrollment.program.point_value_cents),
        reason=_reason(reward, redemption.quantity, redemption.points), redemption_id=redemption.id,
        occurred_at=now, created_by_id=actor.id))
    redemption.status = RedemptionStatus.FULFILLED
    redemption.fulfilled_at, redemption.fulfilled_by_id = now, actor.id
    redemption.confirmed_by_id = confirmed_by.id if confirmed_by else None
    balance_after = balance - redemption.points
    redemption.response = {"id": redemption.id, "points": redemption.points, "balance_after": balance_after}
    return balance_after


def _check_confirmer(actor: User, confirmed_by: User | None) -> None:
    if confirmed_by is not None and (confirmed_by.id == actor.id or confirmed_by.is_disabled):
        raise ValidationFailed("The confirmation was refused.",
                               fields={"confirmer_username": "A second, different staff member must confirm."})


@contextmanager
def _refusal_recorded(action: str, actor: User, patient_id: int, **detail: object) -> Iterator[None]:
    """A refused attempt is on record too: its row is written after the rollback that drops the attempt."""
    try:
        yield
    except ServiceError as exc:
        db.session.rollback()
        log_now(action, user=actor, outcome=audit.FAILURE, patient_id=patient_id, object_type="redemption",
                object_id=detail.pop("redemption_id", None), detail={**detail, "code": exc.code})
        raise


def redeem(patient: Patient, reward: Reward, quantity: int, *, actor: User, idempotency_key: str | None = None,
           confirmed_by: User | None = None) -> Redeemed:
    """Redeem at the desk: request and fulfil in one transaction, with the atomic debit; a refusal and a replay
    are audited too."""
    patient_id = patient.id
    with _refusal_recorded("redemption.create", actor, patient_id, reward_id=reward.id, quantity=quantity):
        done = _redeem(patient, reward, quantity, actor=actor, idempotency_key=idempotency_key,
                       confirmed_by=confirmed_by)
    if done.replayed:
        log_now("redemption.replay", user=actor, patient_id=patient_id, object_type="redemption",
                object_id=done.redemption.id, detail={"reward_id": reward.id, "quantity": quantity})
    return done


def _redeem(patient: Patient, reward: Reward, quantity: int, *, actor: User, idempotency_key: str | None,
            confirmed_by: User | None) -> Redeemed:
    spending.check_quantity(quantity, patient.id, reward)
    idempotency.check_key(idempotency_key)
    _check_confirmer(actor, confirmed_by)
    request_hash = fingerprint(reward.id, quantity)
    if idempotency_key and (existing := _stored(patient.id, idempotency_key)):
        return _replay(existing, request_hash)
    enrollment = _enrollment(patient)
    _check_offered(reward, enrollment)
    lock_enrollment(enrollment.id)
    if idempotency_key and (existing := _stored(patient.id, idempotency_key)):
        db.session.rollback()
        return _replay(existing, request_hash)
    held = spending.pending_points(patient.id)  # read under the lock, before this redemption joins the session
    now = utcnow()
    redemption = Redemption(patient_id=patient.id, enrollment_id=enrollment.id, reward_id=reward.id,
                            quantity=quantity, points=reward.cost_points * quantity,
                            status=RedemptionStatus.REQUESTED, requested_at=now,
                            idempotency_key=idempotency_key, request_hash=request_hash if idempotency_key else None)
    try:
        db.session.add(redemption)
        db.session.flush()
        balance_after = _debit(redemption, reward, enrollment, actor=actor, confirmed_by=confirmed_by, now=now,
                               held=held)
        _audit("redemption.create", redemption, actor, confirmed_by)
        db.session.commit()
    except IntegrityError:
        # The same key won a race we could not see (another enrollment's lock): answer with its response.
        db.session.rollback()
        existing = _stored(patient.id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return Redeemed(redemption, balance_after)


def request_redemption(patient: Patient, reward: Reward, quantity: int, *, actor: User) -> Redemption:
    """A patient asks for an item from the portal; nothing is debited until staff fulfil it at the desk.

    The request is refused when it is more than the patient can take (core.spending: the balance less what is
    already requested, the stock, the per-request limit), so that the patient learns at once rather than at the desk.
    """
    with _refusal_recorded("redemption.request", actor, patient.id, reward_id=reward.id, quantity=quantity):
        return _request(patient, reward, quantity, actor=actor)


def _request(patient: Patient, reward: Reward, quantity: int, *, actor: User) -> Redemption:
    spending.check_quantity(quantity, patient.id, reward)
    enrollment = _enrollment(patient)
    _check_offered(reward, enrollment)
    lock_enrollment(enrollment.id)
    points = reward.cost_points * quantity
    try:
        spending.check_within(spending.most_for(patient.id, reward), reward.name, quantity, points)
    except ServiceError as exc:
        _refuse(exc)
    redemption = Redemption(patient_id=patient.id, enrollment_id=enrollment.id, reward_id=reward.id,
                            quantity=quantity, points=points, status=RedemptionStatus.REQUESTED,
                            requested_at=utcnow())
    db.session.add(redemption)
    db.session.flush()
    _audit("redemption.request", redemption, actor, None)
    db.session.commit()
    return redemption


def fulfil_redemption(redemption: Redemption, actor: User, confirmed_by: User | None = None) -> Redeemed:
    """Hand over a requested item at the desk: the atomic debit, once, however often it is pressed."""
    with _refusal_recorded("redemption.fulfil", actor, redemption.patient_id, redemption_id=redemption.id):
        return _fulfil(redemption, actor, confirmed_by)


def _fulfil(redemption: Redemption, actor: User, confirmed_by: User | None) -> Redeemed:
    _check_confirmer(actor, confirmed_by)
    enrollment = db.session.get(Enrollment, redemption.enrollment_id)
    assert enrollment is not None  # a foreign key
    lock_enrollment(enrollment.id)
    db.session.refresh(redemption)
    if redemption.status != RedemptionStatus.REQUESTED:
        _refuse(Conflict(f"This request is already {redemption.status}.", code="not_pending"))
    balance_after = _debit(redemption, redemption.reward, enrollment, actor=actor, confirmed_by=confirmed_by,
                           now=utcnow())
    _audit("redemption.fulfil", redemption, actor, confirmed_by)
    db.session.commit()
    return Redeemed(redemption, balance_after)


def cancel_redemption(redemption: Redemption, *, actor: User) -> None:
    """Withdraw a request not yet fulfilled (the patient or staff); a fulfilled one stays in the ledger."""
    lock_enrollment(redemption.enrollment_id)
    db.session.refresh(redemption)
    if redemption.status != RedemptionStatus.REQUESTED:
        _refuse(Conflict(f"This request is already {redemption.status}.", code="not_pending"))
    redemption.status = RedemptionStatus.CANCELLED
    _audit("redemption.cancel", redemption, actor, None)
    db.session.commit()


def _audit(action: str, redemption: Redemption, actor: User, confirmed_by: User | None) -> None:
    detail = {"reward_id": redemption.reward_id, "quantity": redemption.quantity, "points": redemption.points}
    audit.record(action, user=actor, patient_id=redemption.patient_id, object_type="redemption",
                 object_id=redemption.id, detail=detail)
    if confirmed_by is not None:
        audit.record(f"{action}.confirm", user=confirmed_by, patient_id=redemption.patient_id,
                     object_type="redemption", object_id=redemption.id, detail={"handed_over_by": actor.username})
