"""Server-side sign-in sessions and API tokens (docs/security.md "Sessions end when they should").

The browser holds only a random id inside Flask's signed cookie; the row here decides whether it still works, so
sign-out, disabling an account, idle and absolute timeouts all take effect on the server.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from cm_tracker.extensions import db
from cm_tracker.models import ApiToken, User, UserSession
from cm_tracker.services.core import audit
from cm_tracker.services.usecases.access_log import write_at_end
from cm_tracker.timeutil import utcnow

# last_seen_at is written at most this often, so that reading a page is not a write every time.
TOUCH_INTERVAL = timedelta(seconds=30)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _open(user: User, address: str | None, now: datetime, created_at: datetime | None = None) -> str:
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_digest(raw), user_id=user.id, created_at=created_at or now,
                               last_seen_at=now, source_address=address))
    return raw


def start_session(user: User, address: str | None) -> str:
    """Open a session for a signed-in user and return the raw id for the cookie."""
    now = utcnow()
    raw = _open(user, address, now)
    user.last_sign_in_at = now
    audit.record("auth.sign_in", user=user)
    db.session.commit()
    return raw


def resume_session(raw: str, *, idle: timedelta, absolute: timedelta, now: datetime | None = None) -> User | None:
    """The user of a live session, or None when it ended, idled out, passed its absolute limit, or the user is off."""
    now = now or utcnow()
    # The session row and its user in one statement: this runs on every page request.
    row = db.session.scalar(select(UserSession).options(joinedload(UserSession.user))
                            .where(UserSession.token_hash == _digest(raw)))
    if row is None or row.ended_at is not None:
        return None
    if row.user.is_disabled:
        _end(row, "disabled", now)
        return None
    if now - row.last_seen_at > idle:
        _end(row, "idle_timeout", now)
        return None
    if now - row.created_at > absolute:
        _end(row, "absolute_timeout", now)
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        # With the request's own commit: a commit here would expire the user the rest of the request reads.
        write_at_end(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    return row.user


def _end(row: UserSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason
    audit.record("auth.session_ended", user=row.user, detail={"reason": reason})
    db.session.commit()


def end_session(raw: str, reason: str = "sign_out") -> None:
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _digest(raw)))
    if row is not None and row.ended_at is None:
        _end(row, reason, utcnow())


def end_all_sessions(user: User, reason: str) -> dict[str, int]:
    """End every session and API token of a user, in the caller's transaction (disable, reset, password change);
    the counts are for the caller's audit row."""
    now = utcnow()
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return {"sessions_ended": ended.rowcount, "tokens_revoked": revoked.rowcount}  # type: ignore[attr-defined]


def renew_session(user: User, raw: str | None, address: str | None, reason: str) -> tuple[str, dict[str, int]]:
    """End every session and token of the user, then open a new session for the browser that asked, in the
    caller's transaction. The browser's own old id ends too, so a copy of its cookie taken before (the case a
    password change is for) stops working with the others; the new session keeps the old one's start, so the
    absolute limit still counts from sign-in. Returns the new raw id and the counts of what ended."""
    started = db.session.scalar(select(UserSession.created_at).where(
        UserSession.token_hash == _digest(raw or ""), UserSession.user_id == user.id, UserSession.ended_at.is_(None)))
    ended = end_all_sessions(user, reason)
    if started is not None:
        ended["sessions_ended"] -= 1  # the asking browser's, renewed rather than ended
    return _open(user, address, utcnow(), created_at=started), ended


def issue_token(user: User, lifetime: timedelta) -> tuple[str, datetime]:
    """A new bearer token; only its digest is stored, so the raw value is shown once."""
    raw = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(raw), expires_at=expires_at))
    audit.record("auth.token_issued", user=user)
    db.session.commit()
    return raw, expires_at


# Built once: every API request runs it (core.balances says why that matters).
_TOKEN_WITH_USER = (select(ApiToken).options(joinedload(ApiToken.user))
                    .where(ApiToken.token_hash == bindparam("digest")))


def user_for_token(raw: str, now: datetime | None = None) -> tuple[User, ApiToken] | None:
    """The live token's user and the token, read in one statement (every API request asks)."""
    now = now or utcnow()
    token = db.session.scalar(_TOKEN_WITH_USER, {"digest": _digest(raw)})
    if token is None or token.revoked_at is not None or token.expires_at <= now or token.user.is_disabled:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        # With the request's own commit: a commit here would expire the user the rest of the request reads.
        write_at_end(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token.user, token


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    audit.record("auth.token_revoked", user=token.user)
    db.session.commit()
