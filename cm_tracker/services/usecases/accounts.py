"""User accounts: creation, sign-in checks, disabling and password resets (admins), password changes (everyone)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Patient, Role, User
from cm_tracker.services.core import audit, second_factor
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.passwords import hash_password, needs_rehash, password_problem, verify_password
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.services.usecases.sessions import end_all_sessions, renew_session
from cm_tracker.timeutil import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def normalise_username(username: str) -> str:
    return username.strip().lower()


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def authenticate(username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled; one answer for every kind of failure."""
    user = find_user(username)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.is_disabled:
        log_now("auth.sign_in", user=user, username=normalise_username(username)[:64],
                outcome=audit.DENIED)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def _check_new_user(username: str, password: str, role: str, display_name: str,
                    patient_id: int | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        fields["username"] = "Use 2 to 64 lower-case letters, digits, dots, dashes or underscores."
    elif find_user(username) is not None:
        fields["username"] = "This username is taken."
    if problem := password_problem(password, username=username):
        fields["password"] = problem
    if role not in {r.value for r in Role}:
        fields["role"] = "Choose admin, manager, counselor, patient or lab."
    if not display_name.strip() or len(display_name) > 120:
        fields["display_name"] = "Give a name of 1 to 120 characters."
    if role == Role.PATIENT:
        if patient_id is None:
            fields["patient_id"] = "A patient account must name its patient record."
        elif db.session.get(Patient, patient_id) is None:
            fields["patient_id"] = "No such patient record."
        elif db.session.scalar(select(func.count()).where(User.patient_id == patient_id)):
            fields["patient_id"] = "This patient record already has an account."
    elif patient_id is not None:
        fields["patient_id"] = "Only a patient account belongs to a patient record."
    return fields


def create_user(*, username: str, password: str, role: str, display_name: str = "",
                patient_id: int | None = None, must_change_password: bool = False,
                actor: User | None = None) -> User:
    username = normalise_username(username)
    display_name = display_name.strip() or username
    fields = _check_new_user(username, password, role, display_name, patient_id)
    if fields:
        raise ValidationFailed("The account could not be created.", fields=fields)
    user = User(username=username, display_name=display_name, role=Role(role),
                password_hash=hash_password(password), patient_id=patient_id,
                must_change_password=must_change_password and not _api_only(role),
                mfa_required=second_factor.required_of_new_staff(Role(role)))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=actor, object_type="user", object_id=user.id, patient_id=patient_id,
                 detail={"username": username, "role": role})
    db.session.commit()
    return user


def _api_only(role: str) -> bool:
    """A lab's integration account cannot sign in on the web, so it can never change a temporary password there: its
    password is what the admin hands to the lab's IT, and a reset gives it a new one the same way."""
    return role == Role.LAB


def refuse_web_sign_in(user: User) -> None:
    """An integration account signs in to the API only: its web sign-in with the right password is refused, on
    record."""
    log_now("auth.sign_in", user=user, outcome=audit.DENIED, detail={"reason": "integration_account"})


def refuse_sign_in(user: User, reason: str) -> None:
    """A right password refused for want of something else (the second factor's code), on record."""
    log_now("auth.sign_in", user=user, username=user.username, outcome=audit.DENIED, detail={"reason": reason})


def set_disabled(user: User, disabled: bool, *, actor: User) -> None:
    """Disable (signed out everywhere at once) or re-enable an account. Nobody disables their own account."""
    if user.id == actor.id:
        raise Conflict("You cannot disable your own account.", code="own_account")
    user.is_disabled = disabled
    if disabled:
        end_all_sessions(user, "disabled")
    audit.record("user.disable" if disabled else "user.enable", user=actor, object_type="user", object_id=user.id)
    db.session.commit()


def reset_password(user: User, *, actor: User) -> str:
    """Give the account a one-time temporary password that must be changed at the next sign-in."""
    temporary = f"{secrets.token_urlsafe(9)}-{secrets.randbelow(90) + 10}"
    user.password_hash = hash_password(temporary)
    user.must_change_password = not _api_only(user.role)
    user.password_changed_at = utcnow()
    ended = end_all_sessions(user, "password_reset")
    audit.record("user.reset_password", user=actor, object_type="user", object_id=user.id, detail=ended)
    db.session.commit()
    return temporary


def change_password(user: User, current: str, new: str, *, session: str | None, address: str | None) -> str:
    """Change one's own password (ASVS 3.3.3): every other session and every API token of the user ends, and the
    asking browser's `session` is renewed; returns the new session id for its cookie."""
    fields: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        fields["current_password"] = "This is not your current password."
    elif current == new:
        fields["new_password"] = "Choose a password different from the current one."
    elif problem := password_problem(new, username=user.username):
        fields["new_password"] = problem
    if fields:
        log_now("user.change_password", user=user, outcome=audit.DENIED, object_type="user",
                object_id=user.id)
        raise ValidationFailed("The password was not changed.", fields=fields)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    renewed, ended = renew_session(user, session, address, "password_change")
    audit.record("user.change_password", user=user, object_type="user", object_id=user.id, detail=ended)
    db.session.commit()
    return renewed


def refuse_password_change(user: User) -> None:
    """A change refused by the attempt limit leaves a denied row, as a wrong current password does."""
    log_now("user.change_password", user=user, outcome=audit.DENIED, object_type="user", object_id=user.id,
            detail={"reason": "rate_limited"})
