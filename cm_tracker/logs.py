"""What the logs may hold: an error's id, its route and the classes of its exceptions, never a value.

An exception's message is where values travel: SQLAlchemy's carries the SQL and its bound parameters, the driver's
quotes the offending value (PostgreSQL's `invalid input syntax ...: "<name>"`, a unique violation's `Key (...)=(...)`),
and Python's own quote theirs (`invalid literal for int(): '<name>'`, a KeyError's key). Any of them may be a patient's
name, a search term or a result, so every logged traceback keeps its frames (file, line, code) and the class of each
exception in its chain, and withholds the message, unless the exception is one of the few whose message speaks only of
code. The engine also runs with `hide_parameters` (cm_tracker/database.py), which keeps parameters out of the
exception itself.

The filter runs where every record is made (the logging module's record factory), so that it reaches the records of
every logger (ours, Flask's, Werkzeug's, SQLAlchemy's, gunicorn's) whichever handlers print them; `WithholdValues` is
the same filter for a handler configured by hand. Werkzeug's development server also logs each request line with its
query string; that line loses the query string here. Its interactive debugger prints full tracebacks to the terminal
without going through logging: it is for development only, and production refuses it (config.py).
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from typing import Any

WITHHELD = "[message withheld: it may hold a value]"
# Messages Python itself makes of names in the code (an attribute, a module, the recursion limit), never of data.
# Any other exception's message is whatever its raiser wrote, so it is withheld.
SPEAKS_OF_CODE: tuple[type[BaseException], ...] = (AttributeError, NameError, ImportError, RecursionError)
_QUERY = re.compile(r"\?\S*")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def new_error_id() -> str:
    """Eight hex digits: short enough to read out on the telephone, unique enough among one clinic's errors."""
    return secrets.token_hex(4)


class WithholdValues(logging.Filter):
    """Rewrites a record in place: its traceback without messages, Werkzeug's request line without its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = describe(record.exc_info[1])
            record.exc_info = None  # nothing after us (a handler, a reporting tool) gets the exception object itself
        if record.name == "werkzeug" and isinstance(record.args, tuple) and record.args:
            first, *rest = record.args
            if isinstance(first, str):
                record.args = (_QUERY.sub("", first), *rest)
        return True


def describe(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it chains, as Python prints it, with the messages withheld."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for earlier, later in zip([None, *reversed(chain)], reversed(chain), strict=False):
        if earlier is not None:
            parts.append(_CAUSE if later.__cause__ is earlier else _CONTEXT)
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(later.__traceback__))
        parts.append(f"{class_name(later)}: {_message(later)}\n")
    return "".join(parts).rstrip("\n")


def class_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SPEAKS_OF_CODE) else WITHHELD


def install() -> None:
    """Run `WithholdValues` on every record the process makes from now on (once, however many apps it creates)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "withholds_values", False):
        return
    withhold = WithholdValues()

    def make_withholding(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        withhold.filter(record)
        return record

    make_withholding.withholds_values = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_withholding)
