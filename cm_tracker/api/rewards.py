"""The voucher catalog and prize cabinet, redemptions (idempotent), prize hand-overs and manual adjustments.

Redemptions take an `Idempotency-Key` header. Clients should always send one (a fresh random value per redemption,
reused on retries): the same key and body return the first response and write nothing, the same key with another
body is refused (422). A redemption without the header is accepted but has no replay protection.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.errors import ApiError
from cm_tracker.api.rewards_docs import describe
from cm_tracker.api.schemas import Fields, json_object
from cm_tracker.models import Draw, Redemption, Reward
from cm_tracker.permissions import (
    can_adjust_manually,
    can_manage_catalog,
    get_patient_for,
    get_record_for,
    is_staff,
    may_record_events,
)
from cm_tracker.ratelimits import limit_password_attempts
from cm_tracker.services.core import spending
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.queries import catalog as catalog_reads
from cm_tracker.services.queries import prizes as prizes_reads
from cm_tracker.services.queries import redemptions as redemptions_reads
from cm_tracker.services.queries.catalog import CatalogItem
from cm_tracker.services.usecases import adjustments, catalog, prizes, redemptions
from cm_tracker.services.usecases.catalog import RewardInput
from cm_tracker.validation import row_id


def reward_to_dict(item: CatalogItem) -> dict[str, Any]:
    r = item.reward
    return {"id": r.id, "kind": str(r.kind), "name": r.name, "name_es": r.name_es, "description": r.description,
            "cost_points": r.cost_points, "tier": r.tier, "value_cents": r.value_cents, "program_id": r.program_id,
            "is_stocked": r.is_stocked, "stock": item.stock, "low_stock_threshold": r.low_stock_threshold,
            "is_low": item.is_low, "is_active": r.is_active}


def redemption_to_dict(r: Redemption) -> dict[str, Any]:
    return {"id": r.id, "reward_id": r.reward_id, "reward": r.reward.name, "quantity": r.quantity,
            "points": r.points, "status": str(r.status), "requested_at": r.requested_at.isoformat(),
            "fulfilled_at": r.fulfilled_at.isoformat() if r.fulfilled_at else None,
            "fulfilled_by_id": r.fulfilled_by_id, "confirmed_by_id": r.confirmed_by_id}


def draw_to_dict(d: Draw) -> dict[str, Any]:
    return {"id": d.id, "tier": d.tier, "value_cents": d.value_cents, "reward_id": d.reward_id,
            "handed_over_at": d.handed_over_at.isoformat() if d.handed_over_at else None,
            "handed_over_by_id": d.handed_over_by_id, "confirmed_by_id": d.confirmed_by_id}


def _reward_input(data: dict[str, Any]) -> tuple[RewardInput, int | None]:
    fields = Fields(data, ("name", "name_es", "cost_points", "tier", "value_cents", "stock", "description",
                           "program_id", "low_stock_threshold"))
    values = RewardInput(
        name=fields.string("name", 120) or "", name_es=fields.string("name_es", 120, required=False) or "",
        value_cents=fields.integer("value_cents", minimum=0) or 0,
        cost_points=fields.integer("cost_points", required=False), tier=fields.string("tier", 24, required=False),
        description=fields.string("description", 2000, required=False) or "",
        program_id=fields.integer("program_id", required=False),
        low_stock_threshold=_or(fields.integer("low_stock_threshold", required=False, minimum=0), 3),
        is_stocked="stock" in data and data["stock"] is not None)
    stock = fields.integer("stock", required=False, minimum=0)
    fields.check("The item could not be created.")
    return values, stock


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


@bp.post("/rewards")
@allow(can_manage_catalog)
def create_reward() -> tuple[Response, int]:
    values, stock = _reward_input(json_object())
    reward = catalog.create_reward(values, opening_stock=stock, actor=current_api_user())
    return jsonify(reward_to_dict(catalog_reads.items([reward])[0])), 201


@bp.get("/rewards")
@allow(is_staff)
def list_rewards() -> Response:
    raw = request.args.get("program_id")
    program_id = request.args.get("program_id", type=row_id)
    if raw and program_id is None:
        raise ApiError(422, "validation_failed", "The filter could not be read.",
                       fields={"program_id": "Must be a programme id."})
    found = catalog_reads.catalog(program_id=program_id)
    return jsonify({"rewards": [reward_to_dict(i) for i in found]})


def _reward(reward_id: int | None) -> Reward:
    """A reward named in a body: an unknown id is a bad field (422), not a missing resource."""
    try:
        return catalog_reads.get_reward(reward_id or 0)
    except NotFound:
        raise ValidationFailed("No such item.", fields={"reward_id": "No catalog item has this id."}) from None


@bp.post(f"/patients/<{ID}:patient_id>/redemptions")
@allow(may_record_events)
def create_redemption(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id, write=True)
    fields = Fields(json_object(), ("reward_id", "quantity"))
    reward_id, quantity = fields.integer("reward_id"), fields.integer("quantity", maximum=spending.MAX_QUANTITY)
    fields.check("Nothing was redeemed.")
    done = redemptions.redeem(patient, _reward(reward_id), quantity or 0, actor=current_api_user(),
                              idempotency_key=request.headers.get("Idempotency-Key"))
    return jsonify(done.response), 201


@bp.get(f"/patients/<{ID}:patient_id>/redemptions")
@allow(is_staff)
def list_redemptions(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id)
    return jsonify({"redemptions": [redemption_to_dict(r) for r in redemptions_reads.redemptions_of(patient.id)]})


def _redemption_for_write(redemption_id: int) -> Redemption:
    return get_record_for(current_api_user(), Redemption, redemption_id, write=True)[1]


@bp.post(f"/redemptions/<{ID}:redemption_id>/fulfil")
@allow(may_record_events)
def fulfil_redemption(redemption_id: int) -> Response:
    redemption = _redemption_for_write(redemption_id)
    done = redemptions.fulfil_redemption(redemption, current_api_user())
    return jsonify({**done.response, "status": str(done.redemption.status)})


@bp.post(f"/redemptions/<{ID}:redemption_id>/cancel")
@allow(may_record_events)
def cancel_redemption(redemption_id: int) -> Response:
    redemption = _redemption_for_write(redemption_id)
    redemptions.cancel_redemption(redemption, actor=current_api_user())
    return jsonify(redemption_to_dict(redemption))


@bp.post(f"/patients/<{ID}:patient_id>/adjustments")
@allow(can_adjust_manually)
def post_adjustment(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id)
    fields = Fields(json_object(), ("points", "draws", "reason"))
    points = _or(fields.integer("points", required=False, minimum=-adjustments.MAX_POINTS), 0)
    draws = _or(fields.integer("draws", required=False, minimum=-adjustments.MAX_DRAWS), 0)
    reason = fields.string("reason", adjustments.MAX_REASON)
    fields.check("The adjustment was not posted.")
    entry = adjustments.post_adjustment(patient, points=points, draws=draws, reason=reason or "",
                                        actor=current_api_user())
    return jsonify({"id": entry.id, "kind": str(entry.kind), "points": entry.points, "draws": entry.draws,
                    "value_cents": entry.value_cents, "reason": entry.reason,
                    "created_at": entry.created_at.isoformat()}), 201


@bp.get(f"/patients/<{ID}:patient_id>/prizes")
@allow(is_staff)
def waiting_prizes(patient_id: int) -> Response:
    patient = get_patient_for(current_api_user(), patient_id)
    return jsonify({"prizes": [draw_to_dict(d) for d in prizes_reads.waiting_prizes(patient.id)]})


@bp.post(f"/draws/<{ID}:draw_id>/handover")
@allow(may_record_events)
@limit_password_attempts("confirmer_username", only_when_given=True)
def hand_over_prize(draw_id: int) -> Response:
    _, draw = get_record_for(current_api_user(), Draw, draw_id, write=True)
    fields = Fields(json_object(), ("reward_id", "confirmer_username", "confirmer_password", "confirm"))
    reward_id = fields.integer("reward_id")
    confirmer = prizes.Credentials(fields.string("confirmer_username", 64, required=False) or "",
                                   fields.string("confirmer_password", 128, required=False) or "")
    confirmed = _flag(fields, "confirm")
    fields.check("The prize was not handed over.")
    handed = prizes.hand_over_confirmed(draw, _reward(reward_id), actor=current_api_user(), confirmer=confirmer,
                                        confirmed=confirmed)
    return jsonify(draw_to_dict(handed))


def _flag(fields: Fields, name: str) -> bool:
    """An optional JSON boolean: false when left out or null (as every optional field of the API takes null)."""
    value = fields.data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        fields.errors[name] = "Must be true or false."
        return False
    return value


describe()
