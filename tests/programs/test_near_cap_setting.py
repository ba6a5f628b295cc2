"""A programme's "near the cap" share (near_cap_percent): set by the form and the API, shown on the programme page,
and refused outside 1 to 100 beside its field."""

from __future__ import annotations

import re

import pytest

from helpers import api_token, sign_in


def _edit_form(client, program_id: int) -> dict[str, object]:
    html = client.get(f"/programmes/{program_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', html)
    return {"name": "Stimulant vouchers", "point_value": "0.25", "weeks": "12", "visit_days": ["mon", "wed", "fri"],
            "cap": "997.50", "cap_window": "episode", "max_award": "", "dilute_policy": "failure",
            "version": next(v for v in version.groups() if v)}


def test_a_new_programme_is_near_the_cap_from_80_percent(client, personas):
    body = client.get(f"/api/v1/programs/{personas.program}", headers=api_token(client, "max")).get_json()
    assert body["near_cap_percent"] == 80


def test_the_api_sets_the_share_and_the_programme_page_shows_it(client, personas):
    headers = api_token(client, "max")
    response = client.patch(f"/api/v1/programs/{personas.program}", headers=headers,
                            json={"version": 1, "near_cap_percent": 95})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["near_cap_percent"] == 95
    sign_in(client, "max")
    assert "from 95% of the cap used" in client.get(f"/programmes/{personas.program}").get_data(as_text=True)


def test_the_form_sets_the_share(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    sign_in(client, "max")
    response = client.post(f"/programmes/{personas.program}/edit",
                           data=_edit_form(client, personas.program) | {"near_cap_percent": "60"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        assert db.session.get(Program, personas.program).near_cap_percent == 60


@pytest.mark.parametrize("value", [0, 101, "90", None, True])
def test_the_api_refuses_a_share_outside_1_to_100(client, personas, value):
    headers = api_token(client, "max")
    response = client.patch(f"/api/v1/programs/{personas.program}", headers=headers,
                            json={"version": 1, "near_cap_percent": value})
    assert response.status_code == 422
    assert "from 1 to 100" in response.get_json()["error"]["fields"]["near_cap_percent"]


def test_creating_a_programme_with_a_bad_share_is_a_422(client, personas):
    body = {"name": "Another", "point_value_cents": 25, "weeks": 12, "visit_days": ["mon"], "cap_cents": 10000,
            "cap_window": "episode", "near_cap_percent": 150,
            "targets": [{"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine"],
                         "schedule": {"kind": "fixed", "points": 10}}]}
    response = client.post("/api/v1/programs", headers=api_token(client, "max"), json=body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"near_cap_percent"}


def test_the_form_shows_a_bad_share_beside_its_field(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    sign_in(client, "max")
    html = client.post(f"/programmes/{personas.program}/edit",
                       data=_edit_form(client, personas.program) | {"near_cap_percent": "150"}).get_data(as_text=True)
    assert re.search(r'id="near_cap_percent-error">.*from 1 to 100', html), html[-3000:]
    with app.app_context():
        assert db.session.get(Program, personas.program).near_cap_percent == 80
