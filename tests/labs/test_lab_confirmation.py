"""A cup the desk recorded negative that the lab finds positive: the lab's result replaces the cup's as a correction
naming the lab, the award is taken back, and the patient reads why in plain words (docs/labs.md "Statuses and what
they do")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from labs.lab_bodies import POSITIVE_COCAINE, body

from helpers import sign_in

pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)
COLLECTED = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def _confirmed_positive(app, personas, fmt: str = "hl7v2"):
    """Pat's cup of 30 November, negative at the desk (10 points), then the lab's positive for cocaine."""
    from cm_tracker.extensions import db
    from cm_tracker.models import LabFormat, Patient, Role, TestMethod, User
    from cm_tracker.services.usecases.lab_results import receive
    from cm_tracker.services.usecases.specimens import record_specimen

    from factories import specimen

    with app.app_context():
        cup = specimen("N", collected_at=COLLECTED, accession="ACC-1001", method=TestMethod.POC)
        desk = record_specimen(db.session.get(Patient, personas.patient), cup,
                               actor=db.session.get(User, personas.counselor))
        earned = sum(e.points for e in desk.awards)
        lab = User(username="acme", display_name="Acme integration", role=Role.LAB, password_hash="x")
        db.session.add(lab)
        db.session.commit()
        done = receive(body(fmt, POSITIVE_COCAINE), LabFormat(fmt), sender=lab, source="test")
        db.session.expunge_all()  # what receive answers with was loaded before its commit, and stays readable
        return earned, done.results[0]


@pytest.mark.parametrize(("fmt", "lab_name"), [("hl7v2", "ACME LABS"), ("csv", "Acme integration"),
                                                ("fhir", "Acme integration")])
def test_the_lab_finding_the_cup_positive_takes_the_award_back_with_a_reason_naming_the_lab(
        app, personas, fmt: str, lab_name: str) -> None:
    earned, result = _confirmed_positive(app, personas, fmt)
    assert (str(result.action), result.outcomes) == ("corrected", {"stimulants": "failure"})
    assert [e.points for e in result.adjustments] == [-earned] and earned > 0
    assert result.adjustments[0].reason.startswith(f"Correction (Lab result from {lab_name}, accession ACC-1001): ")


def _whys(html: str) -> list[str]:
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m))).strip()
            for m in re.findall(r'<p class="line-note line-why">(.*?)</p>', html, flags=re.S)]


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "The lab's test of your sample found cocaine, so the award for that test was taken back."),
    ("es", "La prueba del laboratorio encontró cocaína en tu muestra, así que se retiró el premio de esa prueba."),
])
def test_the_portal_says_in_plain_words_what_the_lab_found(client, app, personas, locale: str, said: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    _confirmed_positive(app, personas)
    with app.app_context():
        db.session.get(User, personas.patient_user).locale = locale
        db.session.commit()
    sign_in(client, "pat")
    html = client.get("/portal/history").get_data(as_text=True)
    assert _whys(html) == [said]
    assert "ACME" not in html  # the lab's name and the accession stay on the staff side
