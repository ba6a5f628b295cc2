"""Sign-in, sign-out and password change. Limits per address and per account name (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from cm_tracker.auth.forms import ChangePasswordForm, SignInForm
from cm_tracker.form_errors import show_errors
from cm_tracker.net import client_address
from cm_tracker.ratelimits import limit_password_attempts
from cm_tracker.security import SESSION_KEY, safe_next
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.usecases import accounts, sessions

bp = Blueprint("auth", __name__)




@bp.route("/sign-in", methods=["GET", "POST"])
@limit_password_attempts()
def sign_in() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            # One message whether the account exists or not.
            form.password.errors = [_("The username or password is not right.")]
        else:
            session.clear()  # a fresh session id at sign-in: nothing from before survives
            session[SESSION_KEY] = sessions.start_session(user, client_address())
            session.permanent = True
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    raw = session.get(SESSION_KEY)
    if raw:
        sessions.end_session(raw)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
