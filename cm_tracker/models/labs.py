"""What laboratories send: every body as received, what became of each result in it, and the clinic's LOINC codes.

Nothing a lab sends is lost (docs/labs.md): a body is stored before it is read, once per distinct content
(`LabBody`, append-only), and each time it arrives (`LabMessage`, with who sent it, when and how). Each accession a
message speaks of gets one `LabResult` row saying what was done with it (created, completed, corrected, unchanged,
withdrawn or held); a held row waits in the review queue until staff match it to a patient, apply it again or
dismiss it with a reason. The default LOINC map lives in code (cm_tracker.labs.codes); `LoincCode` holds the codes a
clinic adds.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, make_append_only, now_default


class LabFormat(enum.StrEnum):
    FHIR = "fhir"
    HL7V2 = "hl7v2"
    CSV = "csv"


class LabMessageStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not read yet (a crash between storing and applying leaves this)
    APPLIED = "applied"  # every result applied or unchanged
    HELD = "held"  # read; one result or more waits for review
    REFUSED = "refused"  # could not be read: nothing of it applied (error says where)


class LabAction(enum.StrEnum):
    """What one accession of a message did (docs/labs.md "Statuses and what they do", `action`)."""

    CREATED = "created"
    COMPLETED = "completed"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"
    WITHDRAWN = "withdrawn"
    HELD = "held"


class ReviewStatus(enum.StrEnum):
    WAITING = "waiting"
    MATCHED = "matched"  # applied after staff matched it to a patient or applied it again
    DISMISSED = "dismissed"


class LabBody(db.Model):
    """A body exactly as received (bytes: an HL7 message need not be UTF-8), stored once per content."""

    __tablename__ = "lab_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256, hex
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class LabMessage(db.Model):
    """One arrival of a body: who sent it, when, by which way in, and what became of it."""

    __tablename__ = "lab_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("lab_bodies.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default, index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the MLLP listener or a command
    source: Mapped[str] = mapped_column(String(200))  # "api", "mllp 10.0.0.5:51234", "file results.csv"
    format: Mapped[LabFormat] = mapped_column(enum_column(LabFormat))
    content_type: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[LabMessageStatus] = mapped_column(enum_column(LabMessageStatus))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"created": 3, "held": 1, "ignored": 2}
    error: Mapped[str] = mapped_column(Text, default="")


class LabResult(db.Model):
    """What one accession of one message did, with the lab's content as read (so a held one can be applied later)."""

    __tablename__ = "lab_results"
    __table_args__ = (
        Index("ix_lab_results_patient_accession", "patient_id", "accession"),
        Index("ix_lab_results_review", "review_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("lab_messages.id"), index=True)
    location: Mapped[str] = mapped_column(String(120))  # "line 3", "message 1, OBR 1", "entry 4 (Observation)"
    accession: Mapped[str] = mapped_column(String(64))
    record_number: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    specimen_id: Mapped[int | None] = mapped_column(ForeignKey("specimens.id"), index=True)
    action: Mapped[LabAction] = mapped_column(enum_column(LabAction))
    reason: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the lab's specimen as read (status, time, results...)
    content_digest: Mapped[str] = mapped_column(String(64))  # sha256 of content: the same content again is unchanged
    review_status: Mapped[ReviewStatus | None] = mapped_column(enum_column(ReviewStatus))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
    # The row that applying this held result wrote (after a match or a retry), so the queue can show what happened.
    resolved_by_result_id: Mapped[int | None] = mapped_column(ForeignKey("lab_results.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class LoincCode(db.Model):
    """A LOINC code the clinic added to the default map: the analyte keys its result counts for."""

    __tablename__ = "loinc_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    analytes: Mapped[list[str]] = mapped_column(JSON)  # analyte keys, usually one
    note: Mapped[str] = mapped_column(String(200), default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


make_append_only(LabBody)
