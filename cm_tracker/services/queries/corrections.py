"""A record's version history at the desk: every version of a specimen or a session mark, who changed it and why."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import RecordType, RecordVersion


def history(record_type: RecordType, record_id: int) -> list[RecordVersion]:
    """Every version of a record, newest first, with who changed it, when and why."""
    return list(db.session.scalars(
        select(RecordVersion).where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version.desc())))
