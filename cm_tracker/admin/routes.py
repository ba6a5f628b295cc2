"""Admin pages: accounts (create, disable, reset a password or a second factor), programmes at a glance, and the
audit trail search."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cm_tracker.admin.forms import AuditSearchForm, CreateUserForm
from cm_tracker.form_errors import show_errors
from cm_tracker.models import Role, User
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core import second_factor as factor
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import Conflict, NotFound, ValidationFailed
from cm_tracker.services.queries import audit_search as audit_search_reads
from cm_tracker.services.queries import chain_check, directory, overview
from cm_tracker.services.usecases import accounts, audit_search, listings, second_factor

bp = Blueprint("admin", __name__)
guard_blueprint(bp, {Role.ADMIN})


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html", users=listings.accounts(current_user), mfa_state=factor.state,
                           mfa_required=lambda u: factor.is_required(u, current_app.config["MFA_REQUIRED_ROLES"]),
                           programmes=overview.programme_rows(clinic_today()),
                           cap_words=overview.CAP_WINDOW_WORDS, visit_days=overview.visit_days_text)


@bp.route("/users/new", methods=["GET", "POST"])
def create_user() -> Response | str:
    form = CreateUserForm()
    form.patient_id.choices = [SelectChoice("", "Not a patient account")] + [
        SelectChoice(str(p.id), f"{p.display_name} ({p.record_number})")
        for p in listings.account_candidates(current_user)]
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                username=form.username.data or "", password=form.password.data or "", role=form.role.data or "",
                display_name=form.display_name.data or "", patient_id=form.patient_id.data,
                must_change_password=form.must_change_password.data, actor=current_user,
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(f"The account {user.username} is created.", "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/create_user.html", form=form)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def disable_user(user_id: int) -> Response:
    return _set_disabled(_user(user_id), True)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def enable_user(user_id: int) -> Response:
    return _set_disabled(_user(user_id), False)


def _user(user_id: int) -> User:
    try:
        return directory.get_user(user_id)
    except NotFound:
        abort(404)


def _set_disabled(user: User, disabled: bool) -> Response:
    try:
        accounts.set_disabled(user, disabled, actor=current_user)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(f"{user.username} is disabled and signed out everywhere." if disabled
              else f"{user.username} may sign in again.", "success")
    return redirect(url_for("admin.index"))


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
def reset_password(user_id: int) -> str:
    user = _user(user_id)
    if request.method == "GET":
        return render_template("admin/reset_password.html", user=user)
    temporary = accounts.reset_password(user, actor=current_user)
    return render_template("admin/reset_done.html", user=user, temporary=temporary)


@bp.route("/users/<int:user_id>/reset-mfa", methods=["GET", "POST"])
def reset_mfa(user_id: int) -> Response | str:
    """Take a user's second factor away (a lost phone), after a confirmation page; audited user.mfa_reset."""
    user = _user(user_id)
    if request.method == "GET":
        return render_template("admin/reset_mfa.html", user=user, state=factor.state(user).value)
    try:
        second_factor.reset(user, actor=current_user)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(f"The second factor of {user.username} is reset and the account is signed out everywhere; it sets "
              "one up again at its next sign-in if it must have one.", "success")
    return redirect(url_for("admin.index"))


@bp.route("/users/require-mfa", methods=["POST"])
def require_mfa() -> Response:
    count = second_factor.require_of_every_staff_account(actor=current_user)
    flash(f"Every staff account must now have a second factor ({count} newly required), and so will staff "
          "accounts created from now on.", "success")
    return redirect(url_for("admin.index"))


@bp.route("/audit")
def audit() -> str:
    form = AuditSearchForm(request.args)
    result = None
    if form.validate():
        criteria = audit_search_reads.AuditCriteria(
            patient=form.patient.data or "", username=form.username.data or "", date_from=form.date_from.data,
            date_to=form.date_to.data, action=form.action.data or "", outcome=form.outcome.data or "",
        )
        page = request.args.get("page", 1, type=int) or 1
        result = audit_search.search(criteria, page=page, timezone=current_app.config["CLINIC_TIMEZONE"],
                                     actor=current_user)
    filters = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("admin/audit.html", form=form, result=result, filters=filters,
                           verified=chain_check.last_verification())
