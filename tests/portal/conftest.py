"""A patient with a real history, built through the services the desk uses: results, a correction, a manual
adjustment, a redemption handed over, a prize waiting, scheduled visits and a catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from web.conftest import csrf_app  # noqa: F401 - the CSRF-on app, for the portal's forms too

# The story is told on fixed days of November 2026, so its tests run on the Friday after the last test, at noon at
# the clinic (America/Los_Angeles), whatever the real date or the suite's --clock.
STORY_NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)

STORY_RESULTS = [  # (day of November 2026, result) for Pat's stimulant tests
    (2, "N"), (4, "N"), (6, "N"), (9, "P"), (11, "N"), (13, "M"), (16, "N"), (18, "N"),
]


@pytest.hookimpl(tryfirst=True)  # before time-machine's own hook, which turns the marker into its fixture
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.time_machine(STORY_NOW))


@dataclass
class Story:
    today: date
    next_visit: date
    bus_pass: int
    phone_card: int
    fulfilled: int
    corrected_specimen: int
    olive_request: int


def _specimen(day: int, result: str):
    from cm_tracker.models import AnalyteResult, SpecimenStatus, Validity
    from cm_tracker.services.usecases.specimens import SpecimenInput

    at = datetime(2026, 11, day, 18, 0, tzinfo=UTC)
    if result == "M":
        return SpecimenInput(collected_at=at, status=SpecimenStatus.MISSED)
    cocaine = AnalyteResult.POSITIVE if result == "P" else AnalyteResult.NEGATIVE
    return SpecimenInput(collected_at=at, status=SpecimenStatus.FINAL, temperature_ok=True, validity=Validity.VALID,
                         results={"cocaine": cocaine, "methamphetamine": AnalyteResult.NEGATIVE})


def tell_story(app: Flask, personas) -> Story:
    """Pat: N N N P(corrected to N) N M N N, +10 manual, a bus pass handed over, a small prize waiting."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Draw, Enrollment, Patient, ScheduledVisit, User, VisitKind
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases import adjustments, catalog, redemptions, specimens
    from cm_tracker.timeutil import utcnow

    with app.app_context():
        pat = db.session.get(Patient, personas.patient)
        olive = db.session.get(Patient, personas.other_patient)
        cora = db.session.get(User, personas.counselor)
        max_ = db.session.get(User, personas.manager)
        recorded = [specimens.record_specimen(pat, _specimen(day, r), actor=cora).specimen for day, r in STORY_RESULTS]
        positive = recorded[3]
        specimens.correct_specimen(positive, version=positive.version, reason="lab confirmation",
                                   changes={"results": {"cocaine": "negative", "methamphetamine": "negative"}},
                                   actor=cora)
        adjustments.post_adjustment(pat, points=10, draws=0, reason="Helped at the health fair", actor=max_)
        bus = catalog.create_reward(catalog.RewardInput(name="Bus pass", value_cents=500, cost_points=20,
                                                        program_id=personas.program), opening_stock=5, actor=max_)
        phone = catalog.create_reward(catalog.RewardInput(name="Phone card", value_cents=5000, cost_points=2000,
                                                          program_id=personas.program), opening_stock=3, actor=max_)
        fulfilled = redemptions.redeem(pat, bus, 1, actor=cora).redemption
        otto = db.session.get(User, personas.other_counselor)
        for day in (2, 4):
            specimens.record_specimen(olive, _specimen(day, "N"), actor=otto)
        olive_request = redemptions.request_redemption(olive, bus, 1, actor=max_)
        enrollment = pat.enrollments[0]
        db.session.add(Draw(patient_id=pat.id, enrollment_id=enrollment.id, drawn_at=utcnow(), drawn_tier="small",
                            tier="small", value_cents=100))
        today = clinic_today()
        next_visit = today + timedelta(days=2)
        enrollment.end_on = today + timedelta(days=4)
        for due in (today - timedelta(days=1), next_visit, today + timedelta(days=6)):
            db.session.add(ScheduledVisit(enrollment_id=enrollment.id, due_on=due, kind=VisitKind.TEST,
                                          target_key="stimulants"))
        db.session.add(ScheduledVisit(enrollment_id=db.session.get(Enrollment, olive.enrollments[0].id).id,
                                      due_on=today + timedelta(days=1), kind=VisitKind.SESSION))
        db.session.commit()
        return Story(today, next_visit, bus.id, phone.id, fulfilled.id, positive.id, olive_request.id)


@pytest.fixture
def story(app: Flask, personas) -> Story:
    return tell_story(app, personas)
