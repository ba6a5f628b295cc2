"""No lost update of a programme: ten editors sending the version they all loaded, at once, make one edit; the
other nine get 409 `stale_version` (core.versions.claim_version), on SQLite and PostgreSQL."""

from __future__ import annotations

from helpers import api_token, in_threads


def test_ten_concurrent_programme_edits_with_one_version_have_one_winner(app, client, personas):
    headers = api_token(client, "ada")
    for version in (1, 2):
        def work(i: int, v: int = version) -> tuple[int, dict]:
            response = app.test_client().patch(f"/api/v1/programs/{personas.program}", headers=headers,
                                               json={"version": v, "name": f"Vouchers {v}-{i}"})
            return response.status_code, response.get_json()

        outcomes = in_threads(app, 10, work)
        assert sorted(status for status, _ in outcomes) == [200] + [409] * 9, outcomes
        assert {body["error"]["code"] for status, body in outcomes if status == 409} == {"stale_version"}
        won = next(body for status, body in outcomes if status == 200)
        now = client.get(f"/api/v1/programs/{personas.program}", headers=headers).get_json()
        assert (now["version"], now["name"]) == (version + 1, won["name"])
