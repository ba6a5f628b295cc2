"""Committing a use case's transaction."""

from __future__ import annotations

from cm_tracker.extensions import db


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds, for a use case that answers with the rows it just wrote.

    A commit normally expires every loaded object, so building the response would read each of them again (the
    specimen, every ledger entry it posted, the patient...). Everything a write use case returns it wrote itself
    inside the enrollment's lock (or read after claiming it), so the values in memory are the ones committed."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
