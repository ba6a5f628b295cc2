"""The personas world (healthchecks-style): an account for every role, and a second counselor whose caseload must
stay out of the first one's reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask

from helpers import PASSWORD

STIMULANT_SCHEDULE = {"kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}


@dataclass
class Personas:
    """Ids of every role, plus a second counselor whose caseload must stay out of reach of the first."""

    admin: int
    manager: int
    counselor: int
    other_counselor: int
    patient_user: int
    patient: int
    other_patient: int
    program: int


def personas_world(app: Flask) -> Personas:
    """Accounts ada (admin), max (manager), cora and otto (counselors) and pat (Pat's portal account), all with
    helpers.PASSWORD; the "Stimulant vouchers" programme (25 cents a point, 12 weeks, Mon/Wed/Fri, a $997.50 cap per
    episode, one escalating stimulants target); Pat Patient (MRN-001, Cora's) and Olive Other (MRN-002, Otto's), both
    enrolled from Mon 2 Nov 2026, with nothing recorded."""
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Enrollment, Patient, Program, ProgramTarget, ScheduleVersion, TargetKind
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        make = accounts.create_user
        admin = make(username="ada", password=PASSWORD, role="admin", display_name="Ada Admin")
        manager = make(username="max", password=PASSWORD, role="manager", display_name="Max Manager")
        counselor = make(username="cora", password=PASSWORD, role="counselor", display_name="Cora Counselor")
        other = make(username="otto", password=PASSWORD, role="counselor", display_name="Otto Other")
        program = Program(name="Stimulant vouchers", point_value_cents=25, weeks=12, visit_days=["mon", "wed", "fri"],
                          cap_cents=99750, cap_window=CapWindow.EPISODE)
        target = ProgramTarget(key="stimulants", label="stimulants", kind=TargetKind.ABSTINENCE,
                               analytes=["cocaine", "methamphetamine"])
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1),
                                                        schedule=STIMULANT_SCHEDULE))
        program.targets.append(target)
        patient = Patient(display_name="Pat Patient", record_number="MRN-001", counselor_id=counselor.id)
        other_patient = Patient(display_name="Olive Other", record_number="MRN-002", counselor_id=other.id)
        db.session.add_all([program, patient, other_patient])
        db.session.flush()
        for p in (patient, other_patient):
            db.session.add(Enrollment(patient_id=p.id, program_id=program.id, start_on=date(2026, 11, 2),
                                      visit_days=["mon", "wed", "fri"]))
        db.session.commit()
        patient_user = make(username="pat", password=PASSWORD, role="patient", display_name="Pat",
                            patient_id=patient.id)
        return Personas(admin.id, manager.id, counselor.id, other.id, patient_user.id, patient.id,
                        other_patient.id, program.id)
