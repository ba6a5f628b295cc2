"""The portal names the real limit of a request (core.spending): what the points free of waiting requests buy,
what is left in stock, never the per-request "from 1 to 50"; in English and Spanish."""

from __future__ import annotations

import re

import pytest

from helpers import sign_in


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize(("typed", "expected"), [
    ("60", "Choose how many, from 1 to 4."),  # 155 points buy 7 bus passes, 4 are left
    ("0", "Choose how many, from 1 to 4."),
])
def test_the_portal_names_the_real_limit_too(client, personas, story, typed, expected):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": typed})
    assert response.status_code == 422
    assert expected in _text(response) and "to 50" not in _text(response)


def test_the_portal_says_how_many_are_left_when_the_stock_decides(client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 6})
    assert response.status_code == 409
    assert "Only 4 of Bus pass are left, so you can ask for up to 4." in _text(response)


def test_not_enough_points_says_how_many_they_can_have(client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 8})
    assert response.status_code == 409
    assert ("You do not have enough points for Bus pass yet: you have 155 points available. "
            "You can ask for up to 4 now.") in _text(response)


def test_the_limit_is_said_in_spanish_too(client, personas, story):
    sign_in(client, "pat")
    spanish = {"Accept-Language": "es"}
    short = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 8}, headers=spanish)
    assert "tienes 155 puntos disponibles. Puedes pedir hasta 4 ahora." in _text(short)
    stock = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 6}, headers=spanish)
    assert "Solo quedan 4 de Bus pass, así que puedes pedir hasta 4." in _text(stock)
    bound = client.post("/portal/rewards/request", data={"reward_id": story.bus_pass, "quantity": 60},
                        headers=spanish)
    assert "Elige cuántos, de 1 a 4." in _text(bound)


def test_nothing_to_take_adds_no_limit(client, personas, story):
    sign_in(client, "pat")
    response = client.post("/portal/rewards/request", data={"reward_id": story.phone_card, "quantity": 1})
    assert response.status_code == 409
    assert "You do not have enough points for Phone card yet" in _text(response)
    assert "You can ask for" not in _text(response)  # none at all: no "up to 0"
