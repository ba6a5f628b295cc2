"""Accounts (admins only): create, list, disable and enable."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.schemas import json_object, user_request
from cm_tracker.models import User
from cm_tracker.permissions import can_manage_users
from cm_tracker.services.core import second_factor
from cm_tracker.services.queries import directory
from cm_tracker.services.usecases import accounts


def user_to_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "username": user.username, "role": user.role.value, "display_name": user.display_name,
        "patient_id": user.patient_id, "is_disabled": user.is_disabled,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
        "mfa": second_factor.state(user).value, "mfa_required": user.mfa_required,
    }


@bp.post("/users")
@allow(can_manage_users)
def create_user() -> tuple[Response, int]:
    values = user_request(json_object())
    user = accounts.create_user(**values, actor=current_api_user())
    return jsonify(user_to_dict(user)), 201


@bp.get("/users")
@allow(can_manage_users)
def list_users() -> Response:
    return jsonify({"users": [user_to_dict(u) for u in directory.all_users()]})


@bp.post(f"/users/<{ID}:user_id>/disable")
@allow(can_manage_users)
def disable_user(user_id: int) -> Response:
    """Disabling ends every session and token of the account at once."""
    user = directory.get_user(user_id)
    accounts.set_disabled(user, True, actor=current_api_user())
    return jsonify(user_to_dict(user))


@bp.post(f"/users/<{ID}:user_id>/enable")
@allow(can_manage_users)
def enable_user(user_id: int) -> Response:
    user = directory.get_user(user_id)
    accounts.set_disabled(user, False, actor=current_api_user())
    return jsonify(user_to_dict(user))
