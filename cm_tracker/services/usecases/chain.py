"""Verifying the tamper-evident chain (`flask audit verify`), and keeping a record of each run: a row for the admin's
audit page and a chained audit row "audit.verify" with the outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cm_tracker.extensions import db
from cm_tracker.models import ChainVerification
from cm_tracker.services.core import audit
from cm_tracker.services.core.chain import AUDIT, LEDGER
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.queries import chain_check
from cm_tracker.services.queries.chain_check import ChainReport

CHAINS = (AUDIT, LEDGER)


def verify(*, from_id: int | None = None, since: date | None = None,
           progress: Callable[[str, int], None] = lambda table, rows: None) -> ChainReport:
    """Check the whole chain, or the rows from an id or a clinic day on, and record the outcome."""
    if since is not None:
        from_ids: dict[str, int] | None = chain_check.first_ids_since(start_of_day(since))
        scope = f"rows since {since.isoformat()}"
    elif from_id is not None:
        from_ids, scope = {table: from_id for table in CHAINS}, f"rows from id {from_id}"
    else:
        from_ids, scope = None, "whole chain"
    report = chain_check.check_chain(from_ids, progress)
    first = "; ".join(str(b) for b in report.first_breaks) or None
    db.session.add(ChainVerification(scope=scope, audit_rows=report.audit.rows, ledger_rows=report.ledger.rows,
                                     is_intact=report.is_intact, first_break=first))
    audit.record("audit.verify", outcome=audit.SUCCESS if report.is_intact else audit.FAILURE,
                 object_type="chain", detail={"scope": scope, "audit_rows": report.audit.rows,
                                              "ledger_rows": report.ledger.rows, "first_break": first})
    db.session.commit()
    return report
