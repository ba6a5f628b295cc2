"""A staff member's second factor on their account page: set up (QR code, secret, a code to confirm), the recovery
codes shown once, new recovery codes and turning it off (docs/security.md "Second factor (TOTP)")."""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from cm_tracker.auth.forms import TotpForm
from cm_tracker.form_errors import show_errors
from cm_tracker.permissions import STAFF_ROLES
from cm_tracker.ratelimits import limit_password_change
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core import second_factor as factor
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.usecases import second_factor
from cm_tracker.services.usecases.second_factor import Enrolment

bp = Blueprint("mfa", __name__)
guard_blueprint(bp, STAFF_ROLES)
QR_LABEL = "QR code to scan with your authenticator app"


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code (segno), with a white margin so that it scans on a dark screen."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, light="#fff", svgclass="qr-code")
    # segno's own SVG of a URI we built: no text of anyone's is in it unescaped.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{QR_LABEL}" ', 1))


def _required() -> bool:
    return factor.is_required(current_user, current_app.config["MFA_REQUIRED_ROLES"])


@bp.route("/")
def security() -> str:
    return _security_page()


def _security_page(*, regenerate: TotpForm | None = None, off: TotpForm | None = None) -> str:
    """The account's second factor: its state, and a form for each change, each with its own code field."""
    return render_template("mfa/security.html", state=factor.state(current_user).value, required=_required(),
                           left=factor.recovery_codes_left(current_user),
                           regenerate=regenerate or TotpForm(prefix="new"), off=off or TotpForm(prefix="off"))


@bp.route("/set-up", methods=["GET", "POST"])
def enrol() -> Response | str:
    try:
        enrolment = second_factor.start_enrolment(current_user, fresh=False)
    except Conflict as exc:
        flash(exc.message, "info")
        return redirect(url_for("mfa.security"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(current_user, form.otp.data or "", recovery_codes=True)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            return render_template("mfa/recovery_codes.html", codes=codes, first=True)
    return _enrol_page(enrolment, form)


def _enrol_page(enrolment: Enrolment, form: TotpForm) -> str:
    return render_template("mfa/enrol.html", enrolment=enrolment, qr=qr_svg(enrolment.uri), form=form,
                           required=_required())


@bp.route("/recovery-codes", methods=["POST"])
@limit_password_change()
def regenerate() -> Response | str:
    form = TotpForm(prefix="new")
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(current_user, form.otp.data or "")
        except (ValidationFailed, Conflict) as exc:
            show_errors(form, exc, unnamed="otp")
        else:
            return render_template("mfa/recovery_codes.html", codes=codes, first=False)
    return _security_page(regenerate=form)


@bp.route("/off", methods=["POST"])
@limit_password_change()
def turn_off() -> Response | str:
    form = TotpForm(prefix="off")
    if form.validate_on_submit():
        try:
            second_factor.turn_off(current_user, form.otp.data or "",
                                   required_roles=current_app.config["MFA_REQUIRED_ROLES"])
        except (ValidationFailed, Conflict) as exc:
            show_errors(form, exc, unnamed="otp")
        else:
            flash("Your second factor is off. You sign in with your password alone.", "success")
            return redirect(url_for("mfa.security"))
    return _security_page(off=form)
