"""Recording what happened: specimens (with corrections) and attendance. Awards are posted by the services."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.event_schemas import attendance_values, specimen_input, specimen_values
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import ID as ROW_ID
from cm_tracker.api.openapi_schemas import MOMENT, body, nullable, obj, ref, text
from cm_tracker.api.schemas import json_object
from cm_tracker.models import LedgerEntry, Specimen
from cm_tracker.permissions import get_patient_for, get_record_for, may_record_events
from cm_tracker.services.usecases import attendance, specimens


def entry_summary(entry: LedgerEntry) -> dict[str, Any]:
    return {"target": entry.target_key, "points": entry.points, "draws": entry.draws,
            "value_cents": entry.value_cents, "reason": entry.reason,
            "event": {"type": str(entry.event_type), "id": entry.event_id} if entry.event_type else None}


@bp.post(f"/patients/<{ID}:patient_id>/specimens")
@allow(may_record_events)
def record_specimen(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    recorded = specimens.record_specimen(patient, specimen_input(json_object()), actor=current_api_user())
    return jsonify({
        "id": recorded.specimen.id, "version": recorded.specimen.version, "accession": recorded.specimen.accession,
        "outcomes": recorded.outcomes, "awards": [entry_summary(e) for e in recorded.awards],
        "adjustments": [entry_summary(e) for e in recorded.adjustments], "duplicate": recorded.is_duplicate,
    }), 201


@bp.patch(f"/specimens/<{ID}:specimen_id>")
@allow(may_record_events)
def correct_specimen(specimen_id: int) -> Response:
    _, specimen = get_record_for(current_api_user(), Specimen, specimen_id, write=True)
    values = specimen_values(json_object(), partial=True)
    version, reason = values.pop("version"), values.pop("reason")
    recorded = specimens.correct_specimen(specimen, version=version, reason=reason, changes=values,
                                          actor=current_api_user())
    return jsonify({"id": specimen.id, "version": recorded.specimen.version, "accession": recorded.specimen.accession,
                    "outcomes": recorded.outcomes, "adjustments": [entry_summary(e) for e in recorded.adjustments]})


@bp.post(f"/patients/<{ID}:patient_id>/attendance")
@allow(may_record_events)
def record_attendance(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    recorded = attendance.record_attendance(patient, **attendance_values(json_object()), actor=current_api_user())
    return jsonify({
        "id": recorded.record.id, "outcomes": recorded.outcomes,
        "awards": [entry_summary(e) for e in recorded.awards],
        "adjustments": [entry_summary(e) for e in recorded.adjustments], "duplicate": recorded.is_duplicate,
    }), 201


# At least one character that is neither a space nor a control character (the reader trims spaces).
ACCESSION = "^[^\\u0000-\\u001f\\u007f]*[^\\u0000-\\u0020\\u007f][^\\u0000-\\u001f\\u007f]*$"
_RESULTS = {"type": "object", "additionalProperties": {"enum": ["negative", "positive"]}, "maxProperties": 40,
            "propertyNames": {"minLength": 1, "maxLength": 40, "description": "Letters, digits or underscores."},
            "examples": [{"cocaine": "negative", "methamphetamine": "negative"}]}
_SPECIMEN_PROPS = {
    "collected_at": MOMENT,
    "status": {"enum": ["final", "pending", "missed", "excused", "refused"]},
    "results": _RESULTS,
    "validity": {"enum": ["valid", "dilute", "adulterated", "substituted", "invalid"],
                 "description": "Defaults to valid for a final result."},
    "temperature_ok": {"type": "boolean"}, "observed": {"type": "boolean"},
    "method": {"enum": ["poc", "lab", "remote"]}, "note": text(2000),
    "confirm_untested": {"type": "boolean", "description": "Staff confirm an analyte of a target's set was not "
                         "tested: the specimen then counts as neutral for that target instead of being refused."},
    "accession": text(64, min_length=1, pattern=ACCESSION, description=(
        "The accession (requisition) number on the cup's lab label, unique per patient; spaces around it are "
        "trimmed. A cup sent to the lab is a pending specimen with an accession; the lab's results complete it.")),
}
_ENTRY = obj({"target": {"type": ["string", "null"]}, "points": {"type": "integer"}, "draws": {"type": "integer"},
              "value_cents": {"type": "integer"}, "reason": {"type": "string"},
              "event": {"oneOf": [obj({"type": {"type": "string"}, "id": {"type": "integer"}}), {"type": "null"}]}})
_ACCESSION = {**nullable({"type": "string"}), "description": "The cup's accession number, if it has one."}
_OUTCOMES = {"type": "object", "additionalProperties": {"enum": ["success", "failure", "neutral"]}}
_RECORDED = obj({"id": {"type": "integer"}, "version": {"type": "integer"}, "accession": _ACCESSION,
                 "outcomes": _OUTCOMES,
                 "awards": {"type": "array", "items": ref("Award")},
                 "adjustments": {"type": "array", "items": ref("Award"),
                                 "description": "Entries for other events that a late entry changed."},
                 "duplicate": {"type": "boolean", "description": "True when this repeated an earlier request."}},
                closed=False)

document({
    "/patients/{patient_id}/specimens": {"post": operation(
        "Record a specimen; its awards are posted at once (staff; counselors for their caseload). Sending the same "
        "specimen again returns the first record and posts nothing.",
        ("201", "SpecimenRecorded", "Outcomes per target and the awards posted."), body="SpecimenCreate",
        errors=("404", "409"), params=("patient_id",))},
    "/specimens/{specimen_id}": {"patch": operation(
        "Correct a specimen: a new version with a reason; the history is re-evaluated and the differences posted.",
        ("200", "SpecimenCorrected", "The new version and the adjustments posted."), body="SpecimenCorrection",
        errors=("404", "409"), params=("specimen_id",))},
    "/patients/{patient_id}/attendance": {"post": operation(
        "Record attendance at a session of an attendance target.",
        ("201", "AttendanceRecorded", "Outcome and awards."), body="AttendanceCreate", errors=("404", "409"),
        params=("patient_id",))},
}, {
    "Award": _ENTRY,
    "SpecimenCreate": body(_SPECIMEN_PROPS, ["collected_at", "status"]),
    # A field sent with a correction changes, so null is refused: leave a field out to keep it.
    "SpecimenCorrection": obj({**_SPECIMEN_PROPS, "version": ROW_ID, "reason": text(500, min_length=1)},
                              ["version", "reason"]),
    "SpecimenRecorded": _RECORDED,
    "SpecimenCorrected": obj({"id": {"type": "integer"}, "version": {"type": "integer"}, "accession": _ACCESSION,
                              "outcomes": _OUTCOMES,
                              "adjustments": {"type": "array", "items": ref("Award")}}),
    "AttendanceCreate": body({"occurred_at": MOMENT, "target": text(40),
                              "status": {"enum": ["attended", "excused", "unexcused"]}, "note": text(2000)},
                             ["occurred_at", "target", "status"]),
    "AttendanceRecorded": _RECORDED,
})
