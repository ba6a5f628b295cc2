"""The Part 2 overview (/staff/part2, docs/part2.md "The staff pages"): the revocation requests that wait for staff
and the disclosures of the last 30 days, within the viewer's reach. It lists patients, so each view is audited by
one row naming every patient it showed (usecases/listings.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement

from cm_tracker.models import User
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.queries import consents as reads
from cm_tracker.services.usecases.listings import log_listed

RECENT_DAYS = 30


@dataclass(frozen=True)
class Overview:
    requests: list[reads.PendingRequest]
    disclosures: list[reads.RecentDisclosure]
    since: date


def overview(user: User, scope: ColumnElement[bool]) -> Overview:
    """`scope` is the viewer's reach as a condition on Patient (permissions.patient_scope)."""
    since = clinic_today() - timedelta(days=RECENT_DAYS - 1)
    found = Overview(reads.pending_requests(scope), reads.recent_disclosures(scope, since), since)
    shown = [r.patient.id for r in found.requests] + [d.patient.id for d in found.disclosures]
    log_listed("part2.overview", shown, user=user)
    return found
