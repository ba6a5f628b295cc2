"""The managers' view of identified exports (docs/reports.md "Identified exports"): reading it shows patients' names,
so each page read is itself on the trail, in one row naming every patient it showed ("exports.view" for the list,
"export.view" for one export's patients), as any page that lists patients is."""

from __future__ import annotations

from cm_tracker.models import User
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.queries import identified_exports as reads
from cm_tracker.services.usecases.access_log import log_now


def list_exports(criteria: reads.ExportCriteria, *, page: int, user: User) -> reads.ExportsPage:
    """One page of identified exports, newest first; the read names the patients the page showed."""
    found = reads.find(criteria, page=page)
    shown = {p.patient_id for row in found.rows for p in row.shown} | {p.patient_id for p in found.matched}
    log_now("exports.view", user=user, object_type="audit_events", patient_ids=shown,
            detail={"criteria": criteria.described(), "page": found.page})
    return found


def view_export(event_id: int, *, page: int, user: User) -> reads.ExportDetail:
    """One identified export with a page of its patients; an id that is no identified export is NotFound."""
    found = reads.detail(event_id, page=page)
    if found is None:
        raise NotFound("There is no identified export with this id.")
    log_now("export.view", user=user, object_type="audit_event", object_id=event_id,
            patient_ids=[p.patient_id for p in found.export.shown], detail={"page": found.page})
    return found
