"""A catalog item's optional Spanish name (rewards.name_es): set in the catalog form and the API, kept by the
service."""

from __future__ import annotations

import re

from helpers import api_token, sign_in


def _reward(app, reward_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward

    with app.app_context():
        return db.session.get(Reward, reward_id)


def test_the_service_keeps_a_spanish_name_and_blank_means_none(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import catalog

    with app.app_context():
        max_ = db.session.get(User, personas.manager)
        card = catalog.create_reward(catalog.RewardInput(name="Phone card", name_es="  Tarjeta telefónica ",
                                                         value_cents=1500, cost_points=60), actor=max_)
        assert card.name_es == "Tarjeta telefónica"
        catalog.update_reward(card, catalog.RewardInput(name="Phone card", name_es=" ", value_cents=1500,
                                                        cost_points=60), version=card.version, actor=max_)
        assert db.session.get(type(card), card.id).name_es is None


def test_a_spanish_name_over_120_characters_is_refused_beside_its_field(app, personas):
    import pytest

    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases import catalog

    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        catalog.create_reward(catalog.RewardInput(name="Phone card", name_es="x" * 121, value_cents=1500,
                                                  cost_points=60), actor=db.session.get(User, personas.manager))
    assert refused.value.fields == {"name_es": "Give a Spanish name of at most 120 characters, or leave it blank."}


def test_a_manager_gives_an_item_a_spanish_name_in_the_edit_form(app, client, personas, shop):
    sign_in(client, "max")
    page = client.get(f"/catalog/rewards/{shop.card}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="name_es"[^>]*lang="es"', page) and 'for="name_es">Name in Spanish<' in page
    response = client.post(f"/catalog/rewards/{shop.card}/edit", data={
        "kind": "voucher", "name": "Grocery gift card", "name_es": "Tarjeta de supermercado", "cost_points": 40,
        "value_dollars": "10.00", "program_id": personas.program, "low_stock_threshold": 3, "is_stocked": "y",
        "is_active": "y", "version": str(_reward(app, shop.card).version)})
    assert response.status_code == 302
    assert _reward(app, shop.card).name_es == "Tarjeta de supermercado"
    again = client.get(f"/catalog/rewards/{shop.card}/edit").get_data(as_text=True)
    assert 'value="Tarjeta de supermercado"' in again


def test_the_api_takes_an_optional_spanish_name(client, personas):
    headers = api_token(client, "max")
    named = client.post("/api/v1/rewards", headers=headers, json={
        "name": "Movie ticket", "name_es": "Entrada de cine", "cost_points": 60, "value_cents": 1500})
    plain = client.post("/api/v1/rewards", headers=headers, json={"name": "Bus fare", "cost_points": 8,
                                                                  "value_cents": 200})
    assert (named.status_code, named.get_json()["name_es"]) == (201, "Entrada de cine")
    assert (plain.status_code, plain.get_json()["name_es"]) == (201, None)
    listed = client.get("/api/v1/rewards", headers=headers).get_json()["rewards"]
    assert {r["name"]: r["name_es"] for r in listed} == {"Movie ticket": "Entrada de cine", "Bus fare": None}


def test_the_api_refuses_a_spanish_name_that_is_not_a_short_string(client, personas):
    headers = api_token(client, "max")
    for bad, why in ((7, "Must be a string."), ("x" * 121, "Must be at most 120 characters.")):
        response = client.post("/api/v1/rewards", headers=headers, json={
            "name": "Movie ticket", "name_es": bad, "cost_points": 60, "value_cents": 1500})
        assert response.status_code == 422 and response.get_json()["error"]["fields"] == {"name_es": why}
