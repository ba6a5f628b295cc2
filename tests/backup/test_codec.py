"""The portable row form: the same line whichever database a value came from, and back in the form each stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy.dialects import postgresql, sqlite

from cm_tracker.backup.codec import decoder, encoder

KINDS = ["int", "str", "bool", "date", "datetime", "bytes", "json", "json"]
LINE = '[7,"Zoë",true,"2026-12-02","2026-12-02T08:30:00.000000+00:00","AAH/","{\\"b\\": 1, \\"a\\": null}",null]'


def test_sqlite_and_postgresql_values_encode_to_the_same_line() -> None:
    from_sqlite = encoder(KINDS, sqlite.dialect())(
        [7, "Zoë", 1, "2026-12-02", "2026-12-02 08:30:00.000000", b"\x00\x01\xff", '{"b": 1, "a": null}', None])
    pacific = timezone(timedelta(hours=-8))
    from_postgres = encoder(KINDS, postgresql.dialect())(
        [7, "Zoë", True, date(2026, 12, 2), datetime(2026, 12, 2, 0, 30, tzinfo=pacific), b"\x00\x01\xff",
         '{"b": 1, "a": null}', None])
    assert from_sqlite == from_postgres == LINE.encode() + b"\n"


def test_a_line_decodes_to_what_sqlite_stores() -> None:
    row = decoder(KINDS, sqlite.dialect())(json.loads(LINE))
    assert row == [7, "Zoë", 1, "2026-12-02", "2026-12-02 08:30:00.000000", b"\x00\x01\xff", '{"b": 1, "a": null}',
                   None]


def test_a_line_decodes_to_what_postgresql_copy_reads() -> None:
    row = decoder(KINDS, postgresql.dialect())(json.loads(LINE))
    assert row == [7, "Zoë", True, "2026-12-02", "2026-12-02T08:30:00.000000+00:00", b"\x00\x01\xff",
                   '{"b": 1, "a": null}', None]


def test_a_json_null_and_an_sql_null_stay_apart() -> None:
    line = encoder(["json", "json"], sqlite.dialect())(["null", None])
    assert line == b'["null",null]\n'
    assert decoder(["json", "json"], postgresql.dialect())(json.loads(line)) == ["null", None]


def test_a_time_stored_without_microseconds_gets_the_portable_form() -> None:
    line = encoder(["datetime"], sqlite.dialect())(["2026-12-02 08:30:00"])
    assert json.loads(line) == ["2026-12-02T08:30:00.000000+00:00"]
    assert datetime.fromisoformat(json.loads(line)[0]) == datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
