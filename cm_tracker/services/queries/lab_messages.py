"""The lab messages as received (admins and managers): every arrival, newest first, and one message's stored body
with what became of each accession in it. A fixed handful of statements per page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from cm_tracker.extensions import db
from cm_tracker.models import LabBody, LabMessage, LabResult, Patient, User
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.queries.lab_review import clamped_page

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class MessageRow:
    message: LabMessage
    sender: str  # the sending account's name, or "" (the MLLP listener, a command)
    size: int


@dataclass(frozen=True, slots=True)
class MessagePage:
    rows: list[MessageRow]
    total: int
    page: int

    @property
    def has_next(self) -> bool:
        return self.page * PER_PAGE < self.total


@dataclass(frozen=True, slots=True)
class ResultRow:
    result: LabResult
    patient: Patient | None


@dataclass(frozen=True, slots=True)
class MessageDetail:
    message: LabMessage
    sender: str
    text: str  # the body as text: UTF-8, undecodable bytes replaced (an HL7 message need not be UTF-8)
    size: int
    results: list[ResultRow]

    @property
    def patient_ids(self) -> list[int]:
        return sorted({r.patient.id for r in self.results if r.patient is not None})


def messages(page: int = 1) -> MessagePage:
    """One page of arrivals, newest first (two statements: the count, the rows with their senders and sizes)."""
    total = db.session.scalar(select(func.count(LabMessage.id))) or 0
    page = clamped_page(page, int(total), PER_PAGE)
    sender = aliased(User)
    query = (select(LabMessage, sender.display_name, LabBody.size)
             .join(LabBody, LabMessage.body_id == LabBody.id)
             .outerjoin(sender, LabMessage.sender_id == sender.id)
             .order_by(LabMessage.received_at.desc(), LabMessage.id.desc())
             .offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    rows = [MessageRow(m, name or "", size) for m, name, size in db.session.execute(query)]
    return MessagePage(rows, int(total), page)


def message_detail(message_id: int) -> MessageDetail:
    """One arrival with its body and its results in the order they were read; NotFound for an unknown id."""
    sender = aliased(User)
    found = db.session.execute(
        select(LabMessage, sender.display_name, LabBody)
        .join(LabBody, LabMessage.body_id == LabBody.id)
        .outerjoin(sender, LabMessage.sender_id == sender.id).where(LabMessage.id == message_id)).first()
    if found is None:
        raise NotFound("No such lab message.")
    message, name, body = found
    rows = db.session.execute(select(LabResult, Patient).outerjoin(Patient, LabResult.patient_id == Patient.id)
                              .where(LabResult.message_id == message.id).order_by(LabResult.id))
    return MessageDetail(message, name or "", bytes(body.body).decode("utf-8", errors="replace"), body.size,
                         [ResultRow(r, p) for r, p in rows])
