"""Retries that write once (docs/security.md "Integrity"): the one rule for an `Idempotency-Key`, shared by
redemptions and prize draws.

A client sends a key with a write it may retry (the API's header, or the one-time token a desk form carries). The
same key with the same body answers the first response and writes nothing; the same key with another body is
refused (422), so a key reused by mistake never spends a balance twice nor answers with another request's result.
Where the key and the response are stored belongs to the use case (a redemption row, a draw request row); what
makes two requests the same request, which keys are usable and what a stored request answers live here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cm_tracker.services.core.errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 120
FIELD = "Idempotency-Key"


def fingerprint(body: dict[str, Any]) -> str:
    """What makes two requests the same request: their body, whatever the order of its fields (the patient is in
    the key's scope)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> None:
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):
        raise ValidationFailed(f"The {FIELD} is not usable.",
                               fields={FIELD: f"Send 1 to {MAX_KEY_LENGTH} printable characters."})


def stored_response(stored_hash: str | None, response: dict[str, Any] | None, request_hash: str, *,
                    what: str) -> dict[str, Any]:
    """The first response to a key seen before, if this is the same request; `what` names the write in the
    refusal ("redemption", "draw")."""
    if stored_hash != request_hash:
        raise ValidationFailed(f"This {FIELD} was used for another request.",
                               fields={FIELD: f"Use a new key for a new {what}."})
    if response is None:
        raise Conflict("The first request with this key has not finished.", code="in_progress")
    return response
