"""Bearer tokens: issue (rate limited per address and per account name) and revoke (docs/api.md)."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, jsonify

from cm_tracker.api.access import allow, current_api_token, public, signed_in
from cm_tracker.api.blueprint import bp
from cm_tracker.api.errors import error_response
from cm_tracker.api.schemas import json_object, token_request
from cm_tracker.models import User
from cm_tracker.ratelimits import limit_password_attempts
from cm_tracker.services.core import second_factor as factor
from cm_tracker.services.usecases import accounts, second_factor, sessions

BAD_CREDENTIALS = "The username or password is not right."


@bp.post("/auth/tokens")
@public
# Every attempt counts, before the password is checked: counting only failures after the answer would let a burst
# of parallel guesses all pass the check before any of them is counted.
@limit_password_attempts()
def create_token() -> tuple[Response, int]:
    username, password, otp = token_request(json_object())
    user = accounts.authenticate(username, password)
    if user is None:
        # One answer whether the account exists, the password is wrong or the account is disabled.
        return error_response(401, "invalid_credentials", BAD_CREDENTIALS)
    if refusal := _second_factor_refusal(user, otp):
        return refusal
    token, expires_at = sessions.issue_token(user, timedelta(hours=current_app.config["API_TOKEN_HOURS"]))
    return jsonify({
        "token": token, "token_type": "Bearer", "expires_at": expires_at.isoformat(),
        "user": {"id": user.id, "username": user.username, "role": user.role.value},
    }), 201


def _second_factor_refusal(user: User, otp: str | None) -> tuple[Response, int] | None:
    """With a second factor on, the password alone is not enough: no code -> otp_required, a wrong or used one ->
    otp_invalid (both already counted by the attempt limits above)."""
    if not factor.is_active(user):
        return None
    if not otp:
        accounts.refuse_sign_in(user, "otp_required")
        return error_response(401, "otp_required", "Send the code of your authenticator app as otp.")
    if not second_factor.check_code(user, otp):
        return error_response(401, "otp_invalid", "The code is not right, or it was used already.")
    return None


@bp.delete("/auth/tokens/current")
@allow(signed_in, before_password_change=True, before_mfa_enrolment=True)
def revoke_token() -> tuple[str, int]:
    sessions.revoke_token(current_api_token())
    return "", 204
