"""Ledger lanes a bulk writer knows are new (`flask demo scale`'s enrolments): their heads are made together, and a
lane that exists already is refused rather than forked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

LANE = 424_242  # an enrolment id no world uses: the heads are made before any row is inserted


def _row(points: int) -> dict[str, object]:
    return {"patient_id": 1, "enrollment_id": LANE, "created_at": datetime(2026, 11, 20, 15, tzinfo=UTC),
            "kind": "award", "target_key": "cocaine", "points": points, "draws": 0, "value_cents": 0,
            "reason": "Negative for cocaine", "event_type": "specimen", "event_id": 1,
            "occurred_at": datetime(2026, 11, 20, 14, tzinfo=UTC), "redemption_id": None, "draw_id": None,
            "created_by_id": None}


def test_new_lanes_are_made_at_their_last_place_and_chained_from_the_start(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import ChainHead
    from cm_tracker.services.core import chain
    from cm_tracker.services.core.context import chain_key

    rows = [_row(10), _row(15)]
    chain.seal(db.session.connection(), chain.LEDGER, rows, new_lanes=True)
    first = chain.link_of(chain_key(), "", chain.LEDGER, LANE, 1, rows[0])
    assert [(r["chain_lane"], r["chain_seq"]) for r in rows] == [(LANE, 1), (LANE, 2)]
    assert rows[0]["chain_hmac"] == first
    assert rows[1]["chain_hmac"] == chain.link_of(chain_key(), first, chain.LEDGER, LANE, 2, rows[1])
    # The head holds the last place taken; its link is set by the table's trigger when the rows are inserted.
    head = db.session.execute(select(ChainHead.sequence, ChainHead.link).where(
        ChainHead.chain == chain.LEDGER, ChainHead.lane == LANE)).one()
    assert tuple(head) == (2, "")
    db.session.rollback()


def test_a_lane_that_exists_is_refused_not_forked(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import chain

    chain.seal(db.session.connection(), chain.LEDGER, [_row(10)], new_lanes=True)
    with pytest.raises(IntegrityError):
        chain.seal(db.session.connection(), chain.LEDGER, [_row(15)], new_lanes=True)
    db.session.rollback()


def test_only_ledger_lanes_can_be_new(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import chain

    with pytest.raises(ValueError, match="ledger"):
        chain.seal(db.session.connection(), chain.AUDIT, [{"action": "x"}], new_lanes=True)
