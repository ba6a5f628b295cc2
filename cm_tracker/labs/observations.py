"""The one shape every lab format is read into (see the package docstring)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from cm_tracker.engine.outcomes import NEGATIVE, POSITIVE


class LabStatus(StrEnum):
    """What the lab says of one result (docs/labs.md: FHIR Observation.status, HL7 OBX-11, the CSV `status` column)."""

    PRELIMINARY = "preliminary"  # the specimen stays pending
    FINAL = "final"
    CORRECTED = "corrected"  # final, replacing what the lab sent before
    WITHDRAWN = "withdrawn"  # cancelled or entered in error: the lab takes its result back


@dataclass(frozen=True, slots=True)
class LabObservation:
    """One result line of a lab body.

    `code` is the LOINC code the lab sent (None where a CSV names the analyte instead, in `analyte`); `result` is
    "positive" or "negative" for a drug result, None for a validity measurement, whose number is in `value`;
    `validity` is the lab's own statement about the specimen (CSV only), which wins over measured values."""

    where: str  # "line 3", "message 1, OBX 2", "entry 4 (Observation)"
    record_number: str | None
    accession: str | None
    collected_at: datetime | None  # aware
    code: str | None
    analyte: str | None
    result: str | None
    value: Decimal | None
    status: LabStatus
    validity: str | None = None
    text: str = ""  # the code's display text as sent, for the review queue

    def __post_init__(self) -> None:
        # Identifiers are stored and compared: a NUL or a lone surrogate (JSON's "\udc00") cannot be stored by
        # PostgreSQL or encoded as UTF-8, so such a body is refused here, naming where, instead of failing later.
        for name in ("record_number", "accession", "code", "analyte", "validity"):
            value = getattr(self, name)
            if value is not None and not printable(value):
                raise LabParseError(f"{self.where}, {name.replace('_', ' ')}",
                                    "contains a control character or an invalid character")
        if not printable(self.text):
            object.__setattr__(self, "text", _PRINTABLE_ONLY.sub("\ufffd", self.text))


class LabParseError(ValueError):
    """A body that cannot be read: nothing of it is applied. `where` names the line, segment or field;
    `message_id` the stored message it was refused as, once it was stored (usecases/lab_results.receive)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
        self.message_id: int | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A CSV row that cannot be read while the rest of the file can: it is held with this reason."""

    where: str
    reason: str
    record_number: str | None = None
    accession: str | None = None


_RESULT_WORDS = {
    "pos": POSITIVE, "positive": POSITIVE, "det": POSITIVE, "detected": POSITIVE,
    "neg": NEGATIVE, "negative": NEGATIVE, "nd": NEGATIVE, "not detected": NEGATIVE, "none detected": NEGATIVE,
}  # fmt: skip


# C0 controls but tab, DEL, and the surrogates a JSON escape can produce alone.
_PRINTABLE_ONLY = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> bool:
    return _PRINTABLE_ONLY.search(text) is None


def result_of(text: object) -> str | None:
    """A lab's word for a drug result as "positive" or "negative", else None (docs/labs.md: POS/NEG/DET/ND, the
    words, or a text starting with "pos" or "neg"); anything but a text is no word."""
    if not isinstance(text, str):
        return None
    word = " ".join(text.strip().lower().split())
    if word in _RESULT_WORDS:
        return _RESULT_WORDS[word]
    if word.startswith("pos"):
        return POSITIVE
    if word.startswith("neg"):
        return NEGATIVE
    return None


def number_of(text: str | None) -> Decimal | None:
    """A measured value ("1.015", "18", " 6.5 "), else None."""
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def aware(moment: datetime | date, zone: ZoneInfo) -> datetime:
    """A lab's collection time as an aware instant: one without an offset is the clinic's local time (the lab sits
    in the clinic's time zone or says otherwise); a bare date is midday there, so it keeps its clinic date. UTC."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(12), tzinfo=zone).astimezone(UTC)
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)
