"""Recording a Part 2 disclosure and printing its packet (42 CFR 2.32; docs/part2.md "The disclosure packet").

The form records one disclosure under one of the patient's consents that holds today, with the packet of records
cm-tracker prints for it (or a description of records sent outside it); a refusal (409 no_consent) is shown on the
form with everything typed kept, and the form's key makes a double click or a resend record once. The packet page
prints the copy stored when the disclosure was recorded, in its own language, and each view is audited as an
identified export. Routes hang on staff.part2_blueprint; every patient is loaded through permissions."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.models import Patient, RecipientKind
from cm_tracker.patient.wording import analyte, label
from cm_tracker.permissions import can_manage_consents, get_patient_for
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.consents import ConsentStatus
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries.consents import ConsentView
from cm_tracker.services.usecases import consents, disclosure_packets
from cm_tracker.staff.disclosure_forms import FIELD_NAMES, DisclosureForm
from cm_tracker.staff.part2_blueprint import bp, require

# The packet's period by default: the last 30 days, never before the patient's enrolment.
DEFAULT_DAYS = 30


@bp.route("/patients/<int:patient_id>/disclosures/new", methods=["GET", "POST"])
def new_disclosure(patient_id: int) -> str | Response | tuple[str, int]:
    require(can_manage_consents(current_user))
    patient = get_patient_for(current_user, patient_id)
    views = consents.read_consents(patient, user=current_user, via="page/disclosure")
    chosen = _chosen(views, request.form.get("consent_id") if request.method == "POST" else request.args.get(
        "consent"), any_status=request.method == "POST")
    form = DisclosureForm() if request.method == "POST" else _blank_form(patient, chosen)
    form.recipient_class = _class_of(chosen)
    problems, status = [], 422
    if chosen is not None and form.validate_on_submit():
        try:
            return _recorded(patient, consents.record_disclosure_once(
                patient, form.disclosure_input(), actor=current_user, packet=form.packet_choice(),
                form_key=form.key.data or ""))
        except ServiceError as exc:  # the consent or the choice refused: the reason on the form, all typed kept
            problems, status = show_errors(form, exc, FIELD_NAMES), exc.status
    return _page(patient, views, chosen, form, problems, status)


@bp.get("/patients/<int:patient_id>/disclosures/<int:disclosure_id>/packet")
def packet(patient_id: int, disclosure_id: int) -> str:
    require(can_manage_consents(current_user))
    patient = get_patient_for(current_user, patient_id)
    found = disclosure_packets.read_packet(patient, disclosure_id, user=current_user)
    language = found.packet.language if found.packet else "en"
    typed = found.packet is None or disclosure_packets.typed_description(found.disclosure.disclosure.description,
                                                                         found.packet)
    with force_locale(language):
        printed = render_template("part2/packet.html", view=found, consent=found.consent.consent, patient=patient,
                                  records=found.records or {}, typed_description=typed, on=date.fromisoformat,
                                  analyte=analyte, label=label)
    return render_template("part2/disclosure_packet.html", patient=patient, view=found, language=language,
                           printed=Markup(printed))  # our own template's output, escaped by Jinja as it rendered


def _usable(views: list[ConsentView]) -> list[ConsentView]:
    """The consents a disclosure may be recorded under today: active, and not asked by the patient to be revoked."""
    return [v for v in views if v.status == ConsentStatus.ACTIVE and v.revocation_request is None]


def _chosen(views: list[ConsentView], raw: str | None, *, any_status: bool) -> ConsentView | None:
    """The consent the URL (a GET) or the form (a POST) names; a POST may name one no longer usable, which the use
    case then refuses with its reason. With one usable consent, a GET chooses it."""
    candidates = views if any_status else _usable(views)
    found = next((v for v in candidates if raw and str(v.consent.id) == raw.strip()), None)
    if found is None and not any_status and len(candidates) == 1:
        return candidates[0]
    return found


def _class_of(view: ConsentView | None) -> str | None:
    if view is None or view.consent.recipient_kind != RecipientKind.TPO_CLASS:
        return None
    return view.consent.recipient


def _blank_form(patient: Patient, chosen: ConsentView | None) -> DisclosureForm:
    today = clinic_today()
    enrollment = current_enrollment(patient)
    start = today - timedelta(days=DEFAULT_DAYS)
    named = chosen is not None and chosen.consent.recipient_kind == RecipientKind.NAMED
    return DisclosureForm(formdata=None, consent_id=chosen.consent.id if chosen else None, key=uuid.uuid4().hex,
                          recipient=chosen.consent.recipient if named and chosen else "", disclosed_on=today,
                          period_from=max(start, enrollment.start_on) if enrollment else start, period_to=today,
                          include=["results", "attendance"], language="en", sent="packet")


def _page(patient: Patient, views: list[ConsentView], chosen: ConsentView | None, form: DisclosureForm,
          problems: list[str], status: int) -> str | tuple[str, int]:
    if request.method == "POST" and chosen is None:  # a consent not the patient's, or none: nothing was sent on
        problems = ["Choose one of the patient's consents below; none was recorded."]
    html = render_template("part2/disclosure_new.html", patient=patient, usable=_usable(views), chosen=chosen,
                           form=form, problems=problems, other_consents=len(views) - len(_usable(views)))
    return (html, status) if request.method == "POST" else html


def _recorded(patient: Patient, done: consents.Disclosed) -> Response:
    d = done.view.disclosure
    if done.replayed:
        flash(f"This disclosure was already recorded ({done.view.recorded_by or 'by someone'}, "
              f"{d.created_at:%Y-%m-%d %H:%M} UTC): nothing was recorded twice.", "info")
    else:
        flash(f"Recorded the disclosure to {d.recipient} on {d.disclosed_on:%a %d %b %Y}.", "success")
    return redirect(url_for("part2.packet", patient_id=patient.id, disclosure_id=d.id))
