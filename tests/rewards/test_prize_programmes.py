"""Prize programmes speak in draws and prizes, and a draw cannot be spent twice (issue 12, items 7 and 8): the
balance's `prizes`, prizes in outstanding money, idempotent draws (API key and the desk form's one-time token), the
confirmation of a dear hand-over and the hand-over page grouped by tier.

Every slip of the shop's bowl wins a small prize ($1.00); the cabinet holds 2 water bottles and 1 lip balm."""

from __future__ import annotations

import random
import re

from sqlalchemy import func, select

from helpers import PASSWORD, api_token, sign_in


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _draw(app, personas, shop, give, count: int) -> list[int]:
    """Dana earns `count` draws and draws them all at the desk: `count` small prizes waiting."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.draws import perform_draws

    give(shop.draw_patient, draws=count)
    with app.app_context():
        done = perform_draws(db.session.get(Patient, shop.draw_patient), count,
                             actor=db.session.get(User, personas.counselor), rng=random.Random(5))
        return [d.id for d in done.draws]


def _hand_over(app, personas, shop, draw_id: int) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import hand_over_prize

    with app.app_context():
        hand_over_prize(get_draw(draw_id), db.session.get(Reward, shop.small_prize),
                        db.session.get(User, personas.counselor))


def _set(app, program_id: int, **values) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    with app.app_context():
        program = db.session.get(Program, program_id)
        for name, value in values.items():
            setattr(program, name, value)
        db.session.commit()


def _draw_count(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Draw))


def test_the_balance_says_how_many_prizes_are_waiting_and_what_they_are_worth(app, client, personas, shop, give):
    drawn = _draw(app, personas, shop, give, 3)
    _hand_over(app, personas, shop, drawn[0])
    body = client.get(f"/api/v1/patients/{shop.draw_patient}/balance", headers=api_token(client, "cora")).get_json()
    assert body["prizes"] == {"waiting": 2, "value_cents": 200}
    assert (body["points"], body["draws"]) == (0, 0)
    other = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=api_token(client, "cora")).get_json()
    assert other["prizes"] == {"waiting": 0, "value_cents": 0}


def test_prizes_still_owed_are_outstanding_and_prizes_handed_over_are_redeemed(app, client, personas, shop, give):
    drawn = _draw(app, personas, shop, give, 3)
    _hand_over(app, personas, shop, drawn[0])
    report = client.get(f"/api/v1/reports/outcomes?program_id={shop.prize_program}",
                        headers=api_token(client, "max")).get_json()
    assert (report["earned_cents"], report["redeemed_cents"], report["outstanding_cents"]) == (300, 100, 200)
    [dana] = report["patients"]
    assert dana["outstanding_cents"] == 200


def test_the_overview_and_the_budget_count_prizes_owed_as_a_liability(app, client, personas, shop, give):
    from cm_tracker.services.queries.overview import programme_figures

    drawn = _draw(app, personas, shop, give, 3)
    _hand_over(app, personas, shop, drawn[0])
    with app.app_context():
        [figures] = [f for f in programme_figures() if f.program.id == shop.prize_program]
        assert (figures.prizes.won, figures.prizes.handed_over, figures.prizes.waiting) == (3, 1, 2)
        assert figures.outstanding_cents == 200
    sign_in(client, "max")
    budget = _text(client.get(f"/reports/budget?program_id={shop.prize_program}"))
    assert re.search(r"Outstanding liability</dt><dd>\$2\.00", budget), budget[:3000]


def test_the_same_idempotency_key_and_count_answer_the_first_draws_and_draw_nothing_new(app, client, personas,
                                                                                      shop, give):
    give(shop.draw_patient, draws=5)
    headers = {**api_token(client, "cora"), "Idempotency-Key": "draw-abc-1"}
    url = f"/api/v1/patients/{shop.draw_patient}/draws"
    first = client.post(url, json={"count": 2}, headers=headers)
    again = client.post(url, json={"count": 2}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and len(first.get_json()["draws"]) == 2
    assert _draw_count(app) == 2
    balance = client.get(f"/api/v1/patients/{shop.draw_patient}/balance", headers=headers).get_json()
    assert balance["draws"] == 3


def test_the_same_idempotency_key_with_another_count_is_refused(app, client, personas, shop, give):
    give(shop.draw_patient, draws=5)
    headers = {**api_token(client, "cora"), "Idempotency-Key": "draw-abc-2"}
    url = f"/api/v1/patients/{shop.draw_patient}/draws"
    assert client.post(url, json={"count": 1}, headers=headers).status_code == 201
    refused = client.post(url, json={"count": 3}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"Idempotency-Key": "Use a new key for a new draw."}
    assert _draw_count(app) == 1


def test_a_resent_draw_form_shows_the_first_result_and_draws_nothing_new(app, client, personas, shop, give):
    give(shop.draw_patient, draws=4)
    sign_in(client, "cora")
    desk = client.get(f"/staff/patients/{shop.draw_patient}/rewards").get_data(as_text=True)
    key = re.search(r'name="key" value="([0-9a-f]{32})"', desk.split('class="draw-form"')[1]).group(1)
    url = f"/staff/patients/{shop.draw_patient}/rewards/draw"
    assert client.post(url, data={"count": 2, "key": key}).status_code == 302
    resent = client.post(url, data={"count": 2, "key": key}, follow_redirects=True)
    page = _text(resent)
    assert "Already drawn (the form was sent again; nothing new was drawn): 2 draws: a small prize and a small prize." \
        in page
    assert _draw_count(app) == 2
    assert re.search(r'id="desk-draws" class="stat-label">Draws waiting</h2> <p class="stat-value">2</p>', page)


def test_a_hand_over_above_the_programmes_value_asks_for_confirmation(app, personas, shop, give):
    import pytest

    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.queries.prizes import get_draw
    from cm_tracker.services.usecases.prizes import hand_over_prize

    [draw_id] = _draw(app, personas, shop, give, 1)
    _set(app, shop.prize_program, confirm_handover_above_cents=50)
    with app.app_context():
        cora, bottle = db.session.get(User, personas.counselor), db.session.get(Reward, shop.small_prize)
        with pytest.raises(ValidationFailed) as asked:
            hand_over_prize(get_draw(draw_id), bottle, cora)
        assert asked.value.fields == {"confirm": "This hand-over is worth $1.00, above the programme's $0.50: "
                                                 "confirm it to hand it over."}
        assert get_draw(draw_id).handed_over_at is None
        assert hand_over_prize(get_draw(draw_id), bottle, cora, confirmed=True).handed_over_at is not None


def test_a_hand_over_at_or_below_the_value_needs_no_confirmation(app, client, personas, shop, give):
    [draw_id] = _draw(app, personas, shop, give, 1)
    _set(app, shop.prize_program, confirm_handover_above_cents=100)
    response = client.post(f"/api/v1/draws/{draw_id}/handover", json={"reward_id": shop.small_prize},
                           headers=api_token(client, "cora"))
    assert response.status_code == 200


def test_the_api_hand_over_above_the_value_is_422_until_confirmed(app, client, personas, shop, give):
    [draw_id] = _draw(app, personas, shop, give, 1)
    _set(app, shop.prize_program, confirm_handover_above_cents=0)
    headers, url = api_token(client, "cora"), f"/api/v1/draws/{draw_id}/handover"
    asked = client.post(url, json={"reward_id": shop.small_prize}, headers=headers)
    assert (asked.status_code, list(asked.get_json()["error"]["fields"])) == (422, ["confirm"])
    assert client.post(url, json={"reward_id": shop.small_prize, "confirm": True}, headers=headers).status_code == 200


def test_the_desk_asks_to_confirm_a_dear_group_and_keeps_the_choice(app, client, personas, shop, give):
    _draw(app, personas, shop, give, 2)
    _set(app, shop.prize_program, confirm_handover_above_cents=150)
    sign_in(client, "cora")
    url = f"/staff/patients/{shop.draw_patient}/prizes/handover"
    asked = client.post(url, data={"tier": "small", "reward_id": shop.small_prize, "quantity": 2})
    page = _text(asked)
    assert asked.status_code == 422
    assert "This hand-over is worth $2.00, above the programme&#39;s $1.50: confirm it to hand it over." in page
    assert f'value="{shop.small_prize}" required checked' in page and 'name="quantity"' in page
    assert re.search(r'name="quantity"[^>]*value="2"', page)
    done = client.post(url, data={"tier": "small", "reward_id": shop.small_prize, "quantity": 2, "confirm": "y"})
    assert done.status_code == 302


def test_many_prizes_of_one_tier_are_one_line_with_a_quantity_not_one_form_each(app, client, personas, shop, give):
    _draw(app, personas, shop, give, 47)
    sign_in(client, "cora")
    page = client.get(f"/staff/patients/{shop.draw_patient}/rewards").get_data(as_text=True)
    assert page.count(f'action="/staff/patients/{shop.draw_patient}/prizes/handover"') == 1
    assert "/handover\"" not in page.replace(f"/staff/patients/{shop.draw_patient}/prizes/handover\"", "")
    assert re.search(r'Small prize</span> <span class="prize-quantity">&times; 47</span>', page)
    assert re.search(r'name="quantity"[^>]*max="47"[^>]*value="1"', page)  # one unless staff type more


def test_a_grouped_hand_over_gives_the_oldest_prizes_of_the_tier_and_takes_the_stock(app, client, personas, shop,
                                                                                   give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw
    from cm_tracker.services.core.stock import stock_of

    drawn = _draw(app, personas, shop, give, 5)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{shop.draw_patient}/prizes/handover",
                           data={"tier": "small", "reward_id": shop.small_prize, "quantity": 2}, follow_redirects=True)
    assert "Handed over 2 x Water bottle (small prizes, $2.00)." in _text(response)
    with app.app_context():
        handed = db.session.scalars(select(Draw.id).where(Draw.handed_over_at.is_not(None)).order_by(Draw.id)).all()
        assert (list(handed), stock_of(shop.small_prize)) == (drawn[:2], 0)
    too_many = client.post(f"/staff/patients/{shop.draw_patient}/prizes/handover",
                           data={"tier": "small", "reward_id": shop.last_prize, "quantity": 2})
    assert too_many.status_code == 422
    assert "Lip balm has only 1 left; choose another item of the tier." in _text(too_many)


def test_a_prize_receipt_says_what_is_still_to_collect_not_a_points_balance(app, client, personas, shop, give):
    drawn = _draw(app, personas, shop, give, 3)
    sign_in(client, "cora")
    response = client.post(f"/staff/draws/{drawn[0]}/handover", data={"reward_id": shop.small_prize},
                           follow_redirects=True)
    page = _text(response)
    assert "Handed over: Water bottle. 2 more prizes to collect." in page
    assert "<dt>Still to collect</dt><dd>2 prizes</dd>" in page
    assert "points" not in page.split('class="receipt card"')[1].split("receipt-foot")[0]


def test_the_desk_of_a_prize_patient_shows_prizes_won_handed_over_and_owed(app, client, personas, shop, give):
    drawn = _draw(app, personas, shop, give, 3)
    _hand_over(app, personas, shop, drawn[0])
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/patients/{shop.draw_patient}/rewards"))
    assert "Won 3 ($3.00) · handed over 1 ($1.00) · <strong>still owed 2 ($2.00)</strong>" in page
    assert "still owed, worth $2.00" in page
    assert "worth $0.00" not in page and "Free to spend" not in page


def _portal_user(app, shop) -> None:
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="dana", password=PASSWORD, role="patient", display_name="Dana Draws",
                             patient_id=shop.draw_patient)


def test_a_fishbowl_patient_sees_draws_waiting_and_prizes_to_collect_not_points(app, client, personas, shop, give):
    _draw(app, personas, shop, give, 2)
    give(shop.draw_patient, draws=3)
    _portal_user(app, shop)
    sign_in(client, "dana")
    home = _text(client.get("/portal/"))
    assert '<p class="balance-points">3 <span>prize draws waiting</span></p>' in home
    assert "2 prizes to collect, worth $2.00" in home
    card = re.sub(r"<[^>]+>", " ", home.split('class="card balance-card"')[1].split("</section>")[0])
    assert "point" not in card and "$0.00" not in card
    rewards = _text(client.get("/portal/rewards"))
    assert "You have 3 prize draws waiting at the desk. 2 prizes are waiting for you to collect." in rewards
    assert "You have 0 points" not in rewards


def test_the_fishbowl_portal_speaks_spanish(app, client, personas, shop, give):
    _draw(app, personas, shop, give, 1)
    _portal_user(app, shop)
    sign_in(client, "dana")
    home = _text(client.get("/portal/", headers={"Accept-Language": "es"}))
    assert "0 <span>sorteos de premios pendientes</span>" in home
    assert "1 premio por recoger, con un valor de 1,00" in home


def test_a_manager_sets_the_confirmation_value_and_a_bad_one_keeps_what_was_typed(app, client, personas, shop):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    sign_in(client, "max")
    url = f"/catalog/programmes/{shop.prize_program}/handover-confirmation"
    bad = client.post(url, data={"above_dollars": "12.345"})
    assert bad.status_code == 422
    assert 'value="12.345"' in bad.get_data(as_text=True) and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert client.post(url, data={"above_dollars": "25"}).status_code == 302
    with app.app_context():
        assert db.session.get(Program, shop.prize_program).confirm_handover_above_cents == 2500
    assert client.post(url, data={"above_dollars": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Program, shop.prize_program).confirm_handover_above_cents is None
    assert client.post(f"/catalog/programmes/{personas.program}/handover-confirmation",
                       data={"above_dollars": "5"}).status_code == 404
