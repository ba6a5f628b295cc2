"""Goal activities in the API: the weekly contract item, its evidence, and staff's verification or rejection."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.event_schemas import moment
from cm_tracker.api.events import entry_summary
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DATE, DATETIME, DAY, MOMENT, body, obj, ref, text
from cm_tracker.api.openapi_schemas import ID as ROW_ID
from cm_tracker.api.schemas import Fields, json_object
from cm_tracker.models import GoalActivity
from cm_tracker.permissions import get_patient_for, get_record_for, is_staff, may_record_events
from cm_tracker.services.queries import activities as activities_reads
from cm_tracker.services.usecases import activities


def activity_to_dict(a: GoalActivity) -> dict[str, Any]:
    return {"id": a.id, "patient_id": a.patient_id, "target": a.target_key, "week_of": a.week_of.isoformat(),
            "description": a.description, "verification": a.verification, "evidence_note": a.evidence_note,
            "status": str(a.status), "occurred_at": a.occurred_at.isoformat() if a.occurred_at else None,
            "version": a.version}


def _activity(activity_id: int) -> GoalActivity:
    return get_record_for(current_api_user(), GoalActivity, activity_id, write=True)[1]


@bp.get(f"/patients/<{ID}:patient_id>/activities")
@allow(is_staff)
def list_activities(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id)
    return jsonify({"activities": [activity_to_dict(a) for a in activities_reads.activities_of(patient)]})


@bp.post(f"/patients/<{ID}:patient_id>/activities")
@allow(may_record_events)
def create_activity(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    fields = Fields(json_object(), ("target", "week_of", "description", "verification"))
    target, week_of = fields.string("target", 40), fields.date("week_of", required=False)
    description, verification = fields.string("description", 1000), fields.string("verification", 1000)
    fields.check("The activity was not added.")
    activity = activities.propose_activity(patient, target_key=target or "", week_of=week_of or
                                           activities_reads.default_week(), description=description or "",
                                           verification=verification or "", actor=current_api_user())
    return jsonify(activity_to_dict(activity)), 201


@bp.post(f"/activities/<{ID}:activity_id>/evidence")
@allow(may_record_events)
def activity_evidence(activity_id: int) -> Response:
    activity = _activity(activity_id)
    fields = Fields(json_object(), ("version", "evidence_note"))
    version, note = fields.integer("version"), fields.string("evidence_note", 1000)
    fields.check("The evidence was not saved.")
    done = activities.submit_evidence(activity, version=version or 0, evidence_note=note or "",
                                      actor=current_api_user())
    return jsonify(activity_to_dict(done))


@bp.post(f"/activities/<{ID}:activity_id>/verify")
@allow(may_record_events)
def verify_activity(activity_id: int) -> Response:
    activity = _activity(activity_id)
    fields = Fields(json_object(), ("version", "occurred_at", "note"))
    version, when = fields.integer("version"), moment(fields, "occurred_at", required=False)
    note = fields.string("note", 1000, required=False) or ""
    fields.check("The activity was not verified.")
    done = activities.verify_activity(activity, version=version or 0, occurred_at=when, note=note,
                                      actor=current_api_user())
    return jsonify({**activity_to_dict(done.activity), "awards": [entry_summary(e) for e in done.awards],
                    "adjustments": [entry_summary(e) for e in done.adjustments]})


@bp.post(f"/activities/<{ID}:activity_id>/reject")
@allow(may_record_events)
def reject_activity(activity_id: int) -> Response:
    activity = _activity(activity_id)
    fields = Fields(json_object(), ("version", "reason"))
    version, reason = fields.integer("version"), fields.string("reason", 1000)
    fields.check("The activity was not rejected.")
    done = activities.reject_activity(activity, version=version or 0, reason=reason or "", actor=current_api_user())
    return jsonify({**activity_to_dict(done.activity), "awards": [], "adjustments": []})


_ACTIVITY = obj({"id": {"type": "integer"}, "patient_id": {"type": "integer"}, "target": {"type": "string"},
                 "week_of": DATE, "description": {"type": "string"}, "verification": {"type": "string"},
                 "evidence_note": {"type": "string"},
                 "status": {"enum": ["proposed", "submitted", "verified", "rejected", "expired"]},
                 "occurred_at": {"oneOf": [DATETIME, {"type": "null"}]}, "version": {"type": "integer"}},
                closed=False)
_VERSION = ROW_ID
_TEXT = text(1000, min_length=1)
_DECIDED = obj({"awards": {"type": "array", "items": ref("Award")},
                "adjustments": {"type": "array", "items": ref("Award")}}, closed=False)

document({
    "/patients/{patient_id}/activities": {
        "get": operation("A patient's goal activities, newest week first (staff).",
                         ("200", "ActivityList", "The activities."), errors=("404",), params=("patient_id",)),
        "post": operation("Add a goal activity to a week's contract: what, and how it will be verified.",
                          ("201", "Activity", "The proposed activity."), body="ActivityCreate",
                          errors=("404",), params=("patient_id",)),
    },
    "/activities/{activity_id}/evidence": {"post": operation(
        "Note the evidence brought for an activity; it then awaits verification.",
        ("200", "Activity", "The activity."), body="ActivityEvidence", errors=("404", "409"),
        params=("activity_id",))},
    "/activities/{activity_id}/verify": {"post": operation(
        "Verify an activity: a success of its target on the day it happened; the award is posted at once.",
        ("200", "ActivityDecided", "The activity and its award."), body="ActivityVerify", errors=("404", "409"),
        params=("activity_id",))},
    "/activities/{activity_id}/reject": {"post": operation(
        "Reject an activity with a reason: neutral, it earns nothing and resets nothing.",
        ("200", "ActivityDecided", "The activity."), body="ActivityReject", errors=("404", "409"),
        params=("activity_id",))},
}, {
    "Activity": _ACTIVITY,
    "ActivityList": obj({"activities": {"type": "array", "items": ref("Activity")}}),
    "ActivityCreate": body({"target": text(40), "week_of": {**DAY, "description": "Any day of the week; defaults "
                                                                                  "to this week."},
                            "description": _TEXT, "verification": _TEXT}, ["target", "description", "verification"]),
    "ActivityEvidence": body({"version": _VERSION, "evidence_note": _TEXT}, ["version", "evidence_note"]),
    "ActivityVerify": body({"version": _VERSION, "occurred_at": MOMENT, "note": text(1000)}, ["version"]),
    "ActivityReject": body({"version": _VERSION, "reason": _TEXT}, ["version", "reason"]),
    "ActivityDecided": {"allOf": [ref("Activity"), _DECIDED]},
})

