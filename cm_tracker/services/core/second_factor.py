"""The second factor of staff accounts (docs/security.md "Second factor (TOTP)"): TOTP codes (RFC 6238: SHA-1,
6 digits, 30-second steps) and single-use recovery codes.

A code is accepted once only: the step it belongs to is claimed with one conditional UPDATE (`mfa_last_step <
step`), and a recovery code with one conditional UPDATE (`used_at IS NULL`), so two requests racing with the same
code, in two workers, cannot both succeed, on SQLite or PostgreSQL alike.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, or_, select, update

from cm_tracker.extensions import db
from cm_tracker.models import MfaRecoveryCode, Role, User

STEP_SECONDS = 30
DIGITS = 6
# One step either side of now (pyotp's valid_window=1): a phone whose clock is up to 30 seconds off still works,
# and a code typed just as it turned over. Two steps away is refused.
VALID_WINDOW = 1
# The second step of a sign-in must follow the password within this time, or the password is asked again.
PENDING_LIFETIME = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are copied by hand from paper. 16 of 31 symbols carry 79 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16
_CODE_RE = re.compile(r"^\d{6}$")
STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.COUNSELOR})


class State(enum.StrEnum):
    OFF = "off"
    PENDING = "pending"  # a secret was given out; no code has confirmed it yet
    ACTIVE = "active"


def state(user: User) -> State:
    if user.mfa_secret is None:
        return State.OFF
    return State.ACTIVE if user.mfa_confirmed_at is not None else State.PENDING


def is_active(user: User) -> bool:
    return state(user) == State.ACTIVE


def may_enrol(user: User) -> bool:
    """Staff may; patients and lab accounts keep their password alone."""
    return user.role in STAFF


def is_required(user: User, roles: frozenset[str]) -> bool:
    """Whether the account must have a second factor: its role is in MFA_REQUIRED_ROLES (`roles`), or an admin
    required it of this account."""
    return may_enrol(user) and (user.role.value in roles or user.mfa_required)


def must_enrol(user: User, roles: frozenset[str]) -> bool:
    return is_required(user, roles) and not is_active(user)


def required_of_new_staff(role: Role) -> bool:
    """A new staff account is required to enrol while every staff account is (an admin's "require of every staff
    account" stays in force for the accounts created after it, with no setting of its own to keep)."""
    if role not in STAFF:
        return False
    staff = select(func.count()).select_from(User).where(User.role.in_(STAFF))
    return bool(db.session.scalar(staff)) and not db.session.scalar(staff.where(User.mfa_required.is_(False)))


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 section 4 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return _totp(secret).provisioning_uri(name=username, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, as an authenticator app's manual entry shows it."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step (30-second counter) whose code `code` is, within VALID_WINDOW of now; None if it is none of them.

    pyotp's `verify(code, valid_window=1)` answers only yes or no; the step is needed to refuse a replay, so the
    same window is walked here with pyotp's own `at` and a constant-time comparison."""
    code = normalise(code)
    if not _CODE_RE.match(code):
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


def normalise(code: str) -> str:
    """What people type around a code: spaces, dashes, capitals."""
    return re.sub(r"[\s-]", "", code).lower()


def claim_step(user: User, step: int) -> bool:
    """Take `step` as the user's last accepted one, if it is later than the last: one statement, so of two requests
    with the same code only one can. In the caller's transaction."""
    result = db.session.execute(
        update(User).where(User.id == user.id, or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
        .values(mfa_last_step=step).execution_options(synchronize_session=False))
    claimed = bool(result.rowcount)  # type: ignore[attr-defined]
    if claimed:
        user.mfa_last_step = step
    return claimed


def accept_totp(user: User, code: str, now: datetime) -> bool:
    """A TOTP code of the user's active or pending secret, never accepted twice."""
    if user.mfa_secret is None:
        return False
    step = matching_step(user.mfa_secret, code, now)
    return step is not None and claim_step(user, step)


def new_recovery_codes() -> list[str]:
    """Ten codes written xxxx-xxxx-xxxx-xxxx (the dashes are only for reading: `normalise` drops them)."""
    return [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def _new_recovery_code() -> str:
    text = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def recovery_digest(user_id: int, code: str) -> str:
    """HMAC-SHA256 of the code, keyed by the account. A recovery code is 79 random bits, not a password a person
    chose: no guessing from a digest can find one, so a slow hash (argon2) would only slow the sign-in, and a fixed
    digest lets the single-use UPDATE find the row by it. The account in the key makes a code worthless on any
    other account."""
    return hmac.new(f"cm-tracker recovery code {user_id}".encode(), normalise(code).encode(),
                    hashlib.sha256).hexdigest()


def replace_recovery_codes(user: User, now: datetime) -> list[str]:
    """Ten new codes for the user, and the old ones gone, in the caller's transaction; the codes are returned once."""
    clear_recovery_codes(user)
    codes = new_recovery_codes()
    db.session.add_all(MfaRecoveryCode(user_id=user.id, code_hash=recovery_digest(user.id, code), created_at=now)
                       for code in codes)
    return codes


def clear_recovery_codes(user: User) -> None:
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Spend one recovery code: one conditional UPDATE, so a code works once even when sent twice at once."""
    result = db.session.execute(
        update(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None),
                                      MfaRecoveryCode.code_hash == recovery_digest(user.id, code))
        .values(used_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(MfaRecoveryCode).where(
        MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))) or 0


def pending_is_alive(started_at: datetime, now: datetime) -> bool:
    """The second step of a sign-in started at `started_at` may still be completed."""
    return timedelta(0) <= now - started_at <= PENDING_LIFETIME
