"""The OpenAPI description of cm_tracker/api/rewards.py: catalog, redemptions, prize hand-overs, adjustments."""

from __future__ import annotations

from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DATETIME, ID, IDEMPOTENCY_KEY, INT, body, nullable, obj, ref, text
from cm_tracker.validation import MAX_ROW_ID

_AMOUNT = {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}
_PROGRAM_FILTER = {"name": "program_id", "in": "query", "required": False, "schema": ID,
                   "description": "Only the items offered in this programme (its own and those for every programme)."}

_REWARD = obj({
    "id": INT, "kind": {"enum": ["voucher", "prize"]}, "name": {"type": "string"},
    "name_es": {**nullable({"type": "string"}), "description": "The name patients read in Spanish; null: `name`."},
    "description": {"type": "string"},
    "cost_points": nullable(INT), "tier": nullable({"type": "string"}), "value_cents": INT,
    "program_id": nullable(INT), "is_stocked": {"type": "boolean"},
    "stock": {**nullable(INT), "description": "On hand (the sum of stock movements); null when not counted."},
    "low_stock_threshold": INT, "is_low": {"type": "boolean"}, "is_active": {"type": "boolean"},
})
_REDEMPTION = obj({
    "id": INT, "reward_id": INT, "reward": {"type": "string"}, "quantity": INT, "points": INT,
    "status": {"enum": ["requested", "fulfilled", "cancelled"]}, "requested_at": DATETIME,
    "fulfilled_at": nullable(DATETIME), "fulfilled_by_id": nullable(INT), "confirmed_by_id": nullable(INT),
})
_DRAW = obj({"id": INT, "tier": {"type": "string"}, "value_cents": INT, "reward_id": nullable(INT),
             "handed_over_at": nullable(DATETIME), "handed_over_by_id": nullable(INT),
             "confirmed_by_id": nullable(INT)})


def _with_key(op: dict[str, object]) -> dict[str, object]:
    op["parameters"] = [*op.get("parameters", []), IDEMPOTENCY_KEY]  # type: ignore[misc]
    return op


def _with_filter(op: dict[str, object]) -> dict[str, object]:
    op["parameters"] = [_PROGRAM_FILTER]
    return op


def describe() -> None:
    document({
        "/rewards": {
            "post": operation(
                "Add a voucher (cost_points) or a prize cabinet item (tier), exactly one of the two (admin, "
                "manager). `stock` is the opening stock; a voucher without it is not counted (unlimited).",
                ("201", "Reward", "The item with its stock."), body="RewardCreate"),
            "get": _with_filter(operation("The catalog and prize cabinet with stock on hand (staff).",
                                          ("200", "RewardList", "Every item.")))},
        "/patients/{patient_id}/redemptions": {
            "post": _with_key(operation(
                "Redeem points for a catalog voucher at the desk: the balance is checked and debited atomically. "
                "409 insufficient_balance (also while a balance is negative after a correction) or out_of_stock.",
                ("201", "Redeemed", "The redemption, the points spent and the balance after."),
                body="RedemptionCreate", errors=("404", "409"), params=("patient_id",))),
            "get": operation("A patient's redemptions, newest first (staff).",
                             ("200", "RedemptionList", "Requested, fulfilled and cancelled."),
                             errors=("404",), params=("patient_id",))},
        "/redemptions/{redemption_id}/fulfil": {"post": operation(
            "Fulfil a patient's request at the desk: the atomic debit; a second call is 409 not_pending.",
            ("200", "Fulfilled", "The points spent and the balance after."), errors=("404", "409"),
            params=("redemption_id",))},
        "/redemptions/{redemption_id}/cancel": {"post": operation(
            "Cancel a request not yet fulfilled.", ("200", "Redemption", "The cancelled request."),
            errors=("404", "409"), params=("redemption_id",))},
        "/patients/{patient_id}/adjustments": {"post": operation(
            "Post a manual adjustment of points or draws with a reason (managers, admins). A credit that would "
            "pass the programme's cap is refused (409 over_cap); a debit cannot take the balance below zero.",
            ("201", "ManualEntry", "The ledger entry, kind manual."), body="AdjustmentCreate",
            errors=("404", "409"), params=("patient_id",))},
        "/patients/{patient_id}/prizes": {"get": operation(
            "Prizes won in draws and not yet collected (staff).", ("200", "PrizeList", "Oldest first."),
            errors=("404",), params=("patient_id",))},
        "/draws/{draw_id}/handover": {"post": operation(
            "Hand over the cabinet item the patient chose for a winning draw; stock goes down by one. Programmes "
            "with two-person control need a second staff member's username and password; a prize worth more than "
            "the programme's confirm_handover_above_cents needs \"confirm\": true (else 422 on confirm).",
            ("200", "Prize", "The draw with its item and who handed it over."), body="HandoverCreate",
            errors=("404", "409"), params=("draw_id",))},
    }, {
        "Reward": _REWARD,
        "RewardList": obj({"rewards": {"type": "array", "items": ref("Reward")}}),
        "RewardCreate": body({
            "name": text(120, min_length=1),
            "name_es": text(120, description="The name patients who read the portal in Spanish see; blank or "
                                             "left out: they see `name`."),
            "cost_points": {**ID, "description": "A voucher's cost."},
            "tier": text(24, description="A prize's tier in the bowl."), "value_cents": _AMOUNT, "stock": _AMOUNT,
            "description": text(2000), "program_id": ID, "low_stock_threshold": _AMOUNT}, ["name", "value_cents"]),
        "RedemptionCreate": body({"reward_id": ID, "quantity": {"type": "integer", "minimum": 1, "maximum": 50}},
                                 ["reward_id", "quantity"]),
        "Redeemed": obj({"id": INT, "points": INT, "balance_after": INT}),
        "Fulfilled": obj({"id": INT, "points": INT, "balance_after": INT, "status": {"const": "fulfilled"}}),
        "Redemption": _REDEMPTION,
        "RedemptionList": obj({"redemptions": {"type": "array", "items": ref("Redemption")}}),
        "AdjustmentCreate": body({"points": {"type": "integer", "minimum": -10000, "maximum": 10000},
                                  "draws": {"type": "integer", "minimum": -50, "maximum": 50},
                                  "reason": text(500, min_length=1)}, ["reason"]),
        "ManualEntry": obj({"id": INT, "kind": {"const": "manual"}, "points": INT, "draws": INT, "value_cents": INT,
                            "reason": {"type": "string"}, "created_at": DATETIME}),
        "Prize": _DRAW,
        "PrizeList": obj({"prizes": {"type": "array", "items": ref("Prize")}}),
        "HandoverCreate": body({"reward_id": ID, "confirmer_username": text(64),
                                "confirmer_password": text(128), "confirm": {"type": "boolean"}}, ["reward_id"]),
    })
