"""Whether a Part 2 consent holds on a day and covers a recipient (42 CFR 2.31, docs/part2.md): the one owner of the
rule that both the consent list (its status today) and recording a disclosure (its status that day) ask.

A consent holds from the day it was signed through its expiry date (inclusive), until the day it was revoked: on
the revocation day itself it no longer holds. An expiry by event ("at the end of my treatment") cannot be checked by
the product; staff record the event's coming as a revocation with a note.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Consent, ConsentRevocation, ConsentRevocationRequest, RecipientKind


class ConsentStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_YET_SIGNED = "not_yet_signed"  # only ever asked of a day before the signature (a disclosure's date)


def status_on(consent: Consent, revoked_on: date | None, day: date) -> ConsentStatus:
    """The consent's status on `day`; a revocation wins over an expiry, since it is what the patient asked for."""
    if revoked_on is not None and revoked_on <= day:
        return ConsentStatus.REVOKED
    if consent.expires_on is not None and day > consent.expires_on:
        return ConsentStatus.EXPIRED
    if day < consent.signed_on:
        return ConsentStatus.NOT_YET_SIGNED
    return ConsentStatus.ACTIVE


def same_recipient(a: str, b: str) -> bool:
    """One recipient written two ways: case and spacing do not matter ("Dr  Ana Ruiz " is "dr ana ruiz")."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def names_recipient(consent: Consent, recipient: str) -> bool:
    """A named consent covers its one recipient. A treatment/payment/operations consent names a class ("my treating
    providers"), which the product cannot test a name against: staff who record the disclosure attest that the
    recipient belongs to it, and the accounting shows the class beside the recipient."""
    if consent.recipient_kind == RecipientKind.TPO_CLASS:
        return bool(recipient.strip())
    return same_recipient(consent.recipient, recipient)


def why_not_covered(consent: Consent, revoked_on: date | None, recipient: str, day: date,
                    revocation_requested_on: date | None = None) -> str | None:
    """Why the consent does not permit disclosing to `recipient` on `day`, or None when it does.

    A revocation the patient asked for in the portal and staff have not recorded yet stops disclosures from the day
    of the request as a revocation would: a patient may revoke at any time, and the programme must not act on a
    consent its patient has asked to end just because nobody has processed the request."""
    status = status_on(consent, revoked_on, day)
    if status == ConsentStatus.REVOKED:
        return f"The consent was revoked on {revoked_on:%Y-%m-%d}."
    if revocation_requested_on is not None and revocation_requested_on <= day:
        return (f"The patient asked on {revocation_requested_on:%Y-%m-%d} to revoke this consent; record the "
                "revocation (or ask the patient) before disclosing.")
    if status == ConsentStatus.EXPIRED:
        return f"The consent expired after {consent.expires_on:%Y-%m-%d}."
    if status == ConsentStatus.NOT_YET_SIGNED:
        return f"The consent was signed on {consent.signed_on:%Y-%m-%d}, after that day."
    if not names_recipient(consent, recipient):
        return f"The consent names {consent.recipient!r}, not this recipient."
    return None


def revocations_of(consent_ids: Iterable[int]) -> dict[int, ConsentRevocation]:
    """The revocation of each consent that has one, by consent id, in one query."""
    ids = list(consent_ids)
    if not ids:
        return {}
    found = db.session.scalars(select(ConsentRevocation).where(ConsentRevocation.consent_id.in_(ids)))
    return {r.consent_id: r for r in found}


def revocation_requests_of(consent_ids: Iterable[int]) -> dict[int, ConsentRevocationRequest]:
    """The patient's request to revoke each consent that has one, by consent id, in one query."""
    ids = list(consent_ids)
    if not ids:
        return {}
    found = db.session.scalars(select(ConsentRevocationRequest).where(ConsentRevocationRequest.consent_id.in_(ids)))
    return {r.consent_id: r for r in found}
