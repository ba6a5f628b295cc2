"""Reading specimen and attendance bodies (docs/api.md): shape only; the services judge the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cm_tracker.api.schemas import Fields
from cm_tracker.engine.outcomes import AttendanceStatus, SpecimenStatus, Validity
from cm_tracker.models import AnalyteResult, TestMethod
from cm_tracker.services.usecases.specimens import ACCESSION_LENGTH, SpecimenInput
from cm_tracker.validation import CALENDAR_MESSAGE, in_calendar

SPECIMEN_FIELDS = ("collected_at", "status", "results", "validity", "temperature_ok", "observed", "method", "note",
                   "confirm_untested", "accession")
MAX_ANALYTES = 40


def moment(fields: Fields, name: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 time with its offset; a time without one is refused because its moment is unknowable."""
    value = fields.data.get(name)
    if value is None:
        if required:
            fields.errors[name] = "Required: a time in ISO 8601 with its offset, e.g. 2026-11-02T09:30:00-08:00."
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        fields.errors[name] = "Must be a time in ISO 8601 with its offset, e.g. 2026-11-02T09:30:00-08:00."
        return None
    if not in_calendar(parsed):
        fields.errors[name] = CALENDAR_MESSAGE
        return None
    return parsed


def choice(fields: Fields, name: str, enum: type, *, required: bool = True) -> Any:
    value = fields.data.get(name)
    if value is None:
        if required:
            fields.errors[name] = f"Required: one of {', '.join(m.value for m in enum)}."
        return None
    if not isinstance(value, str) or value not in {m.value for m in enum}:
        fields.errors[name] = f"Must be one of {', '.join(m.value for m in enum)}."
        return None
    return enum(value)


def boolean(fields: Fields, name: str) -> bool | None:
    value = fields.data.get(name)
    if value is not None and not isinstance(value, bool):
        fields.errors[name] = "Must be true or false."
        return None
    return value


def results(fields: Fields) -> dict[str, AnalyteResult] | None:
    value = fields.data.get("results")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_ANALYTES:
        fields.errors["results"] = f"Must be an object of at most {MAX_ANALYTES} analytes, each negative or positive."
        return None
    found: dict[str, AnalyteResult] = {}
    for analyte, result in value.items():
        if not isinstance(analyte, str) or not 1 <= len(analyte) <= 40 or not analyte.replace("_", "").isalnum():
            fields.errors["results"] = "Analyte names are 1 to 40 letters, digits or underscores."
        elif result not in ("negative", "positive"):
            fields.errors[f"results.{analyte}"] = "Must be negative or positive."
        else:
            found[analyte.lower()] = AnalyteResult(result)
    return found


def accession(fields: Fields) -> str | None:
    """The number the cup carries to the lab: 1 to 64 characters, spaces around it trimmed."""
    value = fields.string("accession", ACCESSION_LENGTH, required=False)
    if value is not None and not value.strip(" "):
        fields.errors["accession"] = f"Give 1 to {ACCESSION_LENGTH} characters besides spaces, or leave it out."
    return value.strip(" ") or None if value is not None else None


def specimen_values(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The fields of a specimen body; with `partial`, only those present (a correction)."""
    fields = Fields(data, (*SPECIMEN_FIELDS, "version", "reason") if partial else SPECIMEN_FIELDS)
    readers = {
        "collected_at": lambda: moment(fields, "collected_at", required=not partial),
        "status": lambda: choice(fields, "status", SpecimenStatus, required=not partial),
        "results": lambda: results(fields) or {},
        "validity": lambda: choice(fields, "validity", Validity, required=False),
        "temperature_ok": lambda: boolean(fields, "temperature_ok"),
        "observed": lambda: boolean(fields, "observed"),
        "method": lambda: choice(fields, "method", TestMethod, required=False),
        "note": lambda: fields.string("note", 2000, required=False) or "",
        "confirm_untested": lambda: bool(boolean(fields, "confirm_untested")),
        "accession": lambda: accession(fields),
    }
    values = {name: read() for name, read in readers.items() if not partial or name in data}
    if partial:
        values["version"] = fields.integer("version", minimum=1)
        values["reason"] = fields.string("reason", 500)
        fields.refuse_nulls(SPECIMEN_FIELDS)
    fields.check("The specimen was not recorded." if not partial else "The correction was not saved.")
    return values


def specimen_input(data: dict[str, Any]) -> SpecimenInput:
    values = specimen_values(data)
    # An API client that reports a final result without a validity check means a valid specimen.
    if values["status"] == SpecimenStatus.FINAL and values["validity"] is None:
        values["validity"] = Validity.VALID
    return SpecimenInput(**values)


def attendance_values(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(data, ("occurred_at", "target", "status", "note"))
    values = {
        "occurred_at": moment(fields, "occurred_at"),
        "target_key": fields.string("target", 40),
        "status": choice(fields, "status", AttendanceStatus),
        "note": fields.string("note", 2000, required=False) or "",
    }
    fields.check("The attendance was not recorded.")
    return values
