"""A patient's Part 2 consents with their status on the clinic's date, and the accounting of disclosures (42 CFR
2.25): what the API, and later the staff pages and the portal, show. Reads only; the reads are audited by the use
cases that call these (usecases/consents.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select

from cm_tracker.extensions import db
from cm_tracker.models import (
    AuditEvent,
    AuditOutcome,
    Consent,
    ConsentRevocation,
    ConsentRevocationRequest,
    Disclosure,
    DisclosurePacket,
    Patient,
    RecipientKind,
    User,
)
from cm_tracker.services.core.consents import ConsentStatus, revocation_requests_of, revocations_of, status_on
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.timeutil import utcnow

# The accounting of disclosures covers the past three years (42 CFR 2.25(a)(1)).
ACCOUNTING_YEARS = 3
# No Part 2 record of a clinic using this product predates 1990; an earlier year is a typing error.
EARLIEST = date(1990, 1, 1)


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
    consent_signed_on: date | None = None
    # Whether the disclosure left with a printed packet (DisclosurePacket), which its page then links to.
    has_packet: bool = False
    packet: DisclosurePacket | None = None  # that packet (its period, kinds of record, language and digest)


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
    """From `start` (by default the same date three years before `today`) to `end` (by default `today`).

    The one place that decides which windows may be asked for (the API, the staff pages, the CSV and the printed
    statement all come here): each day given on or after 1990 and not after today, and `start` not after `end`;
    else ValidationFailed naming `from` or `to`."""
    fields: dict[str, str] = {}
    for name, day in (("from", start), ("to", end)):
        if day is not None and day < EARLIEST:
            fields[name] = f"Must be on or after {EARLIEST:%Y-%m-%d}."
        elif day is not None and day > today:
            fields[name] = "Must not be after today."
    window = Window(start or years_after(today, -ACCOUNTING_YEARS), end or today)
    if not fields and window.start > window.end:
        fields["to"] = "Must not be before the first day (from)."
    if fields:
        raise ValidationFailed("The accounting could not be read.", fields=fields)
    return window


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
        select(Disclosure, Consent.recipient_kind, Consent.recipient, Consent.purpose, Consent.signed_on,
               DisclosurePacket)
        .join(Consent, Consent.id == Disclosure.consent_id)
        .outerjoin(DisclosurePacket, DisclosurePacket.disclosure_id == Disclosure.id)
        .where(Disclosure.patient_id == patient_id, Disclosure.disclosed_on >= window.start,
               Disclosure.disclosed_on <= window.end)
        .order_by(Disclosure.disclosed_on.desc(), Disclosure.id.desc())).tuples().all()
    names = _names({d.recorded_by_id for d, *_ in rows})
    return [DisclosureView(d, names.get(d.recorded_by_id or 0), purpose,
                           recipient if kind == RecipientKind.TPO_CLASS else None, signed_on, packet is not None,
                           packet)
            for d, kind, recipient, purpose, signed_on, packet in rows]


def disclosure_view(disclosure: Disclosure) -> DisclosureView:
    found = disclosures_of(disclosure.patient_id, Window(disclosure.disclosed_on, disclosure.disclosed_on))
    return next(v for v in found if v.disclosure.id == disclosure.id)


@dataclass(frozen=True)
class Part2Summary:
    """The Part 2 panel of a patient's record: consents active today, revocations the patient asked for and staff
    have not recorded, and the disclosures of the accounting's three years."""

    active: int
    pending_requests: int
    disclosures: int


def part2_summary(patient_id: int, today: date) -> Part2Summary:
    """One statement: each consent with its revocation day and request, and the disclosures counted beside them
    (a patient without a consent has no disclosure, since each names one). The status is core.consents' own."""
    window = accounting_window(today)
    disclosed = (select(func.count(Disclosure.id))
                 .where(Disclosure.patient_id == patient_id, Disclosure.disclosed_on >= window.start,
                        Disclosure.disclosed_on <= window.end).scalar_subquery())
    rows = db.session.execute(
        select(Consent, ConsentRevocation.revoked_on, ConsentRevocationRequest.id, disclosed)
        .outerjoin(ConsentRevocation, ConsentRevocation.consent_id == Consent.id)
        .outerjoin(ConsentRevocationRequest, ConsentRevocationRequest.consent_id == Consent.id)
        .where(Consent.patient_id == patient_id)).tuples().all()
    active = sum(1 for c, revoked_on, _, _ in rows if status_on(c, revoked_on, today) == ConsentStatus.ACTIVE)
    pending = sum(1 for _, revoked_on, request_id, _ in rows if request_id is not None and revoked_on is None)
    return Part2Summary(active, pending, int(rows[0][3]) if rows else 0)


def _not_revoked() -> ColumnElement[bool]:
    return ~exists().where(ConsentRevocation.consent_id == ConsentRevocationRequest.consent_id)


def pending_request_count(scope: ColumnElement[bool]) -> int:
    """How many revocation requests within `scope` (a condition on Patient) wait for staff: one statement."""
    return int(db.session.scalar(
        select(func.count(ConsentRevocationRequest.id))
        .join(Patient, Patient.id == ConsentRevocationRequest.patient_id).where(scope, _not_revoked())) or 0)


@dataclass(frozen=True)
class PendingRequest:
    request: ConsentRevocationRequest
    consent: Consent
    patient: Patient


def pending_requests(scope: ColumnElement[bool], *, limit: int = 200) -> list[PendingRequest]:
    """The revocation requests within `scope` that wait for staff, the oldest first (one statement)."""
    rows = db.session.execute(
        select(ConsentRevocationRequest, Consent, Patient)
        .join(Consent, Consent.id == ConsentRevocationRequest.consent_id)
        .join(Patient, Patient.id == ConsentRevocationRequest.patient_id)
        .where(scope, _not_revoked())
        .order_by(ConsentRevocationRequest.requested_on, ConsentRevocationRequest.id).limit(limit)).tuples().all()
    return [PendingRequest(r, c, p) for r, c, p in rows]


@dataclass(frozen=True)
class RecentDisclosure:
    disclosure: Disclosure
    patient: Patient
    # The consent's class of recipients, for a disclosure under a treatment/payment/operations consent; else None.
    recipient_class: str | None


def recent_disclosures(scope: ColumnElement[bool], since: date, *, limit: int = 200) -> list[RecentDisclosure]:
    """The disclosures within `scope` made on or after `since`, the latest first (one statement)."""
    rows = db.session.execute(
        select(Disclosure, Patient, Consent.recipient_kind, Consent.recipient)
        .join(Patient, Patient.id == Disclosure.patient_id).join(Consent, Consent.id == Disclosure.consent_id)
        .where(scope, Disclosure.disclosed_on >= since)
        .order_by(Disclosure.disclosed_on.desc(), Disclosure.id.desc()).limit(limit)).tuples().all()
    return [RecentDisclosure(d, p, recipient if kind == RecipientKind.TPO_CLASS else None)
            for d, p, kind, recipient in rows]


def same_consent(patient_id: int, row: Consent) -> Consent | None:
    """A consent of the patient recorded with exactly what `row` holds (the same form sent twice), if any."""
    return db.session.scalars(
        select(Consent).where(
            Consent.patient_id == patient_id, Consent.discloser == row.discloser,
            Consent.information == row.information, Consent.recipient_kind == row.recipient_kind,
            Consent.recipient == row.recipient, Consent.purpose == row.purpose, Consent.signed_on == row.signed_on,
            Consent.expires_on.is_not_distinct_from(row.expires_on),
            Consent.expiry_event.is_not_distinct_from(row.expiry_event))
        .order_by(Consent.id).limit(1)).first()


@dataclass(frozen=True)
class PacketView:
    """A disclosure to print again: its packet (None for records sent outside cm-tracker) with the records as they
    left, and the consent it was made under with its status on the day disclosed (and its view today)."""

    disclosure: DisclosureView
    consent: ConsentView
    status_that_day: ConsentStatus
    packet: DisclosurePacket | None
    records: dict[str, Any] | None


def packet_view(patient_id: int, disclosure_id: int, today: date) -> PacketView | None:
    """The patient's disclosure of this id with its packet and consent, or None (another patient's, or unknown)."""
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None or disclosure.patient_id != patient_id:
        return None
    view = disclosure_view(disclosure)
    consent = consent_view(db.session.get(Consent, disclosure.consent_id), today)  # type: ignore[arg-type]
    revoked_on = consent.revocation.revoked_on if consent.revocation else None
    packet = view.packet
    return PacketView(view, consent, status_on(consent.consent, revoked_on, disclosure.disclosed_on), packet,
                      json.loads(packet.content) if packet else None)


# A resent form (a double click, Back and send again) is recognised by its key for this long.
KEY_HOURS = 24


def disclosure_with_key(patient_id: int, user_id: int, key: str) -> Disclosure | None:
    """The disclosure this user recorded for this patient from the form that carried `key`, if any: the key is in
    its audit row (disclosures have no column for it), among the user's few such rows of the last day."""
    rows = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.detail).where(
            AuditEvent.action == "disclosure.create", AuditEvent.patient_id == patient_id,
            AuditEvent.user_id == user_id, AuditEvent.outcome == AuditOutcome.SUCCESS,
            AuditEvent.object_type == "disclosure", AuditEvent.occurred_at >= utcnow() - timedelta(hours=KEY_HOURS))
        .order_by(AuditEvent.id.desc()).limit(200)).tuples().all()
    found = next((object_id for object_id, detail in rows if (detail or {}).get("form_key") == key), None)
    return db.session.get(Disclosure, int(found)) if found else None
