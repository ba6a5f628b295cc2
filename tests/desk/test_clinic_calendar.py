"""Dates follow the clinic's calendar (America/Los_Angeles in tests), never the UTC date: at night the two differ.

Each test pins the instant where they differ, so that a UTC date taken by mistake gives another figure.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from factories import specimen
from helpers import sign_in

# Sunday 3 January 2027, 23:30 at the clinic (ISO week 2026-W53); already Monday 4 January (2027-W01) in UTC.
SUNDAY_NIGHT = datetime(2027, 1, 4, 7, 30, tzinfo=UTC)
# New Year's Eve, 23:30 at the clinic; already 2027 in UTC.
NEW_YEARS_EVE = datetime(2027, 1, 1, 7, 30, tzinfo=UTC)


def _record(clinic, *moments: datetime) -> list[int]:
    """Record a negative specimen at each moment; the points each one earned."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    enrollment.start_on = date(2026, 12, 28)
    db.session.commit()
    patient = db.session.get(Patient, clinic.patient_id)
    actor = db.session.get(User, clinic.counselor_id)
    return [sum(e.points for e in record_specimen(patient, specimen("N", collected_at=at), actor=actor).awards)
            for at in moments]


@pytest.mark.time_machine(datetime(2027, 1, 6, 20, 0, tzinfo=UTC))
def test_a_sunday_night_result_pays_in_the_clinics_iso_week_not_the_utc_one(make_clinic):
    clinic = make_clinic({"kind": "escalating", "start": 40, "step": 6, "escalate_per": "week"})
    monday = datetime(2026, 12, 28, 18, 0, tzinfo=UTC)
    next_wednesday = datetime(2027, 1, 6, 18, 0, tzinfo=UTC)
    # Monday and Sunday night are one week at the clinic (40, 40); the Wednesday after is the next week (46).
    assert _record(clinic, monday, SUNDAY_NIGHT, next_wednesday) == [40, 40, 46]


@pytest.mark.time_machine(datetime(2027, 1, 1, 7, 45, tzinfo=UTC))
def test_new_years_eve_at_the_clinic_counts_against_the_old_years_cap(app, make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Patient
    from cm_tracker.services.queries.statements import statement_for

    clinic = make_clinic({"kind": "fixed", "points": 40}, cap_cents=1000, cap_window=CapWindow.CALENDAR_YEAR)
    # $10 on 30 December fills 2026's $10 cap, so the New Year's Eve negative earns nothing.
    assert _record(clinic, datetime(2026, 12, 30, 20, 0, tzinfo=UTC), NEW_YEARS_EVE) == [40, 0]
    cap = statement_for(db.session.get(Patient, clinic.patient_id)).cap
    assert (cap.used_cents, cap.remaining_cents) == (1000, 0)  # today is still 2026 at the clinic


@pytest.mark.time_machine(datetime(2027, 1, 1, 20, 0, tzinfo=UTC))
def test_new_years_day_at_the_clinic_opens_a_new_cap_year(app, make_clinic):
    from cm_tracker.models import CapWindow

    clinic = make_clinic({"kind": "fixed", "points": 40}, cap_cents=1000, cap_window=CapWindow.CALENDAR_YEAR)
    new_years_day = datetime(2027, 1, 1, 18, 0, tzinfo=UTC)
    assert _record(clinic, datetime(2026, 12, 30, 20, 0, tzinfo=UTC), NEW_YEARS_EVE, new_years_day) == [40, 0, 40]


@pytest.mark.time_machine(datetime(2027, 1, 3, 7, 30, tzinfo=UTC))  # Saturday 2 January, 23:30 at the clinic
def test_the_desk_form_and_the_day_closing_offer_the_clinics_dates(client, personas):
    sign_in(client, "cora")
    desk = client.get(f"/staff/patients/{personas.patient}/specimens/new").get_data(as_text=True)
    assert re.search(r'name="collected_on"[^>]*value="2027-01-02"', desk)
    closing = client.get("/staff/close-day").get_data(as_text=True)
    assert re.search(r'name="day"[^>]*value="2027-01-01"', closing)
