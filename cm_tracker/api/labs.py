"""Lab results as labs send them (docs/api.md "Lab results"): FHIR R4, HL7 v2 ORU^R01 or CSV, in one request.

The view takes the body as bytes (an HL7 message need not be UTF-8) up to its own, larger limit
(`LAB_MAX_BODY_BYTES`), picks the format by Content-Type and hands it to the use case, which stores it as received,
applies what it can and holds the rest for review, in one transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import bp
from cm_tracker.api.errors import ApiError
from cm_tracker.api.events import entry_summary
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import INT, nullable, obj, ref
from cm_tracker.labs.observations import LabParseError
from cm_tracker.models import LabAction, LabFormat
from cm_tracker.permissions import can_post_lab_results
from cm_tracker.services.usecases import lab_results
from cm_tracker.services.usecases.lab_results import LabImport, LabResultOutcome

# The media types this endpoint takes; which format each one is, is the use case's to say (lab_results.format_of).
FHIR_TYPES = ("application/fhir+json", "application/json")
HL7_TYPES = ("application/hl7-v2", "x-application/hl7-v2+er7")
CSV_TYPES = ("text/csv",)
MEDIA_TYPES = frozenset({*FHIR_TYPES, *HL7_TYPES, *CSV_TYPES})


@bp.post("/lab-results")
@allow(can_post_lab_results, body_limit="LAB_MAX_BODY_BYTES")
def receive_lab_results() -> Response:
    body = request.get_data(cache=False)
    fmt = _format_of(body)
    try:
        received = lab_results.receive(body, fmt, sender=current_api_user(), source="api",
                                       content_type=request.content_type or "")
    except LabParseError as exc:
        raise ApiError(400, "malformed_lab_body", f"Nothing was applied: {exc.where}: {exc.message}") from None
    return jsonify(import_to_dict(received))


def _format_of(body: bytes) -> LabFormat:
    if request.mimetype not in MEDIA_TYPES:
        raise ApiError(415, "unsupported_media_type", "Send lab results as application/fhir+json (FHIR R4), "
                                                      "application/hl7-v2 (HL7 v2 ER7) or text/csv.")
    try:
        return lab_results.format_of(request.content_type, body)
    except LabParseError as exc:
        raise ApiError(415, "unsupported_media_type", f"{exc.where}: {exc.message}") from None


def import_to_dict(received: LabImport) -> dict[str, Any]:
    return {"results": [outcome_to_dict(o) for o in received.results], "held": received.held,
            "ignored": received.ignored, "message_id": received.message_id}


def outcome_to_dict(outcome: LabResultOutcome) -> dict[str, Any]:
    return {
        "accession": outcome.accession, "record_number": outcome.record_number, "patient_id": outcome.patient_id,
        "specimen_id": outcome.specimen_id, "action": str(outcome.action), "outcomes": outcome.outcomes,
        "awards": [entry_summary(e) for e in outcome.awards],
        "adjustments": [entry_summary(e) for e in outcome.adjustments], "reason": outcome.reason,
    }


# The document states the media types and the outline of a FHIR body, not the grammars of FHIR, HL7 v2 and CSV:
# a body of the right type may still be unreadable (400, naming where).
_FHIR = {
    "type": "object", "required": ["resourceType"],
    "description": "A FHIR R4 Bundle (any type; entries may include Patient and Specimen; other resources are "
                   "ignored and counted) or one Observation. docs/labs.md has the field mapping.",
    "properties": {
        "resourceType": {"enum": ["Bundle", "Observation"]},
        "entry": {"type": "array", "items": {"type": "object", "required": ["resource"],
                                             "properties": {"resource": {"type": "object"}}}},
    },
}
_HL7 = {"type": "string", "description": "One or more HL7 v2.5.1 ORU^R01 messages in ER7 (segments end in CR): "
                                         "PID-3 record number, OBR-3 accession, OBR-7 collection time, OBX-3 "
                                         "LOINC code, OBX-5 result, OBX-11 status."}
_CSV = {"type": "string", "description": "A header row naming record_number, accession, collected_at, loinc (or "
                                         "analyte), result, status (optional creatinine_mg_dl, ph, "
                                         "specific_gravity, validity), then one result per row. A row that cannot "
                                         "be read is held with its reason; the others are applied."}
_RESULT = obj({
    "accession": nullable({"type": "string"}), "record_number": nullable({"type": "string"}),
    "patient_id": nullable(INT), "specimen_id": nullable(INT),
    "action": {"enum": [a.value for a in LabAction]},
    "outcomes": {"type": "object", "additionalProperties": {"enum": ["success", "failure", "neutral"]},
                 "description": "Per target, for a specimen created, completed or corrected."},
    "awards": {"type": "array", "items": ref("Award"), "description": "Posted for this specimen."},
    "adjustments": {"type": "array", "items": ref("Award"),
                    "description": "Corrections: of this specimen's awards, or of later ones it changed."},
    "reason": {**nullable({"type": "string"}), "description": "Why a result is held, or the lab's reason for a "
                                                              "correction."},
}, ["accession", "record_number", "patient_id", "specimen_id", "action", "outcomes", "awards", "adjustments",
    "reason"])
_RECEIVED = obj({
    "results": {"type": "array", "items": ref("LabResultOutcome"), "description": "One per accession, in order."},
    "held": {**INT, "description": "Results kept for staff review (the review queue)."},
    "ignored": {**INT, "description": "FHIR resources of other types, skipped."},
    "message_id": {**INT, "description": "The stored message (the body as received)."},
}, ["results", "held", "ignored", "message_id"])


def _described() -> dict[str, Any]:
    op = operation(
        "Send lab results (a lab's account; admins, managers). Every body is stored as received; each accession "
        "becomes one specimen (created, completed, corrected, unchanged, withdrawn) or is held for review. The same "
        "body again changes nothing. Up to LAB_MAX_BODY_BYTES (20 MB by default).",
        ("200", "LabResultsReceived", "What became of each accession."), errors=("400", "413", "415", "422"))
    media = {**{t: {"schema": _FHIR} for t in FHIR_TYPES}, **{t: {"schema": _HL7} for t in HL7_TYPES},
             **{t: {"schema": _CSV} for t in CSV_TYPES}}
    op["requestBody"] = {"required": True, "content": media}
    return op


document({"/lab-results": {"post": _described()}},
         {"LabResultOutcome": _RESULT, "LabResultsReceived": _RECEIVED})
