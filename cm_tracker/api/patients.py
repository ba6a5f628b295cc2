"""Patient records: staff admit patients; reading one goes through `get_patient_for` (404 outside reach)."""

from __future__ import annotations

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.schemas import json_object, patient_request
from cm_tracker.permissions import can_create_patients, get_patient_for, is_staff
from cm_tracker.services.queries import patients
from cm_tracker.services.usecases import admission


@bp.post("/patients")
@allow(can_create_patients)
def create_patient() -> tuple[Response, int]:
    values = patient_request(json_object())
    patient = admission.admit_patient(**values, actor=current_api_user())
    return jsonify(patients.patient_to_dict(patient)), 201


@bp.get(f"/patients/<{ID}:patient_id>")
@allow(is_staff)
def get_patient(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id)
    return jsonify(patients.patient_to_dict(patient))
