"""A desk entry's new specimen written by plain INSERTs and put in the session as the rows it stored.

The same rows as the ORM's flush of a new Specimen and its SpecimenResults writes (usecases.specimens.add_specimens),
without the flush: sorting the unit of work and writing two mappers' objects cost more than both INSERTs
(docs/performance.md, "Desk entry"). The objects are then in the session as if loaded, so the entry's answer and its
re-evaluation read them without a statement, and a later read of the specimen finds them in the identity map.

Only for a write no SAVEPOINT can roll back under the objects (record_specimen commits or rolls back its whole
transaction): an object put in the session this way is not forgotten by a rollback, as a flushed new one is. A lab's
specimens, written in SAVEPOINTs, are flushed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from cm_tracker.extensions import db
from cm_tracker.models import AnalyteResult, Specimen, SpecimenResult


def insert_specimen(columns: Mapping[str, Any], results: Mapping[str, Any]) -> Specimen:
    """A new specimen of these column values (every one but the id: nothing is read back) and its results (analyte
    -> result), in the caller's transaction."""
    db.session.flush()  # what is pending goes first, as in the flush that wrote the specimen before
    connection = db.session.connection()
    specimen_id = connection.execute(_INSERT_SPECIMEN, dict(columns)).scalar_one()
    rows = [{"specimen_id": specimen_id, "analyte": analyte, "result": AnalyteResult(result)}
            for analyte, result in results.items()]
    result_ids = connection.execute(_INSERT_RESULTS, rows).scalars().all() if rows else []
    specimen = _as_loaded(Specimen(id=specimen_id, **columns))
    loaded = [_as_loaded(SpecimenResult(id=result_id, **row)) for result_id, row in zip(result_ids, rows, strict=True)]
    # Both sides of the relationship as loaded, without the events (and backrefs) of assigning them.
    set_committed_value(specimen, "results", loaded)
    for result in loaded:
        set_committed_value(result, "specimen", specimen)
    db.session.add(specimen)  # its results with it (the relationship's cascade)
    return specimen


def _as_loaded(row: Any) -> Any:
    """A new row's object as if loaded (its attributes its stored values, nothing to flush). An object the session
    holds under the id the database just gave the row is of a row rolled back (SQLite gives the id again): it goes,
    as the ORM's flush would have replaced it."""
    stale = db.session.identity_map.get((type(row), (row.id,), None))
    if stale is not None:
        db.session.expunge(stale)
    make_transient_to_detached(row)
    return row


# Built once; the results' RETURNING in the rows' order, so that each id goes with its row.
_INSERT_SPECIMEN = insert(Specimen.__table__).returning(Specimen.__table__.c.id)
_INSERT_RESULTS = insert(SpecimenResult.__table__).returning(SpecimenResult.__table__.c.id,
                                                             sort_by_parameter_order=True)
