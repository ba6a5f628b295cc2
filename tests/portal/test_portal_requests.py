"""Asking for a reward from the portal: staff fulfil it at the desk; the patient may cancel while it waits."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpers import csrf_token_from, sign_in


def _requests(app, patient_id: int) -> list[tuple[int, str]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Redemption

    with app.app_context():
        rows = db.session.scalars(select(Redemption).where(Redemption.patient_id == patient_id)
                                  .order_by(Redemption.id)).all()
        return [(r.quantity, str(r.status)) for r in rows]


def test_a_request_appears_as_waiting_at_the_desk(app, client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 2})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request for Bus pass is waiting at the desk." in html
    assert "2 \u00d7 Bus pass" in html and "Waiting at the desk" in html
    assert "40 points are set aside for requests waiting at the desk, so 115 points are available" in html
    assert _requests(app, personas.patient)[-1] == (2, "requested")


def test_a_waiting_request_can_be_cancelled(app, client, personas, story):
    sign_in(client, "pat")
    client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 1})
    html = client.get("/portal/rewards").get_data(as_text=True)
    cancel = re.search(r'action="(/portal/requests/\d+/cancel)"', html).group(1)
    response = client.post(cancel)
    assert response.status_code == 302
    assert "Your request for Bus pass is cancelled." in client.get("/portal/rewards").get_data(as_text=True)
    assert _requests(app, personas.patient)[-1] == (1, "cancelled")


def test_not_enough_points_says_so_clearly_and_writes_nothing(app, client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 8})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You do not have enough points for Bus pass yet: you have 155 points available." in html
    assert 'aria-invalid="true"' in html and 'value="8"' in html  # the typed quantity is kept
    assert _requests(app, personas.patient) == [(1, "fulfilled")]


def test_an_item_the_patient_cannot_afford_is_refused_even_if_posted_by_hand(app, client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.phone_card, "quantity": 1})
    assert response.status_code == 409 and "You do not have enough points for Phone card" in response.get_data(
        as_text=True)


def test_a_quantity_that_is_not_a_number_is_a_message_not_an_error(app, client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": "lots"})
    assert response.status_code == 422 and "Enter a whole number." in response.get_data(as_text=True)


def test_spanish_patients_get_the_refusal_in_spanish(app, client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 9},
                           headers={"Accept-Language": "es"})
    assert "Todavía no tienes puntos suficientes para Bus pass: tienes 155 puntos disponibles." in \
        response.get_data(as_text=True)


def test_another_patients_request_cannot_be_cancelled(app, client, personas, story):
    sign_in(client, "pat")
    assert client.post(f"/portal/requests/{story.olive_request}/cancel").status_code == 404
    assert _requests(app, personas.other_patient) == [(1, "requested")]


def test_requests_need_the_csrf_token(csrf_app, personas, story):
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/sign-in")
    client.post("/sign-in", data={"username": "pat", "password": "correct horse battery staple",
                                  "csrf_token": token})
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 1})
    assert response.status_code == 400
    assert _requests(csrf_app, personas.patient) == [(1, "fulfilled")]
