"""The OpenAPI 3.1 component schemas of the API's bodies (JSON Schema 2020-12), kept beside the code they describe."""

from __future__ import annotations

from typing import Any

WEEKDAY = {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
DATE = {"type": "string", "format": "date", "examples": ["2026-11-02"]}
DATETIME = {"type": "string", "format": "date-time", "examples": ["2026-11-02T09:30:00+00:00"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = True,
        description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


ERROR = obj({"error": obj({
    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "examples": ["validation_failed"]},
    "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "Only for 422: why each field was refused, by dotted name (targets.0.schedule.start)."},
}, ["code", "message"])}, ["error"])

TOKEN_REQUEST = obj({"username": {"type": "string", "maxLength": 256},
                     "password": {"type": "string", "maxLength": 1024}}, ["username", "password"])
TOKEN = obj({
    "token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_at": DATETIME,
    "user": obj({"id": INT, "username": {"type": "string"}, "role": ref("Role")}),
}, ["token", "expires_at"])

ROLE = {"type": "string", "enum": ["admin", "manager", "counselor", "patient"]}
USER_CREATE = obj({
    "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{1,63}$"},
    "password": {"type": "string", "minLength": 8, "maxLength": 128},
    "role": ref("Role"),
    "display_name": {"type": "string", "maxLength": 120},
    "patient_id": {**ID, "description": "Required for a patient account: the patient record it belongs to."},
}, ["username", "password", "role"])
USER = obj({
    "id": INT, "username": {"type": "string"}, "role": ref("Role"), "display_name": {"type": "string"},
    "patient_id": nullable(INT), "is_disabled": {"type": "boolean"}, "must_change_password": {"type": "boolean"},
    "created_at": nullable(DATETIME), "last_sign_in_at": nullable(DATETIME),
}, ["id", "username", "role", "display_name", "patient_id", "is_disabled"])

ESCALATING = obj({
    "kind": {"const": "escalating"}, "start": {"type": "integer", "minimum": 1},
    "step": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 1},
    "bonus_every": {"type": "integer", "minimum": 1}, "bonus": {"type": "integer", "minimum": 1},
    "escalate_per": {"enum": ["sample", "week"]}, "recovery_after": {"type": "integer", "minimum": 0},
}, ["kind", "start"], description="Escalating points with reset and recovery (docs/rules.md 4.1).")
BOWL_TIER = obj({"tier": {"type": "string"}, "slips": {"type": "integer", "minimum": 0},
                 "value_cents": {"type": "integer", "minimum": 0}}, ["tier", "slips", "value_cents"])
PRIZE_DRAWS = obj({
    "kind": {"const": "prize_draws"}, "start_draws": {"type": "integer", "minimum": 1},
    "step_draws": {"type": "integer", "minimum": 0}, "max_draws": {"type": "integer", "minimum": 1},
    "escalate_per": {"enum": ["sample", "week"]}, "recovery_after": {"type": "integer", "minimum": 0},
    "bonus_draws": {"type": "integer", "minimum": 0}, "bonus_analytes": {"type": "array", "items": {"type": "string"}},
    "bowl": {"type": "array", "minItems": 1, "items": ref("BowlTier")},
}, ["kind", "start_draws", "bowl"], description="Escalating prize draws from a fishbowl (docs/rules.md 4.2).")
FIXED = obj({"kind": {"const": "fixed"}, "points": {"type": "integer", "minimum": 1},
             "draws": {"type": "integer", "minimum": 1}}, ["kind"],
            description="The same points or draws on every success (docs/rules.md 4.3); give one of the two.")
SCHEDULE = {"oneOf": [ref("EscalatingSchedule"), ref("PrizeDrawSchedule"), ref("FixedSchedule")],
            "discriminator": {"propertyName": "kind", "mapping": {
                "escalating": "#/components/schemas/EscalatingSchedule",
                "prize_draws": "#/components/schemas/PrizeDrawSchedule",
                "fixed": "#/components/schemas/FixedSchedule"}}}

TARGET_KIND = {"type": "string", "enum": ["abstinence", "attendance", "activity"]}
TARGET_CREATE = obj({
    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"}, "kind": TARGET_KIND,
    "label": {"type": "string", "maxLength": 120},
    "analytes": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"},
                 "description": "Required and non-empty for abstinence targets; absent for the others."},
    "schedule": ref("Schedule"),
}, ["key", "kind", "schedule"])
TARGET = obj({
    "key": {"type": "string"}, "kind": TARGET_KIND, "label": {"type": "string"},
    "analytes": {"type": "array", "items": {"type": "string"}}, "schedule": ref("Schedule"),
    "schedule_version": INT, "effective_on": DATE,
    "upcoming": {"type": "array", "description": "Versions saved to take effect after today.", "items": obj({
        "version": INT, "effective_on": DATE, "schedule": ref("Schedule")})},
}, ["key", "kind", "label", "analytes", "schedule"])
VISIT_PLAN = {"type": "array", "minItems": 1, "items": obj({
    "from_week": {"type": "integer", "minimum": 1}, "to_week": {"type": "integer", "minimum": 1},
    "days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": WEEKDAY},
}, ["from_week", "to_week", "days"])}
PROGRAM_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 120},
    "description": {"type": "string", "maxLength": 4000}, "preset": {"type": "string", "maxLength": 64},
    "source": {"type": "string", "maxLength": 2000, "description": "Where the schedule's numbers come from."},
    "caveat": {"type": "string", "maxLength": 2000, "description": "How sure we are of them."},
    "point_value_cents": {"type": "integer", "minimum": 1}, "weeks": {"type": "integer", "minimum": 1, "maximum": 104},
    "visit_days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": WEEKDAY},
    "visit_plan": VISIT_PLAN, "cap_cents": {"type": "integer", "minimum": 0},
    "cap_window": {"enum": ["calendar_year", "rolling_365", "episode"]},
    "max_award_cents": {"type": "integer", "minimum": 1}, "dilute_policy": {"enum": ["failure", "neutral"]},
    "near_cap_percent": {"type": "integer", "minimum": 1, "maximum": 100, "default": 80,
                         "description": "From what share of the cap (percent) a patient is near the cap."},
    "funding_source": {"type": "string", "maxLength": 120}, "budget_cents": {"type": "integer", "minimum": 0},
    "requires_two_person_handover": {"type": "boolean"},
}
PROGRAM_CREATE = obj({
    **PROGRAM_FIELDS, "effective_on": {**DATE, "description": "When the schedules start to apply; today by default."},
    "targets": {"type": "array", "minItems": 1, "items": ref("TargetCreate")},
}, ["name", "point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window", "targets"])
PROGRAM = obj({
    **PROGRAM_FIELDS, "id": INT, "visit_plan": nullable(VISIT_PLAN), "preset": nullable({"type": "string"}),
    "max_award_cents": nullable(INT), "budget_cents": nullable(INT), "is_archived": {"type": "boolean"},
    "version": INT, "created_at": nullable(DATETIME), "targets": {"type": "array", "items": ref("Target")},
}, ["id", "name", "point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window", "max_award_cents",
    "dilute_policy", "targets"])

PATIENT_CREATE = obj({
    "display_name": {"type": "string", "minLength": 1, "maxLength": 120},
    "record_number": {"type": "string", "minLength": 1, "maxLength": 40},
    "program_id": ID, "counselor_id": {**ID, "description": "Admins and managers only; a counselor's patient "
                                                           "joins their own caseload."},
    "start_date": DATE,
}, ["display_name", "record_number", "program_id", "start_date"])
ENROLLMENT = obj({
    "id": INT, "program_id": INT, "start_date": DATE, "end_date": nullable(DATE),
    "status": {"enum": ["active", "completed", "discharged"]}, "visit_days": {"type": "array", "items": WEEKDAY},
}, ["id", "program_id", "start_date", "status"])
PATIENT = obj({
    "id": INT, "display_name": {"type": "string"}, "record_number": {"type": "string"},
    "counselor_id": nullable(INT), "version": INT, "created_at": nullable(DATETIME),
    "enrollment": nullable(ref("Enrollment")), "enrollments": {"type": "array", "items": ref("Enrollment")},
}, ["id", "display_name", "record_number", "counselor_id", "enrollment"])

SCHEMAS: dict[str, Any] = {
    "Error": ERROR, "TokenRequest": TOKEN_REQUEST, "Token": TOKEN, "Role": ROLE,
    "UserCreate": USER_CREATE, "User": USER, "UserList": obj({"users": {"type": "array", "items": ref("User")}}),
    "EscalatingSchedule": ESCALATING, "PrizeDrawSchedule": PRIZE_DRAWS, "FixedSchedule": FIXED,
    "BowlTier": BOWL_TIER, "Schedule": SCHEDULE, "TargetCreate": TARGET_CREATE, "Target": TARGET,
    "ProgramCreate": PROGRAM_CREATE, "Program": PROGRAM,
    "ProgramList": obj({"programs": {"type": "array", "items": ref("Program")}}),
    "PatientCreate": PATIENT_CREATE, "Enrollment": ENROLLMENT, "Patient": PATIENT,
}
