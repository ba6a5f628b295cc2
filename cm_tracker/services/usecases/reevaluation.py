"""Re-evaluating an enrollment from a use case: the differences posted and the report cache rebuilt from the same
evaluation, in the caller's transaction.

Every use case that can change what a patient earned (a new result, a late entry, a correction, an excuse, an
activity's verdict) re-evaluates through here, never through core.evaluation.reevaluate alone, so the reports never
lag the ledger. The cache is written from this tier, above both the evaluation and the report queries, so neither
imports the other (tests/test_architecture.py).
"""

from __future__ import annotations

from cm_tracker.models import Enrollment, LedgerEntry, User
from cm_tracker.services.core.evaluation import reevaluate
from cm_tracker.services.queries.reports.summaries import refresh_outcomes


def reevaluate_and_refresh(enrollment: Enrollment, *, because: str, actor: User | None) -> list[LedgerEntry]:
    """Post what the whole history now earns differently and rewrite the enrollment's cached outcomes; the caller
    holds the enrollment lock and commits."""
    done = reevaluate(enrollment, because=because, actor=actor)
    refresh_outcomes(enrollment, done.evaluation)
    return done.posted
