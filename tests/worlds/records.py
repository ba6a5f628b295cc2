"""The records world: one record of each kind that a URL can name, for one patient (permissions.get_record_for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask


@dataclass(frozen=True)
class Records:
    """Ids of one patient's records of each kind that a URL can name, and a prize of the tier of the draw."""

    specimen: int
    attendance: int
    activity: int
    redemption: int
    draw: int
    prize: int


def records_world(app: Flask, patient_id: int) -> Records:
    """For `patient_id` (enrolled), on 4 Nov 2026: a pending specimen, an attended session mark, a goal activity, a
    requested bus-pass redemption (10 points) and a small-prize draw waiting, with a "Cinema ticket" prize of its
    tier. Written as rows: the routes under test only load them."""
    from sqlalchemy import select

    from cm_tracker.engine.outcomes import AttendanceStatus, SpecimenStatus
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AttendanceRecord,
        Draw,
        Enrollment,
        GoalActivity,
        Redemption,
        RedemptionStatus,
        Reward,
        RewardKind,
        Specimen,
    )

    at = datetime(2026, 11, 4, 17, 0, tzinfo=UTC)
    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment.id).where(Enrollment.patient_id == patient_id))
        voucher = Reward(kind=RewardKind.VOUCHER, name="Bus pass", cost_points=10, value_cents=250)
        prize = Reward(kind=RewardKind.PRIZE, name="Cinema ticket", tier="small", value_cents=100)
        db.session.add_all([voucher, prize])
        db.session.flush()
        rows = [
            Specimen(patient_id=patient_id, enrollment_id=enrollment, collected_at=at, status=SpecimenStatus.PENDING),
            AttendanceRecord(patient_id=patient_id, enrollment_id=enrollment, target_key="stimulants",
                             occurred_at=at, status=AttendanceStatus.ATTENDED),
            GoalActivity(patient_id=patient_id, enrollment_id=enrollment, target_key="stimulants",
                         week_of=date(2026, 11, 2), description="Job search", verification="A letter"),
            Redemption(patient_id=patient_id, enrollment_id=enrollment, reward_id=voucher.id, quantity=1, points=10,
                       status=RedemptionStatus.REQUESTED),
            Draw(patient_id=patient_id, enrollment_id=enrollment, drawn_tier="small", tier="small", value_cents=100),
        ]
        db.session.add_all(rows)
        db.session.commit()
        return Records(*(row.id for row in rows), prize=prize.id)
