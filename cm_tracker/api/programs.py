"""Programmes: admins and managers create and edit them and change their schedules; all staff read them."""

from __future__ import annotations

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import (
    DATE,
    DAY,
    HANDOVER_FLAG,
    INT,
    PROGRAM_LINE,
    REQUEST_VISIT_PLAN,
    WEEKDAY,
    body,
    count,
    nullable,
    obj,
    ref,
    text,
)
from cm_tracker.api.openapi_schemas import ID as ROW_ID
from cm_tracker.api.schemas import json_object
from cm_tracker.permissions import can_manage_programs, can_read_programs
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.queries import program_schedules as program_schedules_reads
from cm_tracker.services.queries import programs as programs_reads
from cm_tracker.services.usecases import program_schedules, programs


@bp.post("/programs")
@allow(can_manage_programs)
def create_program() -> tuple[Response, int]:
    program = programs.create_program(json_object(), actor=current_api_user(), today=clinic_today())
    return jsonify(programs_reads.program_to_dict(program)), 201


@bp.get("/programs")
@allow(can_read_programs)
def list_programs() -> Response:
    return jsonify({"programs": [programs_reads.program_to_dict(p) for p in programs_reads.list_programs()]})


@bp.get(f"/programs/<{ID}:program_id>")
@allow(can_read_programs)
def get_program(program_id: int) -> Response:
    return jsonify(programs_reads.program_to_dict(programs_reads.get_program(program_id)))


@bp.patch(f"/programs/<{ID}:program_id>")
@allow(can_manage_programs)
def update_program(program_id: int) -> Response:
    program = programs.update_program(programs_reads.get_program(program_id), json_object(), actor=current_api_user())
    return jsonify(programs_reads.program_to_dict(program))


@bp.post(f"/programs/<{ID}:program_id>/targets/<string(maxlength=40):key>/schedules")
@allow(can_manage_programs)
def add_schedule_version(program_id: int, key: str) -> tuple[Response, int]:
    program = programs_reads.get_program(program_id)
    version = program_schedules.add_schedule_version(program, key, json_object(), actor=current_api_user(),
                                                     today=clinic_today())
    status = "in force" if version.effective_on <= clinic_today() else "scheduled"
    return jsonify(program_schedules_reads.version_to_dict(version, status, current_api_user().display_name)), 201


@bp.get(f"/programs/<{ID}:program_id>/schedules")
@allow(can_read_programs)
def schedule_history(program_id: int) -> Response:
    return jsonify(program_schedules_reads.versions_to_dict(programs_reads.get_program(program_id), clinic_today()))


@bp.get(f"/programs/<{ID}:program_id>/maximum")
@allow(can_read_programs)
def program_maximum(program_id: int) -> Response:
    program = programs_reads.get_program(program_id)
    return jsonify(program_schedules_reads.preview_maximum(program, today=clinic_today()).to_dict())


@bp.get("/presets")
@allow(can_read_programs)
def list_presets() -> Response:
    return jsonify(program_schedules_reads.presets_to_dict(clinic_today()))


_TEXT = {"type": "string"}
_VERSION = obj({
    "version": INT, "effective_on": DATE, "schedule": ref("Schedule"),
    "summary": {"type": "string", "description": "The schedule in words."},
    "status": {"enum": ["in force", "scheduled", "replaced"]},
    "created_at": nullable({"type": "string", "format": "date-time"}), "created_by_id": nullable(INT),
    "created_by": nullable(_TEXT),
}, ["version", "effective_on", "schedule", "status"])
_MAXIMUM = obj({
    "start_on": {**DATE, "description": "A patient enrolled on this date (today) is assumed."},
    "visits": {**INT, "description": "Scheduled visit days over the programme's weeks."},
    "points": INT, "cents": {**INT, "description": "The points' value (per-award maximum applied, cap not)."},
    "draws": INT, "expected_prize_cents": {**INT, "description": "The draws valued at the bowl's average slip."},
    "max_prize_cents": {**INT, "description": "The draws valued at the bowl's best slip."},
    "total_cents": {**INT, "description": "cents + expected_prize_cents, compared with the cap."},
    "cap_cents": INT, "fits_cap": {"type": "boolean"}, "over_cap_cents": INT,
    "unscheduled_targets": {"type": "array", "items": _TEXT,
                            "description": "Activity targets: verified when they happen, not counted here."},
    "targets": {"type": "array", "items": obj({"key": _TEXT, "visits": INT, "points": INT, "draws": INT})},
})
_PATCH_PROPS = {
    "version": {**count(1), "description": "The programme version you are editing; a stale one is 409."},
    "name": text(120, min_length=1, pattern=PROGRAM_LINE), "description": text(4000, lines=True),
    "source": text(2000, lines=True), "caveat": text(2000, lines=True),
    "point_value_cents": {**count(1), "description": "Only while no patient is enrolled."},
    "weeks": {**INT, "minimum": 1, "maximum": 104},
    "visit_days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": WEEKDAY},
    "visit_plan": nullable(REQUEST_VISIT_PLAN),
    "cap_cents": {**count(0), "description": "With patients enrolled it may rise, not fall."},
    "cap_window": {"enum": ["calendar_year", "rolling_365", "episode"],
                   "description": "Fixed once patients are enrolled."},
    "max_award_cents": {"oneOf": [count(1), {"type": "null"}],
                        "description": "With patients enrolled it may rise or be removed (null), not fall."},
    "dilute_policy": {"enum": ["failure", "neutral"], "description": "Fixed once patients are enrolled."},
    "near_cap_percent": {**INT, "minimum": 1, "maximum": 100,
                         "description": "From what share of the cap (percent) a patient is near the cap."},
    "funding_source": text(120, pattern=PROGRAM_LINE),
    "budget_cents": {"oneOf": [count(0), {"type": "null"}]},
    "requires_two_person_handover": HANDOVER_FLAG, "is_archived": {"type": "boolean"},
}

document({
    "/programs/{program_id}": {"patch": operation(
        "Edit a programme's fields (admin, manager). Send the version you read; a stale one is 409. Once patients "
        "are enrolled the limits may only become more generous, so that awards already given stand.",
        ("200", "Program", "The programme, with its new version."), body="ProgramUpdate", errors=("404", "409"),
        params=("program_id",))},
    "/programs/{program_id}/targets/{key}/schedules": {"post": {**operation(
        "Change a target's schedule (admin, manager): a new version in force from effective_on, which must be "
        "today or later (tomorrow once results were recorded today), so that awards already given stand. Each "
        "event is paid by the version in force on its date; the streak carries across versions.",
        ("201", "ScheduleVersion", "The new version."), body="ScheduleVersionCreate", errors=("404", "409"),
        params=("program_id",)), "parameters": [
            {"name": "program_id", "in": "path", "required": True, "schema": ROW_ID},
            {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}]}},
    "/programs/{program_id}/schedules": {"get": operation(
        "The version history of each target's schedule, newest first (staff).",
        ("200", "ScheduleHistory", "Each target with its versions."), errors=("404",), params=("program_id",))},
    "/programs/{program_id}/maximum": {"get": operation(
        "The most a patient enrolled today could earn, every scheduled visit a success, against the cap (staff).",
        ("200", "MaximumEarnable", "Points, dollars, draws and expected prize value against the cap."),
        errors=("404",), params=("program_id",))},
    "/presets": {"get": operation(
        "Labelled starting points for a programme, each with its source and caveat (staff). POST program_data, "
        "edited, to /programs.", ("200", "PresetList", "Every preset."))},
}, {
    "ProgramUpdate": obj(_PATCH_PROPS, ["version"]),
    "ScheduleVersionCreate": body({
        "schedule": ref("Schedule"),
        "effective_on": {**DAY, "description": "Today or later; by default tomorrow once patients are enrolled."},
        "based_on_version": {**count(1), "description": "The newest version you saw; another one saved since is "
                                                        "409."},
    }, ["schedule"]),
    "ScheduleVersion": _VERSION,
    "ScheduleHistory": obj({"program_id": INT, "targets": {"type": "array", "items": obj({
        "key": _TEXT, "label": _TEXT, "kind": _TEXT, "versions": {"type": "array", "items": ref("ScheduleVersion")},
    })}}),
    "MaximumEarnable": _MAXIMUM,
    "PresetList": obj({"presets": {"type": "array", "items": obj({
        "name": _TEXT, "title": _TEXT, "description": _TEXT, "source": _TEXT, "caveat": _TEXT,
        "program_data": ref("ProgramCreate"), "maximum": ref("MaximumEarnable"),
    })}}),
})
