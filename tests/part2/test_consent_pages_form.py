"""The consent form printed for the patient to sign (42 CFR 2.31(a), 2024 rule): every element, in English or
Spanish as chosen, what was typed printed and what was left blank as lines to fill in by hand."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from part2.consent_pages_support import FORM, NOW

from helpers import sign_in

pytestmark = pytest.mark.time_machine(NOW)

# Each element of a 2.31 consent, as the printed form words it, in each language.
ELEMENTS = {
    "en": ["Pat Patient", "MRN-001", "authorize Riverside CM programme to disclose",
           "substance use disorder", "Urine test results and attendance, January to March 2027",
           "Dr Ana Ruiz, Riverside Clinic", "Coordinating my treatment",
           "I may revoke (cancel) this consent at any time, in writing",
           "Revoking it does not undo disclosures already made under it",
           "To revoke it, I give or send a signed, written request",
           "This consent expires on Friday, December 31, 2027.",
           "may not make my treatment, payment, enrolment or eligibility for benefits conditional",
           "Signature of the patient", "Signature of the person authorized to sign", "Relationship to the patient",
           "Witness (staff member)"],
    "es": ["Pat Patient", "MRN-001", "autorizo a Riverside CM programme a divulgar",
           "trastorno por consumo de sustancias", "Urine test results and attendance, January to March 2027",
           "Dr Ana Ruiz, Riverside Clinic", "Coordinating my treatment",
           "Puedo revocar (cancelar) este consentimiento en cualquier momento, por escrito",
           "Revocarlo no deshace las divulgaciones ya hechas con él",
           "Para revocarlo, entrego o envío",
           "Este consentimiento vence el viernes, 31 de diciembre de 2027.",
           "no puede condicionar mi tratamiento", "Firma del paciente",
           "Firma de la persona autorizada para firmar", "Relación con el paciente",
           "Testigo (miembro del personal)"],
}


def _printed(client, patient: int, **args: str) -> str:
    response = client.get(f"/staff/patients/{patient}/consents/form?{urlencode(args)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_printed_form_carries_every_element_of_a_consent_in_the_chosen_language(app, client, personas, lang):
    sign_in(client, "cora")
    html = _printed(client, personas.patient, **FORM, lang=lang)
    missing = [e for e in ELEMENTS[lang] if e not in html]
    assert missing == []
    assert f'<html lang="{lang}">' in html
    assert "Redisclosure under HIPAA" not in html and "Nueva divulgación según HIPAA" not in html  # a named consent


def test_the_spanish_form_has_no_english_sentence_of_the_form_left(app, client, personas):
    sign_in(client, "cora")
    html = _printed(client, personas.patient, **FORM, lang="es")
    for english in ("Consent to disclose", "My right to revoke", "Signature of", "Who may disclose"):
        assert english not in html.split("</nav>", 1)[1], english


def test_a_class_consent_prints_the_class_and_the_hipaa_redisclosure_statement(app, client, personas):
    sign_in(client, "cora")
    html = _printed(client, personas.patient, **{**FORM, "recipient_kind": "tpo_class",
                                                 "recipient": "my treating providers and my health plan"}, lang="es")
    assert "A esta categoría de destinatarios, para tratamiento, pago y operaciones de atención médica:" in html
    assert "my treating providers and my health plan" in html
    assert "entidad cubierta o un socio comercial según HIPAA puede volver a usar y divulgar" in html
    assert "salvo para usos y divulgaciones en procedimientos civiles, penales, administrativos y legislativos" in html


def test_blank_fields_print_as_lines_to_fill_in_by_hand(app, client, personas):
    sign_in(client, "cora")
    html = _printed(client, personas.patient, lang="en")
    assert html.count("(blank, to fill in by hand)") == 5  # information, recipient, purpose, expiry date and event
    assert f"authorize {app.config['CLINIC_NAME']} to disclose" in html  # the programme by default
    assert "This consent expires on this date:" in html
    assert "Pat Patient" in html and "MRN-001" in html


def test_an_expiry_by_date_and_event_prints_whichever_comes_first(app, client, personas):
    sign_in(client, "cora")
    html = _printed(client, personas.patient, **{**FORM, "expiry_event": "when I leave the programme"}, lang="en")
    assert ("This consent expires on Friday, December 31, 2027 or when this happens, whichever comes first: "
            "when I leave the programme") in html


def test_the_print_button_sends_the_form_without_its_csrf_token_in_the_printed_address(app, client, personas):
    sign_in(client, "cora")
    response = client.get(f"/staff/patients/{personas.patient}/consents/form?"
                          f"{urlencode({**FORM, 'lang': 'es', 'csrf_token': 'secret'})}")
    assert response.status_code == 302
    assert "csrf_token" not in response.headers["Location"] and "lang=es" in response.headers["Location"]
    assert "recipient=Dr+Ana+Ruiz" in response.headers["Location"]


def test_an_unknown_language_prints_in_english(app, client, personas):
    sign_in(client, "cora")
    assert '<html lang="en">' in _printed(client, personas.patient, lang="fr")


def test_the_new_consent_form_has_a_button_that_prints_what_was_typed(app, client, personas):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}/consents/new").get_data(as_text=True)
    assert f'formaction="/staff/patients/{personas.patient}/consents/form"' in html
    assert 'formmethod="get"' in html and "Print the form for signature" in html
