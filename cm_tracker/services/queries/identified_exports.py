"""The managers' view of identified exports (42 CFR 2.32, docs/reports.md "Identified exports"): every export that
named patients, read from the audit trail, which holds one "report.export" row per export naming every patient in
it (`AuditEvent.patient_ids`). An export is identified unless its row says otherwise: the funders' export is marked
`"deidentified": true` and an aggregate report table `"identified": false`; anything else (a per-patient table, the
ledger, an accounting of disclosures, a printed disclosure packet, and rows written before the marks existed) counts,
so nothing that may have named a patient is left out.

A page costs the same handful of statements however many patients its exports named: the count, the page of rows
with who made them, and one IN query each for the names shown, the programmes and the counselors their filters name
(and one for the patient search, when there is one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, AuditOutcome, Patient, Program, Role, User
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.queries.lab_review import clamped_page

EXPORT = "report.export"
PAGE_SIZE = 25
DETAIL_PAGE_SIZE = 100
NAMES_SHOWN = 3  # the first few names a row of the list shows; the export's page shows them all
PATIENT_MATCHES = 50  # a patient search matching more asks for more of the name

# What each identified export is, in words: the report tables that name patients, the ledger and the Part 2 files.
WHAT = {
    "outcomes/patients": "Outcomes report: patients table",
    "outcomes/api": "Outcomes report: per-patient figures (API)",
    "fidelity/unrecorded": "Fidelity report: unrecorded visits",
    "fidelity/negative": "Fidelity report: negative balances",
    "budget/caps": "Budget report: cap use per patient",
    "ledger": "The full ledger",
    "accounting": "Accounting of disclosures (CSV)",
    "accounting-statement": "Accounting of disclosures (printed statement)",
}
LANGUAGES = {"en": "English", "es": "Spanish"}


@dataclass(frozen=True, slots=True)
class ExportCriteria:
    date_from: date | None = None  # the clinic's calendar, both ends included
    date_to: date | None = None
    user_id: int | None = None
    patient: str = ""  # a record number, or part of a name or record number

    def described(self) -> dict[str, str]:
        """The criteria used, for the audit row of the view."""
        values = {"from": self.date_from, "to": self.date_to, "user_id": self.user_id, "patient": self.patient}
        return {name: str(value) for name, value in values.items() if value not in (None, "")}


@dataclass(frozen=True, slots=True)
class NamedPatient:
    patient_id: int
    display_name: str | None  # None: the trail names an id no patient row has
    record_number: str | None


@dataclass(frozen=True, slots=True)
class ExportRow:
    event_id: int
    occurred_at: datetime
    display_name: str | None  # the exporter's name now; the username and role are the trail's, as they were then
    username: str | None
    role: str | None
    what: str
    window: str
    patient_ids: list[int]
    shown: list[NamedPatient]  # the first few (the list) or this page's (the export's own page)
    source_address: str | None

    @property
    def patient_count(self) -> int:
        return len(self.patient_ids)


@dataclass(frozen=True, slots=True)
class ExportsPage:
    rows: list[ExportRow]
    page: int
    pages: int
    total: int
    searched: bool  # the criteria name a patient
    matched: list[NamedPatient]  # the patients the search found
    too_many: bool  # the search matched more than PATIENT_MATCHES patients: nothing is listed

    @property
    def no_patient(self) -> bool:
        return self.searched and not self.matched and not self.too_many


@dataclass(frozen=True, slots=True)
class ExportDetail:
    export: ExportRow  # `shown`: this page's patients
    page: int
    pages: int


def identified() -> ColumnElement[bool]:
    """The audit rows of identified exports."""
    detail = AuditEvent.detail
    return and_(AuditEvent.action == EXPORT, AuditEvent.outcome == AuditOutcome.SUCCESS,
                not_(func.coalesce(detail["deidentified"].as_boolean(), false())),
                func.coalesce(detail["identified"].as_boolean(), true()))


def exporters() -> list[User]:
    """The staff accounts a manager may filter by (patients never export), by name."""
    return list(db.session.scalars(select(User).where(User.role != Role.PATIENT)
                                   .order_by(User.display_name, User.username)))


def find(criteria: ExportCriteria, *, page: int) -> ExportsPage:
    """One page of identified exports matching the criteria, newest first (a page beyond the last is the last)."""
    conditions = [identified(), *_period(criteria)]
    if criteria.user_id is not None:
        conditions.append(AuditEvent.user_id == criteria.user_id)
    searched = bool(criteria.patient.strip())
    matched: list[NamedPatient] = []
    too_many = False
    if searched:
        matched, too_many = matching_patients(criteria.patient)
        if not matched or too_many:
            return ExportsPage([], 1, 1, 0, searched, matched, too_many)
        conditions.append(AuditEvent.names_any(p.patient_id for p in matched))
    total = int(db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0)
    page = clamped_page(page, total, PAGE_SIZE)
    query = (_rows().where(*conditions).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    found = list(db.session.execute(query))
    rows = _described(found, lambda ids: ids[:NAMES_SHOWN])
    return ExportsPage(rows, page, _pages(total, PAGE_SIZE), total, searched, matched, too_many)


def detail(event_id: int, *, page: int) -> ExportDetail | None:
    """One identified export with a page of its patients, in the order of their ids (None: no such export)."""
    found = db.session.execute(_rows().where(AuditEvent.id == event_id, identified())).first()
    if found is None:
        return None
    count = len(_patient_ids(found[0]))
    page = clamped_page(page, count, DETAIL_PAGE_SIZE)
    start = (page - 1) * DETAIL_PAGE_SIZE
    [row] = _described([found], lambda ids: ids[start:start + DETAIL_PAGE_SIZE])
    return ExportDetail(row, page, _pages(count, DETAIL_PAGE_SIZE))


def matching_patients(term: str) -> tuple[list[NamedPatient], bool]:
    """The patients a search names: the one whose record number it is, else those whose name or record number
    contains it (whatever the capitals); and whether more than PATIENT_MATCHES matched."""
    term = term.strip().lower()
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    exact = func.lower(Patient.record_number) == term
    query = (select(Patient.id, Patient.display_name, Patient.record_number, exact.label("exact"))
             .where(or_(exact, func.lower(Patient.display_name).like(f"%{escaped}%", escape="\\"),
                        func.lower(Patient.record_number).like(f"%{escaped}%", escape="\\")))
             .order_by(exact.desc(), Patient.display_name, Patient.id).limit(PATIENT_MATCHES + 1))
    rows = list(db.session.execute(query))
    if rows and rows[0].exact:
        rows = rows[:1]  # "MRN-1" means MRN-1, not MRN-10 to MRN-19 as well
    return [NamedPatient(r.id, r.display_name, r.record_number) for r in rows[:PATIENT_MATCHES]], \
        len(rows) > PATIENT_MATCHES


def _rows() -> Any:
    return select(AuditEvent, User.display_name).outerjoin(User, User.id == AuditEvent.user_id)


def _period(criteria: ExportCriteria) -> list[ColumnElement[bool]]:
    conditions = []
    if criteria.date_from:
        conditions.append(AuditEvent.occurred_at >= start_of_day(criteria.date_from))
    if criteria.date_to:
        conditions.append(AuditEvent.occurred_at < start_of_day(criteria.date_to + timedelta(days=1)))
    return conditions


def _pages(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)


def _patient_ids(event: AuditEvent) -> list[int]:
    """Every patient the export named: those its list holds and the one it was about (an accounting names both)."""
    ids = set(event.listed_patient_ids)
    if event.patient_id is not None:
        ids.add(event.patient_id)
    return sorted(ids)


def _described(found: list[Any], shown_of: Callable[[list[int]], list[int]]) -> list[ExportRow]:
    """The rows in words, with the patients `shown_of(ids)` picks of each: one IN query each for those patients,
    the programmes and the counselors the rows' filters name."""
    events = [(event, name, _patient_ids(event)) for event, name in found]
    shown = {event.id: shown_of(ids) for event, _, ids in events}
    patients = _named(pid for ids in shown.values() for pid in ids)
    details = [event.detail or {} for event, _, _ in events]
    programs = _names_of(Program, Program.name, (d.get("program_id") for d in details))
    counselors = _names_of(User, User.display_name, (d.get("counselor_id") for d in details))
    return [ExportRow(event.id, event.occurred_at, name, event.username, event.role, what_of(event),
                      window_of(event.detail or {}, programs, counselors), ids,
                      [patients.get(pid, NamedPatient(pid, None, None)) for pid in shown[event.id]],
                      event.source_address)
            for event, name, ids in events]


def _named(ids: Iterable[int]) -> dict[int, NamedPatient]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Patient.id, Patient.display_name, Patient.record_number)
                              .where(Patient.id.in_(wanted)))
    return {r.id: NamedPatient(r.id, r.display_name, r.record_number) for r in rows}


def _names_of(model: Any, column: Any, values: Iterable[Any]) -> dict[int, str]:
    ids = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
    if not ids:
        return {}
    return {row_id: name for row_id, name in db.session.execute(select(model.id, column).where(model.id.in_(ids)))}


def what_of(event: AuditEvent) -> str:
    """What left: a report table, the ledger, an accounting, or a printed disclosure (with its packet or not)."""
    object_id = event.object_id or ""
    if event.object_type == "disclosure":
        packet = (event.detail or {}).get("packet")
        return f"Disclosure packet #{object_id}" if packet else f"Disclosure #{object_id} (printed)"
    if object_id in WHAT:
        return WHAT[object_id]
    report, _, table = object_id.partition("/")
    return f"{report.capitalize()} report: {table} table" if table else object_id or "An export"


def window_of(detail: dict[str, Any], programs: dict[int, str], counselors: dict[int, str]) -> str:
    """The export's filters in words: its programme, caseload, period and language."""
    parts = []
    if "program_id" in detail:
        program_id = detail["program_id"]
        parts.append(programs.get(program_id, f"programme #{program_id}") if program_id else "Every programme")
    if detail.get("counselor_id"):
        counselor_id = detail["counselor_id"]
        parts.append(f"{counselors.get(counselor_id, f'counselor #{counselor_id}')}'s caseload")
    if "from" in detail or "to" in detail:
        parts.append(_period_words(_day(detail.get("from")), _day(detail.get("to"))))
    if detail.get("language") in LANGUAGES:
        parts.append(f"printed in {LANGUAGES[detail['language']]}")
    return " · ".join(parts)


def _period_words(start: date | None, end: date | None) -> str:
    first = _written(start) if start else "the programme's start"
    return f"{first} to {_written(end) if end else 'the day of the export'}"


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _written(day: date) -> str:
    return day.strftime("%a %d %b %Y")
