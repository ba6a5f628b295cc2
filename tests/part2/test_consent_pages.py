"""The staff pages of a patient's Part 2 consents (docs/part2.md "The staff pages"): the list, the form for a signed
consent (recorded once however often it is sent) and the revocation, each within the patient's reach."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from part2.consent_pages_support import FORM, NOW, add_consent, add_request, add_revocation

from helpers import in_threads, sign_in

pytestmark = pytest.mark.time_machine(NOW)


def _pages(patient: int, consent: int) -> list[str]:
    base = f"/staff/patients/{patient}/consents"
    return [base, f"{base}/new", f"{base}/form?lang=es", f"{base}/{consent}/revocation"]


@pytest.mark.parametrize("username", ["ada", "max", "cora"])
def test_every_consent_page_opens_for_admins_managers_and_the_patients_own_counselor(app, client, personas,
                                                                                      username):
    consent = add_consent(app, personas.patient, personas.counselor)
    sign_in(client, username)
    assert [client.get(path).status_code for path in _pages(personas.patient, consent)] == [200, 200, 200, 200]


@pytest.mark.parametrize("username", ["otto", "pat"])
def test_another_caseloads_counselor_and_a_patient_get_not_found(app, client, personas, username):
    consent = add_consent(app, personas.patient, personas.counselor)
    sign_in(client, username)
    paths = _pages(personas.patient, consent)
    assert [client.get(path).status_code for path in paths] == [404, 404, 404, 404]
    assert client.post(paths[1], data=FORM).status_code == 404
    assert client.post(paths[3], data={"revoked_on": "2027-03-15"}).status_code == 404
    assert _count(app) == 1


def test_another_patients_consent_under_this_patients_address_is_not_found(app, client, personas):
    olive_consent = add_consent(app, personas.other_patient, personas.other_counselor)
    sign_in(client, "ada")  # who may see both patients
    response = client.get(f"/staff/patients/{personas.patient}/consents/{olive_consent}/revocation")
    assert response.status_code == 404


def test_the_list_shows_each_consent_latest_first_with_its_status_and_revocation(app, client, personas):
    add_consent(app, personas.patient, personas.counselor, recipient="Old Clinic", signed_on=date(2026, 1, 5),
                expires_on=date(2026, 12, 31))
    revoked = add_consent(app, personas.patient, personas.counselor, recipient="County Court",
                          signed_on=date(2027, 1, 10), expires_on=None, expiry_event="end of my case")
    add_consent(app, personas.patient, personas.counselor, recipient="my treating providers",
                recipient_kind="tpo_class", purpose="treatment, payment and health care operations",
                signed_on=date(2027, 2, 1))
    add_revocation(app, revoked, personas.manager, date(2027, 3, 1), note="Letter received")
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}/consents").get_data(as_text=True)
    order = [html.index(name) for name in ("To my treating providers", "To County Court", "To Old Clinic")]
    assert order == sorted(order)
    assert "Pat Patient" in html and "MRN-001" in html
    for expected in ("Active", "Revoked", "Expired", "class of recipients",
                     'end of my case <span class="muted small">(an event',
                     "Revoked from Mon 01 Mar 2027</strong>, recorded by Max Manager: Letter received",
                     "by Cora Counselor", "Urine test results", "Coordinating my care", "after Fri 31 Dec 2027"):
        assert expected in html, expected
    assert html.count("Record a disclosure") == 1  # the one active consent


def test_reading_the_list_is_audited_as_a_page_read(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "max")
    client.get(f"/staff/patients/{personas.patient}/consents")
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consents.view")).all()
        assert [(r.patient_id, r.username, r.detail) for r in rows] == [(personas.patient, "max", {"via": "page"})]


def test_a_pending_request_is_shown_and_the_revocation_form_starts_on_its_day(app, client, personas):
    consent = add_consent(app, personas.patient, personas.counselor)
    add_request(app, consent, personas.patient, date(2027, 3, 12), note="I changed my mind")
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}/consents").get_data(as_text=True)
    assert "Pat Patient asked on Fri 12 Mar 2027 to revoke this consent" in html
    assert "I changed my mind" in html and "Record the revocation" in html
    assert "Record a disclosure" not in html  # a pending request already stops disclosures
    form = client.get(f"/staff/patients/{personas.patient}/consents/{consent}/revocation").get_data(as_text=True)
    assert _value(form, "revoked_on") == "2027-03-12"


def test_the_revocation_form_starts_on_today_without_a_request(app, client, personas):
    consent = add_consent(app, personas.patient, personas.counselor)
    sign_in(client, "cora")
    form = client.get(f"/staff/patients/{personas.patient}/consents/{consent}/revocation").get_data(as_text=True)
    assert _value(form, "revoked_on") == "2027-03-15"


def test_the_new_consent_form_starts_with_today_and_the_clinics_name(app, client, personas):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}/consents/new").get_data(as_text=True)
    assert (_value(html, "signed_on"), _value(html, "discloser")) == ("2027-03-15", app.config["CLINIC_NAME"])


def test_a_consent_recorded_through_the_form_holds_what_was_typed(app, client, personas):
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/consents/new", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/patients/{personas.patient}/consents")
    stored = _only_consent(app)
    assert (stored.recipient_kind, stored.recipient, stored.information, stored.purpose, stored.expires_on,
            stored.expiry_event, stored.signed_on, stored.discloser, stored.recorded_by_id) == (
        "named", FORM["recipient"], FORM["information"], FORM["purpose"], date(2027, 12, 31), None,
        date(2027, 3, 10), "Riverside CM programme", personas.counselor)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Recorded the consent to disclose to Dr Ana Ruiz, Riverside Clinic, signed on Wed 10 Mar 2027." in page


def test_a_refused_consent_keeps_everything_typed_with_each_error_beside_its_field(app, client, personas):
    sign_in(client, "cora")
    typed = {**FORM, "expires_on": "2027-03-01", "purpose": ""}
    response = client.post(f"/staff/patients/{personas.patient}/consents/new", data=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="purpose-error"' in html and "Give each purpose." in html
    assert (_value(html, "recipient"), _value(html, "expires_on")) == ("Dr Ana Ruiz, Riverside Clinic", "2027-03-01")
    assert "Urine test results and attendance, January to March 2027</textarea>" in html
    assert _count(app) == 0
    again = client.post(f"/staff/patients/{personas.patient}/consents/new", data={**typed, "purpose": "Care"})
    assert again.status_code == 422 and 'id="expires_on-error"' in again.get_data(as_text=True)
    assert "Must not be before the day the consent was signed" in again.get_data(as_text=True)


def test_a_consent_without_any_expiry_is_refused_beside_the_expiry_date(app, client, personas):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{personas.patient}/consents/new",
                       data={**FORM, "expires_on": ""}).get_data(as_text=True)
    assert 'id="expires_on-error"' in html and "Give the day the consent expires" in html


def test_the_same_form_sent_twice_records_one_consent(app, client, personas):
    sign_in(client, "cora")
    first = client.post(f"/staff/patients/{personas.patient}/consents/new", data=FORM)
    second = client.post(f"/staff/patients/{personas.patient}/consents/new", data=FORM)
    assert (first.status_code, second.status_code) == (302, 302)
    assert _count(app) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "This consent was already recorded (Cora Counselor" in page and "nothing was recorded twice" in page


def test_a_different_consent_typed_on_the_same_day_is_recorded_too(app, client, personas):
    sign_in(client, "cora")
    client.post(f"/staff/patients/{personas.patient}/consents/new", data=FORM)
    client.post(f"/staff/patients/{personas.patient}/consents/new", data={**FORM, "recipient": "County Court"})
    assert _count(app) == 2


def test_two_sends_at_the_same_moment_record_one_consent(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.consents import ConsentInput, record_consent_once

    values = ConsentInput(information="Results", recipient="Dr Ana Ruiz", purpose="Care",
                          signed_on=date(2027, 3, 10), expires_on=date(2027, 12, 31))

    def send(_i: int) -> bool:
        with app.test_request_context():
            return record_consent_once(db.session.get(Patient, personas.patient), values,
                                       actor=db.session.get(User, personas.counselor)).replayed

    assert sorted(in_threads(app, 4, send)) == [False, True, True, True]
    assert _count(app) == 1


def test_a_revocation_recorded_through_the_form(app, client, personas):
    consent = add_consent(app, personas.patient, personas.counselor)
    sign_in(client, "max")
    response = client.post(f"/staff/patients/{personas.patient}/consents/{consent}/revocation",
                           data={"revoked_on": "2027-03-14", "note": "Letter received 14 March"})
    assert response.status_code == 302
    revocation = _revocation(app, consent)
    assert (revocation.revoked_on, revocation.note, revocation.revoked_by_id) == (
        date(2027, 3, 14), "Letter received 14 March", personas.manager)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is revoked from Sun 14 Mar 2027" in page and "Revoked from Sun 14 Mar 2027" in page


def test_a_revocation_before_the_signature_keeps_what_was_typed(app, client, personas):
    consent = add_consent(app, personas.patient, personas.counselor)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/consents/{consent}/revocation",
                           data={"revoked_on": "2026-12-01", "note": "By phone"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="revoked_on-error"' in html and "Must not be before the day the consent was signed" in html
    assert _value(html, "revoked_on") == "2026-12-01" and "By phone</textarea>" in html
    assert _revocation(app, consent) is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_consent_revoked_meanwhile_sends_back_to_the_list_with_a_plain_message(app, client, personas, method):
    consent = add_consent(app, personas.patient, personas.counselor)
    add_revocation(app, consent, personas.manager, date(2027, 3, 1))
    sign_in(client, "cora")
    response = client.open(f"/staff/patients/{personas.patient}/consents/{consent}/revocation", method=method,
                           data={"revoked_on": "2027-03-15"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("This consent is already revoked from Mon 01 Mar 2027 (recorded by Max Manager); nothing was "
            "changed.") in page
    assert _revocation(app, consent).revoked_on == date(2027, 3, 1)


def test_a_revocation_that_loses_the_race_is_answered_like_a_second_tab(app, client, personas, monkeypatch):
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases import consents

    consent = add_consent(app, personas.patient, personas.counselor)

    def lost(*_args: object, **_kw: object) -> None:  # another desk's revocation committed between look and write
        raise Conflict("This consent is already revoked.", code="already_revoked")

    monkeypatch.setattr(consents, "revoke_consent", lost)
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{personas.patient}/consents/{consent}/revocation",
                           data={"revoked_on": "2027-03-15"})
    assert response.status_code == 302
    assert "This consent is already revoked" in client.get(response.headers["Location"]).get_data(as_text=True)


def _value(html: str, name: str) -> str | None:
    """The value of the page's input `name`, as the browser shows it."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0)) if tag else None
    return unescape(value.group(1)) if value else None


def _count(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Consent

    with app.app_context():
        return int(db.session.scalar(select(func.count(Consent.id))) or 0)


def _only_consent(app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Consent

    with app.app_context():
        found = db.session.scalars(select(Consent)).all()
        assert len(found) == 1
        db.session.expunge_all()
        return found[0]


def _revocation(app, consent_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import ConsentRevocation

    with app.app_context():
        found = db.session.scalar(select(ConsentRevocation).where(ConsentRevocation.consent_id == consent_id))
        db.session.expunge_all()
        return found
