"""The matrix world: one row of every kind a route of the access matrix names, for the personas' patients. Written
directly as rows: the matrix tests reach, not the services' rules."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from worlds.personas import Personas


def matrix_world(app: Flask, personas: Personas) -> dict[str, int]:
    """The ids the matrix fills its paths with: {patient} (Pat, Cora's), {program}, {user} (Max), a missed
    {specimen} of Pat's recorded now, the rewards rows and the desk rows below."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen
    from cm_tracker.timeutil import utcnow

    with app.app_context():
        specimen = record_specimen(db.session.get(Patient, personas.patient),
                                   SpecimenInput(collected_at=utcnow(), status="missed"),
                                   actor=db.session.get(User, personas.counselor)).specimen
        return {"patient": personas.patient, "program": personas.program, "user": personas.manager,
                "specimen": specimen.id, **_reward_rows(personas), **_desk_rows(personas),
                "export": _export_row(personas)}


def _reward_rows(personas: Personas) -> dict[str, int]:
    """A {reward} voucher, a fulfilled {redemption} of it (with its ledger rows) and a handed-over prize {draw}."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        Draw,
        Enrollment,
        EntryKind,
        LedgerEntry,
        Redemption,
        RedemptionStatus,
        Reward,
        RewardKind,
    )
    from cm_tracker.timeutil import utcnow

    enrollment_id = db.session.scalar(select(Enrollment.id).where(Enrollment.patient_id == personas.patient))
    now = utcnow()
    voucher = Reward(kind=RewardKind.VOUCHER, name="Gift card", cost_points=10, value_cents=250, is_stocked=False)
    prize = Reward(kind=RewardKind.PRIZE, name="Mug", tier="small", value_cents=100)
    db.session.add_all([voucher, prize])
    db.session.flush()
    redemption = Redemption(patient_id=personas.patient, enrollment_id=enrollment_id, reward_id=voucher.id,
                            quantity=1, points=10, status=RedemptionStatus.FULFILLED, fulfilled_at=now,
                            fulfilled_by_id=personas.counselor)
    draw = Draw(patient_id=personas.patient, enrollment_id=enrollment_id, drawn_tier="small", tier="small",
                value_cents=100, reward_id=prize.id, handed_over_at=now, handed_over_by_id=personas.counselor)
    db.session.add_all([redemption, draw])
    db.session.flush()
    db.session.add_all([
        LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment_id, kind=EntryKind.MANUAL, points=10,
                    reason="Manual adjustment: matrix"),
        LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment_id, kind=EntryKind.REDEMPTION,
                    points=-10, reason="Redeemed Gift card", redemption_id=redemption.id)])
    db.session.commit()
    return {"reward": voucher.id, "redemption": redemption.id, "draw": draw.id}


def _desk_rows(personas: Personas) -> dict[str, int]:
    """Group and goal targets on the programme, an open test {visit} yesterday, a session mark ({attendance}) two
    days ago and a goal {activity}."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AttendanceRecord,
        AttendanceStatus,
        Enrollment,
        GoalActivity,
        ProgramTarget,
        ScheduledVisit,
        ScheduleVersion,
        TargetKind,
        VisitKind,
    )
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.timeutil import utcnow

    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
    for key, kind in (("groups", TargetKind.ATTENDANCE), ("goals", TargetKind.ACTIVITY)):
        if db.session.scalar(select(ProgramTarget.id).where(ProgramTarget.program_id == personas.program,
                                                            ProgramTarget.key == key)) is None:
            target = ProgramTarget(program_id=personas.program, key=key, label=key, kind=kind, position=5)
            target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1),
                                                            schedule={"kind": "fixed", "points": 5}))
            db.session.add(target)
    visit = ScheduledVisit(enrollment_id=enrollment.id, due_on=clinic_today() - timedelta(days=1), kind=VisitKind.TEST)
    mark = AttendanceRecord(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="groups",
                            occurred_at=utcnow() - timedelta(days=2), status=AttendanceStatus.ATTENDED)
    activity = GoalActivity(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="goals",
                            week_of=date(2026, 11, 16), description="Job interview", verification="Signed letter")
    db.session.add_all([visit, mark, activity])
    db.session.commit()
    return {"visit": visit.id, "attendance": mark.id, "activity": activity.id}


def _export_row(personas: Personas) -> int:
    """An {export}: the audit row of Max's export of the outcomes' patients table, naming Pat and Olive."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, AuditOutcome
    from cm_tracker.models.audit import listed

    row = AuditEvent(user_id=personas.manager, username="max", role="manager", action="report.export",
                     object_type="report", object_id="outcomes/patients", outcome=AuditOutcome.SUCCESS,
                     patient_ids=listed([personas.patient, personas.other_patient]),
                     detail={"program_id": personas.program, "identified": True})
    db.session.add(row)
    db.session.commit()
    return row.id
