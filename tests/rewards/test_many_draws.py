"""Many draws at once (issue 11, item 8): the audit row of a draw names every draw, however many, without overflowing
its 64-character object id."""

from __future__ import annotations

from api_support import audit_rows
from helpers import api_token


def test_twenty_draws_at_once_are_one_audit_row_naming_every_draw(app, shop, give):
    give(shop.draw_patient, draws=20)
    client = app.test_client()
    response = client.post(f"/api/v1/patients/{shop.draw_patient}/draws", json={"count": 20},
                           headers=api_token(client, "cora"))
    assert response.status_code == 201, response.get_json()
    ids = [d["id"] for d in response.get_json()["draws"]]
    [row] = audit_rows(app, "draw.create", patient_id=shop.draw_patient)
    assert (row.object_type, row.object_id) == ("draw", str(ids[0]))
    assert row.detail["draw_ids"] == ids
    assert len(row.detail["tiers"]) == 20
