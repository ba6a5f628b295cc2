"""Rows the access matrix needs for the rewards routes: a fulfilled redemption and a handed-over prize."""

from __future__ import annotations

from typing import Any


def rewards_world(personas: Any) -> dict[str, int]:
    """Call inside an app context. Written directly: the matrix tests reach, not the services' rules."""
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
