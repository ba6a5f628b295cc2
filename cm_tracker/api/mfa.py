"""A staff account's second factor (TOTP, RFC 6238: SHA-1, 6 digits, 30 s): set up, confirm, and an admin's reset
(docs/api.md "Second factor for staff")."""

from __future__ import annotations

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import body, obj, text
from cm_tracker.api.schemas import json_object, otp_request
from cm_tracker.permissions import can_manage_users, is_staff
from cm_tracker.services.queries import directory
from cm_tracker.services.usecases import second_factor


@bp.post("/me/mfa")
@allow(is_staff, before_mfa_enrolment=True)
def enrol_mfa() -> tuple[Response, int]:
    """A new pending secret each time (an earlier pending one stops working); 409 mfa_active once confirmed."""
    enrolment = second_factor.start_enrolment(current_api_user(), fresh=True)
    return jsonify({"secret": enrolment.secret, "otpauth_uri": enrolment.uri}), 201


@bp.post("/me/mfa/confirmation")
@allow(is_staff, before_mfa_enrolment=True)
def confirm_mfa() -> tuple[str, int]:
    second_factor.confirm_enrolment(current_api_user(), otp_request(json_object()), recovery_codes=False)
    return "", 204


@bp.delete(f"/users/<{ID}:user_id>/mfa")
@allow(can_manage_users)
def reset_mfa(user_id: int) -> tuple[str, int]:
    second_factor.reset(directory.get_user(user_id), actor=current_api_user())
    return "", 204


document({
    "/me/mfa": {"post": operation(
        "Start setting up a second factor (staff): a new pending base32 secret and its otpauth:// URI for an "
        "authenticator app (TOTP: SHA-1, 6 digits, 30 s). 409 mfa_active when one is already on.",
        ("201", "MfaEnrolment", "The pending secret."), errors=("409",))},
    "/me/mfa/confirmation": {"post": operation(
        "Turn the pending second factor on with a current code (otp). A wrong code is 422 (fields.otp); no pending "
        "set-up is 409 mfa_not_pending. From then on POST /auth/tokens needs otp too. Recovery codes are made on "
        "the account page (/account/security).",
        ("204", None, "The second factor is on."), body="MfaConfirmation", errors=("409",))},
    "/users/{user_id}/mfa": {"delete": operation(
        "Reset a user's second factor (admin; audited user.mfa_reset): it and its recovery codes are gone, every "
        "session and token of the user ends, and the user sets one up again. 409 own_account for your own.",
        ("204", None, "Reset."), errors=("404", "409"), params=("user_id",))},
}, {
    "MfaEnrolment": obj({"secret": {"type": "string", "pattern": "^[A-Z2-7]+$"},
                         "otpauth_uri": {"type": "string", "pattern": "^otpauth://totp/"}},
                        ["secret", "otpauth_uri"]),
    "MfaConfirmation": body({"otp": text(32, examples=["123456"])}, ["otp"]),
})
