"""The bytes a row's link covers never change: every link already stored was made from them, and `flask audit
verify` makes them again. The faster forms in core.chain (one JSON encoder, times by %-formatting) are checked here
against the forms the links were first made with (json.dumps, strftime), value by value."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

from cm_tracker.models import EntryKind
from cm_tracker.services.core import chain

REFERENCE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _reference_plain(value: object) -> object:
    """A value as the stored links were made from it: strftime for a time (the chain's migration and core.chain
    before its faster forms), an enum by its value (the migration read it from the database as that string)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime(REFERENCE_TIME)
    if isinstance(value, EntryKind):
        return value.value
    return value


def test_a_time_is_written_as_strftime_wrote_it_for_every_year_and_zone() -> None:
    rng = random.Random(2026)
    moments = [datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
               datetime(1000, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
               datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-7))),  # not UTC: converted first
               datetime(2026, 3, 8, 9, 5, 7)]  # naive: read as UTC
    moments += [datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9),
                                                              microseconds=rng.randrange(10**6))
                for _ in range(2_000)]
    for moment in moments:
        assert chain._plain(moment) == _reference_plain(moment), moment


def test_a_ledger_rows_content_is_what_json_dumps_made() -> None:
    row = {"patient_id": 12, "enrollment_id": 40, "created_at": datetime(2026, 3, 4, 15, 0, 1, 123_456, tzinfo=UTC),
           "kind": EntryKind.AWARD, "target_key": "stimulants", "points": 15, "draws": 0, "value_cents": 375,
           "reason": "Negative for cocaine \u2014 3rd in a row: 20 points", "event_type": "specimen", "event_id": 9,
           "occurred_at": datetime(2026, 3, 4, 15, tzinfo=UTC), "redemption_id": None, "draw_id": None,
           "created_by_id": 3}
    expected = json.dumps([_reference_plain(row[name]) for name in chain.CHAINED[chain.LEDGER]],
                          separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    assert chain.content(chain.LEDGER, row) == expected
    # The dash is written as an escape (ensure_ascii), as every stored link has it.
    assert "\\u2014" in expected and "2026-03-04T15:00:01.123456Z" in expected
