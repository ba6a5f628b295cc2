"""Claiming the version of an editable record: the one owner of "a stale edit is refused" (docs/security.md,
Integrity).

An editor sends the version it loaded. Comparing it with the row in Python and then writing loses updates: ten
desks that loaded version 3 all read 3, all pass the comparison and all write. The claim is one conditional
statement instead, `UPDATE ... SET version = :v + 1 WHERE id = :id AND version = :v`. It is a write, so it takes the
row lock on PostgreSQL and the database's write lock on SQLite until commit (SQLAlchemy emits nothing for
`with_for_update` there); on PostgreSQL a second claim waits for the first to commit and then finds the version
moved on, so it changes no row. Of any number of editors who send one version exactly one claims it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, bindparam, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from cm_tracker.extensions import db
from cm_tracker.services.core.errors import Conflict
from cm_tracker.validation import MAX_ROW_ID, is_row_id


def try_claim(model: Any, row_id: int, version: int) -> bool:
    """Move row `row_id` of `model` from `version` to the next; False (nothing changed) when it is not at `version`."""
    # An INTEGER column holds no other, nor the next of the largest: stale, rather than an overflow in the driver.
    if not is_row_id(version) or version >= MAX_ROW_ID:
        return False
    db.session.flush()  # as the ORM's UPDATE did before it ran (its autoflush): the claim writes after them
    done = db.session.execute(_claim_of(model), {"row_id": row_id, "claimed": version, "next_version": version + 1})
    return bool(done.rowcount)  # type: ignore[attr-defined]


_CLAIMS: dict[Any, Update] = {}


def _claim_of(model: Any) -> Update:
    """The claim of one table, built once per process (every desk entry claims its enrolment): a statement on the
    table rather than the ORM entity, so that executing it skips the ORM's bulk-update machinery, which has
    nothing to synchronise here (the caller sets the loaded row's version itself, or reads it again)."""
    if model not in _CLAIMS:
        table = model.__table__
        _CLAIMS[model] = update(table).where(
            table.c.id == bindparam("row_id"), table.c.version == bindparam("claimed")
        ).values(version=bindparam("next_version"))
    return _CLAIMS[model]


def claim_version(row: Any, version: int, *, what: str) -> None:
    """Claim `version` of a loaded row (a patient, a programme, a specimen...) or refuse the edit as stale.

    On success the row's version in memory is the claimed one + 1 (written, not just loaded: nothing is flushed for
    it), and the caller holds the row's lock until it commits; a caller that reads the row's other columns to
    compute its change reads them again now (`db.session.refresh`), under the lock. On refusal everything the
    transaction held is rolled back, releasing the locks taken so far, and a 409 `stale_version` names the version
    the row is at now."""
    model, row_id = type(row), inspect(row).identity[0]
    if try_claim(model, row_id, version):
        set_committed_value(row, "version", version + 1)
        return
    db.session.rollback()
    now = db.session.scalar(select(model.version).where(model.id == row_id))
    raise Conflict(f"This {what} changed since you loaded it (now version {now}); reload and try again.",
                   code="stale_version")
