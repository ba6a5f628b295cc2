"""HL7 v2 ORU^R01 (ER7 text) read with python-hl7: PID-3 the record number, OBR-3 the filler order number (the
accession), OBR-7 the collection time, OBX-3 `code^text^LN`, OBX-5 the result, OBX-11 the result status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import hl7

from cm_tracker.labs.observations import LabObservation, LabParseError, LabStatus, aware, number_of, result_of

# OBX-11 (HL7 table 0085): P preliminary, F final, C corrected, X "cannot be obtained", W "wrong patient/withdrawn".
_STATUSES = {"P": LabStatus.PRELIMINARY, "F": LabStatus.FINAL, "C": LabStatus.CORRECTED,
             "X": LabStatus.WITHDRAWN, "W": LabStatus.WITHDRAWN}
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?(?:([+-])(\d{2})(\d{2}))?$")
LOINC_SYSTEM = "LN"


@dataclass(frozen=True, slots=True)
class Hl7Message:
    """One ORU^R01 message: its control id (MSH-10, echoed in the ACK) and its results."""

    number: int  # 1-based position in the body
    control_id: str
    observations: list[LabObservation]


def split_messages(text: str) -> list[str]:
    """The messages of a body, each starting at an MSH segment; segments end in CR (LF and CRLF are accepted)."""
    lines = [line for line in re.split(r"\r\n|\r|\n", text.strip("\x00 \t\r\n\x0b\x1c")) if line.strip()]
    messages: list[list[str]] = []
    for number, line in enumerate(lines, 1):
        if line.startswith("MSH"):
            messages.append([])
        elif not messages:
            raise LabParseError(f"line {number}", "an HL7 v2 message starts with an MSH segment")
        messages[-1].append(line)
    if not messages:
        raise LabParseError("line 1", "no HL7 v2 message (no MSH segment)")
    return ["\r".join(m) for m in messages]


def read_messages(text: str, zone: ZoneInfo) -> list[Hl7Message]:
    """Every message of the body, or LabParseError naming the message, segment and field that cannot be read."""
    return [read_message(er7, zone, number) for number, er7 in enumerate(split_messages(text), 1)]


def read_message(er7: str, zone: ZoneInfo, number: int = 1) -> Hl7Message:
    where = f"message {number}"
    try:
        message = hl7.parse(er7)
    except Exception as exc:  # python-hl7 raises bare ValueError/IndexError on malformed encoding characters
        raise LabParseError(where, f"not a readable HL7 v2 message ({type(exc).__name__})") from None
    msh = message.segment("MSH")
    kind = "^".join(str(c) for c in _components(msh, 9)[:2])
    if kind != "ORU^R01":
        raise LabParseError(f"{where}, MSH-9", f"expected ORU^R01, got {kind or 'nothing'}")
    control_id = _text(msh, 10)
    record_number: str | None = None
    accession: str | None = None
    collected_at: datetime | None = None
    observations: list[LabObservation] = []
    counts: dict[str, int] = {}
    for segment in message:
        name = str(segment[0])
        counts[name] = counts.get(name, 0) + 1
        here = f"{where}, {name} {counts[name]}"
        if name == "PID":
            record_number = _first_component(segment, 3) or None
            accession, collected_at = None, None
        elif name == "OBR":
            accession = _first_component(segment, 3) or _first_component(segment, 2) or None
            stamp = _text(segment, 7)
            collected_at = _timestamp(stamp, zone, f"{here}, OBR-7") if stamp else None
        elif name == "OBX":
            observations.append(_observation(segment, here, zone, record_number, accession, collected_at))
    if not observations:
        raise LabParseError(where, "the message has no OBX segment")
    return Hl7Message(number, control_id, observations)


def _observation(segment: hl7.Segment, here: str, zone: ZoneInfo, record_number: str | None,
                 accession: str | None, collected_at: datetime | None) -> LabObservation:
    code, text, system = [*_components(segment, 3), "", "", ""][:3]
    if not code:
        raise LabParseError(f"{here}, OBX-3", "no observation code")
    status_code = _text(segment, 11).upper()
    if status_code not in _STATUSES:
        raise LabParseError(f"{here}, OBX-11",
                            f"unknown result status {status_code or '(empty)'}; expected P, F, C, X or W")
    value = _text(segment, 5)
    stamp = _text(segment, 14)  # OBX-14, the observation's own time, where OBR-7 is missing
    moment = collected_at or (_timestamp(stamp, zone, f"{here}, OBX-14") if stamp else None)
    return LabObservation(
        where=here, record_number=record_number, accession=accession, collected_at=moment,
        code=code if system.upper() == LOINC_SYSTEM else f"{system}:{code}", analyte=None,
        result=result_of(value), value=number_of(value), status=_STATUSES[status_code], text=text)


def _text(segment: hl7.Segment, field: int) -> str:
    """A field's text as sent (its first repetition, components joined as sent); "" when absent."""
    if len(segment) <= field:
        return ""
    return str(segment[field]).strip()


def _components(segment: hl7.Segment, field: int) -> list[str]:
    if len(segment) <= field or not str(segment[field]):
        return []
    first = segment[field][0]  # a field holds repetitions of components, or its text when it has neither
    if isinstance(first, hl7.Repetition):
        return [str(c).strip() for c in first]
    return [str(first).strip()]


def _first_component(segment: hl7.Segment, field: int) -> str:
    parts = _components(segment, field)
    return parts[0] if parts else ""


def _timestamp(text: str, zone: ZoneInfo, where: str) -> datetime:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]); without an offset, the clinic's local time."""
    found = _TS.match(text.split("^")[0])
    if not found:
        raise LabParseError(where, f"not an HL7 date and time: {text[:40]!r}")
    year, month, day, hour, minute, second, sign, oh, om = found.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError:
        raise LabParseError(where, f"not a calendar date and time: {text[:40]!r}") from None
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        return aware(moment.replace(tzinfo=timezone(offset if sign == "+" else -offset)), zone)
    if day is None:
        raise LabParseError(where, f"a collection time needs at least a day: {text[:40]!r}")
    return aware(moment if hour is not None else moment.date(), zone)
