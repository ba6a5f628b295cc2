"""The rewards desk, receipts, catalog and manual-adjustment pages, driven as staff would drive them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpers import PASSWORD, sign_in


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _count(app, model) -> int:
    from cm_tracker.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_desk_shows_balance_affordable_items_and_the_catalog(client, personas, shop, give):
    give(personas.patient, points=50)
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/patients/{personas.patient}/rewards"))
    assert "Rewards desk" in page and "Pat Patient" in page
    assert "Can have now:</strong> Bus pass (up to 2), Grocery gift card (up to 1)" in page
    assert "$12.50" in page


def test_redeeming_at_the_desk_debits_and_opens_the_receipt(app, client, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=100)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/rewards/redeem",
                           data={"reward_id": shop.card, "quantity": 2, "key": "form-key-1"})
    assert response.status_code == 302 and "/receipt" in response.headers["Location"]
    receipt = _text(client.get(response.headers["Location"]))
    assert "2 x Grocery gift card" in receipt
    assert "Points spent</dt><dd>80</dd>" in receipt
    assert "Balance after</dt><dd>20 points" in receipt
    assert "Value</dt><dd>$20.00</dd>" in receipt
    assert "MRN-001" in receipt and "Cora Counselor" in receipt
    assert re.search(r"No\. <span class=\"mono\">V-0+\d+</span>", receipt)
    assert _count(app, Redemption) == 1


def test_a_form_sent_twice_redeems_once(app, client, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=100)
    sign_in(client, "cora")
    data = {"reward_id": shop.card, "quantity": 1, "key": "double-click"}
    first = client.post(f"/staff/patients/{personas.patient}/rewards/redeem", data=data)
    second = client.post(f"/staff/patients/{personas.patient}/rewards/redeem", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(app, Redemption) == 1


def test_not_enough_points_at_the_desk_says_so_and_writes_nothing(app, client, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=30)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/rewards/redeem",
                           data={"reward_id": shop.card, "quantity": 1})
    assert response.status_code == 422
    assert "Grocery gift card x 1 costs 40 points; the balance is 30." in _text(response)
    assert _count(app, Redemption) == 0


def test_a_quantity_that_is_not_a_number_is_shown_beside_the_field(client, personas, shop, give):
    give(personas.patient, points=100)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/rewards/redeem",
                           data={"reward_id": shop.card, "quantity": "two"})
    assert response.status_code == 422
    assert f'id="qty-{shop.card}-error"' in _text(response)


def test_another_counselor_cannot_open_the_desk_of_a_patient_not_theirs(client, personas, shop):
    sign_in(client, "otto")
    assert client.get(f"/staff/patients/{personas.patient}/rewards").status_code == 404


def test_a_portal_request_is_fulfilled_from_the_desk(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, RedemptionStatus, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    give(personas.patient, points=100)
    with app.app_context():
        asked = request_redemption(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                                   actor=db.session.get(User, personas.patient_user)).id
    sign_in(client, "cora")
    assert "Requests to fulfil" in _text(client.get(f"/staff/patients/{personas.patient}/rewards"))
    response = client.post(f"/staff/redemptions/{asked}/fulfil")
    assert response.status_code == 302
    with app.app_context():
        from cm_tracker.models import Redemption

        assert db.session.get(Redemption, asked).status == RedemptionStatus.FULFILLED


def test_drawing_at_the_desk_lists_the_prize_until_it_is_collected(app, client, personas, shop, give):
    give(shop.draw_patient, draws=1)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{shop.draw_patient}/rewards/draw", data={"count": 1})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "1 draw: a small prize." in page
    assert "Prizes to collect <span class=\"count\">1</span>" in page
    assert "Water bottle" in page and "Lip balm" in page


def _won_draw(app, personas, shop, give) -> int:
    import random

    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.draws import perform_draws

    give(shop.draw_patient, draws=1)
    with app.app_context():
        return perform_draws(db.session.get(Patient, shop.draw_patient), 1,
                             actor=db.session.get(User, personas.counselor), rng=random.Random(3)).draws[0].id


def test_a_hand_over_at_the_desk_prints_a_prize_receipt(app, client, personas, shop, give):
    draw_id = _won_draw(app, personas, shop, give)
    sign_in(client, "cora")
    response = client.post(f"/staff/draws/{draw_id}/handover", data={"reward_id": shop.small_prize})
    assert response.status_code == 302
    receipt = _text(client.get(response.headers["Location"]))
    assert "Prize hand-over receipt" in receipt and "Water bottle" in receipt and "(small prize)" in receipt
    assert f"P-{draw_id:06d}" in receipt and "Value</dt><dd>$1.00</dd>" in receipt
    page = _text(client.get(f"/staff/patients/{shop.draw_patient}/rewards"))
    assert "No prizes waiting to be collected." in page


@pytest.mark.parametrize("reward_id", ["9" * 25, "-4", "0"])
def test_a_hand_over_of_an_item_no_row_can_be_is_refused_beside_the_field(app, client, personas, shop, give,
                                                                          reward_id):
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw

    draw_id = _won_draw(app, personas, shop, give)
    sign_in(client, "cora")
    response = client.post(f"/staff/draws/{draw_id}/handover", data={"reward_id": reward_id})
    assert response.status_code == 422
    assert "Choose one of the items listed." in _text(response)
    with app.app_context():
        assert db.session.get(Draw, draw_id).handed_over_at is None


def test_a_two_person_hand_over_with_the_same_person_is_refused_on_the_page(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw, Program

    draw_id = _won_draw(app, personas, shop, give)
    with app.app_context():
        db.session.get(Program, shop.prize_program).requires_two_person_handover = True
        db.session.commit()
    sign_in(client, "cora")
    response = client.post(f"/staff/draws/{draw_id}/handover", data={
        "reward_id": shop.small_prize, "confirmer_username": "cora", "confirmer_password": PASSWORD})
    assert response.status_code == 422
    assert "Someone other than the person handing over must confirm." in _text(response)
    with app.app_context():
        assert db.session.get(Draw, draw_id).handed_over_at is None


def test_a_two_person_hand_over_receipt_names_the_confirmer(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    draw_id = _won_draw(app, personas, shop, give)
    with app.app_context():
        db.session.get(Program, shop.prize_program).requires_two_person_handover = True
        db.session.commit()
    sign_in(client, "cora")
    response = client.post(f"/staff/draws/{draw_id}/handover", data={
        "reward_id": shop.small_prize, "confirmer_username": "sam", "confirmer_password": PASSWORD})
    assert "Confirmed by</dt><dd>Sam Second</dd>" in _text(client.get(response.headers["Location"]))


def test_a_receipt_of_a_request_not_yet_fulfilled_is_404(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    give(personas.patient, points=100)
    with app.app_context():
        asked = request_redemption(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                                   actor=db.session.get(User, personas.patient_user)).id
    sign_in(client, "cora")
    assert client.get(f"/staff/redemptions/{asked}/receipt").status_code == 404


def test_a_manager_adds_a_prize_to_the_cabinet(client, personas, shop):
    sign_in(client, "max")
    response = client.post("/catalog/rewards/new", data={
        "kind": "prize", "name": "Headphones", "tier": "large", "value_dollars": "20.00",
        "program_id": shop.prize_program, "opening_stock": 2, "low_stock_threshold": 1, "is_active": "y"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Headphones" in page and "large tier" in page and "worth $20.00" in page


def test_a_bad_value_is_shown_beside_its_field_and_the_name_is_kept(client, personas):
    sign_in(client, "max")
    response = client.post("/catalog/rewards/new", data={"kind": "voucher", "name": "Cinema", "cost_points": 40,
                                                         "value_dollars": "ten", "low_stock_threshold": 3})
    page = _text(response)
    assert response.status_code == 200 and "Give dollars and cents, such as 599.00." in page
    assert 'value="Cinema"' in page


@pytest.mark.parametrize("value", ["1,2,3", "12.", "\u0661\u0662"])  # commas out of place, a bare point, other digits
def test_a_value_the_programme_forms_would_refuse_is_refused_here_too(app, client, personas, value):
    from cm_tracker.models import Reward

    sign_in(client, "max")
    response = client.post("/catalog/rewards/new", data={"kind": "voucher", "name": "Cinema", "cost_points": 40,
                                                         "value_dollars": value, "low_stock_threshold": 3})
    assert response.status_code == 200 and "Give dollars and cents, such as 599.00." in _text(response)
    assert _count(app, Reward) == 0


def test_the_edit_form_shows_the_value_as_dollars_and_cents(client, personas, shop):
    sign_in(client, "max")
    page = _text(client.get(f"/catalog/rewards/{shop.card}/edit"))
    assert re.search(r'name="value_dollars"[^>]*value="10.00"', page)


def test_the_catalog_warns_of_low_stock(client, personas, shop):
    sign_in(client, "cora")
    page = _text(client.get("/catalog/"))
    assert "Low stock" in page and "Lip balm</a>: 1 left" in page


def test_a_counselor_sees_the_catalog_read_only(client, personas, shop):
    sign_in(client, "cora")
    page = _text(client.get(f"/catalog/rewards/{shop.card}"))
    assert "Grocery gift card" in page and "Restock" not in page and "Edit item" not in page
    assert client.post(f"/catalog/rewards/{shop.card}/restock", data={"quantity": 5}).status_code == 403


def test_a_stock_count_on_the_page_records_the_discrepancy_in_the_history(client, personas, shop):
    sign_in(client, "max")
    response = client.post(f"/catalog/rewards/{shop.card}/count", data={"counted": 4, "note": "one torn"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "4 on the shelf, 1 fewer than the 5 expected" in page
    assert '<span class="badge badge-off">-1</span>' in page and "one torn" in page


def test_a_manager_posts_a_manual_adjustment_marked_manual_on_the_desk(app, client, personas, shop):
    sign_in(client, "max")
    response = client.post("/catalog/adjustments", data={"record_number": "MRN-001", "points": 12, "draws": 0,
                                                         "reason": "Award missed on 3 Nov"})
    assert response.status_code == 302
    desk = app.test_client()
    sign_in(desk, "cora")
    page = _text(desk.get(f"/staff/patients/{personas.patient}/rewards"))
    assert '<span class="badge badge-kind-manual">Manual</span>' in page
    assert "Manual adjustment by Max Manager, 12 points: Award missed on 3 Nov" in page


def test_a_manual_adjustment_without_a_reason_is_refused_beside_the_field(app, client, personas):
    from cm_tracker.models import LedgerEntry

    sign_in(client, "max")
    response = client.post("/catalog/adjustments", data={"record_number": "MRN-001", "points": 12, "reason": ""})
    assert response.status_code == 422
    assert "Say why: manual adjustments are reviewed." in _text(response)
    assert _count(app, LedgerEntry) == 0


def test_a_counselor_may_not_post_manual_adjustments_on_the_page(client, personas):
    sign_in(client, "cora")
    response = client.post("/catalog/adjustments", data={"record_number": "MRN-001", "points": 12, "reason": "x"})
    assert response.status_code == 403
