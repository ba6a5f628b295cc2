"""Receipts offer a print button (issue 12): hidden until app.js binds it (the CSP allows no inline onclick), hidden
again in print, and the page works without JavaScript through the browser's Print command."""

from __future__ import annotations

import re

from helpers import sign_in

BUTTON = '<button type="button" class="button secondary print-button" data-print hidden>{}</button>'


def _redeem(client, personas, shop, give) -> str:
    give(personas.patient, points=100)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/rewards/redeem",
                           data={"reward_id": shop.card, "quantity": 1, "key": "print-key-1"})
    assert response.status_code == 302
    return response.headers["Location"]


def test_a_staff_receipt_has_a_print_button(client, personas, shop, give):
    html = client.get(_redeem(client, personas, shop, give)).get_data(as_text=True)
    assert BUTTON.format("Print receipt") in html


def test_a_patient_receipt_has_a_print_button_in_their_language(client, personas, shop, give):
    receipt = _redeem(client, personas, shop, give)
    redemption_id = re.search(r"/redemptions/(\d+)/receipt", receipt).group(1)
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with client.application.app_context():
        db.session.get(User, personas.patient_user).locale = "es"
        db.session.commit()
    patient = client.application.test_client()
    sign_in(patient, "pat")
    html = patient.get(f"/portal/receipts/{redemption_id}").get_data(as_text=True)
    assert BUTTON.format("Imprimir recibo") in html


def test_print_css_hides_the_print_button_and_app_js_binds_it(client):
    css = client.get("/static/app.css").get_data(as_text=True)
    assert re.search(r"@media print \{[^}]*\.print-button \{ display: none !important; \}", css)
    js = client.get("/static/app.js").get_data(as_text=True)
    assert 'querySelectorAll("[data-print]")' in js and "window.print()" in js
