"""A refused use case shown on the page form that sent it (docs/architecture.md "Views"): each of the service's
field messages beside its field, the rest in the page's list of problems. Every page view maps a ServiceError here."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SubmitField

from cm_tracker.services.core.errors import ServiceError


def show_errors(form: FlaskForm, error: ServiceError, names: Mapping[str, str] | None = None, *,
                unnamed: str | None = None) -> list[str]:
    """Put each field message of `error` beside its field and return the rest, for the page's list of problems.

    `names` maps the service's field names to the form's where they differ; a dotted path ("cap_cents.max") is
    looked up whole, then by its first part. A form that lays out nested paths itself (a schedule's bowl rows) has a
    `place_error(path, message) -> bool`, asked first. A message no visible field shows joins the problems. An error
    that names no field shows its own message, in the problems or, given `unnamed`, beside that field.
    """
    fields = error.fields or ({unnamed: error.message} if unnamed else {})
    if not fields:
        return [error.message]
    place = getattr(form, "place_error", None)
    problems = []
    for path, message in fields.items():
        if callable(place) and place(path, message):
            continue
        target = field_for(form, path, names or {})
        if target is None:
            problems.append(message)
        else:
            add_error(target, message)
    return problems


def field_for(form: FlaskForm, path: str, names: Mapping[str, str]) -> Field | None:
    """The visible field that shows the errors of `path`, if the form has one."""
    head = path.split(".")[0]
    target = getattr(form, names.get(path, names.get(head, head)), None)
    if isinstance(target, Field) and not isinstance(target, HiddenField | SubmitField):
        return target
    return None


def add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]
