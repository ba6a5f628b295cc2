"""Rate-limit keys and limits shared by sign-in, token requests and a second person's confirmation.

A password may be tried through several doors (the sign-in form, the token endpoint, a two-person hand-over); each
door counts the account's attempts under the same key, so the per-account limit is one budget whichever is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import current_app, request

from cm_tracker.extensions import limiter


def _submitted(field: str) -> str:
    value: Any = request.form.get(field) if request.form else None
    if value is None and request.is_json:
        try:
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            body = None
        value = body.get(field) if isinstance(body, dict) else None
    return value.strip().lower()[:64] if isinstance(value, str) else ""


def account_key(field: str = "username") -> Callable[[], str]:
    """The key of the account named by `field` of the form or JSON body, whoever tries it and from wherever."""
    return lambda: "account:" + _submitted(field)


def limit_password_attempts(field: str = "username", *, only_when_given: bool = False) -> Callable[[Any], Any]:
    """Per-address and per-account limits on a view that checks a password (docs/security.md)."""
    exempt = (lambda: not _submitted(field)) if only_when_given else None

    def decorate(view: Any) -> Any:
        # Shared scopes: one count per account (and per address) across every door that checks a password.
        view = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], scope="password-account",
                                    key_func=account_key(field), methods=["POST"], exempt_when=exempt)(view)
        return limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], scope="password-address",
                                    methods=["POST"], exempt_when=exempt)(view)

    return decorate
