"""The story world: a patient's real history, told through the services the desk uses, on fixed days of November
2026. Tests that read it pin the clock to STORY_NOW (tests/portal/conftest.py does so for every portal test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Flask

from worlds.personas import Personas

# The Friday after the last test, at noon at the clinic (America/Los_Angeles).
STORY_NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)

STORY_RESULTS = [  # (day of November 2026, result) for Pat's stimulant tests
    (2, "N"), (4, "N"), (6, "N"), (9, "P"), (11, "N"), (13, "M"), (16, "N"), (18, "N"),
]


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


def story_world(app: Flask, personas: Personas) -> Story:
    """On top of the personas: Pat's tests N N N P(corrected to N by Cora, "lab confirmation") N M N N on 2-18 Nov
    2026, +10 points from Max ("Helped at the health fair"), a bus pass (20 points, 5 in stock) redeemed and handed
    over, a phone card (2,000 points) out of reach, a small prize won and waiting; test visits yesterday, in 2 days
    (`next_visit`) and in 6, past the episode's end in 4 days. Olive (Otto's) has two negatives, a bus-pass request
    waiting and a session tomorrow."""
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
