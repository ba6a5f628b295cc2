"""The portal says why a correction happened, under each correction line: the lab, staff with the reason they gave,
an excuse or a closure with its reason; in English and Spanish."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from helpers import sign_in


def _whys(html: str) -> list[str]:
    """The text of each correction line's reason, newest first."""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'<p class="line-note line-why">(.*?)</p>', html, flags=re.S)]


def _history(client, app, personas, locale: str | None = None) -> str:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    if locale:
        with app.app_context():
            db.session.get(User, personas.patient_user).locale = locale
            db.session.commit()
    sign_in(client, "pat")
    return client.get("/portal/history").get_data(as_text=True)


def _specimen_on(app, personas, day: int):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    return db.session.scalar(select(Specimen).where(
        Specimen.patient_id == personas.patient, Specimen.collected_at == datetime(2026, 11, day, 18, 0, tzinfo=UTC)))


def test_a_staff_correction_shows_the_reason_staff_gave(client, app, personas, story):
    html = _history(client, app, personas)
    # The correction of 9 November changed that test and the streak of the next one: both lines say why.
    assert _whys(html) == ["Corrected by staff: lab confirmation"] * 2
    assert '<q lang="en">lab confirmation</q>' in html


def test_a_lab_result_replacing_the_cup_is_corrected_by_the_lab(client, app, personas, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases.specimens import correct_specimen

    with app.app_context():
        cup = _specimen_on(app, personas, 16)
        correct_specimen(cup, version=cup.version, reason="LabCorp accession 4411", actor=db.session.get(
            User, personas.counselor), changes={"method": "lab", "results": {"cocaine": "positive",
                                                                             "methamphetamine": "negative"}})
    whys = _whys(_history(client, app, personas))
    assert whys[0] == "Corrected by the lab" and "LabCorp" not in whys[0]


def test_an_excuse_after_a_missed_test_says_the_clinic_excused_it(client, app, personas, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.visits import excuse_day

    with app.app_context():
        excuse_day(db.session.get(Patient, personas.patient), on=date(2026, 11, 13), reason="Court date",
                   actor=db.session.get(User, personas.counselor))
    html = _history(client, app, personas)
    assert _whys(html)[0] == "Excused by the clinic: Court date" and '<q lang="en">Court date</q>' in html


def test_the_reasons_read_in_spanish(client, app, personas, story):
    html = _history(client, app, personas, locale="es")
    assert _whys(html) == ["Corregido por el personal: lab confirmation"] * 2
