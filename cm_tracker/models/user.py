"""People who sign in, their sessions and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, now_default

if TYPE_CHECKING:
    from cm_tracker.models.patient import Patient


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    COUNSELOR = "counselor"
    PATIENT = "patient"
    LAB = "lab"  # an integration account: it may post lab results and nothing else


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # A patient account belongs to exactly one patient record, and a record has at most one account.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", use_alter=True), unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The second factor (TOTP, RFC 6238; docs/security.md): the base32 secret, pending until confirmed by a code.
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step whose code was accepted: a code is taken only for a later step, so never twice.
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # An admin requires a second factor of this account whatever MFA_REQUIRED_ROLES says.
    mfa_required: Mapped[bool] = mapped_column(default=False)

    patient: Mapped[Patient | None] = relationship(foreign_keys=[patient_id])

    # Flask-Login's protocol; the session itself is checked against user_sessions on every request.
    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """A server-side record of one sign-in, so that sign-out and disabling really end it (docs/security.md)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the random id kept in the signed cookie: a database leak does not yield live sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    source_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()




class MfaRecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for the authenticator app; only a digest is stored."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
