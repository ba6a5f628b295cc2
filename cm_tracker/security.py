"""Sessions, proxies, rate-limit storage and response headers: the promises of docs/security.md in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Request, Response, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from cm_tracker import request_context
from cm_tracker.extensions import login_manager
from cm_tracker.models import Role, User
from cm_tracker.services.core import audit, second_factor
from cm_tracker.services.usecases import sessions
from cm_tracker.services.usecases.access_log import log_now

# No inline script anywhere, and no framing (clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SESSION_KEY = "sid"
HSTS = "max-age=31536000; includeSubDomains"


def configure(app: Flask) -> None:
    if app.config.get("PROXY_COUNT"):
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = None  # our server-side session row does this job, and more strictly
    app.session_interface = CookieSessions()
    app.after_request(_security_headers)
    # Here: its before-request hook runs before the password check loads the user, and its commit before the
    # headers are set (after-request hooks run last first), so that even its error answer has them.
    request_context.install_transaction(app)
    app.before_request(_page_rules)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, the same cookie and answers, at less work on every request: the signing
    serializer is built once per key instead of per request, a request without the cookie (every API call, a first
    visit) gets its empty session without the Cookie header being parsed, and an empty session nobody changed is
    saved as Flask saves it (`Vary: Cookie` when it was read, no cookie) without working out the cookie's settings."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # Keyed by the keys themselves, so that a changed SECRET_KEY or SECRET_KEY_FALLBACKS counts as in Flask.
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # A cookie whose name is nowhere in the header is not there: Flask's own answer to a missing cookie.
        if app.secret_key and self.get_cookie_name(app) not in request.environ.get("HTTP_COOKIE", ""):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                # What `response.vary.add("Cookie")` makes of an answer without a Vary header (every API answer),
                # without parsing a header that is not there.
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:
                    response.headers.add("Vary", "Cookie")
            return
        super().save_session(app, session, response)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """A user only while the server-side session named in the cookie is alive (sign-out ends it for every copy)."""
    raw = session.get(SESSION_KEY)
    if not raw:
        return None
    user = sessions.resume_session(
        raw,
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
    )
    if user is None or str(user.id) != user_id:
        session.clear()
        return None
    return user


# Added to every answer unless its view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
# Pages and API answers may carry patient data: never let a shared computer's cache keep them.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


# The same, each with its name in lower case, for comparing with the names a view set.
_SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS)
_NO_STORE = tuple((name.lower(), name, value) for name, value in NO_STORE)


def _security_headers(response: Response) -> Response:
    # The names the view set, read once, and what is missing added at once: a setdefault per header scans the
    # headers each time, on every answer.
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    missing = [(name, value) for lower, name, value in _SECURITY_HEADERS if lower not in present]
    current = request._get_current_object()  # type: ignore[attr-defined]  # the proxy resolved once, not twice
    # HTTPS answers only (RFC 6797 7.2: never over plain HTTP); behind a proxy, PROXY_COUNT tells us the scheme.
    if current_app.config.get("HSTS_ENABLED") and current.is_secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", HSTS))
    if current.endpoint != "static":
        for lower, name, value in _NO_STORE:
            if lower in present:
                headers[name] = value  # replaces the view's own
            else:
                missing.append((name, value))
    headers.extend(missing)
    return response


def _page_rules() -> Response | None:
    """The rules of the pages below, in this order, in one hook: the API skips all of them at once (its own guard,
    api/access.py, decides for bearer tokens), instead of each hook asking it again on every API call."""
    if request.blueprint == "api":
        return None
    for rule in PAGE_RULES:
        if (answer := rule()) is not None:
            return answer
    return None


def _require_password_change() -> Response | None:
    """A temporary password opens only the change-password page."""
    if request.endpoint in {"auth.change_password", "auth.sign_out", "static"}:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


# What staff who must set up a second factor may open before they have: the set-up itself and the way out.
ENROLMENT_ENDPOINTS = frozenset({"mfa.enrol", "auth.sign_out", "static", "main.favicon"})


def _require_second_factor() -> Response | None:
    """Staff whose role is in MFA_REQUIRED_ROLES, or of whom an admin required it, set up a second factor before
    any other page (after a temporary password is changed: that hook runs first and this one waits for it)."""
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    user = current_user
    if user.is_authenticated and not user.must_change_password and second_factor.must_enrol(
            user, current_app.config["MFA_REQUIRED_ROLES"]):
        return redirect(url_for("mfa.enrol"))
    return None


def _refuse_integration_accounts() -> None:
    """A lab's integration account has no pages: its web sign-in is refused (auth.routes), and a session it holds
    anyway opens none (403, audited), whatever blueprint a page belongs to."""
    if request.endpoint in {"auth.sign_out", "static", "main.favicon"}:
        return
    if current_user.is_authenticated and current_user.role == Role.LAB:
        log_now("page.denied", outcome=audit.DENIED, object_type="endpoint", object_id=request.endpoint,
                detail={"reason": "integration_account"})
        abort(403)


PAGE_RULES: tuple[Callable[[], Response | None], ...] = (
    _require_password_change, _require_second_factor, _refuse_integration_accounts)


def safe_next(target: str | None) -> str | None:
    """Accept only a local path: one leading slash, no scheme, no host, no backslash tricks (docs/security.md)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


def guard_blueprint(bp: Blueprint, roles: Iterable[Role]) -> None:
    """Deny by default: every route of the blueprint needs a signed-in user with one of `roles`.

    A patient who wanders onto a staff page gets 404 (they learn nothing of its existence); staff without the role
    get 403. Both are audited as denied attempts.
    """
    allowed = frozenset(roles)

    @bp.before_request
    def _guard() -> Response | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()  # type: ignore[no-any-return]
        if current_user.role not in allowed:
            log_now("page.denied", outcome=audit.DENIED, object_type="endpoint", object_id=request.endpoint)
            abort(404 if current_user.role == Role.PATIENT else 403)
        return None


