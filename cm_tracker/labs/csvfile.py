"""CSV lab results: a header row naming `record_number, accession, collected_at, loinc, result, status` (`analyte`
may replace `loinc`; optional `creatinine_mg_dl, ph, specific_gravity, validity`), one result per row. Read as a
stream, a row at a time, so a file of any length takes the same memory. A row that cannot be read is held with its
reason (RowProblem) and the others are applied; a file without the header raises LabParseError."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cm_tracker.engine.outcomes import Validity
from cm_tracker.labs.codes import Measure
from cm_tracker.labs.observations import (
    LabObservation,
    LabParseError,
    LabStatus,
    RowProblem,
    aware,
    number_of,
    result_of,
)

REQUIRED = ("record_number", "accession", "collected_at", "result", "status")
_STATUSES = {"preliminary": LabStatus.PRELIMINARY, "final": LabStatus.FINAL, "corrected": LabStatus.CORRECTED,
             "cancelled": LabStatus.WITHDRAWN}
# The validity measurements a row may carry beside its result, read as LOINC-less observations of their own.
MEASURE_COLUMNS = {"creatinine_mg_dl": Measure.CREATININE, "ph": Measure.PH,
                   "specific_gravity": Measure.SPECIFIC_GRAVITY}


def read_csv(lines: Iterable[str], zone: ZoneInfo) -> Iterator[LabObservation | RowProblem]:
    reader = csv.DictReader(lines)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header] + ([] if {"loinc", "analyte"} & set(header) else ["loinc"])
    if missing:
        raise LabParseError("line 1", f"the header row lacks {', '.join(missing)}")
    reader.fieldnames = header
    for row in reader:
        where = f"line {reader.line_num}"
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        yield from _row(values, where, zone)


def _row(values: dict[str, str], where: str, zone: ZoneInfo) -> Iterator[LabObservation | RowProblem]:
    record, accession = values.get("record_number") or None, values.get("accession") or None
    problem = _problem(values)
    if problem:
        yield RowProblem(where, problem, record, accession)
        return
    collected = _moment(values["collected_at"], zone)
    status = _STATUSES[values["status"].lower()]
    validity = values.get("validity", "").lower() or None
    base = {"where": where, "record_number": record, "accession": accession, "collected_at": collected,
            "status": status}
    yield LabObservation(**base, code=values.get("loinc") or None,
                         analyte=None if values.get("loinc") else values.get("analyte", "").lower() or None,
                         result=result_of(values["result"]), value=None, validity=validity)
    for column, measure in MEASURE_COLUMNS.items():
        if values.get(column):
            yield LabObservation(**base, code=None, analyte=str(measure), result=None,
                                 value=number_of(values[column]))


def _problem(values: dict[str, str]) -> str | None:
    if not values.get("record_number"):
        return "no record number"
    if not values.get("accession"):
        return "no accession"
    if not (values.get("loinc") or values.get("analyte")):
        return "neither a LOINC code nor an analyte"
    try:
        _moment(values.get("collected_at", ""), ZoneInfo("UTC"))
    except ValueError:
        return f"collected_at is not a date and time: {values.get('collected_at', '')[:40]!r}"
    if values.get("status", "").lower() not in _STATUSES:
        return f"unknown status {values.get('status', '')!r}; expected preliminary, final, corrected or cancelled"
    if result_of(values.get("result")) is None and values["status"].lower() != "cancelled":
        return f"unknown result {values.get('result', '')!r}; expected positive or negative"
    validity = values.get("validity", "").lower()
    if validity and validity not in set(Validity):
        return f"unknown validity {values.get('validity')!r}"
    for column in MEASURE_COLUMNS:
        if values.get(column) and number_of(values[column]) is None:
            return f"{column} is not a number: {values[column][:20]!r}"
    return None


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """ISO 8601: a date, or a date and time (without an offset, the clinic's local time)."""
    text = text.strip()
    if len(text) == 10:
        return aware(date.fromisoformat(text), zone)
    return aware(datetime.fromisoformat(text.replace("Z", "+00:00")), zone)
