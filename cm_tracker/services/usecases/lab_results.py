"""Receiving lab results (docs/labs.md; docs/api.md POST /lab-results): a body in any of the three formats, applied to
patients' specimens in one transaction, with nothing the lab sent ever lost.

The body is stored and committed before it is read (`LabBody` once per content, `LabMessage` per arrival), so a
crash or an unreadable body still leaves it on file. Then everything it says is applied in one transaction: a body
that cannot be read applies nothing (the message is marked refused with the reader's error), and each accession's
result is created, completed, corrected, withdrawn, unchanged or held for staff (usecases/lab_plan.py decides,
usecases/lab_apply.py writes). The same body again changes nothing.

A lab's file may hold tens of thousands of results, so the body is read as a stream, a few hundred accessions at a
time (labs/grouping.in_chunks), each chunk planned, written and flushed, and its rows then dropped from the session:
the memory an import takes does not grow with the file, and the transaction is still one.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.labs.csvfile import read_csv
from cm_tracker.labs.fhir import FhirBody
from cm_tracker.labs.grouping import LabSpecimen, in_chunks
from cm_tracker.labs.hl7v2 import read_message, split_messages
from cm_tracker.labs.observations import LabObservation, LabParseError, RowProblem
from cm_tracker.models import Enrollment, LabAction, LabBody, LabFormat, LabMessage, LabMessageStatus, Patient, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.core.lab_map import codes_in_force
from cm_tracker.services.core.ledger import lock_enrollments
from cm_tracker.services.usecases.lab_apply import LabResultOutcome, apply_plans
from cm_tracker.services.usecases.lab_content import storable
from cm_tracker.services.usecases.lab_plan import Plan, chunked_rows, plan_all, plan_of, problem_plan
from cm_tracker.services.usecases.transactions import commit_keeping_loaded

__all__ = ["LabImport", "LabResultOutcome", "format_of", "receive"]

_BY_TYPE = {
    "application/fhir+json": LabFormat.FHIR, "application/json": LabFormat.FHIR,
    "application/hl7-v2": LabFormat.HL7V2, "x-application/hl7-v2+er7": LabFormat.HL7V2,
    "application/hl7-v2+er7": LabFormat.HL7V2, "text/csv": LabFormat.CSV,
}
_BY_EXTENSION = {".json": LabFormat.FHIR, ".hl7": LabFormat.HL7V2, ".txt": LabFormat.HL7V2, ".csv": LabFormat.CSV}


@dataclass
class LabImport:
    message_id: int
    results: list[LabResultOutcome]
    held: int
    ignored: int  # FHIR resources other than Observation, Patient and Specimen


def format_of(content_type: str | None, body: bytes, filename: str | None = None) -> LabFormat:
    """The format a body is in, by its Content-Type (text/plain only when it starts with MSH), else for a file by
    its extension, else by its first bytes; LabParseError("Content-Type", ...) when none says."""
    media = (content_type or "").split(";")[0].strip().lower()
    start = body.lstrip(codecs.BOM_UTF8 + b" \t\r\n\x0b")[:4]
    if media in _BY_TYPE:
        return _BY_TYPE[media]
    if media == "text/plain" and start.startswith(b"MSH"):
        return LabFormat.HL7V2
    if filename is not None:
        found = _BY_EXTENSION.get(PurePath(filename).suffix.lower()) or _sniffed(start)
        if found is not None:
            return found
    raise LabParseError("Content-Type", "send application/fhir+json, application/hl7-v2 or text/csv"
                        + (f", not {media}" if media else ""))


def _sniffed(start: bytes) -> LabFormat | None:
    if start.startswith(b"MSH"):
        return LabFormat.HL7V2
    if start[:1] in (b"{", b"["):
        return LabFormat.FHIR
    return LabFormat.CSV if start[:1].isalpha() else None


# Accessions planned and written at a time: the reads per chunk stay few (they are in bulk), the rows held few.
SPECIMENS_PER_CHUNK = 200


def receive(body: bytes, fmt: LabFormat, *, sender: User | None, source: str, content_type: str = "") -> LabImport:
    """Store the body (committed), then apply all it says in one transaction; a body that cannot be read is marked
    refused (committed) and its LabParseError raised, naming the stored message (`message_id`), with nothing of it
    applied."""
    message = _store(body, fmt, sender=sender, source=source, content_type=content_type)
    message_id = message.id
    try:
        outcomes, ignored = _apply_all(message_id, body, fmt, sender)
    except LabParseError as error:
        db.session.rollback()
        _refuse(message_id, storable(str(error)), sender)
        error.message_id = message_id
        raise
    counts = _counts(outcomes, ignored)
    message.status = LabMessageStatus.HELD if counts.get(str(LabAction.HELD)) else LabMessageStatus.APPLIED
    message.counts = counts
    audit.record("lab.receive", user=sender, object_type="lab_message", object_id=message_id,
                 patient_ids={o.patient_id for o in outcomes if o.patient_id},
                 detail={"format": str(fmt), "source": source, **counts})
    commit_keeping_loaded()  # the answer is built from what was written, without reading it again
    return LabImport(message_id, outcomes, counts.get(str(LabAction.HELD), 0), ignored)


def _apply_all(message_id: int, body: bytes, fmt: LabFormat,
               sender: User | None) -> tuple[list[LabResultOutcome], int]:
    """Every accession's outcome, a chunk at a time, and the FHIR resources ignored. What the session held before
    stays loaded (the sender, the message); each chunk's rows are flushed and forgotten."""
    session = db.session()
    before = set(session.identity_map.keys())
    read = _body(body, fmt, clinic_zone())
    lab, locks = lab_name_of(fmt, body, sender), _MessageLocks(read)
    outcomes: list[LabResultOutcome] = []
    for chunk in _guarded(in_chunks(read, codes_in_force(), SPECIMENS_PER_CHUNK), fmt):
        plans = plan_all(_plans(chunk), lock=locks)
        outcomes += [outcome for outcome, _ in apply_plans(message_id, plans, lab=lab, actor=sender)]
        session.flush()
        for key, loaded in list(session.identity_map.items()):
            if key not in before and loaded in session:  # expunging a specimen expunges its results with it
                session.expunge(loaded)
    return outcomes, read.ignored


def _plans(chunk: list[LabSpecimen] | list[RowProblem]) -> list[Plan]:
    return [problem_plan(item) if isinstance(item, RowProblem) else plan_of(item) for item in chunk]


def _guarded(chunks: Iterator[Any], fmt: LabFormat) -> Iterator[Any]:
    """The readers are pure: whatever else than LabParseError they raise means the body cannot be read."""
    try:
        yield from chunks
    except LabParseError:
        raise
    except Exception as exc:
        raise LabParseError("body", f"cannot be read as {fmt} ({type(exc).__name__})") from None


@dataclass
class _Body:
    """A body to read as often as in_chunks asks (`read()`), the record numbers it named the first time through,
    and the FHIR resources it ignored."""

    items: Callable[[], Iterator[LabObservation | RowProblem]]
    ignored: int = 0
    record_numbers: set[str] = field(default_factory=set)
    passes: int = 0

    def __call__(self) -> Iterator[LabObservation | RowProblem]:
        self.passes += 1
        if self.passes > 1:
            yield from self.items()
            return
        for item in self.items():
            if item.record_number:
                self.record_numbers.add(item.record_number)
            yield item


def _body(body: bytes, fmt: LabFormat, zone: ZoneInfo) -> _Body:
    try:
        if fmt == LabFormat.FHIR:
            fhir = FhirBody(body, zone)  # reads the Bundle through once, keeping what Observations refer to
            return _Body(fhir.observations, fhir.skipped)
        if fmt == LabFormat.HL7V2:
            messages = split_messages(_text(body))
            return _Body(lambda: (o for number, er7 in enumerate(messages, 1)
                                  for o in read_message(er7, zone, number).observations))
        return _Body(lambda: read_csv(_lines(body), zone))
    except LabParseError:
        raise
    except Exception as exc:  # as in _guarded
        raise LabParseError("body", f"cannot be read as {fmt} ({type(exc).__name__})") from None


class _MessageLocks:
    """The enrolment locks of a message written in chunks: the first chunk that writes locks the enrolments of
    every patient the body names, in id order (core.ledger.lock_enrollments), so that two messages naming the
    same patients in other orders cannot deadlock; a message that writes nothing locks nothing, as before. The
    record numbers are complete by then: in_chunks reads the body through before its first chunk of specimens."""

    def __init__(self, read: _Body) -> None:
        self.read = read
        self.locked: set[int] | None = None

    def __call__(self, enrollment_ids: Iterable[int]) -> None:
        wanted = set(enrollment_ids)
        if not wanted:
            return
        if self.locked is None:
            self.locked = set()
            wanted |= set(chunked_rows(self.read.record_numbers, lambda part: select(Enrollment.id).join(
                Patient, Patient.id == Enrollment.patient_id).where(Patient.record_number.in_(part)), scalars=True))
        lock_enrollments(wanted - self.locked)
        self.locked |= wanted


def _store(body: bytes, fmt: LabFormat, *, sender: User | None, source: str, content_type: str) -> LabMessage:
    digest = hashlib.sha256(body).hexdigest()
    stored = db.session.scalar(select(LabBody.id).where(LabBody.digest == digest))
    if stored is None:
        try:
            with db.session.begin_nested():
                row = LabBody(digest=digest, body=body, size=len(body))
                db.session.add(row)
            stored = row.id
        except IntegrityError:  # the same body arriving at the same moment by another way in: stored once
            stored = db.session.scalar(select(LabBody.id).where(LabBody.digest == digest))
    message = LabMessage(body_id=stored, sender_id=sender.id if sender else None, source=source[:200], format=fmt,
                         content_type=content_type[:120], status=LabMessageStatus.RECEIVED, counts={})
    db.session.add(message)
    db.session.commit()
    return message


def _refuse(message_id: int, error: str, sender: User | None) -> None:
    message = db.session.get(LabMessage, message_id)
    assert message is not None
    message.status, message.error = LabMessageStatus.REFUSED, error
    audit.record("lab.receive", user=sender, object_type="lab_message", object_id=message_id,
                 detail={"format": str(message.format), "refused": error[:500]})
    db.session.commit()


def read_again(message: LabMessage, accession: str) -> tuple[Plan | None, str]:
    """One accession of a stored message read again with the LOINC map in force now (a held result applied again
    after a code was added), and the lab's name; None when the message no longer reads to that accession.
    LabParseError when the stored body cannot be read now."""
    body = db.session.get(LabBody, message.body_id)
    sender = db.session.get(User, message.sender_id) if message.sender_id else None
    assert body is not None
    read = _body(body.body, message.format, clinic_zone())
    lab = lab_name_of(message.format, body.body, sender)
    for chunk in _guarded(in_chunks(read, codes_in_force(), SPECIMENS_PER_CHUNK), message.format):
        for item in chunk:
            if isinstance(item, LabSpecimen) and (plan := plan_of(item)).accession[:64] == accession:
                return plan, lab
    return None, lab


def lab_name_of(fmt: LabFormat, body: bytes, sender: User | None) -> str:
    """The lab a correction's reason names: an HL7 message's sending facility (MSH-4), else the sending account's
    name, else "the lab"."""
    facility = _sending_facility(_text(body)) if fmt == LabFormat.HL7V2 else ""
    return storable(facility) or (sender.display_name if sender else "") or "the lab"


def _text(body: bytes) -> str:
    """ER7 text: UTF-8 where it is, else Latin-1 (HL7 v2's usual default), which reads any byte."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _lines(body: bytes) -> Iterator[str]:
    """The CSV's lines, each decoded as it is read (the reader streams them, and so does this)."""
    start = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    while start < len(body):
        end = body.find(b"\n", start)
        end = len(body) if end < 0 else end + 1
        try:
            yield body[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise LabParseError("body", "a CSV file must be UTF-8") from None
        start = end


def _sending_facility(text: str) -> str:
    """MSH-4 of the first message, its first component: the lab the reasons name."""
    header = text.lstrip("\ufeff\x0b \r\n").split("\r")[0].split("\n")[0]
    fields = header.split("|")  # MSH-1 is the "|" itself: MSH-4 is the fourth piece
    return fields[3].split("^")[0].strip()[:80] if len(fields) > 3 else ""


def _counts(outcomes: list[LabResultOutcome], ignored: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[str(outcome.action)] = counts.get(str(outcome.action), 0) + 1
    if ignored:
        counts["ignored"] = ignored
    return counts
