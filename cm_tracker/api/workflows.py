"""Desk workflows in the API: finding and editing patients, changing visit days, ending an enrollment, excuses,
attendance corrections.

The same services as the desk pages (usecases.admission, usecases.visits, usecases.attendance), so both obey the
same rules. Imported after api.patients: Werkzeug tries rules of one path in the order they were added, and
GET /patients/{id} must come first so that an impossible id is 404 rather than 405.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.errors import ApiError
from cm_tracker.api.event_schemas import choice, moment
from cm_tracker.api.events import entry_summary
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DATE, DAY, ENROLLMENT, MOMENT, WEEKDAY, body, obj, ref, text
from cm_tracker.api.openapi_schemas import ID as ROW_ID
from cm_tracker.api.schemas import Fields, json_object
from cm_tracker.engine.outcomes import AttendanceStatus
from cm_tracker.models import AttendanceRecord, ScheduledVisit
from cm_tracker.permissions import get_patient_for, get_record_for, is_staff, may_record_events
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.queries.patients import enrollment_to_dict, patient_to_dict
from cm_tracker.services.usecases import admission, attendance, patients, visit_schedule, visits

PER_PAGE_DEFAULT, PER_PAGE_MAX = 50, 200


def _page_args() -> tuple[str, int, int]:
    q, page, per_page = request.args.get("q", ""), request.args.get("page", "1"), request.args.get("per_page", "")
    fields: dict[str, str] = {}
    if len(q) > 100:
        fields["q"] = "Search with at most 100 characters."
    if not (page.isascii() and page.isdigit() and 1 <= int(page) <= 100_000):
        fields["page"] = "Must be a whole number from 1."
    per_page = per_page or str(PER_PAGE_DEFAULT)
    if not (per_page.isascii() and per_page.isdigit() and 1 <= int(per_page) <= PER_PAGE_MAX):
        fields["per_page"] = f"Must be a whole number from 1 to {PER_PAGE_MAX}."
    if fields:
        raise ValidationFailed("The search could not be run.", fields=fields)
    return q, int(page), int(per_page)


@bp.get("/patients")
@allow(is_staff)
def list_patients() -> Response:
    q, page, per_page = _page_args()
    found, total = patients.search_patients(current_api_user(), q, page, per_page)
    more = page * per_page < total
    return jsonify({"patients": [patient_to_dict(p) for p in found], "page": page, "per_page": per_page,
                    "total": total, "next_page": page + 1 if more else None})


@bp.patch(f"/patients/<{ID}:patient_id>")
@allow(is_staff)
def update_patient(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id)
    data = json_object()
    fields = Fields(data, ("version", "display_name", "counselor_id"))
    version = fields.integer("version")
    changes: dict[str, Any] = {}
    if "display_name" in data:
        changes["display_name"] = fields.string("display_name", 120)
    if "counselor_id" in data:
        changes["counselor_id"] = fields.integer("counselor_id", required=False)
    fields.check("The patient was not changed.")
    updated = patients.update_patient(patient, version=version or 0, changes=changes, actor=current_api_user())
    return jsonify(patient_to_dict(updated))


def visit_to_dict(visit: ScheduledVisit) -> dict[str, Any]:
    return {"id": visit.id, "due_on": visit.due_on.isoformat(), "kind": str(visit.kind), "target": visit.target_key}


@bp.put(f"/patients/<{ID}:patient_id>/visit-days")
@allow(may_record_events)
def change_visit_days(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    data = json_object()
    fields = Fields(data, ("visit_days", "visit_plan", "from", "version"))
    days, plan = data.get("visit_days"), data.get("visit_plan")
    from_on, version = fields.date("from"), fields.integer("version")
    if (plan is None and days is None) or (days is not None and not _is_days(days)):
        fields.errors["visit_days"] = ("Required: a list of days (mon, tue, wed, thu, fri, sat, sun), unless "
                                       "visit_plan gives the days of a visit plan's weeks.")
    fields.check("The visit days were not changed.")
    done = visit_schedule.change_visit_days(patient, visit_days=days, visit_plan=plan, from_on=from_on or date.min,
                                            version=version or 0, actor=current_api_user(), today=clinic_today())
    return jsonify({**enrollment_to_dict(done.enrollment), "patient_version": patient.version,
                    "removed": done.removed, "added": done.added,
                    "upcoming_visits": [visit_to_dict(v) for v in done.upcoming]})


def _is_days(days: object) -> bool:
    return isinstance(days, list) and all(isinstance(d, str) for d in days)


@bp.post(f"/patients/<{ID}:patient_id>/enrollment/end")
@allow(may_record_events)
def end_enrollment(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    fields = Fields(json_object(), ("status", "on", "reason"))
    status, on, reason = fields.string("status", 24), fields.date("on"), fields.string("reason", 500)
    fields.check("The enrollment was not ended.")
    current = current_enrollment(patient)
    if current is None:
        raise ApiError(409, "not_enrolled", "This patient has no enrollment to end.")
    ended = admission.end_enrollment(current, status or "", on, reason or "", actor=current_api_user())
    return jsonify(enrollment_to_dict(ended))


@bp.post(f"/patients/<{ID}:patient_id>/excuses")
@allow(may_record_events)
def create_excuse(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    fields = Fields(json_object(), ("on", "reason"))
    on, reason = fields.date("on"), fields.string("reason", 500)
    fields.check("The excuse was not recorded.")
    done = visits.excuse_day(patient, on=on or date.min, reason=reason or "", actor=current_api_user())
    excuse = done.record
    return jsonify({"id": excuse.id, "on": (on or date.min).isoformat(), "reason": excuse.reason,
                    "in_advance": getattr(excuse, "is_in_advance", False), "corrected": done.corrected,
                    "adjustments": [entry_summary(e) for e in done.adjustments]}), 201


@bp.patch(f"/attendance/<{ID}:record_id>")
@allow(may_record_events)
def correct_attendance(record_id: int) -> Response:
    _, record = get_record_for(current_api_user(), AttendanceRecord, record_id, write=True)
    data = json_object()
    fields = Fields(data, ("version", "reason", "status", "occurred_at", "note"))
    version, reason = fields.integer("version"), fields.string("reason", 500)
    changes = _attendance_changes(data, fields)
    fields.check("The correction was not saved.")
    done = attendance.correct_attendance(record, version=version or 0, reason=reason or "", changes=changes,
                                         actor=current_api_user())
    return jsonify({"id": record.id, "version": done.record.version, "status": str(done.record.status),
                    "outcomes": done.outcomes, "adjustments": [entry_summary(e) for e in done.adjustments]})


def _attendance_changes(data: dict[str, Any], fields: Fields) -> dict[str, object]:
    """The fields of a session mark the client sent to change (absent ones stay as they are)."""
    changes: dict[str, object] = {}
    if "status" in data:
        changes["status"] = choice(fields, "status", AttendanceStatus)
    if "occurred_at" in data:
        changes["occurred_at"] = moment(fields, "occurred_at")
    if "note" in data:
        changes["note"] = fields.string("note", 2000) or ""
    return changes


_PAGE_PARAMS = [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100},
                 "description": "Part of the name or the record number (case-insensitive)."},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100_000}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                               "maximum": PER_PAGE_MAX}}]
_list = operation("Patients within your reach (a counselor: their caseload; admins and managers: everyone), "
                  "searched by name or record number, in pages (audited).",
                  ("200", "PatientPage", "One page of patients."), errors=("422",))
_list["parameters"] = _PAGE_PARAMS

document({
    "/patients": {"get": _list},
    "/patients/{patient_id}": {"patch": operation(
        "Rename a patient, or (admins and managers) move them to another counselor; send the version you read: a "
        "stale one is 409.", ("200", "Patient", "The patient."), body="PatientUpdate", errors=("404", "409"),
        params=("patient_id",))},
    "/patients/{patient_id}/visit-days": {"put": operation(
        "Change the current enrollment's visit days from a date on (today or later): the open visits from then on "
        "are regenerated for the new days; visits with a result or an excuse stay, and nothing in the ledger "
        "changes. `visit_days` are the days of the weeks outside a visit plan; `visit_plan` the days of the plan's "
        "stretches of weeks (each as many as the plan has visits a week; a stretch left out keeps its days). "
        "Send the patient's version: a stale one is 409.",
        ("200", "VisitDaysChanged", "The enrollment with its new days and the first visits from `from` on."),
        body="VisitDaysChange", errors=("404", "409"), params=("patient_id",))},
    "/patients/{patient_id}/enrollment/end": {"post": operation(
        "Complete or discharge the current enrollment; visits after `on` are no longer due.",
        ("200", "Enrollment", "The ended enrollment."), body="EnrollmentEnd", errors=("404", "409"),
        params=("patient_id",))},
    "/patients/{patient_id}/excuses": {"post": operation(
        "Excuse a day's visits, in advance or after; a visit already marked missed is corrected to excused and "
        "the adjustments are posted.", ("201", "ExcuseRecorded", "The excuse and what it corrected."),
        body="ExcuseCreate", errors=("404", "409"), params=("patient_id",))},
    "/attendance/{record_id}": {"patch": operation(
        "Correct an attendance record: a new version with a reason; the history is re-evaluated and the "
        "differences posted; a stale version is 409.", ("200", "AttendanceCorrected", "The new version."),
        body="AttendanceCorrection", errors=("404", "409"), params=("record_id",))},
}, {
    "PatientPage": obj({"patients": {"type": "array", "items": ref("Patient")}, "page": {"type": "integer"},
                        "per_page": {"type": "integer"}, "total": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]}}),
    "PatientUpdate": body({"version": ROW_ID, "display_name": text(120, min_length=1),
                           "counselor_id": {**ROW_ID, "description": "Admins and managers."}}, ["version"],
                          keep_nulls=("display_name",)),
    "VisitDaysChange": body({"visit_days": {"type": "array", "items": WEEKDAY, "minItems": 1,
                                            "description": "The days of the weeks outside a visit plan."},
                             "visit_plan": {"type": "array", "minItems": 1, "items": obj({
                                 "from_week": {"type": "integer"}, "to_week": {"type": "integer"},
                                 "per_week": {"type": "integer", "description": "Optional, as the enrollment gives "
                                                                                "it; it cannot change here."},
                                 "days": {"type": "array", "items": WEEKDAY, "uniqueItems": True}},
                                 ["from_week", "to_week", "days"]),
                                 "description": "The patient's days for stretches of the programme's visit plan, "
                                                "named by their weeks as the programme gives them."},
                             "from": {**DAY, "description": "The first day the new days apply (today or later)."},
                             "version": {**ROW_ID,
                                         "description": "The patient's version, as GET /patients/{id} gives it."}},
                            ["from", "version"], description="Send visit_days, visit_plan or both.")
    | {"anyOf": [{"required": ["visit_days"]}, {"required": ["visit_plan"]}]},
    "VisitDaysChanged": obj({**ENROLLMENT["properties"],
                             "patient_version": {"type": "integer", "description": "Send it with the next change."},
                             "removed": {"type": "integer"}, "added": {"type": "integer"},
                             "upcoming_visits": {"type": "array", "items": obj({
                                 "id": {"type": "integer"}, "due_on": DATE, "kind": {"enum": ["test", "session"]},
                                 "target": {"type": ["string", "null"]}})}},
                            ["id", "program_id", "start_date", "status", "visit_days", "patient_version",
                             "upcoming_visits"]),
    "EnrollmentEnd": body({"status": {"enum": ["completed", "discharged"]}, "on": DAY,
                           "reason": text(500, min_length=1)}, ["status", "on", "reason"]),
    "ExcuseCreate": body({"on": DAY, "reason": text(500, min_length=1)}, ["on", "reason"]),
    "ExcuseRecorded": obj({"id": {"type": "integer"}, "on": DATE, "reason": {"type": "string"},
                           "in_advance": {"type": "boolean"}, "corrected": {"type": "integer"},
                           "adjustments": {"type": "array", "items": ref("Award")}}),
    # A field sent here changes, so null is refused: leave a field out to keep it.
    "AttendanceCorrection": obj({"version": ROW_ID, "reason": text(500, min_length=1),
                                 "status": {"enum": ["attended", "excused", "unexcused"]}, "occurred_at": MOMENT,
                                 "note": text(2000)}, ["version", "reason"]),
    "AttendanceCorrected": obj({"id": {"type": "integer"}, "version": {"type": "integer"},
                                "status": {"type": "string"}, "outcomes": {"type": "object"},
                                "adjustments": {"type": "array", "items": ref("Award")}}),
})
