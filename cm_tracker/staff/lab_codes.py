"""The LOINC map (/staff/labs/codes): the built-in codes and the clinic's own; admins and managers add and remove
clinic codes, every staff role reads the map. After a code is added the page offers the results held for it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cm_tracker.form_errors import show_errors
from cm_tracker.permissions import can_manage_lab_codes, lab_result_scope
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import lab_codes as lab_codes_reads
from cm_tracker.services.queries import lab_review as lab_review_reads
from cm_tracker.services.usecases import lab_codes
from cm_tracker.staff.lab_blueprint import bp, require
from cm_tracker.staff.lab_forms import CodeForm, RemoveCodeForm


@bp.get("/codes")
def codes() -> str:
    return _codes_page(_code_form(posted=False))


@bp.post("/codes")
def add_code() -> str | tuple[str, int] | Response:
    require(can_manage_lab_codes(current_user))
    form = _code_form(posted=True)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            row = lab_codes.add_code(form.code.data or "", form.analyte.data or "", form.note.data or "",
                                     actor=current_user)
            flash(f"Added {row.code}: its results count for {', '.join(row.analytes)}.", "success")
            return redirect(url_for("labs.codes", added=row.code))
        except ServiceError as exc:
            problems = show_errors(form, exc, unnamed="code")
    return _codes_page(form, problems), 422


@bp.get("/codes/<int:code_id>/remove")
def remove_code_page(code_id: int) -> str:
    require(can_manage_lab_codes(current_user))
    found = next((c for c in lab_codes_reads.clinic_codes() if c.row.id == code_id), None)
    if found is None:
        raise NotFound("No such code.")
    return render_template("staff/labs/remove_code.html", code=found, form=RemoveCodeForm())


@bp.post("/codes/<int:code_id>/remove")
def remove_code(code_id: int) -> Response:
    require(can_manage_lab_codes(current_user))
    if RemoveCodeForm().validate_on_submit():
        try:
            code = lab_codes.remove_code(code_id, actor=current_user)
            flash(f"Removed {code} from the clinic's codes. Results already applied keep their analyte; "
                  f"new results with {code} will be held for review.", "success")
        except NotFound as exc:
            flash(exc.message, "info")
    else:
        flash("This form was open too long or came from elsewhere. Please send it again.", "error")
    return redirect(url_for("labs.codes"))


def _code_form(*, posted: bool) -> CodeForm:
    form = CodeForm() if posted else CodeForm(formdata=None)
    form.analyte.choices = [SelectChoice("", "Choose an analyte"),
                            *(SelectChoice(k, k) for k in lab_codes_reads.analyte_keys())]
    return form


def _codes_page(form: CodeForm, problems: list[str] | None = None) -> str:
    """The map, the add form (admins and managers) and, after an add, the results held for that code."""
    added = (request.args.get("added") or "").strip()[:16]
    held = lab_review_reads.waiting_count(lab_result_scope(current_user), code=added) if added else 0
    return render_template("staff/labs/codes.html", built_in=lab_codes_reads.built_in(),
                           clinic=lab_codes_reads.clinic_codes(), form=form, problems=problems or [],
                           added=added, held=held)
