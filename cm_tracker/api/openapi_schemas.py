"""The OpenAPI 3.1 component schemas of the API's bodies (JSON Schema 2020-12), kept beside the code they describe."""

from __future__ import annotations

from typing import Any

WEEKDAY = {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
DATE = {"type": "string", "format": "date", "examples": ["2026-11-02"]}
DATETIME = {"type": "string", "format": "date-time", "examples": ["2026-11-02T09:30:00+00:00"]}
# What requests may send (cm_tracker/validation.py): ids fit an INTEGER column, dates and times lie in the years
# 1900 to 2999, and text holds no control characters (so no line breaks), except multi-line text (`LINES`), which
# keeps tabs and line breaks. The schemas of answers stay plain: they describe what was stored.
_MONTH_DAY = "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_CLOCK = "T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
DAY = {**DATE, "pattern": f"^(19|2[0-9])[0-9]{{2}}{_MONTH_DAY}$", "description": "In the years 1900 to 2999."}
MOMENT = {**DATETIME, "pattern": f"^(19|2[0-9])[0-9]{{2}}{_MONTH_DAY}{_CLOCK}$",
          "description": "ISO 8601 with its offset, in the years 1900 to 2999."}
# An enrolment starts in the years 2000 to 2099 (services/usecases/admission.py).
START_DAY = {**DATE, "pattern": f"^20[0-9]{{2}}{_MONTH_DAY}$", "description": "In the years 2000 to 2099."}
LINE = "^[^\\u0000-\\u001f\\u007f]*$"
LINES = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
# The header of the writes a client may retry (redemptions, prize draws; services/core/idempotency.py).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    # Python's str.isprintable: no control character, and no other space than the space itself.
    "schema": {"type": "string", "minLength": 1, "maxLength": 120,
               "pattern": "^[^\\u0000-\\u001f\\u007f-\\u00a0\\u00ad]+$"},
    "description": "Send a fresh random value per request and reuse it on retries: the same key and body return the "
                   "first response and write nothing; the same key with another body is refused (422). Without it "
                   "the request is accepted but a retry writes again.",
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def text(max_length: int, *, min_length: int = 0, lines: bool = False, **extra: Any) -> dict[str, Any]:
    """A string a request may send: at most `max_length` characters, no control characters (`lines`: but tabs and
    line breaks)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": LINES if lines else LINE, **extra}
    if min_length:
        schema["minLength"] = min_length
    return schema


def body(properties: dict[str, Any], required: list[str] | None = None, *, keep_nulls: tuple[str, ...] = (),
         description: str | None = None) -> dict[str, Any]:
    """A request body: the API reads a field sent as null as one left out, so every optional field may be null
    (but those in `keep_nulls`, which the reader refuses as null)."""
    optional = {name for name in properties if name not in (required or []) and name not in keep_nulls}
    return obj({name: nullable(schema) if name in optional else schema for name, schema in properties.items()},
               required, description=description)


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
    "error_id": {"type": "string", "pattern": "^[0-9a-f]{8}$",
                 "description": "Only for 500: the reference of the error in the server's log."},
}, ["code", "message"])}, ["error"])

TOKEN_REQUEST = body({"username": text(256), "password": text(1024), "otp": text(
    32, description="Required once the account has a second factor: its current code, or a recovery code. Without "
                    "it 401 otp_required; wrong or already used 401 otp_invalid.")}, ["username", "password"])
TOKEN = obj({
    "token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_at": DATETIME,
    "user": obj({"id": INT, "username": {"type": "string"}, "role": ref("Role")}),
}, ["token", "expires_at"])

ROLE = {"type": "string", "enum": ["admin", "manager", "counselor", "patient", "lab"],
        "description": "lab: an integration account that may only POST /lab-results."}
USER_CREATE = body({
    "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{1,63}$"},
    "password": text(128, min_length=8),
    "role": ref("Role"),
    "display_name": text(120),
    "patient_id": {**ID, "description": "Required for a patient account: the patient record it belongs to."},
}, ["username", "password", "role"])
USER = obj({
    "id": INT, "username": {"type": "string"}, "role": ref("Role"), "display_name": {"type": "string"},
    "patient_id": nullable(INT), "is_disabled": {"type": "boolean"}, "must_change_password": {"type": "boolean"},
    "created_at": nullable(DATETIME), "last_sign_in_at": nullable(DATETIME),
    "mfa": {"enum": ["off", "pending", "active"], "description": "The account's second factor (staff only)."},
    "mfa_required": {"type": "boolean", "description": "An admin required a second factor of this account."},
}, ["id", "username", "role", "display_name", "patient_id", "is_disabled"])

# The engine's readers keep every number of a programme or a schedule at most a billion (engine/fields.py).
LARGEST = 1_000_000_000


def count(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": LARGEST}


ESCALATING = body({
    "kind": {"const": "escalating"}, "start": count(1), "step": count(0), "max": count(1),
    "bonus_every": count(1), "bonus": count(1), "escalate_per": {"enum": ["sample", "week"]},
    "recovery_after": count(0),
}, ["kind", "start"], description="Escalating points with reset and recovery (docs/rules.md 4.1).")
BOWL_TIER = body({"tier": {"type": "string", "minLength": 1}, "slips": count(0), "value_cents": count(0)},
                 ["tier", "slips", "value_cents"])
PRIZE_DRAWS = body({
    "kind": {"const": "prize_draws"}, "start_draws": count(1), "step_draws": count(0), "max_draws": count(1),
    "escalate_per": {"enum": ["sample", "week"]}, "recovery_after": count(0), "bonus_draws": count(0),
    "bonus_analytes": {"type": "array", "items": {"type": "string", "minLength": 1}},
    "bowl": {"type": "array", "minItems": 1, "items": ref("BowlTier")},
}, ["kind", "start_draws", "bowl"], description="Escalating prize draws from a fishbowl (docs/rules.md 4.2).")
FIXED = body({"kind": {"const": "fixed"}, "points": count(1), "draws": count(1)}, ["kind"],
             description="The same points or draws on every success (docs/rules.md 4.3); give one of the two.")
SCHEDULE = {"oneOf": [ref("EscalatingSchedule"), ref("PrizeDrawSchedule"), ref("FixedSchedule")],
            "discriminator": {"propertyName": "kind", "mapping": {
                "escalating": "#/components/schemas/EscalatingSchedule",
                "prize_draws": "#/components/schemas/PrizeDrawSchedule",
                "fixed": "#/components/schemas/FixedSchedule"}}}

TARGET_KIND = {"type": "string", "enum": ["abstinence", "attendance", "activity"]}
TARGET_CREATE = body({
    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"}, "kind": TARGET_KIND,
    "label": text(120, min_length=1),
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
PER_WEEK = {"type": "integer", "minimum": 1, "maximum": 7, "description": "Visits each week of this stretch."}
VISIT_PLAN = {"type": "array", "minItems": 1, "items": obj({
    "from_week": {"type": "integer", "minimum": 1}, "to_week": {"type": "integer", "minimum": 1},
    "per_week": PER_WEEK,
    "days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": WEEKDAY,
             "description": "A programme's: the days patients get unless the clinic chooses others; an "
                            "enrollment's: the patient's days, one per visit a week."},
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
# A programme's one-line texts may hold a tab or a carriage return but no line feed (services/usecases/programs.py).
PROGRAM_LINE = "^[^\\u0000-\\u0008\\u000a-\\u000c\\u000e-\\u001f\\u007f]*$"
REQUEST_VISIT_PLAN = {"type": "array", "minItems": 1, "items": obj({
    "from_week": {"type": "integer", "minimum": 1, "maximum": 104},
    "to_week": {"type": "integer", "minimum": 1, "maximum": 104,
                "description": "From from_week to the programme's weeks."},
    "per_week": PER_WEEK,
    "days": {"type": "array", "minItems": 1, "maxItems": 7, "uniqueItems": True, "items": WEEKDAY,
             "description": "The default days, one per visit a week; left out: the first per_week of the "
                            "programme's visit_days, else days spread through the week (Monday, Thursday for 2)."},
}, ["from_week", "to_week"], description="Give per_week, days or both (then as many days as visits a week).")
    | {"anyOf": [{"required": ["per_week"]}, {"required": ["days"]}]}}
# The programme reader takes 0 and 1 for false and true (services/usecases/programs.py).
HANDOVER_FLAG = {"oneOf": [{"type": "boolean"}, {"enum": [0, 1]}]}
PROGRAM_INPUT: dict[str, Any] = {
    **PROGRAM_FIELDS,
    "name": text(120, min_length=1, pattern=PROGRAM_LINE), "description": text(4000, lines=True),
    "preset": text(64, pattern=PROGRAM_LINE), "source": {**PROGRAM_FIELDS["source"], **text(2000, lines=True)},
    "caveat": {**PROGRAM_FIELDS["caveat"], **text(2000, lines=True)},
    "funding_source": text(120, pattern=PROGRAM_LINE),
    "point_value_cents": count(1), "cap_cents": count(0), "max_award_cents": count(1), "budget_cents": count(0),
    "visit_plan": REQUEST_VISIT_PLAN, "requires_two_person_handover": HANDOVER_FLAG,
}
PROGRAM_CREATE = body({
    **PROGRAM_INPUT, "effective_on": {**DAY, "description": "When the schedules start to apply; today by default."},
    "targets": {"type": "array", "minItems": 1, "maxItems": 20, "items": ref("TargetCreate")},
}, ["name", "point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window", "targets"],
    keep_nulls=("near_cap_percent",))
PROGRAM = obj({
    **PROGRAM_FIELDS, "id": INT, "visit_plan": nullable(VISIT_PLAN), "preset": nullable({"type": "string"}),
    "max_award_cents": nullable(INT), "budget_cents": nullable(INT), "is_archived": {"type": "boolean"},
    "version": INT, "created_at": nullable(DATETIME), "targets": {"type": "array", "items": ref("Target")},
}, ["id", "name", "point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window", "max_award_cents",
    "dilute_policy", "targets"])

PATIENT_CREATE = body({
    "display_name": text(120, min_length=1), "record_number": text(40, min_length=1),
    "program_id": ID, "counselor_id": {**ID, "description": "Admins and managers only; a counselor's patient "
                                                           "joins their own caseload."},
    "start_date": START_DAY,
}, ["display_name", "record_number", "program_id", "start_date"])
ENROLLMENT = obj({
    "id": INT, "program_id": INT, "start_date": DATE, "end_date": nullable(DATE),
    "status": {"enum": ["active", "completed", "discharged"]}, "visit_days": {"type": "array", "items": WEEKDAY},
    "visit_plan": nullable({**VISIT_PLAN, "description": "The patient's days in each stretch of the programme's "
                                                         "visit plan; null without a plan."}),
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
