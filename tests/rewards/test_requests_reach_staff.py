"""A patient's portal request reaches staff: the counselor's caseload and the patient's record say what was asked
for, when, and link to the rewards desk that fulfils it; the caseload reads every request in one statement."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from helpers import sign_in, statements

ASKED_AT = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 10 am on Mon 30 Nov at the clinic (Los Angeles)


def _request(app, patient_id: int, user_id: int, reward_id: int, quantity: int) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Reward, User
    from cm_tracker.services.usecases.redemptions import request_redemption

    with app.app_context():
        return request_redemption(db.session.get(Patient, patient_id), db.session.get(Reward, reward_id), quantity,
                                  actor=db.session.get(User, user_id)).id


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _row(page: str, name: str) -> str:
    """The caseload table's row of one patient."""
    start = page.index(f">{name}</a>", page.index('id="patients-title"'))
    return page[start:page.index("</tr>", start)]


@pytest.mark.time_machine(ASKED_AT)
def test_the_caseload_row_says_what_the_patient_asked_for_and_links_to_the_desk(app, client, personas, shop, give):
    give(personas.patient, points=100)
    _request(app, personas.patient, personas.patient_user, shop.card, 2)
    sign_in(client, "cora")
    row = _row(_text(client.get("/staff/")), "Pat Patient")
    assert "Requested: 2 x Grocery gift card (80 points), 30 Nov" in row
    assert (f'<a href="/staff/patients/{personas.patient}/rewards#requests-title">Fulfil at the rewards desk'
            '<span class="visually-hidden"> for Pat Patient</span></a>') in row
    assert "Requested:" not in _row(_text(client.get("/staff/")), "Dana Draws")


@pytest.mark.time_machine(ASKED_AT)
def test_the_patient_record_lists_the_requests_waiting(app, client, personas, shop, give):
    give(personas.patient, points=100)
    _request(app, personas.patient, personas.patient_user, shop.bus_pass, 1)
    _request(app, personas.patient, personas.patient_user, shop.card, 1)
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/patients/{personas.patient}"))
    assert 'Requests waiting <span class="count">2</span>' in page
    assert ("<li>Requested: Bus pass (20 points), 30 Nov</li><li>Requested: Grocery gift card (40 points), 30 Nov"
            "</li>") in page  # oldest first, "1 x" left out
    assert f'href="/staff/patients/{personas.patient}/rewards#requests-title">Fulfil at the rewards desk' in page


def test_a_fulfilled_or_cancelled_request_no_longer_shows(app, client, personas, shop, give):
    from cm_tracker.extensions import db
    from cm_tracker.models import Redemption, User
    from cm_tracker.services.usecases.redemptions import cancel_redemption, fulfil_redemption

    give(personas.patient, points=100)
    handed = _request(app, personas.patient, personas.patient_user, shop.card, 1)
    withdrawn = _request(app, personas.patient, personas.patient_user, shop.bus_pass, 1)
    with app.app_context():
        fulfil_redemption(db.session.get(Redemption, handed), db.session.get(User, personas.counselor))
        cancel_redemption(db.session.get(Redemption, withdrawn), actor=db.session.get(User, personas.patient_user))
    sign_in(client, "cora")
    assert "Requested:" not in _text(client.get("/staff/"))
    assert "Requests waiting" not in _text(client.get(f"/staff/patients/{personas.patient}"))


def test_a_request_shows_only_on_its_own_counselors_caseload(app, client, personas, shop, give):
    give(personas.other_patient, points=100)
    _request(app, personas.other_patient, personas.other_counselor, shop.bus_pass, 1)
    sign_in(client, "cora")
    assert "Requested:" not in _text(client.get("/staff/"))
    client.post("/sign-out")
    sign_in(client, "otto")
    assert "Requested: Bus pass (20 points)" in _row(_text(client.get("/staff/")), "Olive Other")


def test_requests_cost_the_caseload_one_statement_whatever_their_number(app, client, personas, shop, give):
    """No request, one, or three for two patients: the same statements (the requests of the whole caseload are
    read at once, never per patient)."""
    sign_in(client, "cora")

    def counted() -> int:
        with statements(app) as seen:
            assert client.get("/staff/").status_code == 200
        return len(seen)

    give(personas.patient, points=200)
    give(shop.draw_patient, points=200)
    none = counted()
    _request(app, personas.patient, personas.patient_user, shop.card, 1)
    one = counted()
    _request(app, personas.patient, personas.patient_user, shop.bus_pass, 2)
    _request(app, shop.draw_patient, personas.counselor, shop.bus_pass, 1)
    assert none == one == counted()
    with app.app_context():
        from cm_tracker.services.queries.redemptions import waiting_requests

        with statements(app) as seen:
            found = waiting_requests([personas.patient, shop.draw_patient])
            names = {pid: [(r.quantity, r.reward.name) for r in rs] for pid, rs in found.items()}
    assert len(seen) == 1  # the items come in the same statement
    assert names == {personas.patient: [(1, "Grocery gift card"), (2, "Bus pass")],
                     shop.draw_patient: [(1, "Bus pass")]}
