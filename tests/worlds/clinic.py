"""The clinic world, built to order: one programme of the given schedule and limits, a counselor and one patient
enrolled from START (Mon 5 Jan 2026, Mondays and Thursdays), and the histories written on it through the services.

Call inside an app context (the `make_clinic` fixture gives one). Moments and specimens come from tests/factories.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask

from factories import START, STIMULANTS, at, specimen

if TYPE_CHECKING:
    from cm_tracker.models import CapWindow


@dataclass
class Clinic:
    app: Flask
    patient_id: int
    counselor_id: int
    enrollment_id: int
    program_id: int


def clinic_world(app: Flask, schedule: dict[str, Any] | None = None, *, cap_cents: int = 10_000_000,
                 cap_window: CapWindow | None = None, max_award_cents: int | None = None, point_value_cents: int = 25,
                 targets: list[dict[str, Any]] | None = None, **program: Any) -> Clinic:
    """A new counselor, programme ("P<n>", 24 weeks, one stimulants target of `schedule`, by default escalating
    10 + 5, 40 bonus every 3; or the given `targets`; the cap over an episode unless `cap_window` says otherwise) and
    patient "Pat" (R<programme id>) enrolled from START."""
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        CapWindow,
        Enrollment,
        Patient,
        Program,
        ProgramTarget,
        Role,
        ScheduleVersion,
        TargetKind,
        User,
    )

    counselor = User(username=f"c{db.session.query(User).count()}", display_name="C", role=Role.COUNSELOR,
                     password_hash="x")
    prog = Program(name=f"P{db.session.query(Program).count()}", point_value_cents=point_value_cents, weeks=24,
                   visit_days=["mon", "thu"], cap_cents=cap_cents, cap_window=cap_window or CapWindow.EPISODE,
                   max_award_cents=max_award_cents, **program)
    targets = targets or [{"key": "stimulants", "kind": "abstinence", "analytes": STIMULANTS,
                           "schedule": schedule or {"kind": "escalating", "start": 10, "step": 5,
                                                    "bonus_every": 3, "bonus": 40}}]
    for i, spec in enumerate(targets):
        target = ProgramTarget(key=spec["key"], label=spec.get("label", spec["key"]), kind=TargetKind(spec["kind"]),
                               analytes=spec.get("analytes", []), position=i)
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=START, schedule=spec["schedule"]))
        prog.targets.append(target)
    db.session.add_all([counselor, prog])
    db.session.flush()
    patient = Patient(display_name="Pat", record_number=f"R{prog.id}", counselor_id=counselor.id)
    db.session.add(patient)
    db.session.flush()
    enrollment = Enrollment(patient_id=patient.id, program_id=prog.id, start_on=START, visit_days=["mon", "thu"])
    db.session.add(enrollment)
    db.session.commit()
    return Clinic(app, patient.id, counselor.id, enrollment.id, prog.id)


def record(clinic: Clinic, history: list[tuple[int, str]], patient_id: int | None = None) -> list[int]:
    """Record (day, code) specimens through usecases.specimens.record_specimen; returns the specimen ids."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    patient = db.session.get(Patient, patient_id or clinic.patient_id)
    actor = db.session.get(User, clinic.counselor_id)
    return [record_specimen(patient, specimen(code, collected_at=at(day)), actor=actor).specimen.id
            for day, code in history]


def schedule(enrollment_id: int, days: list[int]) -> None:
    """Scheduled test visits on these programme days (the clinic world schedules none)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import ScheduledVisit, VisitKind

    db.session.add_all([ScheduledVisit(enrollment_id=enrollment_id, due_on=START + timedelta(days=d),
                                       kind=VisitKind.TEST) for d in days])
    db.session.commit()


def excuse(enrollment_id: int, day: int) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Excuse

    db.session.add(Excuse(enrollment_id=enrollment_id, excused_on=START + timedelta(days=day), reason="Court date"))
    db.session.commit()


def another_patient(clinic: Clinic, name: str = "Second") -> tuple[int, int]:
    """A second patient in the clinic's programme: (patient id, enrollment id)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient

    patient = Patient(display_name=name, record_number=f"R{clinic.program_id}-{name}", counselor_id=clinic.counselor_id)
    db.session.add(patient)
    db.session.flush()
    enrollment = Enrollment(patient_id=patient.id, program_id=clinic.program_id, start_on=START,
                            visit_days=["mon", "thu"])
    db.session.add(enrollment)
    db.session.commit()
    return patient.id, enrollment.id
