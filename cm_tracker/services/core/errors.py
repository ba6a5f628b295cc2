"""Domain errors that services raise and views map to a form message or an API error body."""

from __future__ import annotations


class ServiceError(Exception):
    """A use case refused: `code` is the API's snake_case code, `fields` the per-field reasons."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class NotFound(ServiceError):
    status = 404
    code = "not_found"
