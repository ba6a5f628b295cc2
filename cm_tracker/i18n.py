"""Languages: the patient portal, sign-in, password and error pages speak English and Spanish.

The locale is the patient's saved choice, else the browser's best match of the supported languages, else English.
Staff pages are written in English only, so a staff account always gets English: a Spanish-language browser must
not produce a page whose header is Spanish and whose body is English.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, format_date, format_datetime, format_number, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context

from cm_tracker import money as money_rules
from cm_tracker.models import Role

LANGUAGES = ("en", "es")
ROLE_LABELS = {Role.ADMIN: _l("Admin"), Role.MANAGER: _l("Manager"), Role.COUNSELOR: _l("Counselor"),
               Role.PATIENT: _l("Patient"), Role.LAB: _l("Lab interface")}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language, as a switch should show them
DEFAULT = money_rules.DEFAULT_LOCALE
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def select_locale() -> str:
    user = current_user
    if user and user.is_authenticated:
        if user.role != Role.PATIENT:
            return DEFAULT
        if user.locale in LANGUAGES:
            return str(user.locale)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def current_language() -> str:
    """The language of this request (or of a force_locale block within it), for `<html lang>`, the language switch
    and every amount of money written."""
    locale = get_locale()
    return DEFAULT if locale is None else _identifier(locale)


@lru_cache(maxsize=16)
def _identifier(locale: Locale) -> str:
    # str(Locale) builds its identifier anew on each call, and a caseload asks once per amount (150 or more).
    return str(locale)


def role_label(role: Role) -> str:
    return str(ROLE_LABELS.get(role, str(role).capitalize()))


def money(cents: int | None) -> str:
    """The `money` filter: cents in this request's language (cm_tracker.money.format_cents); None -> ""."""
    return "" if cents is None else money_rules.format_cents(cents, current_language())


def number(value: int | None) -> str:
    return format_number(value) if value is not None else ""


def long_date(day: date | datetime | None) -> str:
    """A date a patient reads at a glance: "Wednesday, November 4, 2026" / "miércoles, 4 de noviembre de 2026"."""
    return format_date(day, "full") if day is not None else ""


def short_date(day: date | datetime | None) -> str:
    return format_date(day, "medium") if day is not None else ""


def when(moment: datetime | None) -> str:
    """A moment in the clinic's time zone (Flask-Babel's BABEL_DEFAULT_TIMEZONE), date and time."""
    return format_datetime(moment, "medium") if moment is not None else ""


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Compile each messages.po whose .mo is missing or older, so a fresh clone (or a test run) works as is.

    scripts/setup.sh runs `pybabel compile` too; this is the safety net for anything that skips it.
    """
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        # Written aside and renamed, so that several workers starting at once never read half a file.
        partial = mo_path.with_suffix(f".{os.getpid()}.tmp")
        try:
            with partial.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            partial.replace(mo_path)
        except OSError:
            partial.unlink(missing_ok=True)  # a read-only install: set-up compiled the catalogs already


def _per_request(write: Callable[[Any], str]) -> Callable[..., str]:
    """A filter in the request's language that Jinja never runs while compiling a template.

    Jinja folds a filter of a constant into the compiled template (`{{ 0 | money }}` becomes the text "$0.00"), in
    the language of whoever rendered the template first, and every later reader got that text. A filter that takes
    the render context is never folded."""

    @pass_context
    def per_request(_context: Any, value: Any) -> str:
        return write(value)

    return per_request


def register(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("CLINIC_TIMEZONE", "UTC"))
    babel.init_app(app, locale_selector=select_locale)
    for name, write in (("money", money), ("lnumber", number), ("long_date", long_date),
                        ("short_date", short_date), ("when", when)):
        app.add_template_filter(_per_request(write), name)

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"current_language": current_language, "language_names": LANGUAGE_NAMES, "role_label": role_label}
