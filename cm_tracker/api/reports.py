"""Programme outcome reports (docs/api.md GET /reports/outcomes and /reports/outcomes.csv): admins and managers."""

from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request, stream_with_context

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import bp
from cm_tracker.api.errors import ApiError
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DAY, ID, obj
from cm_tracker.api.schemas import parse_date
from cm_tracker.permissions import can_view_reports
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.usecases import reports as pages
from cm_tracker.validation import CALENDAR_MESSAGE, in_calendar, row_id


def _filters() -> pages.Filters:
    fields: dict[str, str] = {}
    args = request.args

    def whole(name: str, required: bool) -> int | None:
        raw = args.get(name, "")
        if not raw:
            if required:
                fields[name] = "Required: the programme to report on."
            return None
        try:
            return row_id(raw)
        except ValueError:
            fields[name] = "Must be a whole number id."
            return None

    def day(name: str) -> date | None:
        raw = args.get(name, "")
        found = parse_date(raw) if raw else None
        if raw and found is None:
            fields[name] = "Must be a date, YYYY-MM-DD."
        elif found is not None and not in_calendar(found):
            fields[name], found = CALENDAR_MESSAGE, None
        return found

    found = pages.Filters(whole("program_id", True), whole("counselor_id", False), day("from"), day("to"))
    if fields:
        raise ApiError(422, "validation_failed", "The report could not be made.", fields=fields)
    return found


@bp.get("/reports/outcomes")
@allow(can_view_reports)
def report_outcomes() -> Response:
    return jsonify(pages.api_outcomes(_filters(), user=current_api_user(), today=clinic_today()))


@bp.get("/reports/outcomes.csv")
@allow(can_view_reports)
def report_outcomes_csv() -> Response:
    export = pages.export_table("outcomes", "api", _filters(), user=current_api_user(), today=clinic_today())
    response = Response(stream_with_context(export.lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


_NUMBER = {"type": ["number", "null"]}
_FIGURES = {
    "enrollments": {"type": "integer"},
    "percent_negative_submitted": _NUMBER | {"description": "Successes over specimens with a final result, 0-100."},
    "percent_negative_itt": _NUMBER | {"description": "Successes over scheduled less excused (missed = positive)."},
    "lda_samples_mean": _NUMBER, "lda_weeks_mean": _NUMBER, "retention_weeks_mean": _NUMBER,
    "attendance_rate": _NUMBER | {"description": "Attended over scheduled less excused visit days, 0-100."},
    "earned_cents": {"type": "integer"}, "redeemed_cents": {"type": "integer"},
    "outstanding_cents": {"type": "integer"},
}
_PARAMS = [
    {"name": "program_id", "in": "query", "required": True, "schema": ID},
    {"name": "counselor_id", "in": "query", "schema": ID, "description": "Only this counselor's caseload."},
    {"name": "from", "in": "query", "schema": DAY,
     "description": "First clinic date of the period (default: the programme's start)."},
    {"name": "to", "in": "query", "schema": DAY,
     "description": "Last clinic date of the period (default and latest: today)."},
]


def _with_params(op: dict[str, object]) -> dict[str, object]:
    op["parameters"] = _PARAMS
    return op


_csv_op = _with_params(operation("The per-patient table of the outcome report as CSV (admin, manager).",
                                 ("200", None, "CSV, one row per patient, then a last row "
                                  "`# end of export: N rows` (docs/reports.md)."), errors=("404", "422")))
_csv_op["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}  # type: ignore[index]

document({
    "/reports/outcomes": {"get": _with_params(operation(
        "Outcome measures of a programme over a period, pooled and per patient (admin, manager; docs/rules.md 8).",
        ("200", "OutcomeReport", "The figures."), errors=("404", "422")))},
    "/reports/outcomes.csv": {"get": _csv_op},
}, {
    "OutcomeReport": obj({**_FIGURES, "patients": {"type": "array", "items": obj(
        {"patient_id": {"type": "integer"}, **_FIGURES})}}),
})
