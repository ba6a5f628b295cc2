"""Input that no route can use, refused once for the whole app before any view sees it (docs/security.md "Bad
input": a clear error, never a 500): ids beyond the database's integers in a URL, and NUL in a query string or a
form, which PostgreSQL refuses in text. No person types either; a client that sends them learns so at once.
"""

from __future__ import annotations

from flask import Flask, abort, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from cm_tracker.errors import error_body, wants_json
from cm_tracker.validation import MAX_ROW_ID

NUL_MESSAGE = "The address or the form holds a NUL character, which no field may contain."


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route names a row: a number no row can have (beyond 2^31 - 1, or 0) is the same 404 as an
    unknown id instead of an overflow raised by the database driver. A 404 rather than a failed conversion, which
    would answer 405 where another method's rule shares the path. The API names it `api_id` (api/blueprint.py)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ROW_ID:
            raise NotFound()
        return number


def register(app: Flask) -> None:
    """Before the blueprints: a rule takes its converter when it is added."""
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(_refuse_nul)


def _refuse_nul() -> ResponseReturnValue | None:
    values = [*request.args.items(multi=True)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.items(multi=True)
    if not any("\x00" in key or "\x00" in value for key, value in values):
        return None
    if wants_json():
        return jsonify(error_body(400, NUL_MESSAGE, "bad_request")), 400
    abort(400)
