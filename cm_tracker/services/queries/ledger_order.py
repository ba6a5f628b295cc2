"""The order of the newest-first ledger listings: by a time, newest first, then by id.

One evaluation posts several entries in the same instant, and imported or demo history may be stamped out of the
order it was written in; the id, the order the rows were written in, settles every tie, so a list or a page of it
never shuffles lines that share a time.

- Staff listings (a patient's record, the rewards desk, the managers' review of manual adjustments) are the ledger as
  posted: by `created_at`.
- The portal's history reads as a diary: by the day each line says it happened (`portal_history.Line.happened_at`,
  written here in SQL): a correction when it was made, anything else when it occurred.
"""

from __future__ import annotations

from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from cm_tracker.models import EntryKind, LedgerEntry

HAPPENED_AT: ColumnElement[object] = case(
    (LedgerEntry.kind == EntryKind.ADJUSTMENT, LedgerEntry.created_at),
    else_=func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at))


def posted_newest_first() -> tuple[UnaryExpression[object], ...]:
    return LedgerEntry.created_at.desc(), LedgerEntry.id.desc()


def happened_newest_first() -> tuple[UnaryExpression[object], ...]:
    return HAPPENED_AT.desc(), LedgerEntry.id.desc()
