"""Corrections at the desk: change a recorded specimen or session mark with a reason, preview the adjustments
first, confirm, and see every version. A stale form (someone changed the record meanwhile) keeps what was typed."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.engine.outcomes import AttendanceStatus
from cm_tracker.form_errors import show_errors
from cm_tracker.models import AttendanceRecord, LedgerEntry, RecordType, Specimen
from cm_tracker.permissions import get_record_for
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.core.errors import Conflict, ServiceError
from cm_tracker.services.queries import corrections as corrections_reads
from cm_tracker.services.queries import desk
from cm_tracker.services.usecases import corrections
from cm_tracker.services.usecases.attendance import correct_attendance
from cm_tracker.services.usecases.specimens import correct_specimen
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.desk import FIELD_NAMES, specimen_input
from cm_tracker.staff.forms import AttendanceCorrectionForm, specimen_correction_form

# A correction re-evaluates one enrolment's history; a link naming more entries than this is not one of ours.
MAX_POSTED = 500


def _prefill(specimen: Specimen) -> dict[str, Any]:
    local = specimen.collected_at.astimezone(clinic_zone())
    values: dict[str, Any] = {
        "version": specimen.version, "status": str(specimen.status), "collected_on": local.date(),
        "collected_time": local.time().replace(second=0, microsecond=0), "note": specimen.note,
        "accession": specimen.accession,
        "validity": str(specimen.validity) if specimen.validity else None,
        "temperature_ok": {True: "yes", False: "no"}.get(specimen.temperature_ok),
        "observed": {True: "yes", False: "no"}.get(specimen.is_observed),
        "method": str(specimen.method) if specimen.method else None}
    values.update({f"result_{r.analyte}": str(r.result) for r in specimen.results})
    return values


def _problems(form: Any, exc: ServiceError, current_version: int, names: dict[str, str] | None = None) -> list[str]:
    """A stale form keeps what was typed over the record's fresh version; other refusals go beside their fields."""
    if not (isinstance(exc, Conflict) and exc.code == "stale_version"):
        return show_errors(form, exc, names)
    form.version.data = str(current_version)
    return [f"{exc.message} What you typed is kept below: check the record as it is now (see the history) and "
            "preview or confirm again to apply your change over it."]


def _correction(form: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a correction's preview and of its confirmation, which are the same."""
    return {"version": int(form.version.data or 0), "reason": form.reason.data or "", "changes": changes,
            "actor": current_user}


def _specimen_changes(form: Any) -> dict[str, Any]:
    data = specimen_input(form, None)
    return {k: getattr(data, k) for k in ("collected_at", "status", "results", "validity", "temperature_ok",
                                          "observed", "method", "note", "confirm_untested", "accession")}


def _is_preview() -> bool:
    return request.form.get("action") != "confirm"


def _confirmed(endpoint: str, patient_id: int, *, posted: list[LedgerEntry], **ids: int) -> Response:
    """To the confirmation page, which lists exactly the entries this correction posted (their ids ride in the link,
    so a reload shows the same page, never the adjustments of a later correction)."""
    flash("The correction is saved.", "success")
    return redirect(url_for(endpoint, patient_id=patient_id, posted=",".join(str(e.id) for e in posted) or None,
                            **ids))


def _posted_ids() -> list[int]:
    return [int(part) for part in request.args.get("posted", "").split(",") if part.strip().isdigit()][:MAX_POSTED]


@bp.route("/patients/<int:patient_id>/specimens/<int:specimen_id>/corrected")
def specimen_corrected(patient_id: int, specimen_id: int) -> str:
    patient, specimen = get_record_for(current_user, Specimen, specimen_id, patient_id=patient_id)
    return render_template("staff/corrected.html", patient=patient,
                           posted=corrections_reads.posted_correction(specimen, _posted_ids()))


@bp.route("/patients/<int:patient_id>/attendance/<int:record_id>/corrected")
def attendance_corrected(patient_id: int, record_id: int) -> str:
    patient, record = get_record_for(current_user, AttendanceRecord, record_id, patient_id=patient_id)
    return render_template("staff/corrected.html", patient=patient,
                           posted=corrections_reads.posted_correction(record, _posted_ids()))


@bp.route("/patients/<int:patient_id>/specimens/<int:specimen_id>/correct", methods=["GET", "POST"])
def correct_specimen_page(patient_id: int, specimen_id: int) -> str | Response:
    patient, specimen = get_record_for(current_user, Specimen, specimen_id, patient_id=patient_id, write=True)
    analytes = sorted(set(desk.panel(specimen.enrollment.program)) | {r.analyte for r in specimen.results})
    form = specimen_correction_form(analytes, **(_prefill(specimen) if request.method == "GET" else {}))
    preview, problems = None, []
    if form.validate_on_submit():
        args = _correction(form, _specimen_changes(form))
        try:
            if _is_preview():
                preview = corrections.preview_specimen_correction(specimen, **args)
            else:
                done = correct_specimen(specimen, **args)
                return _confirmed("staff.specimen_corrected", patient.id, specimen_id=specimen.id,
                                  posted=done.adjustments)
        except ServiceError as exc:
            problems = _problems(form, exc, specimen.version, FIELD_NAMES)
    return render_template("staff/correct_specimen.html", patient=patient, specimen=specimen, form=form,
                           preview=preview, problems=problems,
                           history=corrections_reads.history(RecordType.SPECIMEN, specimen.id))


@bp.route("/patients/<int:patient_id>/attendance/<int:record_id>/correct", methods=["GET", "POST"])
def correct_attendance_page(patient_id: int, record_id: int) -> str | Response:
    patient, record = get_record_for(current_user, AttendanceRecord, record_id, patient_id=patient_id, write=True)
    prefill = {"version": record.version, "status": str(record.status), "note": record.note}
    form = AttendanceCorrectionForm(**(prefill if request.method == "GET" else {}))
    preview, problems = None, []
    if form.validate_on_submit():
        args = _correction(form, {"status": AttendanceStatus(form.status.data or record.status),
                                  "note": form.note.data or ""})
        try:
            if _is_preview():
                preview = corrections.preview_attendance_correction(record, **args)
            else:
                done = correct_attendance(record, **args)
                return _confirmed("staff.attendance_corrected", patient.id, record_id=record.id,
                                  posted=done.adjustments)
        except ServiceError as exc:
            problems = _problems(form, exc, record.version)
    return render_template("staff/correct_attendance.html", patient=patient, record=record, form=form,
                           preview=preview, problems=problems,
                           history=corrections_reads.history(RecordType.ATTENDANCE, record.id))
