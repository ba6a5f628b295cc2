"""Shared bodies and small helpers for the API tests."""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from helpers import api_token

ESCALATING = {"kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}

PROGRAM: dict[str, Any] = {
    "name": "Cocaine vouchers 12 weeks",
    "point_value_cents": 25,
    "weeks": 12,
    "visit_days": ["mon", "wed", "fri"],
    "cap_cents": 99750,
    "cap_window": "episode",
    "targets": [{"key": "cocaine", "kind": "abstinence", "analytes": ["cocaine"], "schedule": ESCALATING}],
}


def program_body(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(PROGRAM)
    body.update(changes)
    return body


def patient_body(program_id: int, **changes: Any) -> dict[str, Any]:
    body = {"display_name": "Nora New", "record_number": "MRN-100", "program_id": program_id,
            "start_date": "2026-11-02"}
    body.update(changes)
    return body


def headers_for(client: FlaskClient, username: str) -> dict[str, str]:
    return api_token(client, username)


def audit_rows(app: Any, action: str, **where: Any) -> list[Any]:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(db.session.scalars(query))


def fields_of(response: Any) -> dict[str, str]:
    body = response.get_json()
    assert body["error"]["code"] == "validation_failed", body
    return body["error"]["fields"]
