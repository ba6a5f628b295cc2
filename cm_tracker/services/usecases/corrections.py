"""Corrections at the desk: a preview of what a correction would post (each record's history is in queries).

The preview runs the very correction the confirm button runs (usecases.specimens.apply_specimen_correction or
usecases.attendance.apply_attendance_correction), reads the adjustments it would post, and rolls the transaction
back, so what the counselor sees is exactly what confirming posts (docs/rules.md 6). It commits nothing, but it is
the use case's own code run dry, so it sits beside the use cases it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, Specimen, User
from cm_tracker.services.queries.corrections import Adjustment, NetChange, detach, labels_of, net_change
from cm_tracker.services.usecases.attendance import apply_attendance_correction
from cm_tracker.services.usecases.specimens import apply_specimen_correction


@dataclass(frozen=True)
class Preview:
    outcomes: dict[str, str]
    adjustments: list[Adjustment]  # each named by the test or session it belongs to

    @property
    def net(self) -> NetChange:
        return net_change(self.adjustments)


def _dry_run(record: Specimen | AttendanceRecord, run: Callable[[], Any]) -> Preview:
    labels = labels_of(record)
    try:
        recorded = run()
        db.session.flush()
        return Preview(dict(recorded.outcomes), [detach(e, labels) for e in recorded.adjustments])
    finally:
        db.session.rollback()


def preview_specimen_correction(specimen: Specimen, *, version: int, reason: str, changes: Mapping[str, Any],
                                actor: User) -> Preview:
    """What correcting the specimen would post, without posting it. Raises what the correction would raise."""
    return _dry_run(specimen, lambda: apply_specimen_correction(specimen, version=version, reason=reason,
                                                                changes=changes, actor=actor))


def preview_attendance_correction(record: AttendanceRecord, *, version: int, reason: str,
                                  changes: dict[str, object], actor: User) -> Preview:
    return _dry_run(record, lambda: apply_attendance_correction(record, version=version, reason=reason,
                                                                changes=changes, actor=actor))
