"""Reading untrusted JSON into engine values, collecting one clear sentence per bad field.

Schedules and program rules arrive as JSON from forms and the API. Every problem is reported at once,
keyed by its dotted path ("bowl.2.slips"), so that a form can show each message beside its field.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

# Keeps stored integers inside a database INTEGER column and far from nonsense.
LARGEST = 1_000_000_000

E = TypeVar("E", bound=StrEnum)


class ScheduleError(ValueError):
    """Invalid schedule or program rules; `fields` maps a dotted field path to a sentence saying why."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{path}: {why}" for path, why in self.fields.items()))


def is_integer(value: object) -> bool:
    """True for JSON whole numbers; False for booleans and floats, even 10.0."""
    return isinstance(value, int) and not isinstance(value, bool)


class Reader:
    """Reads the fields of one JSON object, remembering what went wrong and where."""

    def __init__(self, data: Mapping[str, Any], prefix: str, errors: dict[str, str]) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors

    def path(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, why: str) -> None:
        self.errors.setdefault(self.path(name), why)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def integer(self, name: str, what: str, minimum: int, default: int | None = None) -> int | None:
        """A whole number >= minimum; required when there is no default. None when invalid or absent."""
        value = self.data.get(name)
        if value is None:
            if default is None:
                self.fail(name, f"Required: {what}.")
            return default
        if not is_integer(value):
            self.fail(name, f"Must be a whole number: {what}.")
            return None
        if value < minimum:
            self.fail(name, f"Must be {minimum} or more: {what}.")
            return None
        if value > LARGEST:
            self.fail(name, f"Must be at most {LARGEST:,}: {what}.")
            return None
        return value

    def choice(self, name: str, enum: type[E], default: E | None = None) -> E | None:
        value = self.data.get(name)
        if value is None and default is not None:
            return default
        values = [e.value for e in enum]
        if not isinstance(value, str) or value not in values:
            self.fail(name, f"Must be one of: {', '.join(values)}.")
            return None
        return enum(value)

    def text(self, name: str, what: str) -> str | None:
        value = self.data.get(name)
        if not isinstance(value, str) or not value.strip():
            self.fail(name, f"Required: {what}.")
            return None
        return value.strip()

    def names(self, name: str, what: str, required: bool) -> frozenset[str] | None:
        """A list of distinct non-empty strings (analyte names)."""
        value = self.data.get(name)
        if value is None and not required:
            return frozenset()
        if not isinstance(value, list) or (required and not value):
            self.fail(name, f"Must be a non-empty list: {what}." if required else f"Must be a list: {what}.")
            return None
        if not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(name, f"Each entry must be a non-empty name: {what}.")
            return None
        stripped = [v.strip() for v in value]
        if len(set(stripped)) != len(stripped):
            self.fail(name, f"Each name may appear only once: {what}.")
            return None
        return frozenset(stripped)

    def refuse_unknown(self, allowed: Iterable[str], where: str) -> None:
        allowed = set(allowed)
        for name in self.data:
            if name not in allowed:
                self.fail(str(name), f"Unknown field for {where}.")


def require_object(data: object, path: str, errors: dict[str, str]) -> bool:
    """Record an error unless `data` is a JSON object."""
    if isinstance(data, Mapping):
        return True
    errors.setdefault(path or "schedule", "Must be a JSON object.")
    return False
