"""What a patient may still ask for: the points set aside by voucher requests waiting at the desk (not debited until
handed over), and the most items one request may take."""

from __future__ import annotations

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Redemption, RedemptionStatus

MAX_QUANTITY = 50


def pending_points(patient_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Redemption.points), 0)).where(
        Redemption.patient_id == patient_id, Redemption.status == RedemptionStatus.REQUESTED)) or 0)
