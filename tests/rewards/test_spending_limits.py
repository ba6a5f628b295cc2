"""How many of a voucher a patient can take (core.spending, the one owner): the points free of waiting requests,
the stock and the per-request limit, the same on the portal, at the rewards desk and in the debit, and every
refusal names the real limit ("Choose 1 to 15", never "Choose 1 to 50")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpers import sign_in


@pytest.mark.parametrize(("cost", "balance", "held", "stock", "items", "free", "short_by"), [
    (20, 300, 0, None, 15, 300, 0),  # the points decide
    (20, 340, 40, None, 15, 300, 0),  # less what waiting requests hold
    (20, 300, 0, 4, 4, 300, 0),  # the stock decides
    (1, 5000, 0, None, 50, 5000, 0),  # the per-request limit decides
    (40, 100, 80, 5, 0, 20, 20),  # held points are not free: 20 short of one
    (40, 30, 50, None, 0, 0, 40),  # more held than held: never below zero
    (20, -10, 0, None, 0, 0, 20),  # a balance below zero after a correction
    (20, 300, 0, 0, 0, 300, 0),  # out of stock
    (None, 300, 0, None, 0, 300, 0),  # a prize has no price: never bought
])
def test_the_most_a_request_may_take(cost, balance, held, stock, items, free, short_by):
    from cm_tracker.services.core.spending import most_of

    most = most_of(cost, balance, held, stock)
    assert (most.items, most.free_points, most.short_by) == (items, free, short_by)


def _request(app, personas, reward_id: int, quantity: int) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    with app.app_context():
        return request_redemption(db.session.get(Patient, personas.patient), db.session.get(Reward, reward_id),
                                  quantity, actor=db.session.get(User, personas.patient_user)).id


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _redemptions(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Redemption

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Redemption))


def test_the_desk_offers_up_to_what_the_points_free_of_waiting_requests_buy(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.queries.rewards_desk import desk_for

    give(personas.patient, points=100)
    _request(app, personas, shop.card, 2)  # 80 of the 100 points are set aside
    with app.app_context():
        desk = desk_for(db.session.get(Patient, personas.patient))
        offers = {o.item.reward.name: (o.most, o.short_by) for o in desk.offers}
    assert (desk.balance.points, desk.pending_points, desk.available_points) == (100, 80, 20)
    assert offers == {"Grocery gift card": (0, 20), "Bus pass": (1, 0)}  # not 2 cards and 5 passes
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/patients/{personas.patient}/rewards"))
    assert "Can have now:</strong> Bus pass (up to 1)</p>" in page
    assert f'id="qty-{shop.bus_pass}" name="quantity" type="number" inputmode="numeric" min="1" max="1"' in page
    assert "20 more points needed" in page


def test_the_portal_and_the_desk_agree_on_the_most(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.queries.portal import shelf
    from cm_tracker.services.queries.rewards_desk import desk_for

    give(personas.patient, points=340)
    _request(app, personas, shop.bus_pass, 2)
    with app.app_context():
        patient = db.session.get(Patient, personas.patient)
        portal = {o.reward.id: o.most for o in shelf(patient).offers}
        desk = {o.item.reward.id: o.most for o in desk_for(patient).offers}
    assert portal == desk == {shop.card: 5, shop.bus_pass: 15}  # the card's 5 in stock; 300 free points / 20


@pytest.mark.parametrize("typed", ["16", "60", "0"])
def test_a_quantity_beyond_the_limit_at_the_desk_names_the_real_limit(app, client, personas, shop, give, typed):
    give(personas.patient, points=340)
    _request(app, personas, shop.bus_pass, 2)  # 300 points free: 15 bus passes
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/rewards/redeem",
                           data={"reward_id": shop.bus_pass, "quantity": typed, "key": f"key-{typed}"})
    page = _text(response)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="qty-{shop.bus_pass}-error">([^<]*)</p>', page).group(1)
    assert "Choose 1 to 15." in error and "50" not in error
    assert f'value="{typed}"' in page  # what was typed is kept
    assert _redemptions(app) == 1  # only the portal request


def test_the_desk_cannot_spend_points_a_waiting_request_holds(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.redemptions import redeem

    give(personas.patient, points=100)
    _request(app, personas, shop.card, 2)
    with app.app_context(), pytest.raises(Conflict) as refused:
        redeem(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
               actor=db.session.get(User, personas.counselor))
    assert refused.value.code == "insufficient_balance"
    assert refused.value.message == ("Grocery gift card x 1 costs 40 points; the balance is 100, and 80 of them are "
                                     "held by requests waiting.")
    assert _redemptions(app) == 1


def test_the_api_refuses_the_same_quantity_with_the_same_limit(client, personas, shop, give):
    from helpers import api_token

    give(personas.patient, points=100)
    response = client.post(f"/api/v1/patients/{personas.patient}/redemptions", headers=api_token(client, "cora"),
                           json={"reward_id": shop.bus_pass, "quantity": 6})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "insufficient_balance"
    assert response.get_json()["error"]["message"].endswith("the balance is 100. Choose 1 to 5.")


def test_fulfilling_a_request_may_use_its_own_set_aside_points(app, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Redemption, User
    from cm_tracker.services.usecases.redemptions import fulfil_redemption

    give(personas.patient, points=80)
    first, second = _request(app, personas, shop.card, 1), _request(app, personas, shop.card, 1)
    with app.app_context():
        cora = db.session.get(User, personas.counselor)
        assert fulfil_redemption(db.session.get(Redemption, second), cora).balance_after == 40
        assert fulfil_redemption(db.session.get(Redemption, first), cora).balance_after == 0
