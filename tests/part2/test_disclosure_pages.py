"""The disclosure form and the packet page (docs/part2.md "The disclosure packet"): a disclosure recorded from the
form carries a packet of the records as they stood, printed from that copy ever after, in its language, with the
2.32 notice and the consent; a refusal is shown on the form; a form sent twice records once; every view of a packet
is audited as an export; the pages stay within the patient's reach."""

from __future__ import annotations

import re
from datetime import date

import pytest

from part2.disclosure_support import (
    NOW,
    RECIPIENT,
    November,
    counts,
    form_data,
    new_page,
    november_world,
    signed_in,
    specimen_body,
    stored_packet,
)

from api_support import audit_rows
from helpers import api_token, in_threads

pytestmark = pytest.mark.time_machine(NOW)


@pytest.fixture
def november(app, client, personas) -> November:
    """Pat's November and a consent to disclose it (disclosure_support.november_world)."""
    return november_world(app, client, personas)

NEG = [{"analyte": "cocaine", "result": "negative"}, {"analyte": "methamphetamine", "result": "negative"}]


def _record(app, patient_id, consent, username="cora", **changes):
    client = signed_in(app, username)
    response = client.post(new_page(patient_id), data=form_data(consent, **changes))
    return client, response


def _packet_url(patient_id: int, disclosure_id: int) -> str:
    return f"/staff/patients/{patient_id}/disclosures/{disclosure_id}/packet"


def test_the_form_records_a_disclosure_with_a_packet_of_the_records_as_they_stood(app, personas, november):
    _, response = _record(app, personas.patient, november.consent, include=["results", "attendance", "rewards"])
    assert response.status_code == 302
    packet = stored_packet(app)
    assert response.headers["Location"] == _packet_url(personas.patient, packet.disclosure_id)
    assert (packet.period_start.isoformat(), packet.period_end.isoformat(), packet.sections, packet.language) == (
        "2026-11-01", "2026-11-30", "results,attendance,rewards", "en")
    records = packet.records
    assert records["patient"] == {"name": "Pat Patient", "record_number": "MRN-001"}
    assert records["programs"] == ["Stimulant vouchers"]
    assert [(s["on"], s["status"], s["validity"], s["method"], s["version"], s["results"])
            for s in records["results"]] == [
        ("2026-11-02", "final", "valid", "poc", 1, NEG), ("2026-11-04", "final", "valid", "poc", 1, NEG),
        ("2026-11-06", "final", "valid", "poc", 1, NEG), ("2026-11-11", "missed", None, None, 1, [])]
    assert [(v["on"], v["kind"], v["state"], v["reason"]) for v in records["attendance"]] == [
        ("2026-11-02", "test", "attended", None), ("2026-11-04", "test", "attended", None),
        ("2026-11-06", "test", "attended", None), ("2026-11-09", "test", "excused", "Court date"),
        ("2026-11-11", "test", "missed", None)]
    assert [(e["on"], e["kind"], e["label"], e["points"], e["value_cents"]) for e in records["rewards"]] == [
        ("2026-11-02", "award", "stimulants", 10, 250), ("2026-11-04", "award", "stimulants", 15, 375),
        ("2026-11-06", "award", "stimulants", 60, 1500)]
    assert "activities" not in records


def test_a_blank_description_names_the_records_and_the_period(app, personas, november):
    _record(app, personas.patient, november.consent)
    [row] = audit_rows(app, "disclosure.create")
    from cm_tracker.extensions import db
    from cm_tracker.models import Disclosure

    with app.app_context():
        disclosure = db.session.get(Disclosure, int(row.object_id))
        assert disclosure.description == "Test results and attendance, 1 November to 30 November 2026"
        assert (disclosure.recipient, disclosure.disclosed_on.isoformat()) == (RECIPIENT, "2026-12-01")


def test_the_packet_page_prints_the_records_the_notice_and_a_copy_of_the_consent(app, personas, november):
    client, response = _record(app, personas.patient, november.consent)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    packet = stored_packet(app)
    assert "Notice to accompany disclosure (42 CFR 2.32)" in html
    assert "prohibit you from using or disclosing this record" in html
    assert "Copy of the patient's consent" in html
    for fact in ("Urine test results and attendance, November 2026", "Coordinating my treatment",
                 "Friday, November 20, 2026", "after Wednesday, June 30, 2027", "In effect", "MRN-001",
                 "Court date", packet.content_digest):
        assert fact in html, fact
    assert html.count("cocaine: <strong>negative</strong>") == 3
    assert re.search(r"Status on the day disclosed</dt><dd>In effect", html)


def test_the_packet_is_unchanged_after_a_result_is_corrected_later(app, client, personas, november):
    signed, response = _record(app, personas.patient, november.consent)
    before = stored_packet(app)
    corrected = client.patch(f"/api/v1/specimens/{november.specimens[0]}", headers=november.headers, json={
        "version": 1, "reason": "The lab's confirmation was positive",
        **specimen_body(2, {"cocaine": "positive", "methamphetamine": "negative"})})
    assert corrected.status_code == 200, corrected.get_json()
    html = signed.get(response.headers["Location"]).get_data(as_text=True)
    after = stored_packet(app)
    assert (after.content, after.content_digest) == (before.content, before.content_digest)
    assert "positive" not in html and html.count("cocaine: <strong>negative</strong>") == 3


def test_a_spanish_packet_is_printed_in_spanish(app, personas, november):
    client, response = _record(app, personas.patient, november.consent, language="es")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="packet-sheet" lang="es"' in html
    for words in ("Aviso que acompaña a la divulgación (42 CFR 2.32)", "Copia del consentimiento del paciente",
                  "cocaína: <strong>negativo</strong>", "Justificado: Court date", "Faltó",
                  "viernes, 20 de noviembre de 2026", "Tipos de registro</dt><dd>Resultados de análisis, Asistencia"):
        assert words in html, words
    assert "Test results and attendance" not in html  # the English description is said in Spanish instead
    assert "Print the packet" in html  # the staff page around it stays English


def test_every_view_of_a_packet_is_audited_as_an_export(app, personas, november):
    client, response = _record(app, personas.patient, november.consent, language="es")
    client.get(response.headers["Location"])
    client.get(response.headers["Location"])
    rows = audit_rows(app, "report.export", object_type="disclosure")
    assert [(r.object_id, r.patient_ids, r.detail) for r in rows] == [
        (str(stored_packet(app).disclosure_id), f",{personas.patient},", {"packet": True, "language": "es"})] * 2


def test_a_form_sent_twice_records_one_disclosure(app, personas, november):
    client, first = _record(app, personas.patient, november.consent)
    again = client.post(new_page(personas.patient), data=form_data(november.consent))
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert counts(app) == (1, 1)
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already recorded" in page and "nothing was recorded twice" in page


def test_four_sends_of_one_form_at_the_same_moment_record_one_disclosure(app, personas, november):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.consents import DisclosureInput, record_disclosure_once
    from cm_tracker.services.usecases.disclosure_packets import PacketChoice

    values = DisclosureInput(consent_id=november.consent, recipient=RECIPIENT, description="",
                             disclosed_on=date(2026, 12, 1))
    choice = PacketChoice(date(2026, 11, 1), date(2026, 11, 30), ("results",), "en")

    def send(_i: int) -> bool:
        with app.test_request_context():
            return record_disclosure_once(db.session.get(Patient, personas.patient), values, packet=choice,
                                          actor=db.session.get(User, personas.counselor), form_key="same").replayed

    assert sorted(in_threads(app, 4, send)) == [False, True, True, True]
    assert counts(app) == (1, 1)


def test_a_new_form_has_a_fresh_key_and_records_another_disclosure(app, personas, november):
    client, _ = _record(app, personas.patient, november.consent)
    html = client.get(new_page(personas.patient)).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    second = client.post(new_page(personas.patient), data=form_data(november.consent, key=key))
    assert second.status_code == 302 and counts(app) == (2, 2)


def test_a_recipient_the_consent_does_not_name_is_refused_on_the_form_with_everything_kept(app, personas, november):
    _, response = _record(app, personas.patient, november.consent, recipient="Riverside Police Department",
                          period_from="2026-11-03", language="es", include=["rewards"])
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "No consent permits this disclosure: The consent names" in html and "not this recipient" in html
    assert 'value="Riverside Police Department"' in html and 'value="2026-11-03"' in html
    assert re.search(r'value="es"[^>]*checked|checked[^>]*value="es"', html)
    assert re.search(r'checked[^>]*value="rewards"|value="rewards"[^>]*checked', html)
    assert counts(app) == (0, 0)


def test_a_consent_revoked_since_the_form_opened_is_refused_with_its_reason(app, client, personas, november):
    revoked = client.post(f"/api/v1/consents/{november.consent}/revocation", headers=november.headers,
                          json={"revoked_on": "2026-11-30"})
    assert revoked.status_code == 200
    _, response = _record(app, personas.patient, november.consent)
    assert response.status_code == 409
    assert "The consent was revoked on 2026-11-30." in response.get_data(as_text=True)
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"period_to": "2026-12-02"}, "period_to", "Must not be after the day disclosed"),
    ({"period_from": "1989-12-31"}, "period_from", "Must be on or after 1990-01-01."),
    ({"period_from": "2026-11-20", "period_to": "2026-11-10"}, "period_to", "Must not be before the first day."),
    ({"include": None}, "include", "Choose at least one of"),
    ({"period_from": ""}, "period_from", "Give the first day of the records as YYYY-MM-DD."),
    ({"sent": "outside"}, "description", "Say what was disclosed: required for records sent outside cm-tracker."),
])
def test_a_packet_the_rules_refuse_is_shown_beside_its_field(app, personas, november, changes, field, message):
    _, response = _record(app, personas.patient, november.consent, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), (field, error and error.group(1))
    assert counts(app) == (0, 0)


def test_records_sent_outside_cm_tracker_are_recorded_without_a_packet(app, personas, november):
    client, response = _record(app, personas.patient, november.consent, sent="outside",
                               description="Discharge summary faxed from the paper chart")
    assert response.status_code == 302 and counts(app) == (1, 0)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Records sent outside cm-tracker" in html and "Discharge summary faxed from the paper chart" in html
    assert "Notice to accompany disclosure (42 CFR 2.32)" in html and "Copy of the patient's consent" in html
    [row] = audit_rows(app, "report.export", object_type="disclosure")
    assert row.detail == {"packet": False, "language": None}


def test_a_class_consent_needs_the_attestation_that_the_recipient_belongs_to_it(app, client, personas, november):
    response = client.post(f"/api/v1/patients/{personas.patient}/consents", headers=november.headers, json={
        "recipient": "My treating providers", "recipient_kind": "tpo_class", "purpose": "Treatment",
        "information": "All my records", "signed_on": "2026-11-25", "expires_on": "2027-11-25"})
    consent = response.get_json()["id"]
    page = signed_in(app).get(new_page(personas.patient, consent)).get_data(as_text=True)
    assert re.search(r'name="recipient"[^>]*value=""', page) and "My treating providers" in page
    _, refused = _record(app, personas.patient, consent, recipient="Dr Lee, Eastside Health")
    assert refused.status_code == 422 and "Confirm that the recipient is one of: My treating providers." in \
        refused.get_data(as_text=True)
    _, done = _record(app, personas.patient, consent, recipient="Dr Lee, Eastside Health", in_class="y")
    assert done.status_code == 302 and counts(app) == (1, 1)


def test_the_form_offers_only_consents_in_effect_and_explains_when_there_is_none(app, client, personas, november):
    client.post(f"/api/v1/consents/{november.consent}/revocation", headers=november.headers,
                json={"revoked_on": "2026-11-30"})
    html = signed_in(app).get(new_page(personas.patient, november.consent)).get_data(as_text=True)
    assert "No consent permits a disclosure today" in html
    assert "1 recorded consent is expired, revoked or waiting" in html
    assert f'href="/staff/patients/{personas.patient}/consents"' in html
    assert 'name="recipient"' not in html


def test_the_form_is_prefilled_for_a_named_consent(app, personas, november):
    html = signed_in(app).get(new_page(personas.patient)).get_data(as_text=True)
    assert f'value="{RECIPIENT}"' in html
    assert re.search(r'name="disclosed_on"[^>]*value="2026-12-01"', html)
    assert re.search(r'name="period_from"[^>]*value="2026-11-02"', html)  # the enrolment's start, not 1 Nov
    assert re.search(r'name="period_to"[^>]*value="2026-12-01"', html)
    assert "Urine test results and attendance, November 2026" in html  # the consent's scope beside the choices


def test_a_manager_records_a_disclosure_too(app, personas, november):
    _, response = _record(app, personas.patient, november.consent, username="max")
    assert response.status_code == 302 and counts(app) == (1, 1)


@pytest.mark.parametrize("path", ["new", "packet"])
def test_a_counselor_of_another_caseload_gets_404_and_nothing_is_written(app, personas, november, path):
    _, response = _record(app, personas.patient, november.consent)
    url = response.headers["Location"] if path == "packet" else new_page(personas.patient)
    otto = signed_in(app, "otto")
    assert otto.get(url).status_code == 404
    assert otto.post(new_page(personas.patient), data=form_data(november.consent, key="k2")).status_code == 404
    assert counts(app) == (1, 1)


def test_another_patients_disclosure_and_an_unknown_patient_are_404(app, personas, november):
    client, response = _record(app, personas.patient, november.consent, username="ada")
    disclosure = stored_packet(app).disclosure_id
    assert client.get(_packet_url(personas.other_patient, disclosure)).status_code == 404
    assert client.get(_packet_url(personas.patient, disclosure + 1)).status_code == 404
    assert client.get(new_page(99999)).status_code == 404
    assert signed_in(app, "pat").get(response.headers["Location"]).status_code == 404


def test_a_form_naming_no_consent_of_the_patient_asks_for_one_and_writes_nothing(app, client, personas, november):
    olives = client.post(f"/api/v1/patients/{personas.other_patient}/consents", headers=api_token(client, "otto"),
                         json={"recipient": RECIPIENT, "purpose": "Care", "information": "Results",
                               "signed_on": "2026-11-20", "expires_on": "2027-06-30"}).get_json()["id"]
    for consent in (olives, 0):
        _, response = _record(app, personas.patient, consent, username="ada")
        assert response.status_code == 422
        assert "Choose one of the patient&#39;s consents below; none was recorded." in response.get_data(as_text=True)
    assert counts(app) == (0, 0)
