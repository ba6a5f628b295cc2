"""Who may call what, decided in one place (docs/architecture.md "Access control in one place"), denying by default.

Every view declares its audience with `@public` or `@allow(predicate)`, a `can_*` predicate of
cm_tracker.permissions (the same ones the HTML pages and templates ask); the blueprint's guard authenticates the
bearer token and refuses a view that declares nothing. Reaching a particular patient is a second, separate check:
views load patients only through `permissions.get_patient_for`, which answers 404 outside the user's reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from flask import current_app, g, request

from cm_tracker.api.errors import ApiError
from cm_tracker.extensions import login_manager
from cm_tracker.models import ApiToken, Role, User
from cm_tracker.services.core import audit, second_factor
from cm_tracker.services.usecases import sessions
from cm_tracker.services.usecases.access_log import log_now

F = TypeVar("F", bound=Callable[..., object])
ATTRIBUTE = "api_access"
ME_PREFIX = "/api/v1/me"


Rule = Callable[[User], bool]


@dataclass(frozen=True)
class Access:
    rule: Rule | None = None
    is_public: bool = False
    # Token revocation must work for someone who still has to change a temporary password.
    before_password_change: bool = False
    # The second factor's set-up (and token revocation) must work for staff who must set one up before anything.
    before_mfa_enrolment: bool = False
    # The config key of a larger body limit than MAX_CONTENT_LENGTH, for this route only (a lab's batch of results).
    body_limit: str | None = None


def allow(rule: Rule, *, before_password_change: bool = False, before_mfa_enrolment: bool = False,
          body_limit: str | None = None) -> Callable[[F], F]:
    """Declare who may call a view (a predicate on the user); the guard refuses everyone else. `body_limit` names the
    config key of a larger body limit for this view alone."""

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, Access(rule, before_password_change=before_password_change,
                                        before_mfa_enrolment=before_mfa_enrolment, body_limit=body_limit))
        return view

    return mark


def public(view: F) -> F:
    """A view anyone may call without a token (token issue, the OpenAPI document)."""
    setattr(view, ATTRIBUTE, Access(is_public=True))
    return view


def current_api_user() -> User:
    return g.api_user  # type: ignore[no-any-return]


def current_api_token() -> ApiToken:
    return g.api_token  # type: ignore[no-any-return]


def guard() -> None:
    """Runs before every API view: no session cookie, a bearer token, and a role the view declared."""
    # Flask-Login would otherwise load the user from the session cookie; the API answers to tokens only.
    g._login_user = login_manager.anonymous_user()
    access: Access | None = getattr(current_app.view_functions.get(request.endpoint or ""), ATTRIBUTE, None)
    limit = _body_limit(access)
    _refuse_declared_oversize(limit)
    if access is not None and access.is_public:
        _refuse_chunked_oversize(limit)
        return
    user = _authenticate()
    # A chunked body is read only for a caller with a token: nobody can make the server read one without it.
    _refuse_chunked_oversize(limit)
    if access is None or access.rule is None or not access.rule(user):
        _deny(user, "role")
    if user.must_change_password and not access.before_password_change:
        log_now("api.denied", user=user, outcome=audit.DENIED, object_type="endpoint",
                object_id=request.endpoint, detail={"reason": "password_change_required"})
        raise ApiError(403, "password_change_required",
                       "Change your temporary password (sign in on the web) before using the API.")
    if not access.before_mfa_enrolment and second_factor.must_enrol(user, current_app.config["MFA_REQUIRED_ROLES"]):
        log_now("api.denied", user=user, outcome=audit.DENIED, object_type="endpoint",
                object_id=request.endpoint, detail={"reason": "mfa_enrolment_required"})
        raise ApiError(403, "mfa_enrolment_required",
                       "Set up your second factor (POST /api/v1/me/mfa, then its confirmation) before using the API.")


def _body_limit(access: Access | None) -> int | None:
    """The body limit of this request: MAX_CONTENT_LENGTH, or the larger one its view declares, which Werkzeug then
    reads up to (Flask 3.1's per-request `max_content_length`)."""
    if access is None or access.body_limit is None:
        return current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = limit = int(current_app.config[access.body_limit])
    return limit


def _refuse_declared_oversize(limit: int | None) -> None:
    """Answer 413 from the declared length alone, before any work is done for a body that will be refused."""
    if limit and request.content_length and request.content_length > limit:
        _too_large(limit)


def _refuse_chunked_oversize(limit: int | None) -> None:
    """A chunked body declares no length, and Werkzeug stops reading it at the limit and hands over what it read, which
    would then look like malformed JSON (400): it is read here, and a byte beyond the limit makes it too large."""
    if not limit or request.content_length is not None:
        return
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower() and (
            len(request.get_data(cache=True)) >= limit and bool(request.input_stream.read(1))):
        _too_large(limit)


def _too_large(limit: int) -> NoReturn:
    raise ApiError(413, "payload_too_large", f"The body is larger than the limit of {limit} bytes.")


def _authenticate() -> User:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    found = sessions.user_for_token(raw.strip()) if scheme.lower() == "bearer" and raw.strip() else None
    if found is None:
        log_now("api.denied", outcome=audit.DENIED, object_type="endpoint", object_id=request.endpoint,
                detail={"reason": "bad_token" if raw.strip() else "no_token"})
        raise ApiError(401, "unauthorized", "Send a valid bearer token in the Authorization header.")
    g.api_user, g.api_token = found
    g._login_user = g.api_user  # so that audit rows name the token's user
    return g.api_user  # type: ignore[no-any-return]


def signed_in(_user: User) -> bool:
    """Any user with a valid token."""
    return True


def _deny(user: User, reason: str) -> NoReturn:
    """Patients learn nothing of staff endpoints (404), a lab account nothing of a patient's paths (404); staff whose
    role may not, and a lab account elsewhere, get 403. All are audited."""
    log_now("api.denied", user=user, outcome=audit.DENIED, object_type="endpoint",
            object_id=request.endpoint, detail={"reason": reason, "path": request.path[:200]})
    if user.role == Role.PATIENT and not (request.path == ME_PREFIX or request.path.startswith(f"{ME_PREFIX}/")):
        raise ApiError(404, "not_found", "There is nothing here, or it is not yours to see.")
    if user.role == Role.LAB and "patient_id" in (request.view_args or {}):
        raise ApiError(404, "not_found", "There is nothing here, or it is not yours to see.")
    raise ApiError(403, "forbidden", "Your role does not allow this.")
