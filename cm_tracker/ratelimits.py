"""Rate-limit keys and limits shared by sign-in, its second step, token requests, a second person's confirmation and a
password change.

A password may be tried through several doors (the sign-in form, the token endpoint, a two-person hand-over, the
change-password form); each door counts the account's attempts under the same key, so the per-account limit is one
budget whichever is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_login import current_user

from cm_tracker.extensions import limiter
from cm_tracker.validation import has_lone_surrogate


def _submitted(field: str) -> str:
    value: Any = request.form.get(field) if request.form else None
    if value is None and request.is_json:
        try:
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            body = None
        value = body.get(field) if isinstance(body, dict) else None
    # A lone surrogate cannot be a Redis key (the API's JSON reader refuses the body right after).
    return value.strip().lower()[:64] if isinstance(value, str) and not has_lone_surrogate(value) else ""


def account_key(field: str = "username") -> Callable[[], str]:
    """The key of the account named by `field` of the form or JSON body, whoever tries it and from wherever."""
    return lambda: "account:" + _submitted(field)


def limit_password_attempts(field: str = "username", *, only_when_given: bool = False) -> Callable[[Any], Any]:
    """Per-address and per-account limits on a view that checks a password (docs/security.md)."""
    exempt = (lambda: not _submitted(field)) if only_when_given else None
    return _password_limits(account_key(field), exempt)


def limit_password_change() -> Callable[[Any], Any]:
    """The same limits on a signed-in user's password change, counted against the signed-in account: someone holding
    a session left open cannot guess its password there any faster than at the sign-in form. Goes under
    `login_required`, which answers anyone else first."""
    return _password_limits(lambda: "account:" + current_user.username.lower()[:64], None)


def limit_attempts_of(username: Callable[[], str]) -> Callable[[Any], Any]:
    """The same limits on the second step of a sign-in (a TOTP or recovery code), counted against the account whose
    password was right (`username`, from the pending sign-in): a code is guessed no faster than a password."""
    return _password_limits(lambda: "account:" + username().lower()[:64], None)


def _password_limits(account: Callable[[], str], exempt: Callable[[], bool] | None) -> Callable[[Any], Any]:
    def decorate(view: Any) -> Any:
        # Shared scopes: one count per account (and per address) across every door that checks a password.
        view = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], scope="password-account",
                                    key_func=account, methods=["POST"], exempt_when=exempt)(view)
        return limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], scope="password-address",
                                    methods=["POST"], exempt_when=exempt)(view)

    return decorate
