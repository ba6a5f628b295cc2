"""One balance (core.balances): the API, the staff patient page, the rewards desk and the portal show the same
points, value, draws and cap use for one patient, even when the points were earned in two programmes of different
point values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from helpers import api_token, sign_in


@pytest.fixture
def two_programmes(app, personas) -> None:
    """Pat earned 40 points at 10 cents in an ended first programme, then 30 points at 25 cents, spent 10 of them and
    holds 2 draws in the current one (personas' voucher programme)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Enrollment, EnrollmentStatus, EntryKind, LedgerEntry, Program

    with app.app_context():
        earlier = Program(name="Earlier vouchers", point_value_cents=10, weeks=12, visit_days=["mon"],
                          cap_cents=50_000, cap_window=CapWindow.EPISODE)
        db.session.add(earlier)
        db.session.flush()
        ended = Enrollment(patient_id=personas.patient, program_id=earlier.id, start_on=date(2026, 6, 1),
                           end_on=date(2026, 8, 31), status=EnrollmentStatus.COMPLETED, visit_days=["mon"])
        db.session.add(ended)
        db.session.flush()
        current = db.session.scalar(db.select(Enrollment.id).where(Enrollment.patient_id == personas.patient,
                                                                    Enrollment.program_id == personas.program))
        at = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)
        for enrollment, kind, points, draws, cents in ((ended.id, EntryKind.AWARD, 40, 0, 400),
                                                       (current, EntryKind.AWARD, 30, 2, 750),
                                                       (current, EntryKind.REDEMPTION, -10, 0, -250)):
            db.session.add(LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment, kind=kind, points=points,
                                       draws=draws, value_cents=cents, reason="Test entry", occurred_at=at))
        db.session.commit()


def _worth(html: str) -> str:
    found = re.search(r"worth\s*(?:<strong>)?\s*(-?\$[\d,]+\.\d\d)", html)
    assert found, html[:2000]
    return found.group(1)


def test_the_api_the_staff_pages_and_the_portal_show_one_balance(client, app, personas, two_programmes):
    headers = api_token(client, "cora")
    api = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=headers).get_json()
    assert (api["points"], api["value_cents"], api["draws"], api["earned_points"], api["redeemed_points"]) == \
        (60, 400 + 20 * 25, 2, 70, 10)
    assert api["cap"] == {"cap_cents": 99750, "used_cents": 750, "remaining_cents": 99000, "window": "episode"}
    assert client.get("/api/v1/me/balance", headers=api_token(client, "pat")).get_json() == api

    sign_in(client, "cora")
    record = client.get(f"/staff/patients/{personas.patient}").get_data(as_text=True)
    desk = client.get(f"/staff/patients/{personas.patient}/rewards").get_data(as_text=True)
    client.post("/sign-out")
    sign_in(client, "pat")
    portal = client.get("/portal/").get_data(as_text=True)

    for page in (record, desk, portal):
        assert _worth(page) == "$9.00"
        assert re.search(r">\s*60\s*<span", page)
    assert "So far $7.50 has counted toward it." in portal
