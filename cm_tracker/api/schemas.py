"""Reading JSON bodies: the shape of what a client sent (types, presence, lengths), one sentence per bad field.

Shape only: whether a program exists or a username is taken is for the services to say, so that the HTML forms
and the API give the same answers. Field names in errors are dotted paths ("targets.0.schedule.start").
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import request

from cm_tracker.api.errors import ApiError
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.validation import (
    CALENDAR_MESSAGE,
    MAX_ROW_ID,
    has_control_characters,
    has_lone_surrogate,
    in_calendar,
)

# Ids are database INTEGERs: larger numbers cannot name anything, and must not reach the driver.
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _json_number(text: str) -> int | float:
    """A JSON number with a fraction or an exponent: `10.0` and `1e3` are the whole numbers 10 and 1000, as JSON
    Schema (and so the OpenAPI document) counts them; past 2**53 a float no longer spells one integer, so stays one."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) <= 2**53 else value


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or 400 `malformed_json` (413 comes from reading a body over the limit)."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_float=_json_number)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    if _holds_lone_surrogate(data):
        raise ApiError(400, "malformed_json", "The body holds half a UTF-16 surrogate pair (such as \\udc00), which "
                                              "is not a character.")
    return data


def _holds_lone_surrogate(data: object) -> bool:
    """Python's JSON reader accepts a lone `\\udc00`, which no database driver can encode: refused here, once, for
    every string and key of every body. A loop rather than recursion: the reader accepts nesting deeper than the
    stack would allow a walk."""
    pending: list[object] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def is_integer(value: object) -> bool:
    """JSON whole numbers only: true and false are not numbers, and neither is 1.5 (10.0 arrives as 10)."""
    return isinstance(value, int) and not isinstance(value, bool)


class Fields:
    """Reads the fields of one JSON object and collects what is wrong with them."""

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}
        for name in data:
            if name not in allowed:
                self.errors[str(name)[:100]] = "Unknown field."

    def string(self, name: str, max_length: int, *, required: bool = True) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "Required."
            return None
        if not isinstance(value, str):
            self.errors[name] = "Must be a string."
            return None
        if len(value) > max_length:
            self.errors[name] = f"Must be at most {max_length} characters."
            return None
        if has_control_characters(value):
            self.errors[name] = "Must not contain control characters."
            return None
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 1, maximum: int = MAX_ROW_ID) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "Required."
            return None
        if not is_integer(value):
            self.errors[name] = "Must be a whole number."
            return None
        if not minimum <= value <= maximum:
            self.errors[name] = f"Must be from {minimum} to {maximum}."
            return None
        return int(value)

    def date(self, name: str, *, required: bool = True) -> date | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "Required: a date as YYYY-MM-DD."
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.errors[name] = "Must be a date as YYYY-MM-DD."
        elif not in_calendar(parsed):
            self.errors[name] = CALENDAR_MESSAGE
            return None
        return parsed

    def refuse_nulls(self, names: tuple[str, ...]) -> None:
        """For a change (PATCH): a field left out keeps its value, so null, which would blank a required one, is
        refused rather than guessed at."""
        for name in names:
            if name in self.data and self.data[name] is None:
                self.errors[name] = "Must not be null: leave the field out to keep its value."

    def check(self, message: str) -> None:
        if self.errors:
            raise ValidationFailed(message, fields=self.errors)



def parse_date(value: object) -> date | None:
    """A calendar date written YYYY-MM-DD, or None (Python also reads other ISO forms; the API does not)."""
    if not isinstance(value, str) or not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def token_request(data: dict[str, Any]) -> tuple[str, str, str | None]:
    """The username, the password and, for an account with a second factor, its code (otp)."""
    fields = Fields(data, ("username", "password", "otp"))
    username = fields.string("username", 256)
    password = fields.string("password", 1024)
    otp = fields.string("otp", 32, required=False)
    fields.check("Send a username and a password.")
    return username or "", password or "", otp


def otp_request(data: dict[str, Any]) -> str:
    fields = Fields(data, ("otp",))
    otp = fields.string("otp", 32)
    fields.check("Send the code of your authenticator app as otp.")
    return otp or ""


def user_request(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(data, ("username", "password", "role", "display_name", "patient_id"))
    values = {
        "username": fields.string("username", 64),
        "password": fields.string("password", 128),
        "role": fields.string("role", 24),
        "display_name": fields.string("display_name", 120, required=False) or "",
        "patient_id": fields.integer("patient_id", required=False),
    }
    fields.check("The account could not be created.")
    return values


def patient_request(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(data, ("display_name", "record_number", "program_id", "counselor_id", "start_date"))
    values = {
        "display_name": fields.string("display_name", 120),
        "record_number": fields.string("record_number", 40),
        "program_id": fields.integer("program_id"),
        "counselor_id": fields.integer("counselor_id", required=False),
        "start_on": fields.date("start_date"),
    }
    fields.check("The patient could not be created.")
    return values
