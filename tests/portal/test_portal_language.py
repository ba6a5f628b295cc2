"""English and Spanish: the patient's saved choice, else the browser's language, else English (issue 5.6)."""

from __future__ import annotations

import re

from helpers import sign_in


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _save_locale(app, user_id: int, locale: str | None) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


def test_a_patient_with_spanish_saved_reads_the_home_page_in_spanish(app, client, personas, story):
    _save_locale(app, personas.patient_user, "es")
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    text = _text(html)
    assert '<html lang="es">' in html
    assert "Tienes 155 puntos que valen 38,75 US$" in text
    assert "Tu próximo análisis negativo vale 60 puntos (15,00 US$)." in text
    assert "Un análisis positivo o no realizado lo devolvería a 10 puntos." in text
    assert "Aún puedes ganar 953,75 US$ del límite de 997,50 US$ de este episodio de tratamiento." in text


def test_spanish_history_sentences_read_naturally(app, client, personas, story):
    _save_locale(app, personas.patient_user, "es")
    sign_in(client, "pat")
    text = _text(client.get("/portal/history").get_data(as_text=True))
    assert "Negativo para estimulantes, 3.º seguido: 60 puntos (20 + 40 de bonificación)" in text
    assert "Corrección de tu análisis del 9 nov 2026: Negativo para estimulantes, 4.º seguido. " \
           "Antes 0 puntos, ahora 25 puntos." in text
    assert "lunes, 2 de noviembre de 2026" in text


def test_the_history_pages_are_named_in_spanish(app, client, personas, story, monkeypatch):
    from cm_tracker.patient import routes

    monkeypatch.setattr(routes, "HISTORY_PAGE", 5)
    _save_locale(app, personas.patient_user, "es")
    sign_in(client, "pat")
    text = _text(client.get("/portal/history?page=2").get_data(as_text=True))
    assert "Movimientos más recientes Página 2 de 3 Movimientos anteriores" in text


def test_the_browsers_language_is_used_when_nothing_is_saved(client, personas, story):
    sign_in(client, "pat")
    html = client.get("/portal/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="es">' in html and "Tus premios" in html and "38,75 US$" in _text(html)


def test_a_saved_choice_wins_over_the_browsers_language(app, client, personas, story):
    _save_locale(app, personas.patient_user, "en")
    sign_in(client, "pat")
    html = client.get("/portal/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "$38.75" in html


def test_an_unsupported_browser_language_falls_back_to_english(client, personas, story):
    sign_in(client, "pat")
    assert '<html lang="en">' in client.get("/portal/", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_the_language_switch_saves_the_choice_for_later_visits(app, client, personas, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    sign_in(client, "pat")
    response = client.post("/portal/language", data={"language": "es", "next": "/portal/rewards"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/rewards"
    with app.app_context():
        assert db.session.get(User, personas.patient_user).locale == "es"
    again = app.test_client()
    sign_in(again, "pat")
    assert "Tus premios" in again.get("/portal/").get_data(as_text=True)


def test_the_language_switch_refuses_other_languages_and_outside_addresses(app, client, personas, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    sign_in(client, "pat")
    response = client.post("/portal/language", data={"language": "xx", "next": "//evil.example"})
    assert response.headers["Location"] == "/portal/"
    with app.app_context():
        assert db.session.get(User, personas.patient_user).locale is None


def test_the_sign_in_page_follows_the_browsers_language(client):
    html = client.get("/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in html and "Iniciar sesión" in html and "Usuario" in html


def test_error_pages_speak_the_patients_language(app, client, personas):
    _save_locale(app, personas.patient_user, "es")
    sign_in(client, "pat")
    response = client.get("/staff/")
    assert response.status_code == 404 and "Página no encontrada" in response.get_data(as_text=True)


def test_staff_pages_stay_in_english_whatever_the_browser_says(client, personas):
    sign_in(client, "cora")
    html = client.get("/staff/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign out" in html
