"""The rewards API: catalog, idempotent redemptions, fulfilment, hand-overs and manual adjustments."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from helpers import PASSWORD, api_token, in_threads


def _redeem(client, headers, patient_id, body, key="key-1"):
    return client.post(f"/api/v1/patients/{patient_id}/redemptions", json=body,
                       headers={**headers, **({"Idempotency-Key": key} if key else {})})


def _rows(app, model) -> int:
    from cm_tracker.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_manager_adds_a_voucher_with_opening_stock(client, personas):
    response = client.post("/api/v1/rewards", json={"name": "Movie ticket", "cost_points": 60, "value_cents": 1500,
                                                    "stock": 4}, headers=api_token(client, "max"))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["kind"], body["cost_points"], body["stock"], body["is_stocked"]) == ("voucher", 60, 4, True)


def test_a_voucher_without_stock_is_unlimited(client, personas):
    body = client.post("/api/v1/rewards", json={"name": "Bus fare", "cost_points": 8, "value_cents": 200},
                       headers=api_token(client, "max")).get_json()
    assert (body["stock"], body["is_stocked"]) == (None, False)


def test_a_reward_with_both_cost_and_tier_is_422(client, personas):
    response = client.post("/api/v1/rewards", json={"name": "Odd", "cost_points": 8, "tier": "small",
                                                    "value_cents": 200}, headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert "cost_points" in response.get_json()["error"]["fields"]


def test_a_counselor_may_not_add_rewards(client, personas):
    response = client.post("/api/v1/rewards", json={"name": "X", "cost_points": 8, "value_cents": 200},
                           headers=api_token(client, "cora"))
    assert response.status_code == 403


def test_staff_list_the_catalog_with_stock_filtered_by_programme(client, personas, shop):
    body = client.get(f"/api/v1/rewards?program_id={shop.prize_program}", headers=api_token(client, "cora")).get_json()
    assert {(r["name"], r["stock"]) for r in body["rewards"]} == {("Bus pass", None), ("Water bottle", 2),
                                                                  ("Lip balm", 1)}


def test_a_redemption_answers_201_with_points_and_balance_after(client, personas, shop, give):
    give(personas.patient, points=100)
    response = _redeem(client, api_token(client, "cora"), personas.patient, {"reward_id": shop.card, "quantity": 2})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["points"], body["balance_after"]) == (80, 20)
    balance = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=api_token(client, "cora")).get_json()
    assert balance["points"] == 20


def test_not_enough_points_is_409_insufficient_balance(client, personas, shop, give):
    give(personas.patient, points=10)
    response = _redeem(client, api_token(client, "cora"), personas.patient, {"reward_id": shop.card, "quantity": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "insufficient_balance"


def test_out_of_stock_is_409_out_of_stock(client, personas, shop, give):
    give(personas.patient, points=1000)
    response = _redeem(client, api_token(client, "cora"), personas.patient, {"reward_id": shop.card, "quantity": 6})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "out_of_stock")


def test_the_same_key_and_body_return_the_first_response_and_write_nothing(app, client, personas, shop, give):
    from cm_tracker.models import LedgerEntry, Redemption

    give(personas.patient, points=100)
    headers = api_token(client, "cora")
    first = _redeem(client, headers, personas.patient, {"reward_id": shop.card, "quantity": 1})
    again = _redeem(client, headers, personas.patient, {"quantity": 1, "reward_id": shop.card})
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert (_rows(app, Redemption), _rows(app, LedgerEntry)) == (1, 2)


def test_the_same_key_with_another_body_is_422(app, client, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=100)
    headers = api_token(client, "cora")
    _redeem(client, headers, personas.patient, {"reward_id": shop.card, "quantity": 1})
    response = _redeem(client, headers, personas.patient, {"reward_id": shop.card, "quantity": 2})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert _rows(app, Redemption) == 1


def test_without_a_key_each_request_redeems(app, client, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=100)
    headers = api_token(client, "cora")
    for _ in range(2):
        assert _redeem(client, headers, personas.patient, {"reward_id": shop.card, "quantity": 1},
                       key=None).status_code == 201
    assert _rows(app, Redemption) == 2


def test_an_unknown_reward_is_422(client, personas, shop):
    response = _redeem(client, api_token(client, "cora"), personas.patient, {"reward_id": 99999, "quantity": 1})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"reward_id": "No catalog item has this id."}


def test_twenty_threads_with_one_key_through_the_api_make_one_redemption(app, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=100)
    headers = api_token(app.test_client(), "cora")

    def work(_i: int):
        response = _redeem(app.test_client(), headers, personas.patient, {"reward_id": shop.card, "quantity": 1},
                           key="retry-storm")
        return response.status_code, response.get_json()

    outcomes = in_threads(app, 20, work)
    assert {status for status, _ in outcomes} == {201}, outcomes
    assert len({body["id"] for _, body in outcomes}) == 1
    assert _rows(app, Redemption) == 1


def test_twenty_threads_against_a_balance_for_one_through_the_api_succeed_once(app, personas, shop, give):
    from cm_tracker.models import Redemption

    give(personas.patient, points=40)
    headers = api_token(app.test_client(), "cora")

    def work(i: int):
        return _redeem(app.test_client(), headers, personas.patient, {"reward_id": shop.card, "quantity": 1},
                       key=f"k{i}").status_code

    outcomes = in_threads(app, 20, work)
    assert sorted(outcomes) == [201] + [409] * 19
    assert _rows(app, Redemption) == 1


def test_staff_fulfil_a_portal_request_once(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    give(personas.patient, points=100)
    with app.app_context():
        asked = request_redemption(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                                   actor=db.session.get(User, personas.patient_user)).id
    headers = api_token(client, "cora")
    listed = client.get(f"/api/v1/patients/{personas.patient}/redemptions", headers=headers).get_json()
    assert [(r["id"], r["status"]) for r in listed["redemptions"]] == [(asked, "requested")]
    done = client.post(f"/api/v1/redemptions/{asked}/fulfil", headers=headers)
    assert (done.status_code, done.get_json()["balance_after"], done.get_json()["status"]) == (200, 60, "fulfilled")
    again = client.post(f"/api/v1/redemptions/{asked}/fulfil", headers=headers)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "not_pending")


def test_another_counselor_cannot_fulfil_a_request_of_a_patient_not_theirs(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    give(personas.patient, points=100)
    with app.app_context():
        asked = request_redemption(db.session.get(Patient, personas.patient), db.session.get(Reward, shop.card), 1,
                                   actor=db.session.get(User, personas.patient_user)).id
    response = client.post(f"/api/v1/redemptions/{asked}/fulfil", headers=api_token(client, "otto"))
    assert response.status_code == 404


def test_a_manager_posts_a_manual_adjustment_shown_as_manual_in_the_ledger(client, personas):
    response = client.post(f"/api/v1/patients/{personas.patient}/adjustments",
                           json={"points": 25, "reason": "Award missed on 3 Nov"}, headers=api_token(client, "max"))
    assert response.status_code == 201
    assert (response.get_json()["kind"], response.get_json()["value_cents"]) == ("manual", 625)
    ledger = client.get(f"/api/v1/patients/{personas.patient}/ledger", headers=api_token(client, "cora")).get_json()
    assert [(e["kind"], e["points"]) for e in ledger["entries"]] == [("manual", 25)]


def test_a_manual_adjustment_without_a_reason_is_422(client, personas):
    response = client.post(f"/api/v1/patients/{personas.patient}/adjustments", json={"points": 25},
                           headers=api_token(client, "max"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"reason": "Required."}


def test_a_counselor_may_not_post_manual_adjustments(client, personas):
    response = client.post(f"/api/v1/patients/{personas.patient}/adjustments", json={"points": 25, "reason": "x"},
                           headers=api_token(client, "cora"))
    assert response.status_code == 403


def _won(app, personas, shop, give) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.draws import perform_draws

    give(shop.draw_patient, draws=1)
    with app.app_context():
        return perform_draws(db.session.get(Patient, shop.draw_patient), 1,
                             actor=db.session.get(User, personas.counselor), rng=random.Random(1)).draws[0].id


def test_a_prize_is_handed_over_through_the_api(app, client, personas, shop, give):
    draw_id = _won(app, personas, shop, give)
    headers = api_token(client, "cora")
    waiting = client.get(f"/api/v1/patients/{shop.draw_patient}/prizes", headers=headers).get_json()
    assert [p["id"] for p in waiting["prizes"]] == [draw_id]
    response = client.post(f"/api/v1/draws/{draw_id}/handover", json={"reward_id": shop.small_prize},
                           headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["reward_id"], response.get_json()["handed_over_by_id"]) == (
        shop.small_prize, personas.counselor)
    stock = client.get("/api/v1/rewards", headers=headers).get_json()["rewards"]
    assert [r["stock"] for r in stock if r["id"] == shop.small_prize] == [1]


def test_a_two_person_hand_over_through_the_api_needs_another_persons_password(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    draw_id = _won(app, personas, shop, give)
    with app.app_context():
        db.session.get(Program, shop.prize_program).requires_two_person_handover = True
        db.session.commit()
    headers = api_token(client, "cora")
    url = f"/api/v1/draws/{draw_id}/handover"
    assert client.post(url, json={"reward_id": shop.small_prize}, headers=headers).status_code == 422
    assert client.post(url, json={"reward_id": shop.small_prize, "confirmer_username": "sam",
                                  "confirmer_password": "nope nope"}, headers=headers).status_code == 422
    done = client.post(url, json={"reward_id": shop.small_prize, "confirmer_username": "sam",
                                  "confirmer_password": PASSWORD}, headers=headers)
    assert (done.status_code, done.get_json()["confirmed_by_id"]) == (200, shop.second_counselor)
