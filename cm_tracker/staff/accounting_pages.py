"""The accounting of disclosures of one patient (42 CFR 2.25, docs/part2.md): the page, its CSV and the statement
printed for the patient in English or Spanish, each for the same window (the three years up to the clinic's today
unless staff choose another). Reach as every Part 2 page (staff.part2_blueprint): get_patient_for, so a counselor
only for their own caseload."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from cm_tracker.form_errors import show_errors
from cm_tracker.form_validators import DateField
from cm_tracker.models import Patient
from cm_tracker.permissions import get_patient_for
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.usecases import consents
from cm_tracker.services.usecases.accounting import LANGUAGES, AccountingExport, export_accounting, print_statement
from cm_tracker.staff.part2_blueprint import bp

# The service names the window's days as the API does; the form's fields carry the same names in the address.
WINDOW_FIELDS = {"from": "date_from", "to": "date_to"}


class WindowForm(FlaskForm):
    """The window of the accounting (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    date_from = DateField("From", name="from", validators=[Optional()],
                          description="Leave empty for the same date three years ago.")
    date_to = DateField("To", name="to", validators=[Optional()], description="Leave empty for today.")

    def query(self) -> dict[str, str]:
        """The window as typed, for the CSV and statement links (the same window as the page)."""
        return {name: str(getattr(self, attr).data) for name, attr in WINDOW_FIELDS.items()
                if getattr(self, attr).data is not None}


def _window_form() -> WindowForm:
    return WindowForm(request.args)


@bp.get("/patients/<int:patient_id>/disclosures")
def accounting(patient_id: int) -> tuple[str, int]:
    patient = get_patient_for(current_user, patient_id)
    form = _window_form()
    window, found, status = None, [], 422
    if form.validate():
        try:
            window, found = consents.read_disclosures(patient, user=current_user, via="page",
                                                      start=form.date_from.data, end=form.date_to.data)
            status = 200
        except ValidationFailed as exc:
            show_errors(form, exc, WINDOW_FIELDS)
    return render_template("part2/accounting.html", patient=patient, form=form, window=window,
                           disclosures=found, query=form.query()), status


def _refused(form: WindowForm, error: ValidationFailed | None = None) -> Response:
    """A CSV or statement asked for a window that cannot be read: 422 in plain text naming each field, which a browser
    shows and a script reads, rather than an HTML page saved under the file's name (as the report CSVs do)."""
    fields = dict(error.fields) if error else {}
    fields |= {field.name: " ".join(field.errors) for field in form if field.errors}
    lines = ["The accounting could not be made:"] + [f"{name}: {message}" for name, message in fields.items()]
    response = Response("\n".join(lines) + "\n", status=422, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv(export: AccountingExport) -> Response:
    response = Response(stream_with_context(export.lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/patients/<int:patient_id>/disclosures.csv")
def accounting_csv(patient_id: int) -> Response:
    patient = get_patient_for(current_user, patient_id)
    form = _window_form()
    if not form.validate():
        return _refused(form)
    try:
        return _csv(export_accounting(patient, user=current_user, start=form.date_from.data,
                                                 end=form.date_to.data))
    except ValidationFailed as exc:
        return _refused(form, exc)


def _statement(patient: Patient, form: WindowForm, language: str) -> str:
    statement = print_statement(patient, language, user=current_user, start=form.date_from.data,
                                           end=form.date_to.data)
    context: dict[str, Any] = {"statement": statement, "query": form.query(), "language": language}
    with force_locale(language):  # printed for the patient, in their language; the staff pages stay English
        return render_template("part2/statement.html", **context)


@bp.get("/patients/<int:patient_id>/disclosures/statement")
def accounting_statement(patient_id: int) -> str | Response:
    language = request.args.get("lang", "en")
    if language not in LANGUAGES:
        abort(404)  # no statement in that language
    patient = get_patient_for(current_user, patient_id)
    form = _window_form()
    if not form.validate():
        return _refused(form)
    try:
        return _statement(patient, form, language)
    except ValidationFailed as exc:
        return _refused(form, exc)
