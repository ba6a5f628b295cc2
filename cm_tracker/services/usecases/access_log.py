"""Audit rows that have no use case of their own to join: reads of a record and refused attempts.

Every other audit row is added by core.audit.record to the transaction of the change it describes.

Inside a request (the app's request hooks call `begin_request`, `commit_request` and `end_request`), a read's row
joins the request's own transaction and is committed once, by `commit_request`, when the view's work is done and
before the first byte of the answer leaves; if that commit fails the read is not answered. One commit per read
instead of one per row plus one for the request. A denial is still committed at once: the refusal that follows
rolls back whatever the request left pending, and a denied attempt must be on record even so. Outside a request
(a command, a test's app context) every row is committed at once, as `log_now` always did.

The waiting rows are kept out of the session (in its `info`) until that commit: no rollback in between (a refused
form, a preview that rolls back, an error handler) can drop them, and on SQLite the request does not hold the write
lock while it reads and renders. Whatever else the request left uncommitted is not ours to write: it is rolled back
first, as the end of the request would have discarded it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql import Executable

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent
from cm_tracker.services.core import audit, chain
from cm_tracker.timeutil import utcnow

# Keys of db.session.info (the session lives as long as the request's app context).
DEFERRED = "cm_tracker.access_log.deferred"  # reads wait for commit_request
PENDING = "cm_tracker.access_log.pending"  # the read rows not committed yet
LATE = "cm_tracker.access_log.late"  # bookkeeping statements run with that commit (a session's last use)
FOREIGN = "cm_tracker.access_log.foreign"  # something else was written in the current transaction


def log_now(action: str, **kwargs: Any) -> None:
    """Record a read or a denial: a read inside a request is committed with the request (`commit_request`),
    anything else at once."""
    info = db.session.info
    if info.get(DEFERRED) and kwargs.get("outcome", audit.SUCCESS) == audit.SUCCESS:
        # The row's values, not an object in the session: nearly every request writes one, and building, adding and
        # expunging an ORM object cost more than the INSERT. The moment is the read's, not the commit's.
        row = audit.values(action, **kwargs) | {"occurred_at": utcnow()}
        info.setdefault(PENDING, []).append({name: row[name] for name in _COLUMNS if row.get(name) is not None})
        return
    audit.record(action, **kwargs)
    db.session.commit()


def write_at_end(statement: Executable) -> None:
    """Run a bookkeeping write (a token's or a session's last use) with the request's commit, or at once outside a
    request: so that the request is not a second transaction, and nothing it loaded expires under it."""
    if db.session.info.get(DEFERRED):
        db.session.info.setdefault(LATE, []).append(statement)
        return
    db.session.execute(statement)
    db.session.commit()


def begin_request() -> None:
    """From now on, reads in this request wait for `commit_request`."""
    info = db.session.info
    for key in (PENDING, LATE):
        info.pop(key, None)
    info[DEFERRED] = True


def commit_request() -> None:
    """Commit the request's read rows and bookkeeping in one transaction; raises (rolled back) if it cannot.

    Later rows of the request (none are expected once the answer is built) are committed at once again."""
    session = db.session()
    info = session.info
    info.pop(DEFERRED, None)
    events: list[dict[str, Any]] = info.pop(PENDING, [])
    late: list[Executable] = info.pop(LATE, [])
    if not events and not late:
        return
    try:
        if info.get(FOREIGN) or session.new or session.dirty or session.deleted:
            session.rollback()
        # Plain INSERTs on the connection, not the ORM: a read's row is written on nearly every request, and
        # nothing reads it afterwards. One statement a row, its chain link included (core/chain.py).
        connection = session.connection()
        chain.insert_audit(connection, events)
        for statement in late:
            session.execute(statement)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise


_COLUMNS = tuple(c.key for c in AuditEvent.__table__.columns if c.key != "id")


def end_request() -> None:
    """Forget the request's state (the session may outlive the request, in a test's app context)."""
    info = db.session.info  # looked up once: each step through the scoped session costs as much as the pop
    for key in (DEFERRED, PENDING, LATE):
        info.pop(key, None)


def _flushed(session: Session, _context: Any) -> None:
    """Our rows are never in the session before commit_request: anything flushed earlier is someone else's."""
    session.info[FOREIGN] = True


def _executing(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE/INSERT/DELETE statement is a write of someone else's
        state.session.info[FOREIGN] = True


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(FOREIGN, None)


for _name, _listener in (("after_flush", _flushed), ("do_orm_execute", _executing),
                         ("after_transaction_end", _ended)):
    if not event.contains(db.session, _name, _listener):
        event.listen(db.session, _name, _listener)
