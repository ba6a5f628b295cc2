"""Balances, ledgers and prize draws; a patient reads their own through /me (no patient id in the path)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.errors import ApiError
from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DATETIME, IDEMPOTENCY_KEY, body, obj, ref
from cm_tracker.api.schemas import Fields, json_object
from cm_tracker.models import LedgerEntry, Patient
from cm_tracker.permissions import get_patient_for, is_patient, is_staff, may_record_events
from cm_tracker.services.core.ledger import page_of_entries
from cm_tracker.services.queries.statements import statement_for
from cm_tracker.services.usecases import draws
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.validation import row_id

PAGE_DEFAULT, PAGE_MAX = 100, 500


def _balance(patient: Patient) -> dict[str, Any]:
    statement = statement_for(patient)
    b, cap = statement.balance, statement.cap
    owed = b.prizes
    return {
        "points": b.points, "value_cents": statement.value_cents, "draws": b.draws,
        "earned_points": b.earned_points, "redeemed_points": b.redeemed_points,
        "point_value_cents": statement.point_value_cents,
        "cap": {"cap_cents": cap.cap_cents, "used_cents": cap.used_cents, "remaining_cents": cap.remaining_cents,
                "window": cap.window} if cap else None,
        "next": [{"target": n.target, "points": n.points, "draws": n.draws, "explanation": n.explanation,
                  "reset_points": n.reset_points, "reset_draws": n.reset_draws,
                  "reset_explanation": n.reset_explanation} for n in statement.next],
        "prizes": {"waiting": owed.waiting, "value_cents": owed.value_cents},
    }


def _event(entry: LedgerEntry) -> dict[str, Any] | None:
    if entry.event_type:
        return {"type": str(entry.event_type), "id": entry.event_id}
    if entry.draw_id:
        return {"type": "draw", "id": entry.draw_id}
    if entry.redemption_id:
        return {"type": "redemption", "id": entry.redemption_id}
    return None


def _ledger(patient: Patient) -> dict[str, Any]:
    after, limit = _cursor_and_limit()
    entries = page_of_entries(patient.id, after, limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    return {
        "entries": [{"id": e.id, "created_at": e.created_at.isoformat(), "kind": str(e.kind), "target": e.target_key,
                     "points": e.points, "draws": e.draws, "value_cents": e.value_cents, "reason": e.reason,
                     "event": _event(e)} for e in entries],
        "next_cursor": str(entries[-1].id) if more and entries else None,
    }


def _cursor_and_limit() -> tuple[int | None, int]:
    fields: dict[str, str] = {}
    cursor, limit = request.args.get("cursor"), request.args.get("limit", str(PAGE_DEFAULT))
    # A cursor is the id of the last entry shown: a row id, or nothing.
    if cursor is not None and request.args.get("cursor", type=row_id) is None:
        fields["cursor"] = "Use the next_cursor of the previous page."
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= PAGE_MAX):
        fields["limit"] = f"Must be a whole number from 1 to {PAGE_MAX}."
    if fields:
        raise ApiError(422, "validation_failed", "The page could not be read.", fields=fields)
    return (int(cursor) if cursor else None), int(limit)


def _own_patient() -> Patient:
    patient = current_api_user().patient
    log_now("patient.view", patient_id=patient.id, object_type="patient", object_id=patient.id,
            detail={"via": "api/me"})
    return patient


@bp.get(f"/patients/<{ID}:patient_id>/balance")
@allow(is_staff)
def patient_balance(patient_id: int) -> Response:
    return jsonify(_balance(get_patient_for(current_api_user(), patient_id)))


@bp.get(f"/patients/<{ID}:patient_id>/ledger")
@allow(is_staff)
def patient_ledger(patient_id: int) -> Response:
    return jsonify(_ledger(get_patient_for(current_api_user(), patient_id)))


@bp.get("/me/balance")
@allow(is_patient)
def my_balance() -> Response:
    return jsonify(_balance(_own_patient()))


@bp.get("/me/ledger")
@allow(is_patient)
def my_ledger() -> Response:
    return jsonify(_ledger(_own_patient()))


@bp.post(f"/patients/<{ID}:patient_id>/draws")
@allow(may_record_events)
def draw(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    fields = Fields(json_object(), ("count",))
    count = fields.integer("count", maximum=draws.MAX_DRAWS_AT_ONCE)
    fields.check("No draw was made.")
    done = draws.perform_draws(patient, count or 0, actor=current_api_user(),
                               idempotency_key=request.headers.get("Idempotency-Key"))
    return jsonify(done.response), 201


_NEXT = obj({"target": {"type": "string"}, "points": {"type": "integer"}, "draws": {"type": "integer"},
             "explanation": {"type": "string"}, "reset_points": {"type": "integer"},
             "reset_draws": {"type": "integer"}, "reset_explanation": {"type": "string"}})
_CAP = obj({"cap_cents": {"type": "integer"}, "used_cents": {"type": "integer"},
            "remaining_cents": {"type": "integer"}, "window": {"enum": ["calendar_year", "rolling_365", "episode"]}})
# Prizes won in draws and not handed over yet: a liability of the programme, like unredeemed points.
_PRIZES = obj({"waiting": {"type": "integer", "minimum": 0}, "value_cents": {"type": "integer", "minimum": 0}})
_ENTRY = obj({"id": {"type": "integer"}, "created_at": DATETIME, "kind": {"type": "string"},
              "target": {"type": ["string", "null"]}, "points": {"type": "integer"}, "draws": {"type": "integer"},
              "value_cents": {"type": "integer"}, "reason": {"type": "string"},
              "event": {"oneOf": [obj({"type": {"type": "string"}, "id": {"type": "integer"}}), {"type": "null"}]}})
_PAGE = [{"name": "cursor", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{1,11}$"},
          "description": "next_cursor of the last page"},
         {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX}}]


def _paged(op: dict[str, Any]) -> dict[str, Any]:
    op["parameters"] = [*op.get("parameters", []), *_PAGE]
    return op


def _with_key(op: dict[str, Any]) -> dict[str, Any]:
    op["parameters"] = [*op.get("parameters", []), IDEMPOTENCY_KEY]
    return op


document({
    "/patients/{patient_id}/balance": {"get": operation(
        "A patient's balance, cap and what the next success of each target earns (staff).",
        ("200", "Balance", "The balance."), errors=("404",), params=("patient_id",))},
    "/patients/{patient_id}/ledger": {"get": _paged(operation(
        "A patient's ledger, oldest first, in pages (staff).", ("200", "Ledger", "One page of entries."),
        errors=("404", "422"), params=("patient_id",)))},
    "/me/balance": {"get": operation("Your own balance (patients).", ("200", "Balance", "The balance."))},
    "/me/ledger": {"get": _paged(operation("Your own ledger (patients).", ("200", "Ledger", "One page.")))},
    "/patients/{patient_id}/draws": {"post": _with_key(operation(
        "Draw from the prize bowl at the desk, within the draws waiting (staff). Send an Idempotency-Key: the same "
        "key and count again answer the first draws and draw nothing new; the same key with another count is 422.",
        ("201", "Draws", "Each slip drawn and the prize tier granted."), body="DrawRequest",
        errors=("404", "409", "422"), params=("patient_id",)))},
}, {
    "Balance": obj({"points": {"type": "integer"}, "value_cents": {"type": "integer"}, "draws": {"type": "integer"},
                    "earned_points": {"type": "integer"}, "redeemed_points": {"type": "integer"},
                    "point_value_cents": {"type": "integer"}, "cap": {"oneOf": [_CAP, {"type": "null"}]},
                    "next": {"type": "array", "items": _NEXT}, "prizes": _PRIZES}),
    "LedgerEntry": _ENTRY,
    "Ledger": obj({"entries": {"type": "array", "items": ref("LedgerEntry")},
                   "next_cursor": {"type": ["string", "null"]}}),
    "DrawRequest": body({"count": {"type": "integer", "minimum": 1, "maximum": draws.MAX_DRAWS_AT_ONCE}}, ["count"]),
    "Draws": obj({"draws": {"type": "array", "items": obj({
        "id": {"type": "integer"}, "tier": {"type": "string"}, "drawn_tier": {"type": "string"},
        "value_cents": {"type": "integer"}})}}),
})
