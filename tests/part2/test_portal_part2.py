"""The patient's own view of 42 CFR Part 2 in the portal (docs/part2.md "What the patient sees"): their consents with
each one's state, who has received their records, and asking to withdraw a consent, in English and Spanish."""

from __future__ import annotations

import re

import pytest
from consents.conftest import NOW, consent_id, post_disclosure
from sqlalchemy import func, select

from api_support import audit_rows
from helpers import api_token, sign_in

pytestmark = pytest.mark.time_machine(NOW)


def _text(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def _card(html: str, consent: int) -> str:
    """The text of one consent's card on the privacy page."""
    start = html.index(">", html.index(f'id="consent-{consent}"')) + 1
    return _text("<main>" + html[start:html.index("</li>", start)] + "</main>")


def _requests(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import ConsentRevocationRequest

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ConsentRevocationRequest))


def _save_locale(app, user_id: int, locale: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


@pytest.fixture
def cora(client):
    return api_token(client, "cora")


@pytest.fixture
def pat(app):
    """Pat signed in to the portal, in a client of their own (the staff token's client stays apart)."""
    portal = app.test_client()
    sign_in(portal, "pat")
    return portal


def _revoke(client, headers, consent: int, day: str) -> None:
    response = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers, json={"revoked_on": day})
    assert response.status_code == 200, response.get_json()


def test_a_consent_in_effect_says_who_what_why_since_until_and_offers_to_withdraw(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    html = pat.get("/portal/privacy").get_data(as_text=True)
    assert _card(html, consent) == (
        " Dr Ana Ruiz, Riverside Clinic In effect Who may receive them Dr Ana Ruiz, Riverside Clinic "
        "What they may receive Urine test results and attendance Why Coordinating my treatment "
        "Shared by Contingency management programme Since Monday, January 4, 2027 Until Friday, December 31, 2027 "
        "In effect. You can withdraw it at any time. Ask to withdraw this consent : Dr Ana Ruiz, Riverside Clinic ")
    assert f'href="/portal/privacy/consents/{consent}/withdraw"' in html


@pytest.mark.parametrize(("case", "badge", "sentence"), [
    ("expired", "Ended", "It ended on Sunday, February 28, 2027."),
    ("revoked", "Withdrawn", "You withdrew it on Wednesday, February 10, 2027."),
    ("requested", "Withdrawal asked", "You asked on Monday, March 15, 2027 to withdraw it; the clinic will confirm."),
])
def test_each_state_is_said_in_plain_words_without_the_button(client, personas, cora, pat, case, badge, sentence):
    consent = consent_id(client, cora, personas.patient,
                         expires_on="2027-02-28" if case == "expired" else "2027-12-31")
    if case == "revoked":
        _revoke(client, cora, consent, "2027-02-10")
    if case == "requested":
        assert pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}).status_code == 302
    card = _card(pat.get("/portal/privacy").get_data(as_text=True), consent)
    assert f"Riverside Clinic {badge} Who may" in card and sentence in card
    assert "Ask to withdraw" not in card


@pytest.mark.parametrize(("changes", "until"), [
    ({"expires_on": None, "expiry_event": "When I leave the programme"}, "Until When I leave the programme "),
    ({"expiry_event": "When I leave the programme"},
     "Until Friday, December 31, 2027, or earlier: When I leave the programme "),
])
def test_an_expiry_by_event_is_shown_as_signed(client, personas, cora, pat, changes, until):
    consent = consent_id(client, cora, personas.patient, **changes)
    assert until in _card(pat.get("/portal/privacy").get_data(as_text=True), consent)


def test_a_class_consent_says_it_names_a_group(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient, recipient_kind="tpo_class", recipient="My treating providers")
    post = post_disclosure(client, cora, personas.patient, consent, recipient="Dr Lee, Bay Hospital")
    assert post.status_code == 201
    html = pat.get("/portal/privacy").get_data(as_text=True)
    assert "This is a group: anyone in it who treats you" in _card(html, consent)
    assert "Dr Lee, Bay Hospital (one of: My treating providers)" in _text(html)


def test_who_received_the_records_lists_three_years_newest_first_with_the_consent(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient, signed_on="2024-01-02")
    for day, what in (("2024-03-14", "Too old to show"), ("2024-03-15", "Results of 2024"),
                      ("2027-03-01", "Results of February 2027")):
        assert post_disclosure(client, cora, personas.patient, consent, disclosed_on=day,
                               description=what).status_code == 201
    text = _text(pat.get("/portal/privacy").get_data(as_text=True))
    listed = text[text.index("Who has received my records"):]
    assert ("Everything the clinic shared under your consents from Friday, March 15, 2024 to Monday, March 15, "
            "2027, the most recent first.") in listed
    assert listed.index("Results of February 2027") < listed.index("Results of 2024")
    assert "Too old to show" not in listed
    assert ("Monday, March 1, 2027 Dr Ana Ruiz, Riverside Clinic What they received: Results of February 2027 "
            "Under the consent you signed on Tuesday, January 2, 2024 : Coordinating my treatment") in listed
    assert "You can ask the clinic for a printed copy of this list at any time." in listed


def test_with_nothing_signed_or_shared_the_page_reassures(personas, pat):
    text = _text(pat.get("/portal/privacy").get_data(as_text=True))
    assert "You have not signed any consent to share your records." in text
    assert "Nobody has received your records under a consent in this time." in text
    assert "You can ask the clinic for a printed copy" in text


def test_reading_the_page_is_audited_as_the_patients_consents_and_accounting(app, personas, pat):
    assert pat.get("/portal/privacy").status_code == 200
    [consents] = audit_rows(app, "consents.view")
    [accounting] = audit_rows(app, "disclosures.view")
    assert (consents.patient_id, consents.detail) == (personas.patient, {"via": "portal"})
    assert (accounting.patient_id, accounting.detail) == (
        personas.patient, {"via": "portal", "from": "2024-03-15", "to": "2027-03-15"})
    assert audit_rows(app, "patient.view") == []


def test_the_page_reads_in_spanish(app, client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    assert post_disclosure(client, cora, personas.patient, consent).status_code == 201
    _save_locale(app, personas.patient_user, "es")
    html = pat.get("/portal/privacy").get_data(as_text=True)
    text = _text(html)
    assert '<html lang="es">' in html
    assert "Mis consentimientos" in text and "Quién ha recibido mis registros" in text
    assert "Vigente. Puedes retirarlo cuando quieras." in _card(html, consent)
    assert "Hasta viernes, 31 de diciembre de 2027" in _card(html, consent)
    assert "Pedir que se retire este consentimiento" in _card(html, consent)
    assert "Lo que recibieron: Results of February 2027" in text
    assert "Puedes pedir a la clínica una copia impresa de esta lista cuando quieras." in text
    assert ">Privacidad</a>" in html


def test_the_confirmation_page_says_what_withdrawing_means(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    text = _text(pat.get(f"/portal/privacy/consents/{consent}/withdraw").get_data(as_text=True))
    assert ("From today, the clinic will not share any more of your records with Dr Ana Ruiz, Riverside Clinic "
            "under this consent.") in text
    assert "What was already shared stays shared: withdrawing cannot take it back." in text
    assert "Yes, withdraw this consent" in text and "No, keep it" in text


def test_asking_to_withdraw_writes_one_request_and_its_audit_row(app, client, personas, cora, pat):
    from cm_tracker.extensions import db
    from cm_tracker.models import ConsentRevocationRequest

    consent = consent_id(client, cora, personas.patient)
    response = pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": "  I moved away.\r\nThanks "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portal/privacy#consent-{consent}")
    with app.app_context():
        [row] = db.session.scalars(select(ConsentRevocationRequest))
        assert (row.consent_id, row.patient_id, row.requested_on.isoformat(), row.note, row.requested_by_id) == (
            consent, personas.patient, "2027-03-15", "I moved away.\r\nThanks", personas.patient_user)
    [audit] = audit_rows(app, "consent.revocation_request")
    assert (str(audit.outcome), audit.patient_id, audit.object_id, audit.detail) == (
        "success", personas.patient, str(consent), {"requested_on": "2027-03-15"})
    text = _text(pat.get("/portal/privacy").get_data(as_text=True))
    assert "Your request is sent. From today the clinic will not share your records under this consent" in text


def test_a_second_request_gets_the_plain_answer_and_still_one_row(app, client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    first = pat.get(f"/portal/privacy/consents/{consent}/withdraw")  # two tabs open on the confirmation page
    assert first.status_code == 200
    assert pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}).status_code == 302
    again = pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}, follow_redirects=True)
    assert again.status_code == 200
    plain = ("You already asked on Monday, March 15, 2027 to withdraw this consent. The clinic will confirm; there is "
             "nothing more to do.")
    assert plain in _text(again.get_data(as_text=True))
    assert _requests(app) == 1
    assert len(audit_rows(app, "consent.revocation_request")) == 1
    back = pat.get(f"/portal/privacy/consents/{consent}/withdraw")  # Back to the confirmation page
    assert back.status_code == 200 and plain in _text(back.get_data(as_text=True))
    assert "Yes, withdraw this consent" not in back.get_data(as_text=True)


def test_another_patients_consent_is_not_found_and_nothing_is_written(app, client, personas, cora, pat):
    theirs = consent_id(client, api_token(client, "otto"), personas.other_patient)
    assert pat.get(f"/portal/privacy/consents/{theirs}/withdraw").status_code == 404
    assert pat.post(f"/portal/privacy/consents/{theirs}/withdraw", data={"note": "x"}).status_code == 404
    assert pat.post("/portal/privacy/consents/999999/withdraw", data={"note": "x"}).status_code == 404
    assert _requests(app) == 0
    refused = audit_rows(app, "consent.revocation_request")
    assert [(str(r.outcome), r.object_id) for r in refused] == [("denied", str(theirs)), ("denied", "999999")]


def test_a_note_too_long_stays_on_the_page_with_the_reason_beside_it(app, client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    note = "n" * 1001
    response = pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": note})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="note-error"' in html and "Please keep your note to 1000 characters or fewer." in html
    assert re.search(rf">\s*{note}</textarea>", html)
    assert _requests(app) == 0


def test_a_request_blocks_disclosures_from_its_day_but_not_before(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    assert pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}).status_code == 302
    today = post_disclosure(client, cora, personas.patient, consent, disclosed_on="2027-03-15")
    assert today.status_code == 409 and today.get_json()["error"]["code"] == "no_consent"
    assert "asked on 2027-03-15 to revoke" in today.get_json()["error"]["message"]
    before = post_disclosure(client, cora, personas.patient, consent, disclosed_on="2027-03-14")
    assert before.status_code == 201


def test_a_request_that_loses_the_race_gets_the_same_plain_answer(app, client, personas, cora, pat, monkeypatch):
    from cm_tracker.services.usecases import revocation_requests

    consent = consent_id(client, cora, personas.patient)
    assert pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}).status_code == 302
    # The other tab's request landed between this one's check and its commit: only the unique index sees it.
    monkeypatch.setattr(revocation_requests, "refusal", lambda view: None)
    late = pat.post(f"/portal/privacy/consents/{consent}/withdraw", data={"note": ""}, follow_redirects=True)
    assert late.status_code == 200
    assert "You already asked on Monday, March 15, 2027 to withdraw this consent." in _text(late.get_data(as_text=True))
    assert _requests(app) == 1
    assert len(audit_rows(app, "consent.revocation_request")) == 1



def test_a_stale_form_is_refused_and_the_fresh_one_goes_through(app, csrf_app, client, personas, cora):
    from helpers import PASSWORD, csrf_token_from

    consent = consent_id(client, cora, personas.patient)
    portal = csrf_app.test_client()
    portal.post("/sign-in", data={"username": "pat", "password": PASSWORD,
                                  "csrf_token": csrf_token_from(portal, "/sign-in")})
    page = f"/portal/privacy/consents/{consent}/withdraw"
    stale = portal.post(page, data={"note": "Keep this", "csrf_token": "expired"})
    assert stale.status_code == 400
    assert _requests(app) == 0
    fresh = portal.post(page, data={"note": "Keep this", "csrf_token": csrf_token_from(portal, page)})
    assert fresh.status_code == 302 and _requests(app) == 1
