"""Prize hand-overs (two-person control, the last item), stock counts and manual adjustments."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from helpers import PASSWORD, in_threads


def _draw(app, personas, shop, give, count: int = 1) -> list[int]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.draws import perform_draws

    give(shop.draw_patient, draws=count)
    with app.app_context():
        made = perform_draws(db.session.get(Patient, shop.draw_patient), count,
                             actor=db.session.get(User, personas.counselor), rng=random.Random(7)).draws
        return [d.id for d in made]


def _two_person(program_id: int) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    db.session.get(Program, program_id).requires_two_person_handover = True
    db.session.commit()


def test_a_hand_over_claims_the_draw_and_takes_one_from_stock(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.queries.prizes import get_draw, waiting_prizes
    from cm_tracker.services.usecases.prizes import hand_over_prize

    [draw_id] = _draw(app, personas, shop, give)
    assert [d.id for d in waiting_prizes(shop.draw_patient)] == [draw_id]
    draw = hand_over_prize(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                           db.session.get(User, personas.counselor))
    assert (draw.reward_id, draw.handed_over_by_id) == (shop.small_prize, personas.counselor)
    assert draw.handed_over_at is not None and draw.confirmed_by_id is None
    assert stock_of(shop.small_prize) == 1
    assert waiting_prizes(shop.draw_patient) == []


def test_a_prize_of_another_tier_is_refused(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.catalog import RewardInput, create_reward
    from cm_tracker.services.usecases.prizes import hand_over_prize

    [draw_id] = _draw(app, personas, shop, give)
    manager = db.session.get(User, personas.manager)
    big = create_reward(RewardInput(name="Headphones", value_cents=2000, tier="large", program_id=shop.prize_program),
                        opening_stock=1, actor=manager)
    with pytest.raises(ValidationFailed):
        hand_over_prize(get_draw(draw_id), db.session.get(Reward, big.id), db.session.get(User, personas.counselor))


def test_two_people_handing_over_the_last_item_at_once_give_it_once(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import hand_over_prize

    draw_ids = _draw(app, personas, shop, give, count=6)

    def work(i: int):
        return hand_over_prize(get_draw(draw_ids[i]), db.session.get(Reward, shop.last_prize),
                               db.session.get(User, personas.counselor)).id

    outcomes = in_threads(app, 6, work)
    assert len([o for o in outcomes if isinstance(o, int)]) == 1, outcomes
    assert {o.code for o in outcomes if isinstance(o, Conflict)} == {"out_of_stock"}
    with app.app_context():
        assert stock_of(shop.last_prize) == 0


def test_the_same_draw_handed_over_twice_at_once_is_claimed_once(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import hand_over_prize

    [draw_id] = _draw(app, personas, shop, give)

    def work(_i: int):
        return hand_over_prize(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                               db.session.get(User, personas.counselor)).id

    outcomes = in_threads(app, 5, work)
    assert outcomes.count(draw_id) == 1, outcomes
    with app.app_context():
        assert stock_of(shop.small_prize) == 1


def test_two_person_control_refuses_a_hand_over_without_a_confirmer(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import hand_over_confirmed

    [draw_id] = _draw(app, personas, shop, give)
    _two_person(shop.prize_program)
    with pytest.raises(ValidationFailed) as refused:
        hand_over_confirmed(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                            actor=db.session.get(User, personas.counselor), confirmer=None)
    assert "confirmer_username" in refused.value.fields


def test_two_person_control_refuses_the_same_person_as_confirmer(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import Credentials, hand_over_confirmed

    [draw_id] = _draw(app, personas, shop, give)
    _two_person(shop.prize_program)
    with pytest.raises(ValidationFailed) as refused:
        hand_over_confirmed(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                            actor=db.session.get(User, personas.counselor), confirmer=Credentials("cora", PASSWORD))
    assert refused.value.fields == {"confirmer_username": "Someone other than the person handing over must confirm."}


def test_two_person_control_refuses_a_wrong_password(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw, Reward, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import Credentials, hand_over_confirmed

    [draw_id] = _draw(app, personas, shop, give)
    _two_person(shop.prize_program)
    with pytest.raises(ValidationFailed) as refused:
        hand_over_confirmed(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                            actor=db.session.get(User, personas.counselor), confirmer=Credentials("sam", "wrong pass"))
    assert refused.value.fields == {"confirmer_password": "Wrong username or password."}
    assert db.session.get(Draw, draw_id).handed_over_at is None


def test_two_person_control_records_and_audits_both_people(app, ctx, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, Reward, User
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import Credentials, hand_over_confirmed

    [draw_id] = _draw(app, personas, shop, give)
    _two_person(shop.prize_program)
    draw = hand_over_confirmed(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                               actor=db.session.get(User, personas.counselor), confirmer=Credentials("sam", PASSWORD))
    assert (draw.handed_over_by_id, draw.confirmed_by_id) == (personas.counselor, shop.second_counselor)
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.user_id).where(
        AuditEvent.action.like("prize.handover%"))).all()
    assert sorted(rows) == [("prize.handover", personas.counselor), ("prize.handover.confirm", shop.second_counselor)]


def test_a_stock_count_keeps_the_discrepancy_and_corrects_the_stock(ctx, personas, shop):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, StockMovement, StockMovementKind, User
    from cm_tracker.services.core.stock import stock_of
    from cm_tracker.services.queries.catalog import count_history
    from cm_tracker.services.usecases.catalog import record_count

    record_count(db.session.get(Reward, shop.card), 3, "two missing", actor=db.session.get(User, personas.manager))
    assert stock_of(shop.card) == 3
    [row] = count_history(shop.card)
    assert (row.count.expected, row.count.counted, row.discrepancy, row.counted_by) == (5, 3, -2, "Max Manager")
    correction = db.session.scalar(select(StockMovement).where(
        StockMovement.kind == StockMovementKind.COUNT_CORRECTION))
    assert correction.quantity == -2


def test_a_count_that_agrees_posts_no_correction(ctx, personas, shop):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, StockMovement, StockMovementKind, User
    from cm_tracker.services.queries.catalog import count_history
    from cm_tracker.services.usecases.catalog import record_count

    record_count(db.session.get(Reward, shop.card), 5, "", actor=db.session.get(User, personas.manager))
    assert count_history(shop.card)[0].discrepancy == 0
    assert db.session.scalar(select(StockMovement).where(
        StockMovement.kind == StockMovementKind.COUNT_CORRECTION)) is None


def test_a_reward_is_a_voucher_or_a_prize_never_both(ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.catalog import RewardInput, create_reward

    with pytest.raises(ValidationFailed) as refused:
        create_reward(RewardInput(name="Odd", value_cents=100, cost_points=4, tier="small"),
                      actor=db.session.get(User, personas.manager))
    assert "cost_points" in refused.value.fields


def test_a_manual_adjustment_needs_a_reason(ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.adjustments import post_adjustment

    with pytest.raises(ValidationFailed) as refused:
        post_adjustment(db.session.get(Patient, personas.patient), points=10, draws=0, reason="  ",
                        actor=db.session.get(User, personas.manager))
    assert refused.value.fields == {"reason": "Say why: manual adjustments are reviewed."}


def test_a_manual_credit_is_marked_manual_and_valued_against_the_cap(ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, Patient, User
    from cm_tracker.services.usecases.adjustments import post_adjustment

    entry = post_adjustment(db.session.get(Patient, personas.patient), points=20, draws=0, reason="Missed award",
                            actor=db.session.get(User, personas.manager))
    assert (entry.kind, entry.points, entry.value_cents, entry.created_by_id) == (
        EntryKind.MANUAL, 20, 500, personas.manager)
    assert entry.reason == "Manual adjustment by Max Manager, 20 points: Missed award"


def test_a_manual_credit_that_would_pass_the_cap_is_refused_with_the_reason(ctx, personas, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.adjustments import post_adjustment

    give(personas.patient, points=3900)  # $975.00 of the $997.50 cap
    with pytest.raises(Conflict) as refused:
        post_adjustment(db.session.get(Patient, personas.patient), points=100, draws=0, reason="Extra",
                        actor=db.session.get(User, personas.manager))
    assert refused.value.code == "over_cap"
    assert refused.value.message == ("100 points ($25.00) would pass the $997.50 limit for this treatment episode: "
                                     "$22.50 is left.")
