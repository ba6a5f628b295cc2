"""The accounting of disclosures (42 CFR 2.25, docs/part2.md) as it leaves the screen: a CSV for staff and a printed
statement for the patient. Both name the patient, so each is audited as an identified export ("report.export",
naming the patient, with the window); the page itself is read through usecases.consents.read_disclosures.

The window's rules (three years by default, not before 1990, not after today, from <= to) are the accounting's own
(queries.consents.accounting_window): a window it refuses is ValidationFailed naming `from` or `to`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cm_tracker.models import Patient, User
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.context import clinic_settings
from cm_tracker.services.core.part2 import CSV_NOTICE_ROW
from cm_tracker.services.queries import consents as reads
from cm_tracker.services.queries.consents import DisclosureView, Window
from cm_tracker.services.queries.reports.exports import csv_lines
from cm_tracker.services.usecases.access_log import log_now

HEADER = ("disclosed_on", "recipient", "recipient_class", "description", "consent_id", "consent_purpose",
          "consent_signed_on", "recorded_by")
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class AccountingExport:
    filename: str
    rows: list[Sequence[Any]]

    def lines(self) -> Iterator[str]:
        """The CSV text: the Part 2 notice row, the header, the disclosures, the end-of-export row."""
        return csv_lines(HEADER, self.rows, notice=CSV_NOTICE_ROW)


@dataclass(frozen=True)
class Statement:
    """What the printed statement for the patient shows."""

    programme: str
    patient: Patient
    window: Window
    prepared_on: date
    disclosures: list[DisclosureView]


def _exported(object_id: str, patient: Patient, user: User, window: Window, **detail: str) -> None:
    log_now("report.export", user=user, object_type="report", object_id=object_id, patient_id=patient.id,
            patient_ids=[patient.id],
            detail={"from": window.start.isoformat(), "to": window.end.isoformat(), **detail})


def _row(view: DisclosureView) -> Sequence[Any]:
    d = view.disclosure
    return (d.disclosed_on.isoformat(), d.recipient, view.recipient_class, d.description, d.consent_id, view.purpose,
            view.consent_signed_on.isoformat() if view.consent_signed_on else None, view.recorded_by)


def _file_part(text: str) -> str:
    """A record number as a file name may carry it in a Content-Disposition header: ASCII letters, digits, - and _."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in text).strip("-") or "patient"


def export_accounting(patient: Patient, *, user: User, start: date | None = None,
                      end: date | None = None) -> AccountingExport:
    """The accounting of the window as CSV rows, the latest first (audited as an identified export)."""
    window = reads.accounting_window(clinic_today(), start, end)
    found = reads.disclosures_of(patient.id, window)
    _exported("accounting", patient, user, window)
    name = f"accounting-of-disclosures-{_file_part(patient.record_number)}-{window.start}-{window.end}"
    return AccountingExport(f"{name}.csv", [_row(v) for v in found])


def print_statement(patient: Patient, language: str, *, user: User, start: date | None = None,
                    end: date | None = None) -> Statement:
    """The statement of the window for the patient, in `language` (audited as an identified export)."""
    today = clinic_today()
    window = reads.accounting_window(today, start, end)
    found = reads.disclosures_of(patient.id, window)
    _exported("accounting-statement", patient, user, window, language=language)
    return Statement(clinic_settings().name, patient, window, today, found)
