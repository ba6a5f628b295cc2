"""A patient's voucher redemptions: requested, fulfilled or cancelled; and the requests waiting at the desk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from cm_tracker.extensions import db
from cm_tracker.models import Redemption, RedemptionStatus
from cm_tracker.services.core.id_lists import InIds


def redemptions_of(patient_id: int, *, status: RedemptionStatus | None = None, limit: int = 100) -> list[Redemption]:
    query = select(Redemption).where(Redemption.patient_id == patient_id)
    if status is not None:
        query = query.where(Redemption.status == status)
    return list(db.session.scalars(query.order_by(Redemption.id.desc()).limit(limit)))


def waiting_requests(patient_ids: Iterable[int]) -> dict[int, list[Redemption]]:
    """Portal requests not yet fulfilled or cancelled, oldest first, per patient, with their items: one statement
    for a whole caseload, so staff pages can say what each patient asked for without a query per patient."""
    ids = list(patient_ids)
    if not ids:
        return {}
    found: dict[int, list[Redemption]] = defaultdict(list)
    for redemption in db.session.scalars(_waiting_query(), {"ids": ids}):
        found[redemption.patient_id].append(redemption)
    return dict(found)


@cache
def _waiting_query() -> Select[Any]:
    """Built once, the ids bound at execution: the caseload asks for a whole caseload's on every view."""
    return (select(Redemption).options(joinedload(Redemption.reward))
            .where(InIds(Redemption.patient_id, "ids"),  # one array parameter on PostgreSQL, prepared once
                   Redemption.status == RedemptionStatus.REQUESTED)
            .order_by(Redemption.requested_at, Redemption.id))
