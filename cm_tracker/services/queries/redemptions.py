"""A patient's voucher redemptions: requested, fulfilled or cancelled."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Redemption, RedemptionStatus


def redemptions_of(patient_id: int, *, status: RedemptionStatus | None = None, limit: int = 100) -> list[Redemption]:
    query = select(Redemption).where(Redemption.patient_id == patient_id)
    if status is not None:
        query = query.where(Redemption.status == status)
    return list(db.session.scalars(query.order_by(Redemption.id.desc()).limit(limit)))
