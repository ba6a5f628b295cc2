"""The packet a disclosure carries (42 CFR 2.32; docs/part2.md "The disclosure packet"): the records chosen (a period
and the kinds of record), checked, copied as they stand into a DisclosurePacket written with its disclosure
(usecases.consents.record_disclosure), and each view of a packet audited as an identified export.

The packet is a copy: it is printed from what was stored when the disclosure was recorded, never from the live
records, so an auditor sees exactly what left, whatever was corrected since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from cm_tracker.models import DisclosurePacket, Patient, User
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.queries import consents as reads
from cm_tracker.services.queries.consents import EARLIEST, PacketView
from cm_tracker.services.queries.disclosure_records import SECTION_WORDS, SECTIONS, records_for
from cm_tracker.services.usecases.access_log import log_now

LANGUAGES = ("en", "es")
# The API's names of a choice's parts, which a refusal names (the page maps them to its fields).
FIELDS = {"start": "records.from", "end": "records.to", "sections": "records.include",
          "language": "records.language"}


@dataclass(frozen=True)
class PacketChoice:
    """What a packet carries: the patient's records of `sections` dated from `start` to `end` (the clinic's dates),
    printed in `language`."""

    start: date
    end: date
    sections: tuple[str, ...]
    language: str = "en"


def check_choice(choice: PacketChoice, disclosed_on: date, fields: dict[str, str]) -> None:
    """Add to `fields` what is wrong with the choice (shape and dates; the consent is checked apart)."""
    if not choice.sections or any(s not in SECTIONS for s in choice.sections):
        fields[FIELDS["sections"]] = f"Choose at least one of {', '.join(SECTIONS)}."
    elif len(set(choice.sections)) != len(choice.sections):
        fields[FIELDS["sections"]] = "Name each kind of record once."
    if choice.language not in LANGUAGES:
        fields[FIELDS["language"]] = "Must be en or es."
    if choice.start < EARLIEST:
        fields[FIELDS["start"]] = f"Must be on or after {EARLIEST:%Y-%m-%d}."
    if choice.end < EARLIEST:
        fields[FIELDS["end"]] = f"Must be on or after {EARLIEST:%Y-%m-%d}."
    elif choice.end > disclosed_on and disclosed_on >= EARLIEST:
        fields[FIELDS["end"]] = "Must not be after the day disclosed: a packet holds records that existed then."
    elif choice.start > choice.end and FIELDS["start"] not in fields:
        fields[FIELDS["end"]] = "Must not be before the first day."


def describe(choice: PacketChoice) -> str:
    """The disclosure's description when staff leave it blank: "Test results and attendance, 1 November to 30
    November 2026"."""
    words = [SECTION_WORDS[s] for s in SECTIONS if s in choice.sections]
    kinds = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
    return f"{kinds[:1].upper()}{kinds[1:]}, {period_words(choice.start, choice.end)}"


def typed_description(description: str, packet: DisclosurePacket) -> bool:
    """Whether staff wrote the disclosure's description themselves (a packet prints it then), rather than leaving it
    to be built from the choice, which a packet in another language says in its own words instead."""
    choice = PacketChoice(packet.period_start, packet.period_end, tuple(packet.sections.split(",")), packet.language)
    return description != describe(choice)


def period_words(start: date, end: date) -> str:
    def day(d: date, year: bool) -> str:
        return f"{d.day} {d:%B}" + (f" {d.year}" if year else "")

    if start == end:
        return day(start, True)
    return f"{day(start, start.year != end.year)} to {day(end, True)}"


def packet_row(patient: Patient, choice: PacketChoice) -> DisclosurePacket:
    """The packet of a disclosure about to be written: the records copied now, with the digest printed on it."""
    records = records_for(patient.id, choice.start, choice.end, choice.sections)
    content = json.dumps(records, sort_keys=True)
    return DisclosurePacket(period_start=choice.start, period_end=choice.end,
                            sections=",".join(s for s in SECTIONS if s in choice.sections), language=choice.language,
                            content=content, content_digest=hashlib.sha256(content.encode()).hexdigest())


def read_packet(patient: Patient, disclosure_id: int, *, user: User) -> PacketView:
    """A disclosure of the patient with its packet and consent, to print again: every view is an identified export
    (`report.export`), as a manager's review of exports expects."""
    found = reads.packet_view(patient.id, disclosure_id, clinic_today())
    if found is None:
        raise NotFound("This patient has no disclosure with this id.")
    language = found.packet.language if found.packet else None
    log_now("report.export", user=user, object_type="disclosure", object_id=str(disclosure_id),
            patient_ids=[patient.id], detail={"packet": found.packet is not None, "language": language})
    return found
