"""A patient's Part 2 consents (42 CFR 2.31, docs/part2.md "The staff pages"): the list with each consent's status
and a pending revocation request, the form for a signed consent (recorded once however often it is sent), the
printable form for the patient to sign (English or Spanish), the revocation, and the overview of what waits within
the viewer's reach. Routes hang on staff.part2_blueprint; every patient is loaded through permissions."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.i18n import LANGUAGES
from cm_tracker.models import Consent, Patient
from cm_tracker.permissions import can_manage_consents, get_consent_for, get_patient_for, patient_scope
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.context import clinic_settings
from cm_tracker.services.core.errors import Conflict, ServiceError
from cm_tracker.services.queries.consents import ConsentView, consent_view
from cm_tracker.services.usecases import consents, part2_overview, patients
from cm_tracker.staff.consent_forms import ConsentForm, RevokeForm
from cm_tracker.staff.lab_forms import PatientSearchForm
from cm_tracker.staff.part2_blueprint import bp, require

SEARCH_LIMIT = 20
# The typed fields the printable form carries in its URL (the "Print the form for signature" button sends them).
PRINTED_FIELDS = ("recipient_kind", "recipient", "information", "purpose", "expires_on", "expiry_event",
                  "signed_on", "discloser", "lang")


@bp.get("/part2")
def index() -> str:
    require(can_manage_consents(current_user))
    search = PatientSearchForm(request.args)
    query = (search.q.data or "").strip() if search.validate() else ""
    found = patients.search_patients(current_user, query, 1, SEARCH_LIMIT)[0] if query else []
    return render_template("part2/index.html", search=search, query=query, found=found,
                           overview=part2_overview.overview(current_user, patient_scope(current_user)))


@bp.get("/patients/<int:patient_id>/consents", endpoint="consents")
def consents_page(patient_id: int) -> str:
    require(can_manage_consents(current_user))
    patient = get_patient_for(current_user, patient_id)
    found = consents.read_consents(patient, user=current_user, via="page")
    return render_template("part2/consents.html", patient=patient, consents=found)


@bp.route("/patients/<int:patient_id>/consents/new", methods=["GET", "POST"])
def new_consent(patient_id: int) -> str | Response | tuple[str, int]:
    require(can_manage_consents(current_user))
    patient = get_patient_for(current_user, patient_id)
    form = ConsentForm() if request.method == "POST" else _blank_consent_form()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            done = consents.record_consent_once(patient, form.consent_input(), actor=current_user)
            flash(_recorded(done), "info" if done.replayed else "success")
            return redirect(url_for("part2.consents", patient_id=patient.id))
        except ServiceError as exc:  # the rules' refusals, beside their fields, with everything typed kept
            problems = show_errors(form, exc)
    html = render_template("part2/new_consent.html", patient=patient, form=form, problems=problems)
    return (html, 422) if request.method == "POST" else html


@bp.get("/patients/<int:patient_id>/consents/form")
def consent_form(patient_id: int) -> str | Response:
    require(can_manage_consents(current_user))
    patient = get_patient_for(current_user, patient_id)
    if "csrf_token" in request.args:  # sent by the new-consent form's print button: keep the token out of the URL
        return redirect(url_for("part2.consent_form", patient_id=patient.id, **_printed_args()))
    typed = ConsentForm(request.args, meta={"csrf": False})
    lang = typed.lang.data if typed.lang.data in LANGUAGES else "en"
    with force_locale(lang):
        return render_template("part2/consent_form.html", patient=patient, typed=typed, lang=lang,
                               clinic=clinic_settings().name, back=url_for("part2.consents", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/consents/<int:consent_id>/revocation", methods=["GET", "POST"])
def revoke(patient_id: int, consent_id: int) -> str | Response | tuple[str, int]:
    require(can_manage_consents(current_user))
    patient, consent = _consent_of(patient_id, consent_id)
    view = consent_view(consent, clinic_today())
    if view.revocation is not None:  # a second tab, Back after recording: nothing to do
        return _already_revoked(patient, view)
    form = RevokeForm() if request.method == "POST" else _blank_revoke_form(view)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            return _revoked(patient, consents.revoke_consent(consent, form.revoked_on.data or date.min,
                                                             note=form.note.data or "", actor=current_user))
        except Conflict as exc:
            if exc.code != "already_revoked":
                raise
            return _already_revoked(patient, consent_view(consent, clinic_today()))
        except ServiceError as exc:
            problems = show_errors(form, exc)
    html = render_template("part2/revoke.html", patient=patient, view=view, form=form, problems=problems)
    return (html, 422) if request.method == "POST" else html


def _blank_consent_form() -> ConsentForm:
    return ConsentForm(formdata=None, signed_on=clinic_today(), discloser=clinic_settings().name)


def _blank_revoke_form(view: ConsentView) -> RevokeForm:
    """Prefilled with the day the patient asked in the portal, when they did: the day the revocation holds from."""
    asked = view.revocation_request.requested_on if view.revocation_request else None
    return RevokeForm(formdata=None, revoked_on=asked or clinic_today())


def _printed_args() -> dict[str, str]:
    return {name: request.args[name] for name in PRINTED_FIELDS if request.args.get(name)}


def _recorded(done: consents.Recorded) -> str:
    c = done.view.consent
    if done.replayed:
        return (f"This consent was already recorded ({done.view.recorded_by or 'by someone'}, "
                f"{c.created_at:%Y-%m-%d %H:%M} UTC): nothing was recorded twice.")
    return f"Recorded the consent to disclose to {c.recipient}, signed on {c.signed_on:%a %d %b %Y}."


def _revoked(patient: Patient, view: ConsentView) -> Response:
    revoked_on = view.revocation.revoked_on if view.revocation else clinic_today()
    flash(f"Recorded: the consent to disclose to {view.consent.recipient} is revoked from {revoked_on:%a %d %b %Y}. "
          "Disclosures under it from that day on are refused; those before it stand.", "success")
    return redirect(url_for("part2.consents", patient_id=patient.id))


def _already_revoked(patient: Patient, view: ConsentView) -> Response:
    revocation = view.revocation
    when = f" from {revocation.revoked_on:%a %d %b %Y}" if revocation else ""
    who = f" by {view.revoked_by}" if view.revoked_by else ""
    flash(f"This consent is already revoked{when} (recorded{who}); nothing was changed.", "info")
    return redirect(url_for("part2.consents", patient_id=patient.id))


def _consent_of(patient_id: int, consent_id: int) -> tuple[Patient, Consent]:
    """The consent under its patient's URL: another patient's consent is 404 too, even one the user may see."""
    patient, consent = get_consent_for(current_user, consent_id)
    if patient.id != patient_id:
        abort(404)
    return patient, consent
