"""Redeeming vouchers: the atomic debit, stock, negative balances, requests from the portal and idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpers import in_threads


def _objects(personas, shop):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User

    return (db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card),
            db.session.get(User, personas.counselor))


def _count(model) -> int:
    from cm_tracker.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_a_redemption_debits_cost_times_quantity_and_takes_the_stock(ctx, personas, shop, give):
    from cm_tracker.models import RedemptionStatus
    from cm_tracker.services.core.balances import balance_of
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    done = redeem(patient, card, 2, actor=cora)
    assert (done.redemption.points, done.balance_after) == (80, 20)
    assert done.redemption.status == RedemptionStatus.FULFILLED
    assert done.redemption.fulfilled_at is not None and done.redemption.requested_at is not None
    assert balance_of(patient.id).points == 20
    assert balance_of(patient.id).redeemed_points == 80
    assert stock_of(card.id) == 3


def test_the_redemption_ledger_entry_names_the_item_and_points(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=40)
    patient, card, cora = _objects(personas, shop)
    done = redeem(patient, card, 1, actor=cora)
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.redemption_id == done.redemption.id))
    assert (entry.kind, entry.points, entry.value_cents) == (EntryKind.REDEMPTION, -40, -1000)
    assert entry.reason == "Redeemed Grocery gift card ($10.00): 40 points"


def test_not_enough_points_is_refused_and_writes_nothing(ctx, personas, shop, give):
    from cm_tracker.models import LedgerEntry, Redemption
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=39)
    patient, card, cora = _objects(personas, shop)
    with pytest.raises(Conflict) as refused:
        redeem(patient, card, 1, actor=cora)
    assert refused.value.code == "insufficient_balance"
    assert (_count(Redemption), _count(LedgerEntry)) == (0, 1)


def test_a_negative_balance_blocks_redemptions_even_of_free_quantity(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=60)
    patient, card, cora = _objects(personas, shop)
    redeem(patient, card, 1, actor=cora)
    # A correction took back more than was left (docs/rules.md 6): the balance is now -10.
    db.session.add(LedgerEntry(patient_id=patient.id, enrollment_id=patient.enrollments[0].id,
                               kind=EntryKind.ADJUSTMENT, points=-30, reason="Correction: lab positive"))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        redeem(patient, db.session.get(type(card), shop.bus_pass), 1, actor=cora)
    assert refused.value.code == "insufficient_balance"
    assert "-10 points" in refused.value.message


def test_an_item_out_of_stock_is_refused(ctx, personas, shop, give):
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=400)
    patient, card, cora = _objects(personas, shop)
    with pytest.raises(Conflict) as refused:
        redeem(patient, card, 6, actor=cora)
    assert refused.value.code == "out_of_stock"
    assert refused.value.message == "Only 5 of Grocery gift card in stock. Choose 1 to 5."


def test_an_unstocked_voucher_never_runs_out(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, StockMovement
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=400)
    patient, _card, cora = _objects(personas, shop)
    done = redeem(patient, db.session.get(Reward, shop.bus_pass), 20, actor=cora)
    assert done.balance_after == 0
    assert _count(StockMovement) == 3  # only the opening stocks of the fixture


def test_a_prize_cannot_be_bought_with_points(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=400)
    patient, _card, cora = _objects(personas, shop)
    with pytest.raises(ValidationFailed) as refused:
        redeem(patient, db.session.get(Reward, shop.small_prize), 1, actor=cora)
    assert "reward_id" in refused.value.fields


def test_a_portal_request_debits_nothing_until_fulfilled_at_the_desk(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import RedemptionStatus, User
    from cm_tracker.services.core.balances import balance_of
    from cm_tracker.services.usecases.redemptions import fulfil_redemption, request_redemption

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    asked = request_redemption(patient, card, 2, actor=db.session.get(User, personas.patient_user))
    assert (asked.status, balance_of(patient.id).points) == (RedemptionStatus.REQUESTED, 100)
    done = fulfil_redemption(asked, cora)
    assert (done.redemption.status, done.balance_after, balance_of(patient.id).points) == (
        RedemptionStatus.FULFILLED, 20, 20)
    assert done.redemption.fulfilled_at >= done.redemption.requested_at


def test_requests_waiting_count_against_what_a_patient_may_request(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import request_redemption

    give(personas.patient, points=60)
    patient, card, _cora = _objects(personas, shop)
    pat = db.session.get(User, personas.patient_user)
    request_redemption(patient, card, 1, actor=pat)
    with pytest.raises(Conflict) as refused:
        request_redemption(patient, card, 1, actor=pat)
    assert refused.value.code == "insufficient_balance"


def test_a_request_is_fulfilled_once_and_cannot_be_cancelled_after(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import cancel_redemption, fulfil_redemption, request_redemption

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    asked = request_redemption(patient, card, 1, actor=db.session.get(User, personas.patient_user))
    fulfil_redemption(asked, cora)
    with pytest.raises(Conflict):
        fulfil_redemption(asked, cora)
    with pytest.raises(Conflict):
        cancel_redemption(asked, actor=cora)


def test_a_cancelled_request_cannot_be_fulfilled(ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import RedemptionStatus, User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import cancel_redemption, fulfil_redemption, request_redemption

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    pat = db.session.get(User, personas.patient_user)
    asked = request_redemption(patient, card, 1, actor=pat)
    cancel_redemption(asked, actor=pat)
    assert asked.status == RedemptionStatus.CANCELLED
    with pytest.raises(Conflict) as refused:
        fulfil_redemption(asked, cora)
    assert refused.value.code == "not_pending"


def test_the_same_key_and_body_replays_the_first_response_and_writes_nothing(ctx, personas, shop, give):
    from cm_tracker.models import LedgerEntry, Redemption
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    first = redeem(patient, card, 1, actor=cora, idempotency_key="k-1")
    again = redeem(patient, card, 1, actor=cora, idempotency_key="k-1")
    assert again.response == first.response == {"id": first.redemption.id, "points": 40, "balance_after": 60}
    assert again.replayed and (_count(Redemption), _count(LedgerEntry)) == (1, 2)


def test_the_same_key_with_another_body_is_refused(ctx, personas, shop, give):
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=100)
    patient, card, cora = _objects(personas, shop)
    redeem(patient, card, 1, actor=cora, idempotency_key="k-1")
    with pytest.raises(ValidationFailed) as refused:
        redeem(patient, card, 2, actor=cora, idempotency_key="k-1")
    assert "Idempotency-Key" in refused.value.fields


def test_twenty_concurrent_redemptions_against_a_balance_for_one_debit_once(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Patient, Redemption, Reward, User
    from cm_tracker.services.core.balances import balance_of
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=50)

    def work(_i: int):
        return redeem(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                      actor=db.session.get(User, personas.counselor))

    outcomes = in_threads(app, 20, work)
    refusals = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refusals) == 19 and {r.code for r in refusals} == {"insufficient_balance"}, outcomes
    with app.app_context():
        assert _count(Redemption) == 1
        assert db.session.scalar(select(func.count()).where(LedgerEntry.redemption_id.is_not(None))) == 1
        assert balance_of(personas.patient).points == 10


def test_twenty_concurrent_retries_with_one_key_make_one_redemption(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Redemption, Reward, User
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=400)

    def work(_i: int):
        return redeem(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                      actor=db.session.get(User, personas.counselor), idempotency_key="same-key").response

    outcomes = in_threads(app, 20, work)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert len({tuple(sorted(o.items())) for o in outcomes}) == 1
    with app.app_context():
        assert _count(Redemption) == 1


def test_concurrent_redemptions_never_sell_more_than_the_stock(app, personas, shop, give, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=1000)
    give(personas.other_patient, points=1000)
    db.session.remove()
    patients = [personas.patient, personas.other_patient]
    actors = [personas.counselor, personas.other_counselor]

    def work(i: int):
        return redeem(db.session.get(Patient, patients[i % 2]), db.session.get(Reward, shop.card), 1,
                      actor=db.session.get(User, actors[i % 2]))

    outcomes = in_threads(app, 10, work)
    assert len([o for o in outcomes if not isinstance(o, Exception)]) == 5, outcomes
    assert stock_of(shop.card) == 0
