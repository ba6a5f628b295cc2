"""Patient records after admission: renaming a patient or moving them to another caseload, and the audited search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from cm_tracker.extensions import db
from cm_tracker.models import Patient, Role, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.caseload import caseload_filter
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.usecases.access_log import log_now


def update_patient(patient: Patient, *, version: int, changes: dict[str, Any], actor: User) -> Patient:
    """Rename a patient or (admins and managers) move them to another counselor's caseload; a stale version is
    refused so that two desks cannot overwrite each other."""
    fields: dict[str, str] = {}
    name = changes.get("display_name")
    if name is not None and (not name.strip() or len(name.strip()) > 120):
        fields["display_name"] = "Give a name of 1 to 120 characters."
    if "counselor_id" in changes:
        fields.update(_counselor_problem(changes["counselor_id"], actor))
    if fields:
        raise ValidationFailed("The patient was not changed.", fields=fields)
    claim_version(patient, version, what="patient record")
    db.session.refresh(patient)  # what another desk committed before our claim: the audit's "before" is true
    before = {"display_name": patient.display_name, "counselor_id": patient.counselor_id}
    if name is not None:
        patient.display_name = name.strip()
    if "counselor_id" in changes:
        patient.counselor_id = changes["counselor_id"]
    audit.record("patient.update", user=actor, patient_id=patient.id, object_type="patient", object_id=patient.id,
                 detail={"before": before, "version": patient.version})
    db.session.commit()
    return patient


def _counselor_problem(counselor_id: int | None, actor: User) -> dict[str, str]:
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        return {"counselor_id": "Only admins and managers move a patient to another caseload."}
    if counselor_id is None:
        return {}
    counselor = db.session.get(User, counselor_id)
    if counselor is None or counselor.role != Role.COUNSELOR or counselor.is_disabled:
        return {"counselor_id": "Choose an enabled counselor."}
    return {}


def search_patients(user: User, q: str, page: int, per_page: int) -> tuple[list[Patient], int]:
    """Patients within the user's reach (a counselor's own caseload; admins and managers every patient), matching
    `q` in the name or record number, in pages; the search is audited, the page of results too."""
    query = select(Patient).where(caseload_filter(user))
    if q.strip():
        escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(func.lower(Patient.display_name).like(pattern, escape="\\"),
                                func.lower(Patient.record_number).like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = list(db.session.scalars(query.options(selectinload(Patient.enrollments))
                                    .order_by(Patient.display_name, Patient.id)
                                    .offset((page - 1) * per_page).limit(per_page)))
    log_now("patient.search", user=user, object_type="patient", patient_ids=[p.id for p in found],
            detail={"q": q[:100], "page": page, "ids": [p.id for p in found]})
    return found, int(total)
