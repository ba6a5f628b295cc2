"""A staff account's second factor: enrol, confirm, check at sign-in, new recovery codes, turn off, and an admin's
reset and requirement (docs/security.md "Second factor (TOTP)"). Every change and every refused code is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from cm_tracker.extensions import db
from cm_tracker.models import User
from cm_tracker.services.core import audit, context
from cm_tracker.services.core import second_factor as factor
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.services.usecases.sessions import end_all_sessions
from cm_tracker.timeutil import utcnow

WRONG_CODE = "This is not the code your app shows now. Check that your phone's clock is right, then try again."


@dataclass(frozen=True)
class Enrolment:
    """A pending secret, as the authenticator app takes it: the otpauth:// URI (for the QR code) or typed by hand."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        return factor.grouped(self.secret)


def start_enrolment(user: User, *, fresh: bool) -> Enrolment:
    """A pending secret for the user: a new one (`fresh`, or none pending), else the one already given out, so that a
    second tab or a reload shows the same QR code as the first."""
    if not factor.may_enrol(user):
        raise Conflict("Only staff accounts have a second factor.", code="not_staff")
    if factor.is_active(user):
        raise Conflict("Your second factor is already on. Turn it off first, or ask an admin to reset it.",
                       code="mfa_active")
    secret = user.mfa_secret
    if fresh or secret is None:
        secret = factor.new_secret()
        user.mfa_secret, user.mfa_confirmed_at, user.mfa_last_step = secret, None, None
        audit.record("user.mfa_enrol", user=user, object_type="user", object_id=user.id)
        db.session.commit()
    return Enrolment(secret, factor.provisioning_uri(secret, user.username, context.clinic_settings().name))


def confirm_enrolment(user: User, code: str, *, recovery_codes: bool) -> list[str]:
    """Turn the pending secret on with a code from the app; returns the ten recovery codes (shown once) when asked
    for them, else none (the API's enrolment: they are made on the account page)."""
    if factor.state(user) != factor.State.PENDING:
        raise Conflict("No set-up is waiting for a code: start the set-up again.", code="mfa_not_pending")
    now = utcnow()
    if not factor.accept_totp(user, code, now):
        log_now("user.mfa_confirm", user=user, outcome=audit.DENIED, object_type="user", object_id=user.id)
        raise ValidationFailed("The second factor is not on yet.", fields={"otp": WRONG_CODE})
    user.mfa_confirmed_at = now
    codes = factor.replace_recovery_codes(user, now) if recovery_codes else []
    audit.record("user.mfa_confirm", user=user, object_type="user", object_id=user.id,
                 detail={"recovery_codes": len(codes)})
    db.session.commit()
    return codes


def check_code(user: User, code: str) -> bool:
    """The second step of a sign-in (page or token): a TOTP code not used before, or an unused recovery code. A
    refusal is audited as a refused sign-in."""
    now = utcnow()
    if factor.is_active(user) and factor.accept_totp(user, code, now):
        db.session.commit()
        return True
    if factor.is_active(user) and factor.use_recovery_code(user, code, now):
        audit.record("user.mfa_recovery_code_used", user=user, object_type="user", object_id=user.id,
                     detail={"left": factor.recovery_codes_left(user)})
        db.session.commit()
        return True
    log_now("auth.sign_in", user=user, username=user.username, outcome=audit.DENIED,
            detail={"reason": "otp_invalid"})
    return False


def complete_sign_in(user_id: int, started_at: datetime, code: str) -> User | None:
    """The user whose password was right at `started_at`, if the code is right and the five minutes have not passed;
    None otherwise, whatever failed."""
    user = db.session.get(User, user_id)
    if user is None or user.is_disabled or not factor.is_active(user):
        log_now("auth.sign_in", user=user, outcome=audit.DENIED, detail={"reason": "otp_invalid"})
        return None
    if not factor.pending_is_alive(started_at, utcnow()):
        log_now("auth.sign_in", user=user, username=user.username, outcome=audit.DENIED,
                detail={"reason": "otp_expired"})
        return None
    return user if check_code(user, code) else None


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """Ten new recovery codes in place of the old ones, for a current code from the app."""
    _require_current_code(user, code, "user.mfa_recovery_codes")
    codes = factor.replace_recovery_codes(user, utcnow())
    audit.record("user.mfa_recovery_codes", user=user, object_type="user", object_id=user.id)
    db.session.commit()
    return codes


def turn_off(user: User, code: str, *, required_roles: frozenset[str]) -> None:
    """Turn one's own second factor off, for a current code; refused while the account must have one."""
    if factor.is_required(user, required_roles):
        raise Conflict("Your account must have a second factor: it cannot be turned off.", code="mfa_required")
    _require_current_code(user, code, "user.mfa_off")
    _clear(user)
    audit.record("user.mfa_off", user=user, object_type="user", object_id=user.id)
    db.session.commit()


def _require_current_code(user: User, code: str, action: str) -> None:
    if not factor.is_active(user):
        raise Conflict("Your second factor is not on.", code="mfa_not_active")
    if not factor.accept_totp(user, code, utcnow()):
        log_now(action, user=user, outcome=audit.DENIED, object_type="user", object_id=user.id)
        raise ValidationFailed("The code is not right.", fields={"otp": WRONG_CODE})


def _clear(user: User) -> None:
    user.mfa_secret, user.mfa_confirmed_at, user.mfa_last_step = None, None, None
    factor.clear_recovery_codes(user)


def reset(user: User, *, actor: User) -> None:
    """An admin takes a user's second factor away (a lost phone): the user is signed out everywhere and enrols again
    at the next sign-in if the account must have one. Nobody resets their own."""
    if user.id == actor.id:
        raise Conflict("You cannot reset your own second factor: ask another admin.", code="own_account")
    if not factor.may_enrol(user):
        raise Conflict("Only staff accounts have a second factor.", code="not_staff")
    was = factor.state(user).value
    _clear(user)
    ended = end_all_sessions(user, "mfa_reset")
    audit.record("user.mfa_reset", user=actor, object_type="user", object_id=user.id, detail={"was": was, **ended})
    db.session.commit()


def require_of_every_staff_account(*, actor: User) -> int:
    """Require a second factor of every staff account, now and (docs/security.md) of staff accounts created while
    every one is required; returns how many accounts it newly applies to."""
    result = db.session.execute(update(User).where(User.role.in_(factor.STAFF), User.mfa_required.is_(False))
                                .values(mfa_required=True).execution_options(synchronize_session=False))
    count = int(result.rowcount)  # type: ignore[attr-defined]
    audit.record("user.mfa_required_all", user=actor, object_type="user", detail={"accounts": count})
    db.session.commit()
    return count
