"""Password hashing and policy (docs/security.md: argon2id, 8-128 characters, no composition rules, no common ones)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 128

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


@cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords from public leaks, plus our own list of ones a clinic would see."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    text = files("cm_tracker").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    ours = (line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))
    return frozenset(ours) | frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why a new password is refused, as a sentence for the form, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _common_passwords():
        return "This password is too common; choose one that is harder to guess."
    if username and password.lower() == username.lower():
        return "The password must not be the username."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; an unknown user (None) costs the same work and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
