"""Sign-in (with its second step for staff with a second factor), sign-out and password change. Limits per address
and per account name (docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from cm_tracker.auth.forms import ChangePasswordForm, CodeForm, SignInForm
from cm_tracker.form_errors import show_errors
from cm_tracker.models import User
from cm_tracker.net import client_address
from cm_tracker.permissions import is_lab
from cm_tracker.ratelimits import limit_attempts_of, limit_password_attempts, limit_password_change
from cm_tracker.security import SESSION_KEY, safe_next
from cm_tracker.services.core import second_factor as factor
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.usecases import accounts, second_factor, sessions
from cm_tracker.timeutil import utcnow

bp = Blueprint("auth", __name__)
# Said only once the password is right: the account's holder learns why, nobody else learns it exists.
INTEGRATION_ACCOUNT = _l("This is an integration account for lab results: it sends results through the API "
                         "(POST /api/v1/lab-results) and has no pages to sign in to.")
# The session keys of a sign-in waiting for its code, and of one just refused at the code (for the sign-in page).
PENDING = "mfa_pending"
REFUSED = "sign_in_refused"


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
            form.password.errors = [_bad_credentials()]
        elif is_lab(user):
            accounts.refuse_web_sign_in(user)
            form.password.errors = [INTEGRATION_ACCOUNT]
        elif factor.is_active(user):
            return _ask_for_code(user)
        else:
            return _signed_in(user)
    elif (refused := session.pop(REFUSED, None)) is not None:
        form.username.data, form.password.errors = refused, [_bad_credentials()]
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limit_attempts_of(lambda: _pending_sign_in().username)
def sign_in_code() -> Response | str:
    """The second step: a code from the authenticator app, or a recovery code, within five minutes of the password.
    A wrong or late code sends the person back to the password with the same words as a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = _pending_sign_in()
    if not pending.username or not factor.pending_is_alive(pending.started_at, utcnow()):
        return _refused(pending.username)
    form = CodeForm()
    if form.validate_on_submit():
        user = second_factor.complete_sign_in(pending.user_id, pending.started_at, form.code.data or "")
        return _signed_in(user) if user is not None else _refused(pending.username)
    return render_template("auth/sign_in_code.html", form=form)


def _bad_credentials() -> str:
    """The same words for a wrong password, a wrong code and a code too late (docs/security.md "Second factor")."""
    return _("The username or password is not right.")


@dataclass(frozen=True)
class PendingSignIn:
    """Whose password was right, and when: kept in the session until the code, which alone signs them in."""

    user_id: int
    username: str
    started_at: datetime


def _pending_sign_in() -> PendingSignIn:
    raw = session.get(PENDING)
    try:
        return PendingSignIn(int(raw["user_id"]), str(raw["username"]), datetime.fromisoformat(raw["started_at"]))
    except (TypeError, KeyError, ValueError):
        return PendingSignIn(0, "", utcnow())


def _ask_for_code(user: User) -> Response:
    session.clear()
    session[PENDING] = {"user_id": user.id, "username": user.username, "started_at": utcnow().isoformat()}
    return redirect(url_for("auth.sign_in_code", next=safe_next(request.args.get("next"))))


def _refused(username: str) -> Response:
    """Back to the password; the sign-in page says what a wrong password would (nothing when none was pending)."""
    session.pop(PENDING, None)
    if username:
        session[REFUSED] = username
    return redirect(url_for("auth.sign_in", next=safe_next(request.args.get("next"))))


def _signed_in(user: User) -> Response:
    session.clear()  # a fresh session id at sign-in: nothing from before survives
    session[SESSION_KEY] = sessions.start_session(user, client_address())
    session.permanent = True
    login_user(user)
    return redirect(safe_next(request.args.get("next")) or url_for("main.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    raw = session.get(SESSION_KEY)
    if raw:
        sessions.end_session(raw)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))


def _paused_on_the_form(view: Callable[[], Response | str]) -> Callable[[], Response | str | tuple[str, int]]:
    """Over the attempt limit, the change-password page itself says so and for how long, not a bare error page."""
    @wraps(view)
    def guarded() -> Response | str | tuple[str, int]:
        try:
            return view()
        except RateLimitExceeded as exc:
            accounts.refuse_password_change(current_user)
            minutes = -(-exc.limit.limit.get_expiry() // 60)
            form = ChangePasswordForm()
            form.current_password.errors = [ngettext(
                "Too many password attempts on your account. Wait up to %(num)d minute, then try again.",
                "Too many password attempts on your account. Wait up to %(num)d minutes, then try again.", minutes)]
            return render_template("auth/change_password.html", form=form), 429

    return guarded


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@_paused_on_the_form
@limit_password_change()
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            session[SESSION_KEY] = accounts.change_password(
                current_user, form.current_password.data or "", form.new_password.data or "",
                session=session.get(SESSION_KEY), address=client_address())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Your password is changed. Every other session and API token of your account has ended."),
                  "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
