"""Catalog items in the patient's language: a Spanish page shows an item's Spanish name where it has one (the rewards
page, requests, receipts and the history), and its name as written where it has none."""

from __future__ import annotations

import re

from helpers import sign_in


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _speak(app, personas, locale: str, *, bus_es: str | None = "Pase de autobús") -> None:
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User

    with app.app_context():
        db.session.get(User, personas.patient_user).locale = locale
        db.session.scalar(select(Reward).where(Reward.name == "Bus pass")).name_es = bus_es
        db.session.commit()


def test_a_spanish_page_shows_the_spanish_name_and_falls_back_to_the_name(app, client, personas, story):
    _speak(app, personas, "es")
    sign_in(client, "pat")
    rewards = _text(client.get("/portal/rewards").get_data(as_text=True))
    assert "Pase de autobús" in rewards and "Bus pass" not in rewards
    assert "Phone card" in rewards  # no Spanish name given: the name as written


def test_receipts_and_history_name_the_item_in_spanish(app, client, personas, story):
    _speak(app, personas, "es")
    sign_in(client, "pat")
    receipts = _text(client.get("/portal/receipts").get_data(as_text=True))
    receipt = _text(client.get(f"/portal/receipts/{story.fulfilled}").get_data(as_text=True))
    history = _text(client.get("/portal/history").get_data(as_text=True))
    assert "Pase de autobús" in receipts and "Bus pass" not in receipts
    assert "Artículo Pase de autobús" in receipt
    assert "Canjeado por Pase de autobús" in history and "Bus pass" not in history


def test_an_english_page_keeps_the_name(app, client, personas, story):
    _speak(app, personas, "en")
    sign_in(client, "pat")
    rewards = _text(client.get("/portal/rewards").get_data(as_text=True))
    assert "Bus pass" in rewards and "Pase de autobús" not in rewards


def test_a_request_made_in_spanish_is_confirmed_with_the_spanish_name(app, client, personas, story):
    from helpers import csrf_token_from

    _speak(app, personas, "es")
    sign_in(client, "pat")
    token = csrf_token_from(client, "/portal/rewards")
    done = client.post("/portal/rewards/request", data={"csrf_token": token, "reward_id": story.bus_pass,
                                                        "quantity": 1}, follow_redirects=True)
    text = _text(done.get_data(as_text=True))
    assert "Tu pedido de Pase de autobús te espera en el mostrador" in text
