"""Fixtures for the page tests: a patient history with ledger entries, visits and specimens, and a CSRF-on app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import TestConfig


@dataclass
class History:
    today: date
    next_visit: date
    later_visit: date


def clinic_today(app: Flask) -> date:
    from cm_tracker.timeutil import clinic_date, utcnow

    return clinic_date(utcnow(), app.config["CLINIC_TIMEZONE"])


@pytest.fixture
def history(app: Flask, personas) -> History:
    return seed_history(app, personas)


def seed_history(app: Flask, personas) -> History:
    """Pat (Cora's caseload) earned 85 points, spent 35 (50 left = $12.50) and holds 2 draws; Olive earned 10."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        Enrollment,
        EntryKind,
        EventType,
        LedgerEntry,
        ScheduledVisit,
        Specimen,
        SpecimenStatus,
        VisitKind,
    )

    today = clinic_today(app)
    with app.app_context():
        pat = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
        olive = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.other_patient))
        collected = [datetime(2026, 11, d, 17, 0, tzinfo=UTC) for d in (2, 4, 6)]
        specimens = [Specimen(patient_id=personas.patient, enrollment_id=pat.id, collected_at=at,
                              status=SpecimenStatus.FINAL) for at in collected]
        db.session.add_all(specimens)
        db.session.flush()
        awards = [(10, "Negative for stimulants, 1st in a row: 10 points"),
                  (15, "Negative for stimulants, 2nd in a row: 15 points (10 + 1 x 5)"),
                  (60, "Negative for stimulants, 3rd in a row: 60 points (20 + 40 bonus)")]
        for specimen, (points, reason) in zip(specimens, awards, strict=True):
            db.session.add(LedgerEntry(patient_id=personas.patient, enrollment_id=pat.id, kind=EntryKind.AWARD,
                                       target_key="stimulants", points=points, value_cents=points * 25,
                                       reason=reason, event_type=EventType.SPECIMEN, event_id=specimen.id,
                                       occurred_at=specimen.collected_at))
        db.session.add(LedgerEntry(patient_id=personas.patient, enrollment_id=pat.id, kind=EntryKind.AWARD,
                                   target_key="groups", draws=2, reason="Attended group: 2 prize draws",
                                   occurred_at=collected[-1]))
        db.session.add(LedgerEntry(patient_id=personas.patient, enrollment_id=pat.id, kind=EntryKind.REDEMPTION,
                                   points=-35, reason="Redeemed a bus pass: 35 points"))
        db.session.add(LedgerEntry(patient_id=personas.other_patient, enrollment_id=olive.id, kind=EntryKind.AWARD,
                                   target_key="stimulants", points=10, value_cents=250,
                                   reason="Negative for stimulants, 1st in a row: 10 points"))
        next_visit, later_visit = today + timedelta(days=2), today + timedelta(days=4)
        for due in (today - timedelta(days=3), next_visit, later_visit):
            db.session.add(ScheduledVisit(enrollment_id=pat.id, due_on=due, kind=VisitKind.TEST,
                                          target_key="stimulants"))
        db.session.commit()
    return History(today, next_visit, later_visit)


@pytest.fixture
def csrf_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """The same database as `app`, with CSRF protection on, as in production."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class CsrfConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = True

    application = create_app(CsrfConfig)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def csrf_token_from(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)
