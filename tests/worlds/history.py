"""The history world: a patient's record written directly as rows (no services, no engine replay), for pages that
only read what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Flask

from worlds.personas import Personas


@dataclass
class History:
    today: date
    next_visit: date
    later_visit: date


def history_world(app: Flask, personas: Personas) -> History:
    """On top of the personas: Pat (Cora's caseload) earned 85 points on final specimens of 2, 4 and 6 Nov 2026 (the
    escalating awards' reasons as the engine words them), holds 2 prize draws from a group, spent 35 on a bus pass
    (50 points left, $12.50), and has test visits 3 days ago, in 2 days (`next_visit`) and in 4 (`later_visit`);
    Olive earned 10 points. The ledger rows carry no engine history: nothing re-evaluates them."""
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
    from cm_tracker.services.core.clinic import clinic_today

    with app.app_context():
        today = clinic_today()
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
