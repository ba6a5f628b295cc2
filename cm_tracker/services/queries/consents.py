"""A patient's Part 2 consents with their status on the clinic's date, and the accounting of disclosures (42 CFR
2.25): what the API, and later the staff pages and the portal, show. Reads only; the reads are audited by the use
cases that call these (usecases/consents.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Consent, ConsentRevocation, ConsentRevocationRequest, Disclosure, RecipientKind, User
from cm_tracker.services.core.consents import ConsentStatus, revocation_requests_of, revocations_of, status_on

# The accounting of disclosures covers the past three years (42 CFR 2.25(a)(1)).
ACCOUNTING_YEARS = 3


@dataclass(frozen=True)
class ConsentView:
    consent: Consent
    status: ConsentStatus
    revocation: ConsentRevocation | None
    recorded_by: str | None
    revoked_by: str | None
    # The patient's request (from the portal) to revoke it, while staff have not recorded the revocation; else None.
    revocation_request: ConsentRevocationRequest | None = None


@dataclass(frozen=True)
class DisclosureView:
    disclosure: Disclosure
    recorded_by: str | None
    purpose: str
    # The consent's class of recipients, for a disclosure under a treatment/payment/operations consent; else None.
    recipient_class: str | None


@dataclass(frozen=True)
class Window:
    """The days an accounting covers, both included."""

    start: date
    end: date


def years_after(day: date, years: int) -> date:
    """The same date `years` later, or earlier for a negative number (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def accounting_window(today: date, start: date | None = None, end: date | None = None) -> Window:
    """From `start` (by default the same date three years before `today`) to `end` (by default `today`)."""
    return Window(start or years_after(today, -ACCOUNTING_YEARS), end or today)


def _names(user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def consents_of(patient_id: int, today: date) -> list[ConsentView]:
    """Every consent of the patient, the latest signed first, with its status on `today`."""
    consents = list(db.session.scalars(select(Consent).where(Consent.patient_id == patient_id)
                                       .order_by(Consent.signed_on.desc(), Consent.id.desc())))
    return views_of(consents, today)


def views_of(consents: list[Consent], today: date) -> list[ConsentView]:
    revocations = revocations_of(c.id for c in consents)
    requests = revocation_requests_of(c.id for c in consents if c.id not in revocations)
    names = _names({c.recorded_by_id for c in consents} | {r.revoked_by_id for r in revocations.values()})
    views = []
    for c in consents:
        revocation = revocations.get(c.id)
        status = status_on(c, revocation.revoked_on if revocation else None, today)
        revoked_by = names.get(revocation.revoked_by_id or 0) if revocation else None
        views.append(ConsentView(c, status, revocation, names.get(c.recorded_by_id or 0), revoked_by,
                                 requests.get(c.id)))
    return views


def consent_view(consent: Consent, today: date) -> ConsentView:
    return views_of([consent], today)[0]


def consent_patient(consent_id: int) -> int:
    """The id of the consent's patient, or 0 (no patient): an unknown id is answered as one out of reach."""
    return int(db.session.scalar(select(Consent.patient_id).where(Consent.id == consent_id)) or 0)


def get_consent(consent_id: int) -> Consent | None:
    return db.session.get(Consent, consent_id)


def disclosures_of(patient_id: int, window: Window) -> list[DisclosureView]:
    """The patient's disclosures within the window, the latest first (by the day disclosed, then as recorded)."""
    rows = db.session.execute(
        select(Disclosure, Consent.recipient_kind, Consent.recipient, Consent.purpose)
        .join(Consent, Consent.id == Disclosure.consent_id)
        .where(Disclosure.patient_id == patient_id, Disclosure.disclosed_on >= window.start,
               Disclosure.disclosed_on <= window.end)
        .order_by(Disclosure.disclosed_on.desc(), Disclosure.id.desc())).tuples().all()
    names = _names({d.recorded_by_id for d, *_ in rows})
    return [DisclosureView(d, names.get(d.recorded_by_id or 0), purpose,
                           recipient if kind == RecipientKind.TPO_CLASS else None)
            for d, kind, recipient, purpose in rows]


def disclosure_view(disclosure: Disclosure) -> DisclosureView:
    found = disclosures_of(disclosure.patient_id, Window(disclosure.disclosed_on, disclosure.disclosed_on))
    return next(v for v in found if v.disclosure.id == disclosure.id)
