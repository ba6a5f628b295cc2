"""42 CFR Part 2: a patient's written consents to disclose (2.31), their revocations, and each disclosure made under
one (the accounting of disclosures, 2.25). docs/part2.md says what the product does for each section of the rule.

Retention: HIPAA documentation is kept six years, and a programme must be able to show the consent behind every
disclosure. So all three tables are append-only (the models refuse UPDATE and DELETE, the migrations add database
triggers, and the runtime role may only read and insert them) and there is no delete path anywhere in the product:
a consent is never changed or removed; it ends by its expiry or by a revocation, which is a row of its own.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, make_append_only, now_default


class RecipientKind(enum.StrEnum):
    NAMED = "named"  # one named recipient (a person or an organisation)
    # A single consent for treatment, payment and health care operations may name its recipients by class
    # (2.31(a)(4)(i), 2024 rule): "my treating providers", "my health plan".
    TPO_CLASS = "tpo_class"


class Consent(db.Model):
    """One signed consent as the patient signed it: who may disclose, what, to whom, why, until when."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_patient", "patient_id", "signed_on"),
        CheckConstraint("expires_on IS NOT NULL OR expiry_event IS NOT NULL", name="has_expiry"),
        CheckConstraint("expires_on IS NULL OR expires_on >= signed_on", name="expires_after_signature"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    discloser: Mapped[str] = mapped_column(String(200))  # the programme permitted to disclose, as written
    information: Mapped[str] = mapped_column(Text)  # what may be disclosed ("results and attendance")
    recipient_kind: Mapped[RecipientKind] = mapped_column(enum_column(RecipientKind))
    recipient: Mapped[str] = mapped_column(String(200))  # the named recipient, or the class of recipients
    purpose: Mapped[str] = mapped_column(Text)
    signed_on: Mapped[date]
    # Expiry: a date (the consent holds through that day), an event or condition, or both (whichever comes first).
    expires_on: Mapped[date | None]
    expiry_event: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class ConsentRevocation(db.Model):
    """A consent revoked from a day on (2.31(a)(6)): disclosures on or after it are refused, those before stand."""

    __tablename__ = "consent_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), unique=True)  # revoked once
    revoked_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class Disclosure(db.Model):
    """One disclosure of a patient's records under a consent: a line of the accounting of disclosures."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_patient", "patient_id", "disclosed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))  # who received it (a member of the class, for tpo_class)
    description: Mapped[str] = mapped_column(Text)  # what was disclosed
    disclosed_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class DisclosurePacket(db.Model):
    """What left the programme with a disclosure, as it left (2.32): the records chosen (the period and the kinds of
    record), kept as the packet was printed, with the notice and the consent it carried, so the programme can show
    an auditor exactly what a recipient received, however the records were corrected since."""

    __tablename__ = "disclosure_packets"

    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosures.id"), unique=True)  # one packet each
    period_start: Mapped[date]
    period_end: Mapped[date]
    sections: Mapped[str] = mapped_column(String(200))  # the kinds of record, comma-separated ("results,attendance")
    language: Mapped[str] = mapped_column(String(8))  # the language the packet was printed in ("en", "es")
    content: Mapped[str] = mapped_column(Text)  # the records as disclosed, JSON
    content_digest: Mapped[str] = mapped_column(String(64))  # sha256 of `content`, shown on the printed packet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class ConsentRevocationRequest(db.Model):
    """A patient's request, from the portal, to revoke one of their consents. Staff record the revocation itself
    (a ConsentRevocation); until then the request stands and no disclosure under that consent is accepted, since a
    patient may revoke at any time and the programme should not act on a consent the patient has asked to end."""

    __tablename__ = "consent_revocation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), unique=True)  # asked once
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    requested_on: Mapped[date]  # the clinic's date of the request
    note: Mapped[str] = mapped_column(Text, default="")  # the patient's own words, if any
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


for _model in (Consent, ConsentRevocation, Disclosure, DisclosurePacket, ConsentRevocationRequest):
    make_append_only(_model)
