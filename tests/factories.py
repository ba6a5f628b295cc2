"""Building clinics, programmes and specimens for tests (import with `from factories import ...`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

STIMULANTS = ["cocaine", "methamphetamine"]
START = date(2026, 1, 5)  # a Monday


@dataclass
class Clinic:
    app: Flask
    patient_id: int
    counselor_id: int
    enrollment_id: int
    program_id: int


def at(day: int, hour: int = 17) -> datetime:
    """Day `day` of the programme (0 = the first Monday) at an hour that is that same date in the clinic."""
    return datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


@pytest.fixture
def make_clinic(app: Flask, ctx: None) -> Callable[..., Clinic]:
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

    def build(schedule: dict[str, Any] | None = None, *, cap_cents: int = 10_000_000,
              cap_window: CapWindow = CapWindow.EPISODE, max_award_cents: int | None = None,
              point_value_cents: int = 25, targets: list[dict[str, Any]] | None = None, **program: Any) -> Clinic:
        counselor = User(username=f"c{db.session.query(User).count()}", display_name="C", role=Role.COUNSELOR,
                         password_hash="x")
        prog = Program(name=f"P{db.session.query(Program).count()}", point_value_cents=point_value_cents, weeks=24,
                       visit_days=["mon", "thu"], cap_cents=cap_cents, cap_window=cap_window,
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

    return build


def specimen(result: str, **overrides: Any):
    """N, P, M (missed), E (excused), R (refused), D (dilute), or "N/P" for primary/bonus sets."""
    from cm_tracker.models import AnalyteResult, SpecimenStatus, Validity
    from cm_tracker.services.usecases.specimens import SpecimenInput

    when = overrides.pop("collected_at")
    primary, _, bonus = result.partition("/")
    if primary in {"M", "E", "R"}:
        status = {"M": SpecimenStatus.MISSED, "E": SpecimenStatus.EXCUSED, "R": SpecimenStatus.REFUSED}[primary]
        return SpecimenInput(collected_at=when, status=status, **overrides)
    value = AnalyteResult.NEGATIVE if primary in {"N", "D"} else AnalyteResult.POSITIVE
    results = {a: value for a in STIMULANTS}
    if bonus:
        results["opiates"] = AnalyteResult.NEGATIVE if bonus == "N" else AnalyteResult.POSITIVE
    validity = Validity.DILUTE if primary == "D" else Validity.VALID
    return SpecimenInput(collected_at=when, status=SpecimenStatus.FINAL, results=results, validity=validity,
                         temperature_ok=True, **overrides)
