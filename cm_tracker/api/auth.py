"""Bearer tokens: issue (rate limited per address and per account name) and revoke (docs/api.md)."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, jsonify

from cm_tracker.api.access import allow, current_api_token, public, signed_in
from cm_tracker.api.blueprint import bp
from cm_tracker.api.errors import error_response
from cm_tracker.api.schemas import json_object, token_request
from cm_tracker.ratelimits import limit_password_attempts
from cm_tracker.services.usecases import accounts, sessions

BAD_CREDENTIALS = "The username or password is not right."




@bp.post("/auth/tokens")
@public
# Every attempt counts, before the password is checked: counting only failures after the answer would let a burst
# of parallel guesses all pass the check before any of them is counted.
@limit_password_attempts()
def create_token() -> tuple[Response, int]:
    username, password = token_request(json_object())
    user = accounts.authenticate(username, password)
    if user is None:
        # One answer whether the account exists, the password is wrong or the account is disabled.
        return error_response(401, "invalid_credentials", BAD_CREDENTIALS)
    token, expires_at = sessions.issue_token(user, timedelta(hours=current_app.config["API_TOKEN_HOURS"]))
    return jsonify({
        "token": token, "token_type": "Bearer", "expires_at": expires_at.isoformat(),
        "user": {"id": user.id, "username": user.username, "role": user.role.value},
    }), 201


@bp.delete("/auth/tokens/current")
@allow(signed_in, before_password_change=True)
def revoke_token() -> tuple[str, int]:
    sessions.revoke_token(current_api_token())
    return "", 204
